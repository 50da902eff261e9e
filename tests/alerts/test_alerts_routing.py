"""The routing table: each row is a label set and the exact receivers amtool finds for it in alertmanager.yml."""

from __future__ import annotations

import re
from typing import Any

import pytest
from alert_helpers import REPO, alertmanager_config, amtool

from alerts.check import routing_row
from alerts.generate import ALERTMANAGER_FILE
from alerts.spec import load
from alerts.text import format_duration

pytestmark = pytest.mark.servers  # amtool comes from the test bed's Alertmanager build

SPEC = load()
#: The routing policy, written by hand: critical to Slack and email (and the pager webhook),
#: warning to Slack, Watchdog to the heartbeat, anything unknown still to Slack.
POLICY = [
    ({"alertname": "QuantwatchDrawdownHigh", "severity": "critical", "alertgroup": "drawdown"}, "slack,email,webhook"),
    ({"alertname": "QuantwatchHealthScoreLow", "severity": "critical", "alertgroup": "health"}, "slack,email,webhook"),
    ({"alertname": "QuantwatchErrorRateHigh", "severity": "warning", "alertgroup": "errors"}, "slack"),
    ({"alertname": "QuantwatchMarketDataStale", "severity": "warning", "symbol": "SPY"}, "slack"),
    ({"alertname": "QuantwatchWatchdog", "severity": "warning"}, "heartbeat"),
    ({"alertname": "SomeHandWrittenAlert", "severity": "critical"}, "slack"),
    ({"alertname": "QuantwatchErrorRateHighTypo", "severity": "warning"}, "slack"),
]


ROWS = POLICY + [routing_row(alert) for alert in SPEC.alerts]


@pytest.mark.parametrize(("labels", "receivers"), ROWS, ids=[row[0]["alertname"] for row in ROWS])
def test_routing_table(labels: dict[str, str], receivers: str) -> None:
    """amtool routes this label set to exactly these receivers, in this order."""
    args = [f"{key}={value}" for key, value in labels.items()]
    result = amtool("config", "routes", "test", f"--config.file={REPO / ALERTMANAGER_FILE}", f"--verify.receivers={receivers}", *args)
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout.strip() == receivers


def _matches(matchers: list[str], labels: dict[str, str]) -> bool:
    """Alertmanager's `name="v"` / `name=~"re"` matchers (anchored), as the generated config uses them."""
    for matcher in matchers:
        name, op, value = re.fullmatch(r'(\w+)(=~|=)"(.*)"', matcher).groups()  # type: ignore[union-attr]
        actual = labels.get(name, "")
        if not (re.fullmatch(value, actual) if op == "=~" else actual == value):
            return False
    return True


def test_every_route_is_covered_by_a_row_and_times_its_cooldown() -> None:
    """Each route of the tree serves at least one row, and repeats at the cooldown of the alerts it serves."""
    routes: list[dict[str, Any]] = alertmanager_config()["route"]["routes"]
    cooldowns = {alert.name: alert.cooldown for alert in SPEC.alerts}
    for route in routes:
        served = [labels["alertname"] for labels, _ in ROWS if _matches(route["matchers"], labels)]
        assert served, route
        for name in served:
            cooldown = cooldowns[name]
            assert route["repeat_interval"] == format_duration(cooldown.repeat_interval), name
            assert route["group_interval"] == format_duration(cooldown.group_interval), name
            assert route["group_wait"] == format_duration(cooldown.group_wait), name


def test_only_market_hours_alerts_are_time_muted() -> None:
    """Market-hours-only alerts notify inside the session and never on closed days; no other route is time-bound."""
    for route in alertmanager_config()["route"]["routes"]:
        timed = [alert for alert in SPEC.alerts if _matches(route["matchers"], {"alertname": alert.name}) and alert.market_hours_only]
        if timed:
            assert route["active_time_intervals"] == ["us-market-hours"]
            assert route["mute_time_intervals"] == ["us-market-closed"]
        else:
            assert "active_time_intervals" not in route
            assert "mute_time_intervals" not in route


def test_check_config_accepts_the_generated_file() -> None:
    """amtool check-config loads alertmanager.yml with its templates."""
    result = amtool("check-config", REPO / ALERTMANAGER_FILE)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "1 templates" in result.stdout
