"""Validate the stack's configs with the real servers' own tools: ``python -m alerts.check [--root DIR] [CHECK ...]``.

What ``make check`` runs once ``make testbed`` has built the binaries: promtool checks prometheus.yml,
the rule files and runs the rules' unit tests; amtool checks alertmanager.yml with its templates and
routes every alert of the spec to exactly the channels the spec names; the real Prometheus and
Alertmanager load the files (every rule group evaluates with health ok, every receiver is loaded).
loki.yml is only parsed as YAML: Loki's Go module is AGPL, so no Loki binary is built here and Loki
loads its config only in the compose stack. The files are checked where they are: their paths are
relative (``rules/*.yml``, ``templates/*.tmpl``) or opened only at run time (``/run/secrets/*``), so
nothing needs rendering. Each check looks for the binaries it runs when it runs, so one check needs
only its own tool (``rule-tests`` only promtool, ``routes`` only amtool). A failure prints as
``FILE:LINE: what failed`` and the tool's output; a missing binary as one line naming ``make testbed``.
"""

from __future__ import annotations

import argparse
import re
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import requests
import yaml

from testbed.api import AlertmanagerAPI, PrometheusAPI  # the same real servers and harness the tests use
from testbed.binaries import MissingBinary, binary
from testbed.poll import wait_until
from testbed.servers import ServerFailed, TestBed

from .generate import ALERTMANAGER_FILE, REPO, RULES_DIR, TEMPLATES_DIR
from .rules import ALERTS_FILE, RECORDING_FILE, TESTS_FILE
from .spec import SPEC, Alert, load

PROMETHEUS_FILE = Path("provisioning/prometheus/prometheus.yml")
LOKI_FILE = Path("provisioning/loki/loki.yml")
SPEC_FILE = SPEC.relative_to(REPO)
RULE_FILES = (RULES_DIR / RECORDING_FILE, RULES_DIR / ALERTS_FILE)
NAMES = ("prometheus-config", "rules", "rule-tests", "alertmanager-config", "routes", "loki-config", "load")
PROMTOOL, AMTOOL = ("prometheus", "promtool"), ("alertmanager", "amtool")
NEVER = "0001-01-01T00:00:00Z"  # lastEvaluation of a rule not evaluated yet
#: How long the loaded rules may take to be evaluated once (the evaluation interval is 5 s).
LOAD_TIMEOUT = 30.0
_AT = re.compile(r"(?P<file>[\w./-]+\.(?:ya?ml|tmpl)):\s?(?P<line>\d+)(?::\d+)?:")
_LINE = re.compile(r"\bline (\d+)\b")
_CASE = re.compile(r"^\s*name: (.+),$", re.MULTILINE)
_QUOTED = re.compile(r'"([^"\n]+)"')


@dataclass(frozen=True)
class Failure:
    """One failed check, located in the file that holds the mistake."""

    file: Path
    line: int | None
    what: str
    output: str = ""

    def __str__(self) -> str:
        where = f"{self.file}:{self.line}" if self.line else str(self.file)
        detail = "".join(f"\n    {line}" for line in self.output.strip().splitlines())
        return f"{where}: {self.what}{detail}"


def routing_row(alert: Alert) -> tuple[dict[str, str], str]:
    """An alert's labels as Prometheus sends them, and the receivers its spec entry names."""
    labels = {"alertname": alert.name, "severity": alert.severity, "alertgroup": alert.kind} | alert.test.labels
    return labels, ",".join(alert.channels)


def locate(output: str, files: tuple[Path, ...], root: Path, *needles: str) -> tuple[Path, int | None]:
    """The file and line a tool's error text points at: its own ``file:line``, a ``line N``, or the line holding a value it quotes.

    ``needles`` are searched first: text known to stand on the line at fault. The tools' progress
    lines (``Checking FILE``, ``SUCCESS``) are left out, so the file named is the one that failed.
    """
    output = "\n".join(line for line in output.splitlines() if "FAILED" in line or not line.strip().startswith(("Checking", "SUCCESS")))
    for match in _AT.finditer(output):
        named = Path(match["file"])
        for file in files:
            if file == named or file.name == named.name:
                return file, int(match["line"])
    file = next((f for f in files if str(f) in output), files[0])
    if found := _LINE.search(output):
        return file, int(found[1])
    lines = (root / file).read_text().splitlines() if (root / file).is_file() else []
    quoted = sorted(_QUOTED.findall(output), key=len, reverse=True)
    for needle in [*needles, *_CASE.findall(output), *quoted]:
        for number, text in enumerate(lines, 1):
            if needle in text and not text.lstrip().startswith("#"):
                return file, number
    return file, None


