"""``python -m alerts.check`` (make check): the real tools pass the repository and point at the file and line of a mistake."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path
from typing import NamedTuple

import pytest
from alert_helpers import REPO, edited_spec, threshold_edit

from alerts.check import LOKI_FILE, NAMES, PROMETHEUS_FILE, SPEC_FILE, checks, main, run
from alerts.generate import ALERTMANAGER_FILE, ALERTS_MD, RULES_DIR, RUNBOOK_MD, TEMPLATES_DIR, THRESHOLDS_PY
from alerts.rules import ALERTS_FILE, TESTS_FILE
from alerts.spec import load
from deploy.check import run as run_kubernetes_checks
from deploy.render import ALERTMANAGER_CONFIG, PROMETHEUS_RULE

pytestmark = pytest.mark.servers  # the checks run the test bed's promtool, amtool, Prometheus and Alertmanager

RULES = RULES_DIR / ALERTS_FILE
TEMPLATE = TEMPLATES_DIR / "quantwatch.tmpl"
WATCHDOG_LINE = next(alert.line for alert in load().alerts if alert.name == "QuantwatchWatchdog")
#: The error-rate threshold raised by a fifth, as read from the spec: (alert, "threshold", old, new).
ERROR_RATE_EDIT, _ = threshold_edit("QuantwatchErrorRateHigh", 1.2)
ERROR_RULE = "rate5m * 60 > {}\n"


class Breakage(NamedTuple):
    """An edit of one file and the check that must catch it; ``at`` is where the failure points (None: the edit)."""

    check: str
    file: Path
    old: str
    new: str
    at: tuple[Path, str | int] | None = None


BREAKAGES = [
    Breakage("rules", RULES, 'up{job="bot"} == 0', 'up{job="bot"} === 0'),
    Breakage("rules", RULES, "for: 2m\n", "for: 2 minutes\n"),
    Breakage(
        "rule-tests",
        RULES,
        ERROR_RULE.format(ERROR_RATE_EDIT[2]),
        ERROR_RULE.format(ERROR_RATE_EDIT[3]),
        (RULES_DIR / TESTS_FILE, "QuantwatchErrorRateHigh: just over"),
    ),
    Breakage("prometheus-config", PROMETHEUS_FILE, "scrape_interval: 2s", "scrape_interval: 2 s"),
    Breakage("alertmanager-config", ALERTMANAGER_FILE, "receiver: heartbeat", "receiver: pager"),
    Breakage("alertmanager-config", TEMPLATE, '{{ define "qw.severity" }}', '{{ define "qw.severity" }}{{ nosuchfunction }}'),
    Breakage("routes", ALERTMANAGER_FILE, "receiver: heartbeat", "receiver: slack", (SPEC_FILE, WATCHDOG_LINE)),
    Breakage("loki-config", LOKI_FILE, "log_level: info", "log_level: info: debug"),
]


def test_every_check_passes_on_the_repository(capsys: pytest.CaptureFixture[str]) -> None:
    """promtool, amtool and the real Prometheus and Alertmanager accept the committed files, and loki.yml is YAML."""
    assert main([]) == 0, capsys.readouterr().err
    assert capsys.readouterr().out.startswith(f"ok: {', '.join(NAMES)} (")
    assert list(checks(REPO)) == list(NAMES)


def _line_of(path: Path, needle: str) -> int:
    return next(number for number, text in enumerate(path.read_text().splitlines(), 1) if needle in text)


@pytest.mark.parametrize("breakage", BREAKAGES, ids=[f"{b.check}-{b.file.name}-{i}" for i, b in enumerate(BREAKAGES)])
def test_a_bad_file_fails_with_file_and_line(tmp_path: Path, breakage: Breakage) -> None:
    """A broken copy of a config fails its check with FILE:LINE of the mistake (or of the spec entry or test case it breaks)."""
    for folder in ("provisioning", "alertmanager", "alerts"):
        shutil.copytree(REPO / folder, tmp_path / folder)
    text = (tmp_path / breakage.file).read_text()
    assert breakage.old in text
    (tmp_path / breakage.file).write_text(text.replace(breakage.old, breakage.new, 1))
    if breakage.at is None:
        where, line = breakage.file, text[: text.index(breakage.old)].count("\n") + 1
    else:
        where, needle = breakage.at
        line = needle if isinstance(needle, int) else _line_of(tmp_path / where, needle)
    failures = run(tmp_path, [breakage.check])
    assert failures
    assert str(failures[0]).startswith(f"{where}:{line}: "), str(failures[0])


#: The tool each check runs alone, by the server that builds it; the other servers' binaries may be missing.
NEEDS = {"rule-tests": "prometheus", "routes": "alertmanager", "loki-config": None}


@pytest.mark.parametrize(("check", "server"), NEEDS.items())
def test_a_check_asks_only_for_its_own_binary(monkeypatch: pytest.MonkeyPatch, tmp_path: Path, check: str, server: str | None) -> None:
    """With every other server's binaries missing, a check that does not run them passes on the repository."""
    for other in {"prometheus", "alertmanager"} - {server}:
        monkeypatch.setenv(f"{other.upper()}_BIN_DIR", str(tmp_path))
    assert run(REPO, [check]) == []


