"""``python -m alerts.check`` (make check): the real tools pass the repository and point at the file and line of a mistake."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import NamedTuple

import pytest
from alert_helpers import REPO

from alerts.check import LOKI_FILE, PROMETHEUS_FILE, main, run
from alerts.generate import ALERTMANAGER_FILE, RULES_DIR, TEMPLATES_DIR
from alerts.rules import ALERTS_FILE, TESTS_FILE
from alerts.spec import load

pytestmark = pytest.mark.servers  # the checks run the test bed's promtool, amtool, loki, Prometheus and Alertmanager

RULES = RULES_DIR / ALERTS_FILE
TEMPLATE = TEMPLATES_DIR / "quantwatch.tmpl"
WATCHDOG_LINE = next(alert.line for alert in load().alerts if alert.name == "QuantwatchWatchdog")


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
    Breakage("rule-tests", RULES, "rate5m * 60 > 10\n", "rate5m * 60 > 11\n", (RULES_DIR / TESTS_FILE, "QuantwatchErrorRateHigh: just over")),
    Breakage("prometheus-config", PROMETHEUS_FILE, "scrape_interval: 2s", "scrape_interval: 2 s"),
    Breakage("alertmanager-config", ALERTMANAGER_FILE, "receiver: heartbeat", "receiver: pager"),
    Breakage("alertmanager-config", TEMPLATE, '{{ define "qw.severity" }}', '{{ define "qw.severity" }}{{ nosuchfunction }}'),
    Breakage("routes", ALERTMANAGER_FILE, "receiver: heartbeat", "receiver: slack", (Path("alerts/spec.yaml"), WATCHDOG_LINE)),
    Breakage("loki-config", LOKI_FILE, "max_line_size: 256KB", "max_line_sise: 256KB"),
]


def test_every_check_passes_on_the_repository(capsys: pytest.CaptureFixture[str]) -> None:
    """promtool, amtool, loki -verify-config and the real Prometheus and Alertmanager accept the committed files."""
    assert main([]) == 0, capsys.readouterr().err
    assert capsys.readouterr().out.startswith("ok: prometheus-config, rules, rule-tests, alertmanager-config, routes, loki-config, load")


def _line_of(path: Path, needle: str) -> int:
    return next(number for number, text in enumerate(path.read_text().splitlines(), 1) if needle in text)


@pytest.mark.parametrize("breakage", BREAKAGES, ids=[f"{b.check}-{b.file.name}-{i}" for i, b in enumerate(BREAKAGES)])
def test_a_bad_file_fails_with_file_and_line(tmp_path: Path, breakage: Breakage) -> None:
    """A broken copy of a config fails its check with FILE:LINE of the mistake (or of the spec entry or test case it breaks)."""
    for folder in ("provisioning", "alertmanager"):
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


def test_an_unknown_check_is_refused(capsys: pytest.CaptureFixture[str]) -> None:
    """Naming a check that does not exist is a usage error listing the known ones."""
    with pytest.raises(SystemExit):
        main(["promtool"])
    assert "unknown check promtool (known: prometheus-config," in capsys.readouterr().err
