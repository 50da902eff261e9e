"""The market-hours time intervals of alertmanager.yml, evaluated at known instants of the US session."""

from __future__ import annotations

import datetime as dt
import re
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from alert_helpers import alertmanager_config

from alerts.spec import load

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
