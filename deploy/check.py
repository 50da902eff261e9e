"""Validate the Kubernetes tree with real tools, no cluster: ``python -m deploy.check [--root DIR] [CHECK ...]``.

- ``decode``: deploy/check (Go) decodes every manifest strictly into the Prometheus Operator's own API
  types (and Kubernetes' for ConfigMap and Deployment), child routes of the AlertmanagerConfig
  included: an unknown or misplaced field fails. The program is built from the tree's source on each
  run, from the modules `make testbed` fetched and compiled (no download here: GOPROXY=off).
- ``schemas``: kubeconform -strict against deploy/schemas (the CRDs' openAPIV3Schema, every object
  closed to unknown fields; Kubernetes' own schemas for the built-in kinds), offline: patterns,
  enums and required fields the Go types do not enforce, such as a duration's (``for: 5 minutes``).
- ``rules``: promtool check rules on the rule groups of the PrometheusRule.
- ``alertmanager-config``: amtool check-config on the configuration the operator generates from the
  AlertmanagerConfig inside kube-prometheus-stack's default one (:mod:`deploy.operator`), with the
  notification templates the stack values mount.
- ``routes``: in that configuration, amtool routes each alert of the PrometheusRule, with its labels,
  to exactly the receivers the spec names (prefixed NAMESPACE/NAME/ as the operator does), and alerts
  of another namespace, or the stack's own Watchdog, to none of them.

Failures print as ``FILE:LINE: what failed``; a missing tool is one line naming ``make testbed``.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import yaml

from alerts.check import AMTOOL, PROMTOOL, SPEC_FILE, Failure, cli, locate, run_all
from alerts.generate import TEMPLATES_DIR
from alerts.spec import load
from testbed.binaries import MissingBinary, binary, cache_dir, pins

from .operator import alertmanager_yml
from .render import ALERTMANAGER_CONFIG, BOT_DEPLOYMENT, KUSTOMIZATION, PROMETHEUS_RULE, TREE

NAMES = ("decode", "schemas", "rules", "alertmanager-config", "routes")
CHECK_SOURCE = Path("deploy/check")
SCHEMAS = Path("deploy/schemas")
VERSIONS = Path(__file__).with_name("versions.env")
#: kubeconform's file name for a kind's schema, as deploy.schemas writes them.
SCHEMA_LOCATION = "{{ .ResourceKind }}{{ .KindSuffix }}.json"
#: An alert of this namespace must reach none of quantwatch's receivers.
OTHER_NAMESPACE = "another-team"
_PROBLEM = re.compile(r"^(?P<file>[^:\s]+):(?P<line>\d+): (?P<what>.*)$")
_RULE = re.compile(r'group "(?P<group>[^"]+)", rule (?P<rule>\d+)')
_QUOTED = re.compile(r'"(?:[^"/\n]*/)*([^"/\n]+)"')


def manifests(root: Path) -> list[Path]:
    """The tree's resources (its kustomization's) and the bot's Deployment, relative to ``root``."""
    resources = yaml.safe_load((root / KUSTOMIZATION).read_text(encoding="utf-8"))["resources"]
    return [TREE / name for name in resources] + [BOT_DEPLOYMENT]


def line_at(path: Path, steps: list[str]) -> int | None:
    """The line of the node at ``steps`` (mapping keys, sequence indices) in the YAML file, or of its deepest existing parent."""
    node: yaml.Node | None = yaml.compose(path.read_text(encoding="utf-8"), Loader=yaml.SafeLoader)
    line = node.start_mark.line + 1 if node else None
    for step in steps:
        if isinstance(node, yaml.MappingNode):
            found = next(((k, v) for k, v in node.value if k.value == step), None)
            if found is None:
                break
            line, node = found[0].start_mark.line + 1, found[1]
        elif isinstance(node, yaml.SequenceNode) and step.isdigit() and int(step) < len(node.value):
            node = node.value[int(step)]
            line = node.start_mark.line + 1
        else:
            break
    return line


