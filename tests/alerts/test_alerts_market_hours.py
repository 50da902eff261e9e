"""The market-hours time intervals of alertmanager.yml: read at known instants of the US session, and obeyed by the real Alertmanager."""

from __future__ import annotations

import datetime as dt
import json
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
import requests
from alert_helpers import alertmanager_config, render_to

from alerts.check import routing_row
from alerts.generate import ALERTMANAGER_FILE
from alerts.spec import SPEC, load
from testbed.poll import wait_until
from testbed.servers import TestBed

WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
MONTHS = ("january", "february", "march", "april", "may", "june", "july", "august", "september", "october", "november", "december")


def _in_ranges(value: int, ranges: list[str], names: tuple[str, ...] = ()) -> bool:
    """Alertmanager's inclusive ``a:b`` ranges of numbers or names (names count from 1)."""

    def number(text: str) -> int:
        return names.index(text) + 1 if text in names else int(text)

    for item in ranges:
        low, _, high = item.partition(":")
        if number(low) <= value <= number(high or low):
            return True
    return False


def _matches(interval: dict[str, Any], instant: dt.datetime) -> bool:
    """One time_interval entry at ``instant``, read in its location; end times are exclusive."""
    local = instant.astimezone(ZoneInfo(interval.get("location", "UTC")))
    minute = local.hour * 60 + local.minute
    checks = [
        "times" not in interval or any(_minutes(t["start_time"]) <= minute < _minutes(t["end_time"]) for t in interval["times"]),
        "weekdays" not in interval or _in_ranges(local.isoweekday(), interval["weekdays"], WEEKDAYS),
        "days_of_month" not in interval or _in_ranges(local.day, interval["days_of_month"]),
        "months" not in interval or _in_ranges(local.month, interval["months"], MONTHS),
        "years" not in interval or _in_ranges(local.year, interval["years"]),
    ]
    return all(checks)


def _minutes(text: str) -> int:
    hours, minutes = re.fullmatch(r"(\d\d):(\d\d)", text).groups()  # type: ignore[union-attr]
    return int(hours) * 60 + int(minutes)


def notifies(instant: dt.datetime) -> bool:
    """Whether the market-hours-only route sends at ``instant``: inside an active interval, outside every mute."""
    config = alertmanager_config()
    intervals = {item["name"]: item["time_intervals"] for item in config["time_intervals"]}
    route = next(r for r in config["route"]["routes"] if "active_time_intervals" in r)

    def any_of(names: list[str]) -> bool:
        return any(_matches(entry, instant) for name in names for entry in intervals[name])

    return any_of(route["active_time_intervals"]) and not any_of(route.get("mute_time_intervals", []))


def utc(text: str) -> dt.datetime:
    return dt.datetime.fromisoformat(text).replace(tzinfo=dt.UTC)


@pytest.mark.parametrize(
    ("instant", "expected"),
    [
        ("2026-03-10T14:30", True),  # Tuesday 10:30 EDT (DST began 8 March)
        ("2026-03-10T13:30", True),  # 09:30 EDT: the open is inside
        ("2026-03-10T13:29", False),  # 09:29 EDT
        ("2026-03-10T19:59", True),  # 15:59 EDT
        ("2026-03-10T20:00", False),  # 16:00 EDT: the close is outside
        ("2026-03-06T14:30", True),  # Friday 09:30 EST, before DST
        ("2026-03-06T13:30", False),  # 08:30 EST: an offset taken as UTC-4 would wrongly open here
        ("2026-03-14T15:00", False),  # Saturday
        ("2026-03-15T15:00", False),  # Sunday
        ("2026-11-26T15:00", False),  # Thanksgiving
        ("2026-11-27T17:59", True),  # Black Friday 12:59 EST, before the early close
        ("2026-11-27T18:00", False),  # 13:00 EST: early close
        ("2026-07-03T15:00", False),  # Independence Day observed
        ("2026-07-02T15:00", True),  # the Thursday before it trades
        ("2026-12-24T17:30", True),  # Christmas Eve morning session
        ("2026-12-24T18:30", False),  # after its 13:00 early close
        ("2026-12-25T15:00", False),  # Christmas
        ("2027-03-26T15:00", False),  # Good Friday 2027
        ("2027-01-04T15:00", True),  # first trading day of 2027
    ],
)
def test_market_hours_only_alerts_notify_in_the_session(instant: str, expected: bool) -> None:
    """The active/mute intervals open 09:30-16:00 New York time on trading days only, holidays and early closes muted."""
    assert notifies(utc(instant)) is expected


