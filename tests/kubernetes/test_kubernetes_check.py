"""``python -m deploy.check`` (make check): the Go types, kubeconform, promtool and amtool pass the tree and point at the line of a mistake."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import NamedTuple

import pytest

from alerts.check import SPEC_FILE
from alerts.generate import REPO
from alerts.spec import load
from deploy.check import NAMES, OTHER_NAMESPACE, main, routing_table, run
from deploy.render import ALERTMANAGER_CONFIG, PROMETHEUS_RULE

pytestmark = pytest.mark.servers  # the checks run what make testbed builds: deploy/check's modules, kubeconform, promtool, amtool

WATCHDOG_LINE = next(alert.line for alert in load().alerts if alert.name == "QuantwatchWatchdog")
#: A child route (the Watchdog's) of the AlertmanagerConfig, and the same with one more route nested under it.
CHILD_ROUTE = "      receiver: heartbeat\n"
NESTED_ROUTE = CHILD_ROUTE + "      routes:\n      - receiver: heartbeat\n        expr2: x\n"


class Breakage(NamedTuple):
    """An edit of one file and the check that must catch it: ``at`` is the text on the line the failure names (or the spec line), ``says`` is in its message."""

    check: str
    file: Path
    old: str
    new: str
    at: str | int
    says: str


UNKNOWN = 'json: unknown field "expr2"'
BOT_DOWN = '      expr: up{job="bot"} == 0\n'
DECODING = "error unmarshaling JSON: while decoding JSON: "
BREAKAGES = [
    Breakage("decode", PROMETHEUS_RULE, BOT_DOWN, BOT_DOWN.replace("expr", "expr2"), "expr2:", f"PrometheusRule quantwatch: {DECODING}{UNKNOWN}"),
    Breakage("decode", ALERTMANAGER_CONFIG, CHILD_ROUTE, CHILD_ROUTE + "      expr2: x\n", "expr2:", f"quantwatch: spec.route.routes: route[9]: {UNKNOWN}"),
    Breakage("decode", ALERTMANAGER_CONFIG, CHILD_ROUTE, NESTED_ROUTE, "expr2:", f"spec.route.routes[9].routes: route[0]: {UNKNOWN}"),
    Breakage("decode", ALERTMANAGER_CONFIG, "    - endTime: '20:00'\n", "    - endTime: '25:00'\n", "muteTimeIntervals:", "end time invalid"),
    # Child routes are free-form JSON to the CRD schema: only the Go check's Validate sees their matchers.
    Breakage("decode", ALERTMANAGER_CONFIG, "      - matchType: =~\n", "      - matchType: ~=\n", "matchType: ~=", "invalid 'matchType' '~='"),
    Breakage("schemas", PROMETHEUS_RULE, "      for: 1m\n", "      for: 1 minute\n", "for: 1 minute", "rules.0.for: '1 minute' does not match pattern"),
    Breakage("schemas", ALERTMANAGER_CONFIG, "    - matchType: =~\n", "    - matchType: ~=\n", "matchType: ~=", "value must be one of"),
    Breakage("rules", PROMETHEUS_RULE, 'up{job="bot"} == 0', 'up{job="bot"} === 0', "- alert: QuantwatchBotDown", "promtool check rules"),
    Breakage("alertmanager-config", ALERTMANAGER_CONFIG, CHILD_ROUTE, "      receiver: pager\n", "receiver: pager", "amtool check-config"),
    Breakage("routes", ALERTMANAGER_CONFIG, CHILD_ROUTE, "      receiver: slack\n", WATCHDOG_LINE, "QuantwatchWatchdog"),
]


def tree(root: Path) -> Path:
    """What the checks read (the tree, its schemas, deploy/check's source, the spec and the templates) copied under ``root``."""
    for folder in ("deploy", "alerts", "alertmanager"):
        shutil.copytree(REPO / folder, root / folder, ignore=shutil.ignore_patterns("__pycache__"))
    return root


def test_every_check_passes_on_the_repository(capsys: pytest.CaptureFixture[str]) -> None:
    """The operator's Go types, kubeconform, promtool and amtool accept the committed tree."""
    assert main([]) == 0, capsys.readouterr().err
    assert capsys.readouterr().out.startswith(f"ok: {', '.join(NAMES)} (")


@pytest.mark.parametrize("breakage", BREAKAGES, ids=[f"{b.check}-{b.file.name}-{i}" for i, b in enumerate(BREAKAGES)])
def test_a_bad_manifest_fails_with_file_line_and_message(tmp_path: Path, breakage: Breakage) -> None:
    """A broken copy of a manifest fails its check as FILE:LINE of the mistake (or of the spec entry whose routing it breaks) with a useful message."""
    root = tree(tmp_path)
    text = (root / breakage.file).read_text()
    assert breakage.old in text
    (root / breakage.file).write_text(text.replace(breakage.old, breakage.new, 1))
    if isinstance(breakage.at, int):
        where, line = SPEC_FILE, breakage.at
    else:
        edited = (root / breakage.file).read_text().splitlines()
        where, line = breakage.file, next(n for n, text in enumerate(edited, 1) if breakage.at in text)
    failures = run(root, [breakage.check])
    assert failures
    assert str(failures[0]).startswith(f"{where}:{line}: "), str(failures[0])
    assert breakage.says in str(failures[0]), str(failures[0])


def test_a_bad_duration_passes_the_go_types_and_fails_the_schema(tmp_path: Path) -> None:
    """`for: 1 minute` is a string to the operator's Go types; only the CRD schema's pattern refuses it, so both checks are needed."""
    root = tree(tmp_path)
    text = (root / PROMETHEUS_RULE).read_text()
    (root / PROMETHEUS_RULE).write_text(text.replace("      for: 1m\n", "      for: 1 minute\n", 1))
    assert run(root, ["decode"]) == []
    assert run(root, ["schemas"])


def test_the_routing_table_covers_every_alert_and_strangers() -> None:
    """Each alert of the PrometheusRule is a row with the spec's receivers, prefixed; another namespace's alert and the stack's Watchdog reach none of ours."""
    rows = routing_table(REPO)
    spec = load()
    assert sorted(labels["alertname"] for labels, _, _ in rows[: len(spec.alerts)]) == sorted(a.name for a in spec.alerts)
    assert all(receiver.startswith("trading/quantwatch/") for _, receivers, _ in rows[: len(spec.alerts)] for receiver in receivers)
    assert [(labels["namespace"], receivers) for labels, receivers, _ in rows[len(spec.alerts) :]] == [(OTHER_NAMESPACE, ["null"]), ("monitoring", ["null"])]


def test_a_missing_tool_is_one_line_naming_make_testbed(tmp_path: Path) -> None:
    """Without kubeconform built, `python -m deploy.check schemas` exits 1 with one line saying to run make testbed, and no traceback."""
    env = dict(os.environ, QUANTWATCH_CACHE=str(tmp_path))
    done = subprocess.run([sys.executable, "-m", "deploy.check", "schemas"], cwd=REPO, env=env, capture_output=True, text=True, timeout=60, check=False)
    assert done.returncode == 1
    [line] = done.stderr.splitlines()
    assert line.startswith(f"error: schemas: {tmp_path}/bin/kubeconform-"), line
    assert "`make testbed`" in line, line