def _run(argv: list[str], root: Path, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    # The test bed's pinned tools on the tree's own files.
    return subprocess.run(argv, cwd=root, env=env, capture_output=True, text=True, timeout=300, check=False)  # noqa: S603


def _go_env() -> dict[str, str]:
    """deploy/tools.sh's build settings (the same, so its compiled packages are reused), and no downloads."""
    cache = cache_dir()
    return os.environ | {
        "GOMODCACHE": str(cache / "gomod"),
        "GOCACHE": str(cache / "gocache"),
        "GOFLAGS": "-mod=readonly -buildvcs=false",
        "GOPROXY": "off",
        "GOTOOLCHAIN": "local",
        "GOWORK": "off",
        "CGO_ENABLED": "0",
    }


def _decode(root: Path) -> Iterator[Failure]:
    go = shutil.which("go")
    if go is None:
        raise MissingBinary("go is not on PATH: deploy/check is built from its Go modules. Install Go, then run `make testbed`.")
    with tempfile.TemporaryDirectory(prefix="qw-kubecheck-") as tmp:
        program = Path(tmp) / "kubecheck"
        built = _run([go, "build", "-o", str(program), "."], root / CHECK_SOURCE, _go_env())
        if built.returncode != 0:
            if "GOPROXY=off" in built.stderr or "GOFLAGS=-mod=mod" in built.stderr:
                raise MissingBinary(f"deploy/check's modules are not in the test bed's cache ({cache_dir() / 'gomod'}). Run `make testbed` to fetch them.")
            yield Failure(CHECK_SOURCE / "main.go", None, "deploy/check does not build", built.stderr)
            return
        done = _run([str(program), *map(str, manifests(root))], root)
    if done.returncode == 0:
        return
    for line in done.stdout.splitlines():
        if found := _PROBLEM.match(line):
            yield Failure(Path(found["file"]), int(found["line"]), found["what"])
    if not _PROBLEM.search(done.stdout):
        yield Failure(TREE, None, "deploy/check failed", done.stdout + done.stderr)


def kubeconform() -> Path:
    """The test bed's kubeconform at deploy/versions.env's pin."""
    version = pins(VERSIONS)["kubeconform"]
    path = cache_dir() / "bin" / f"kubeconform-{version}" / "kubeconform"
    if not (path.is_file() and os.access(path, os.X_OK)):
        raise MissingBinary(f"{path} is missing: kubeconform {version} is not built. Run `make testbed` (or deploy/tools.sh) to build it.")
    return path


def _schemas(root: Path) -> Iterator[Failure]:
    location = str(root / SCHEMAS / SCHEMA_LOCATION)
    done = _run([str(kubeconform()), "-strict", "-output", "json", "-schema-location", location, *map(str, manifests(root))], root)
    if done.returncode == 0:
        return
    try:
        results = json.loads(done.stdout)["resources"]
    except (ValueError, KeyError):
        yield Failure(TREE, None, "kubeconform failed", done.stdout + done.stderr)
        return
    for result in results:
        file = Path(result["filename"])
        what = f"{result['kind']} {result['name']}"
        errors = result.get("validationErrors") or [{"path": "", "msg": result["msg"]}]
        for error in errors:
            steps = [step for step in error["path"].split("/") if step]
            yield Failure(file, line_at(root / file, steps), f"{what}: {'.'.join(steps) or 'resource'}: {error['msg']}")


def _rule_groups(root: Path) -> list[dict[str, Any]]:
    groups: list[dict[str, Any]] = yaml.safe_load((root / PROMETHEUS_RULE).read_text(encoding="utf-8"))["spec"]["groups"]
    return groups


def _rules(root: Path) -> Iterator[Failure]:
    groups = _rule_groups(root)
    with tempfile.TemporaryDirectory(prefix="qw-kube-rules-") as tmp:
        rules = Path(tmp) / "groups.yml"
        rules.write_text(yaml.safe_dump({"groups": groups}, sort_keys=False), encoding="utf-8")
        done = _run([str(binary(*PROMTOOL)), "check", "rules", str(rules)], root)
    if done.returncode == 0:
        return
    output = done.stdout + done.stderr
    if found := _RULE.search(output):
        index = next((i for i, group in enumerate(groups) if group["name"] == found["group"]), None)
        if index is not None:
            steps = ["spec", "groups", str(index), "rules", str(int(found["rule"]) - 1)]
            yield Failure(PROMETHEUS_RULE, line_at(root / PROMETHEUS_RULE, steps), "promtool check rules", output)
            return
    yield Failure(*locate(output, (PROMETHEUS_RULE,), root), "promtool check rules", output)


def _resource(root: Path) -> dict[str, Any]:
    resource: dict[str, Any] = yaml.safe_load((root / ALERTMANAGER_CONFIG).read_text(encoding="utf-8"))
    return resource


def _with_config(root: Path, use: Callable[[Path], Iterator[Failure]]) -> Iterator[Failure]:
    """Run ``use`` on the operator's configuration for the tree's AlertmanagerConfig, written with the templates."""
    with tempfile.TemporaryDirectory(prefix="qw-kube-am-") as tmp:
        templates = [shutil.copy(path, tmp) for path in sorted((root / TEMPLATES_DIR).glob("*.tmpl"))]
        config = Path(tmp) / "alertmanager.yaml"
        config.write_text(yaml.safe_dump(alertmanager_yml(_resource(root), [str(t) for t in templates]), sort_keys=False), encoding="utf-8")
        yield from use(config)


def _alertmanager_config(root: Path) -> Iterator[Failure]:
    def check(config: Path) -> Iterator[Failure]:
        done = _run([str(binary(*AMTOOL)), "check-config", str(config)], root)
        if done.returncode != 0:
            output = done.stdout + done.stderr
            where = locate(output, (ALERTMANAGER_CONFIG,), root, *_QUOTED.findall(output))
            yield Failure(*where, "amtool check-config on the operator's configuration", output)

    yield from _with_config(root, check)


def routing_table(root: Path) -> list[tuple[dict[str, str], list[str], int | None]]:
    """Rows (alert labels, expected receivers, spec line): every alert of the PrometheusRule, and two that must reach none of ours."""
    resource = _resource(root)
    prefix = f"{resource['metadata']['namespace']}/{resource['metadata']['name']}/"
    alerts = {alert.name: alert for alert in load(root / SPEC_FILE).alerts}
    rows: list[tuple[dict[str, str], list[str], int | None]] = []
    for group in _rule_groups(root):
        for rule in group["rules"]:
            if "alert" in rule:
                alert = alerts[rule["alert"]]
                rows.append(({"alertname": alert.name} | rule["labels"], [prefix + channel for channel in alert.channels], alert.line))
    first = rows[0][0]
    rows.append((first | {"namespace": OTHER_NAMESPACE}, ["null"], None))
    rows.append(({"alertname": "Watchdog", "namespace": "monitoring"}, ["null"], None))
    return rows


def _routes(root: Path) -> Iterator[Failure]:
    amtool = str(binary(*AMTOOL))

    def test(config: Path) -> Iterator[Failure]:
        for labels, receivers, line in routing_table(root):
            expected = ",".join(receivers)
            argv = [amtool, "config", "routes", "test", f"--config.file={config}", f"--verify.receivers={expected}"]
            done = _run([*argv, *(f"{k}={v}" for k, v in labels.items())], root)
            if done.returncode != 0:
                got = (done.stdout.splitlines() or ["?"])[0]
                what = f"{labels['alertname']} ({', '.join(f'{k}={v}' for k, v in labels.items() if k != 'alertname')}) routes to {got}, expected {expected}"
                yield Failure(SPEC_FILE if line else ALERTMANAGER_CONFIG, line, what, done.stderr)

    yield from _with_config(root, test)


def checks(root: Path) -> dict[str, Callable[[], Iterator[Failure]]]:
    """Every check by name (``NAMES``); none looks for its tool before it runs."""
    return {
        "decode": lambda: _decode(root),
        "schemas": lambda: _schemas(root),
        "rules": lambda: _rules(root),
        "alertmanager-config": lambda: _alertmanager_config(root),
        "routes": lambda: _routes(root),
    }


def run(root: Path, names: list[str]) -> list[Failure]:
    return run_all({name: check for name, check in checks(root).items() if not names or name in names})


def main(argv: list[str] | None = None) -> int:
    return cli(argv, "python -m deploy.check", __doc__, NAMES, run)


if __name__ == "__main__":
    sys.exit(main())