def test_a_missing_binary_is_one_line_naming_make_testbed(tmp_path: Path) -> None:
    """Without promtool, `python -m alerts.check rules` exits 1 with one line saying to run make testbed, and no traceback."""
    env = dict(os.environ, PROMETHEUS_BIN_DIR=str(tmp_path))
    done = subprocess.run([sys.executable, "-m", "alerts.check", "rules"], cwd=REPO, env=env, capture_output=True, text=True, timeout=60, check=False)
    assert done.returncode == 1
    [line] = done.stderr.splitlines()
    assert line.startswith(f"error: rules: {tmp_path / 'promtool'} is missing: "), line
    assert "`make testbed`" in line, line


def test_an_unknown_check_is_refused(capsys: pytest.CaptureFixture[str]) -> None:
    """Naming a check that does not exist is a usage error listing the known ones."""
    with pytest.raises(SystemExit):
        main(["promtool"])
    assert "unknown check promtool (known: prometheus-config," in capsys.readouterr().err


def _tree_copy(root: Path) -> Path:
    """The files git tracks, as they are in the working tree, copied under ``root``."""
    tracked = subprocess.run(["git", "ls-files", "-z"], cwd=REPO, capture_output=True, text=True, check=True).stdout.split("\0")
    for name in filter(None, tracked):
        if (REPO / name).is_file():
            (root / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(REPO / name, root / name)
    return root


@pytest.mark.parametrize(
    ("edit", "expected"),
    [
        (ERROR_RATE_EDIT, {RULES, RULES_DIR / TESTS_FILE, ALERTS_MD, RUNBOOK_MD, THRESHOLDS_PY, PROMETHEUS_RULE}),
        (("QuantwatchHealthScoreLow", "cooldown", "1m", "5m"), {ALERTMANAGER_FILE, ALERTS_MD, RUNBOOK_MD, ALERTMANAGER_CONFIG}),
    ],
)
def test_one_spec_edit_then_make_generate_is_all_it_takes(tmp_path: Path, edit: tuple[str, str, str, str], expected: set[Path]) -> None:
    """In a copy of the tree, one spec edit + `make generate` changes only generated files (these among them, the Kubernetes tree's too) and the checks pass."""
    tree = _tree_copy(tmp_path / "tree")
    edited_spec(tree / "alerts", *edit)
    # The repository's venv and installed grammars; `-o` keeps make from installing either again for the copy.
    (tree / "dashboards" / "grammar" / "node_modules").symlink_to(REPO / "dashboards" / "grammar" / "node_modules")
    subprocess.run(["make", "-o", "install", "-o", "grammar", "generate", f"VENV={sys.prefix}"], cwd=tree, capture_output=True, check=True, timeout=300)
    changed = {Path(name) for name in _differing(tree)} - {SPEC_FILE}
    generated = [Path(name) for name in re.search(r"^GENERATED := (.*)$", (tree / "Makefile").read_text(), re.MULTILINE)[1].split()]  # type: ignore[index]
    assert expected <= changed
    assert all(any(path == root or root in path.parents for root in generated) for path in changed), changed
    assert run(tree, ["rules", "rule-tests", "alertmanager-config", "routes"]) == []
    assert run_kubernetes_checks(tree, ["rules", "alertmanager-config", "routes"]) == []


def _differing(tree: Path) -> list[str]:
    """Files under ``tree`` whose text differs from the repository's (or that the repository lacks)."""
    return [
        str(path.relative_to(tree))
        for path in tree.rglob("*")
        if path.is_file()
        and "__pycache__" not in path.parts
        and (not (REPO / path.relative_to(tree)).is_file() or (REPO / path.relative_to(tree)).read_bytes() != path.read_bytes())
    ]