def _run(argv: list[str], root: Path) -> subprocess.CompletedProcess[str]:
    # The pinned tools of the test bed on the tree's own files: no untrusted input.
    return subprocess.run(argv, cwd=root, capture_output=True, text=True, timeout=120, check=False)  # noqa: S603


def _tool(root: Path, what: str, program: tuple[str, str], args: list[str], files: tuple[Path, ...]) -> Callable[[], Iterator[Failure]]:
    """A check running ``program`` (server, executable) with ``args``, located in ``files`` when it fails."""

    def run() -> Iterator[Failure]:
        result = _run([str(binary(*program)), *args], root)
        if result.returncode != 0:
            output = result.stdout + result.stderr
            yield Failure(*locate(output, files, root), what, output)

    return run


def _routes(root: Path) -> Iterator[Failure]:
    """amtool routes every alert of the spec to exactly its channels, in order."""
    amtool = str(binary(*AMTOOL))
    for alert in load(root / SPEC_FILE).alerts:
        labels, receivers = routing_row(alert)
        argv = [amtool, "config", "routes", "test", f"--config.file={ALERTMANAGER_FILE}", f"--verify.receivers={receivers}"]
        result = _run([*argv, *(f"{k}={v}" for k, v in labels.items())], root)
        if result.returncode != 0:
            what = f"{alert.name} routes to {(result.stdout.splitlines() or ['?'])[0]} in {ALERTMANAGER_FILE}, the spec names {receivers}"
            yield Failure(SPEC_FILE, alert.line, what, result.stderr)


def _loki_config(root: Path) -> Iterator[Failure]:
    """loki.yml parses as YAML, or fails at the line where the parser stopped.

    That is all that can be verified here: Loki itself loads this file only in the compose stack
    (``make up``), because Loki's Go module is AGPL and no Loki binary is built or run on this machine.
    """
    try:
        with (root / LOKI_FILE).open(encoding="utf-8") as stream:
            yaml.safe_load(stream)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        yield Failure(LOKI_FILE, mark.line + 1 if mark else None, f"not YAML: {getattr(exc, 'problem', None) or exc}", str(exc))


def _load(root: Path) -> Iterator[Failure]:
    """The real Prometheus evaluates every rule group of the files with health ok; the real Alertmanager loads every receiver."""
    files = (PROMETHEUS_FILE, *RULE_FILES, ALERTMANAGER_FILE)
    expected = sorted(group["name"] for file in RULE_FILES for group in yaml.safe_load((root / file).read_text())["groups"])
    receivers = sorted(r["name"] for r in yaml.safe_load((root / ALERTMANAGER_FILE).read_text())["receivers"])
    with tempfile.TemporaryDirectory(prefix="qw-check-") as tmp:
        bed = TestBed(Path(tmp), name="check")
        try:
            prometheus = PrometheusAPI(bed.start_prometheus(config=root / PROMETHEUS_FILE, rules_dir=root / RULES_DIR).url)
            alertmanager = AlertmanagerAPI(bed.start_alertmanager(config=root / ALERTMANAGER_FILE).url)

            def evaluated() -> list[dict[str, Any]] | None:
                groups = prometheus.rule_groups()
                return groups if all(r["lastEvaluation"] != NEVER for g in groups for r in g["rules"]) else None

            groups = wait_until(evaluated, timeout=LOAD_TIMEOUT, what="every rule evaluated once")
            loaded = sorted(r["name"] for r in yaml.safe_load(alertmanager.status()["config"]["original"])["receivers"])
        except (ServerFailed, TimeoutError, requests.RequestException) as exc:
            yield Failure(*locate(str(exc), files, root), "the real Prometheus and Alertmanager did not load the files", str(exc))
            return
        finally:
            bed.close()
    if sorted(g["name"] for g in groups) != expected:
        yield Failure(PROMETHEUS_FILE, None, f"Prometheus loaded the rule groups {sorted(g['name'] for g in groups)}, the rule files hold {expected}")
    for group in groups:
        for rule in group["rules"]:
            if rule["health"] != "ok":
                file = RULES_DIR / Path(group["file"]).name
                yield Failure(
                    *locate("", (file,), root, f"alert: {rule['name']}", f"record: {rule['name']}"),
                    f"{rule['name']} evaluates with health {rule['health']}: {rule.get('lastError')}",
                )
    if loaded != receivers:
        yield Failure(ALERTMANAGER_FILE, None, f"Alertmanager loaded the receivers {loaded}, the file names {receivers}")