def test_every_spec_holiday_is_muted_all_day() -> None:
    """Each holiday of the spec mutes from the open to the close in New York."""
    new_york = ZoneInfo(load().market_hours.timezone)
    for day in load().market_hours.holidays:
        for hour, minute in ((9, 30), (12, 0), (15, 59)):
            instant = dt.datetime(day.year, day.month, day.day, hour, minute, tzinfo=new_york)
            assert not notifies(instant), day


def test_holidays_cover_this_year() -> None:
    """The holiday list reaches the current year: stale holidays would page on a closed exchange day."""
    assert max(load().market_hours.holidays).year >= dt.datetime.now(dt.UTC).year


#: The spec's session made to last all day, every day: an edit below then closes today, or nothing does.
ALL_DAY = {"weekdays: monday:friday": "weekdays: sunday:saturday", 'start: "09:30"': 'start: "00:00"', 'end: "16:00"': 'end: "24:00"'}
MUTED = 'alertmanager_notifications_suppressed_total{reason="%s"}'


def _closing_today(how: str) -> dict[str, str]:
    today = dt.datetime.now(ZoneInfo(load().market_hours.timezone)).date()
    weekday = today.strftime("%A").lower()
    others = [day for day in ("sunday", "monday", "tuesday", "wednesday", "thursday", "friday", "saturday") if day != weekday]
    return {
        "open": ALL_DAY,
        "holiday": ALL_DAY | {"  holidays:\n": f"  holidays:\n    {today.isoformat()}: Test day\n"},
        "early close": ALL_DAY | {"  early_closes:\n": f'  early_closes:\n    {today.isoformat()}: "00:00"\n'},
        "weekday": ALL_DAY | {"weekdays: sunday:saturday": f"weekdays: {others[0]}:{others[0]}"},
    }[how]


def _suppressed(url: str, reason: str) -> float:
    for line in requests.get(f"{url}/metrics", timeout=10).text.splitlines():
        if line.startswith(MUTED % reason + " "):
            return float(line.split()[1])
    return 0.0


@pytest.mark.servers
@pytest.mark.parametrize(
    ("how", "reason"), [("open", None), ("holiday", "mute_time_interval"), ("early close", "mute_time_interval"), ("weekday", "active_time_interval")]
)
def test_the_real_alertmanager_mutes_a_market_hours_alert_on_a_closed_day(
    testbed_factory: Callable[[str], TestBed], tmp_path: Path, how: str, reason: str | None
) -> None:
    """With today a holiday, closed early or not a trading weekday, the market-data alert is muted and an always-on one still sent; else both are."""
    text = SPEC.read_text()
    for old, new in _closing_today(how).items():
        assert text.count(old) == 1, old
        text = text.replace(old, new)
    (tmp_path / "spec.yaml").write_text(text)
    render_to(tmp_path / "out", tmp_path / "spec.yaml", profile="test")  # waits of a second or two
    bed = testbed_factory(f"market-{how.replace(' ', '-')}")
    alertmanager = bed.start_alertmanager(config=tmp_path / "out" / ALERTMANAGER_FILE)
    alerts = {alert.name: alert for alert in load().alerts}
    now = dt.datetime.now(dt.UTC)
    window = {"startsAt": now.isoformat(), "endsAt": (now + dt.timedelta(minutes=10)).isoformat()}
    posted = [{"labels": routing_row(alerts[name])[0]} | window for name in ("QuantwatchMarketDataStale", "QuantwatchErrorRateHigh")]
    requests.post(f"{alertmanager.url}/api/v2/alerts", json=posted, timeout=10).raise_for_status()

    def sent(name: str) -> Callable[[Any], bool]:
        return lambda post: name in json.dumps(post.json())

    bed.slack.wait_for(sent("QuantwatchErrorRateHigh"), timeout=30)
    if reason is None:
        bed.slack.wait_for(sent("QuantwatchMarketDataStale"), timeout=30)
    else:
        wait_until(lambda: _suppressed(alertmanager.url, reason) > 0, timeout=30, what=f"a notification suppressed ({reason})")
        assert not [post for post in bed.slack.items() if sent("QuantwatchMarketDataStale")(post)]
