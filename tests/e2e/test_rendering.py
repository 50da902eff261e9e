"""The e2e rendering: the same spec and configs, only waits, windows and intervals scaled, market hours set around now."""

from __future__ import annotations

import datetime as dt
import difflib
from pathlib import Path
from zoneinfo import ZoneInfo

import yaml

from alerts.generate import RULES_DIR
from alerts.rules import ALERTS_FILE, RECORDING_FILE, TESTS_FILE
from alerts.spec import load
from testbed.e2e.stack import render_stack
from testbed.servers import CONFIGS


def _rules(path: Path) -> dict[str, dict[str, str]]:
    return {r.get("alert") or r["record"]: r for g in yaml.safe_load(path.read_text())["groups"] for r in g["rules"]}


def test_windows_and_waits_are_scaled_expressions_otherwise_the_same(tmp_path: Path) -> None:
    """Range windows and `for` are divided by the profile's scales; thresholds and the rest of each expression stay; no promtool cases."""
    rendered = render_stack(tmp_path)
    production = load()
    rules = _rules(rendered.rules_dir / ALERTS_FILE) | _rules(rendered.rules_dir / RECORDING_FILE)
    assert rules["instance:trading_errors:rate5m"]["expr"] == 'sum without (component, error_type) (rate(trading_errors_total{job="bot"}[10s]))'
    assert (rules["QuantwatchErrorRateHigh"]["expr"], rules["QuantwatchErrorRateHigh"]["for"]) == ("instance:trading_errors:rate5m * 60 > 10", "4s")
    for alert in production.alerts:
        assert rules[alert.name]["expr"] == alert.expr.replace("[5m]", "[10s]")
    assert not (tmp_path / RULES_DIR / TESTS_FILE).exists()


def test_prometheus_config_differs_only_in_its_intervals(tmp_path: Path) -> None:
    """prometheus.yml keeps every line but scrape_interval, scrape_timeout and evaluation_interval, each divided by 30 (at least 1s)."""
    rendered = render_stack(tmp_path)
    diff = [line for line in difflib.ndiff(CONFIGS["prometheus"].read_text().splitlines(), rendered.prometheus.read_text().splitlines()) if line[:1] in "+-"]
    removed = [line[2:].split(":")[0].strip() for line in diff if line.startswith("-")]
    assert removed == ["scrape_interval", "scrape_timeout", "evaluation_interval", "scrape_interval", "scrape_timeout"]
    assert [line[2:].strip() for line in diff if line.startswith("+")] == [f"{key}: 1s" for key in removed]


def test_market_hours_include_or_exclude_now(tmp_path: Path) -> None:
    """Open: a session every day, all day, no holidays. Closed: today (New York) is an exchange holiday."""
    opened = yaml.safe_load(render_stack(tmp_path / "open").alertmanager.read_text())["time_intervals"]
    closed = yaml.safe_load(render_stack(tmp_path / "closed", market_open=False).alertmanager.read_text())["time_intervals"]
    by_name = {i["name"]: i["time_intervals"] for i in opened}
    assert by_name["us-market-hours"] == [
        {"location": "America/New_York", "times": [{"end_time": "24:00", "start_time": "00:00"}], "weekdays": ["sunday:saturday"]}
    ]
    assert by_name["us-market-closed"] == []
    today = dt.datetime.now(dt.UTC).astimezone(ZoneInfo("America/New_York")).date()
    holidays = next(i["time_intervals"] for i in closed if i["name"] == "us-market-closed")
    assert {"years": [str(today.year)], "months": [today.strftime("%B").lower()], "days_of_month": [str(today.day)], "location": "America/New_York"} in holidays