def checks(root: Path) -> dict[str, Callable[[], Iterator[Failure]]]:
    """Every check by name (``NAMES``), in the order they report; none looks for a binary before it runs."""
    templates = tuple(sorted(path.relative_to(root) for path in (root / TEMPLATES_DIR).glob("*.tmpl")))
    return {
        "prometheus-config": _tool(root, "promtool check config", PROMTOOL, ["check", "config", "--syntax-only", str(PROMETHEUS_FILE)], (PROMETHEUS_FILE,)),
        "rules": _tool(root, "promtool check rules", PROMTOOL, ["check", "rules", *map(str, RULE_FILES)], RULE_FILES),
        "rule-tests": _tool(root, "promtool test rules", PROMTOOL, ["test", "rules", str(RULES_DIR / TESTS_FILE)], (RULES_DIR / TESTS_FILE,)),
        "alertmanager-config": _tool(root, "amtool check-config", AMTOOL, ["check-config", str(ALERTMANAGER_FILE)], (ALERTMANAGER_FILE, *templates)),
        "routes": lambda: _routes(root),
        "loki-config": lambda: _loki_config(root),
        "load": lambda: _load(root),
    }


def _collect(check: Callable[[], Iterator[Failure]]) -> list[Failure]:
    return list(check())


def run_all(chosen: Mapping[str, Callable[[], Iterator[Failure]]]) -> list[Failure]:
    """Run the checks side by side (promtool's rule tests take the longest) and return what failed, in check order.

    Raises MissingBinary, one line per check that could not run, once the others are done.
    """
    failures: list[Failure] = []
    missing: list[str] = []
    with ThreadPoolExecutor(max_workers=len(chosen)) as pool:
        futures = {name: pool.submit(_collect, check) for name, check in chosen.items()}
        for name, future in futures.items():
            try:
                failures += future.result()
            except MissingBinary as exc:
                missing.append(f"{name}: {exc}")
    if missing:
        raise MissingBinary("\n".join(missing))
    return failures


def run(root: Path, names: list[str]) -> list[Failure]:
    """The named checks (all without names) on the tree at ``root``: :func:`run_all`."""
    return run_all({name: check for name, check in checks(root).items() if not names or name in names})


def cli(argv: list[str] | None, prog: str, doc: str, names: tuple[str, ...], runner: Callable[[Path, list[str]], list[Failure]]) -> int:
    """A check command: ``prog [--root DIR] [CHECK ...]`` running ``runner``, failures printed as FILE:LINE, exit 1 on any."""
    parser = argparse.ArgumentParser(prog=prog, description=doc.splitlines()[0])
    parser.add_argument("--root", type=Path, default=REPO, help="a tree laid out as the repository (default: the repository)")
    parser.add_argument("names", nargs="*", metavar="CHECK", help=f"checks to run (default: all): {', '.join(names)}")
    args = parser.parse_args(argv)
    if unknown := [name for name in args.names if name not in names]:
        parser.error(f"unknown check {', '.join(unknown)} (known: {', '.join(names)})")
    start = time.monotonic()
    try:
        failures = runner(args.root.resolve(), args.names)
    except MissingBinary as exc:
        print("".join(f"error: {line}\n" for line in str(exc).splitlines()), end="", file=sys.stderr)
        return 1
    for failure in failures:
        print(failure, file=sys.stderr)
    verdict = f"FAILED ({len(failures)} problems)" if failures else "ok"
    print(f"{verdict}: {', '.join(args.names or names)} ({time.monotonic() - start:.1f}s)", file=sys.stderr if failures else sys.stdout)
    return 1 if failures else 0


def main(argv: list[str] | None = None) -> int:
    return cli(argv, "python -m alerts.check", __doc__, NAMES, run)


if __name__ == "__main__":
    sys.exit(main())
