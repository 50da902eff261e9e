"""The spec's market hours as AlertmanagerConfig time intervals, which have no time zone: in UTC, year by year.

alertmanager.yml names the exchange's zone (``location``), but the operator's time intervals
(v1alpha1 and v1beta1 alike) have no such field, and a session fixed in New York time moves in UTC
with daylight saving. So each year the spec's calendar covers (the years of its holidays and early
closes) is cut into runs of days whose session has the same UTC times, and each run is written as
intervals of whole months or of days within a month. Closed days and early closes become closed
spans within that day's session only: the routes that mute them are active in the session alone, so
this is exactly what alertmanager.yml mutes there. Outside the covered years no session is defined
and market-hours alerts stay silent: the spec's holiday list must be extended each December anyway
(a test fails once the current year is missing).
"""

from __future__ import annotations

import calendar
import datetime as dt
from typing import Any
from zoneinfo import ZoneInfo

from alerts.spec import MarketHours

_UTC = dt.UTC


def _utc(day: dt.date, clock: str, zone: ZoneInfo) -> dt.datetime:
    """``clock`` (HH:MM) on ``day`` in ``zone``, as a UTC time."""
    hour, minute = map(int, clock.split(":"))
    return dt.datetime.combine(day, dt.time(hour, minute), zone).astimezone(_UTC)


def _span(day: dt.date, start: str, end: str, zone: ZoneInfo) -> dict[str, str]:
    """The local span start-end of ``day`` as a UTC TimeRange; it must stay within the same UTC day."""
    first, last = _utc(day, start, zone), _utc(day, end, zone)
    if first.date() != day or last.date() != day:
        raise ValueError(f"{start}-{end} {zone.key} on {day} is not within {day} in UTC: not expressible as one UTC interval")
    return {"startTime": first.strftime("%H:%M"), "endTime": last.strftime("%H:%M")}


def _blocks(first: dt.date, last: dt.date) -> list[dict[str, Any]]:
    """The days first..last of one year as TimeInterval date fields: whole months as one range, partial months by day."""
    out: list[dict[str, Any]] = []
    month = first.month
    while month <= last.month:
        start = first.day if month == first.month else 1
        month_end = calendar.monthrange(first.year, month)[1]
        end = last.day if month == last.month else month_end
        name = calendar.month_name[month].lower()
        if start == 1 and end == month_end and out and "daysOfMonth" not in out[-1]:
            out[-1]["months"] = [f"{out[-1]['months'][0].split(':')[0]}:{name}"]
        elif start == 1 and end == month_end:
            out.append({"months": [name]})
        else:
            out.append({"months": [name], "daysOfMonth": [{"start": start, "end": end}]})
        month += 1
    return out


def _day(day: dt.date) -> dict[str, Any]:
    return {"years": [str(day.year)], "months": [calendar.month_name[day.month].lower()], "daysOfMonth": [{"start": day.day, "end": day.day}]}


def years(hours: MarketHours) -> list[int]:
    """The years the spec's calendar covers."""
    return sorted({day.year for day in [*hours.holidays, *hours.early_closes]})


def session(hours: MarketHours) -> list[dict[str, Any]]:
    """The trading session on the spec's weekdays, as UTC TimeIntervals for each covered year."""
    zone = ZoneInfo(hours.timezone)
    out: list[dict[str, Any]] = []
    for year in years(hours):
        runs: list[tuple[dt.date, dt.date, dict[str, str]]] = []
        day = dt.date(year, 1, 1)
        while day.year == year:
            times = _span(day, hours.start, hours.end, zone)
            if runs and runs[-1][2] == times:
                runs[-1] = (runs[-1][0], day, times)
            else:
                runs.append((day, day, times))
            day += dt.timedelta(days=1)
        for first, last, times in runs:
            for block in _blocks(first, last):
                out.append({"times": [times], "weekdays": [hours.weekdays], "years": [str(year)], **block})
    return out


def closed(hours: MarketHours) -> list[dict[str, Any]]:
    """The exchange's closed days and early-close afternoons, each as the part of that day's session it closes, in UTC."""
    zone = ZoneInfo(hours.timezone)
    spans = [(day, hours.start) for day in hours.holidays] + list(hours.early_closes.items())
    return [{"times": [_span(day, start, hours.end, zone)], **_day(day)} for day, start in sorted(spans)]
