"""The Alertmanager configuration rendered from the spec: routes, receivers, inhibitions, market hours.

Alerts sharing channels, cooldown and market-hours flag form one class; each class gets one route
per channel (``continue: true`` on all but the last), so a critical alert reaches every channel
independently and the routing table reads as "alert -> receivers".
"""

from __future__ import annotations

import copy
import datetime as dt
from typing import Any

from .spec import Alert, Cooldown, MarketHours, Spec
from .text import format_duration

MARKET_HOURS = "us-market-hours"
MARKET_CLOSED = "us-market-closed"
TEMPLATES = "templates/*.tmpl"
_SLACK = {
    "send_resolved": True,
    "title": '{{ template "qw.slack.title" . }}',
    "title_link": '{{ template "qw.slack.title_link" . }}',
    "text": '{{ template "qw.slack.text" . }}',
    "color": '{{ template "qw.slack.color" . }}',
    "fallback": '{{ template "qw.slack.title" . }}',
}
_EMAIL = {
    "send_resolved": True,
    "headers": {"Subject": '{{ template "qw.email.subject" . }}'},
    "html": '{{ template "qw.email.html" . }}',
    "text": '{{ template "qw.email.text" . }}',
}
_WEBHOOK = {"send_resolved": True}
_DEFAULTS = {"slack_configs": _SLACK, "email_configs": _EMAIL, "webhook_configs": _WEBHOOK}


def alertname_matcher(names: list[str]) -> str:
    return f'alertname=~"{"|".join(sorted(names))}"'


def _timings(cooldown: Cooldown) -> dict[str, str]:
    return {
        "group_wait": format_duration(cooldown.group_wait),
        "group_interval": format_duration(cooldown.group_interval),
        "repeat_interval": format_duration(cooldown.repeat_interval),
    }


def routes(spec: Spec) -> list[dict[str, Any]]:
    """One route per channel of each class of alerts, in the spec's order of first appearance."""
    classes: dict[tuple[tuple[str, ...], str, bool], list[Alert]] = {}
    for alert in spec.alerts:
        classes.setdefault((alert.channels, alert.cooldown.name, alert.market_hours_only), []).append(alert)
    out = []
    for (channels, _, market_hours_only), members in classes.items():
        for i, channel in enumerate(channels):
            route: dict[str, Any] = {
                "receiver": channel,
                "matchers": [alertname_matcher([a.name for a in members])],
                "continue": i < len(channels) - 1,
                **_timings(members[0].cooldown),
            }
            if market_hours_only:
                route["active_time_intervals"] = [MARKET_HOURS]
                route["mute_time_intervals"] = [MARKET_CLOSED]
            out.append(route)
    return out


def receivers(spec: Spec) -> list[dict[str, Any]]:
    """The spec's receivers with quantwatch's templates and send_resolved filled in where not set."""
    out = []
    for name, integrations in sorted(spec.receivers.items()):
        receiver: dict[str, Any] = {"name": name}
        for kind, configs in sorted(integrations.items()):
            receiver[kind] = [_DEFAULTS.get(kind, {}) | copy.deepcopy(config) for config in configs]
        out.append(receiver)
    return out


def inhibit_rules(spec: Spec) -> list[dict[str, Any]]:
    bot_alerts = [a.name for a in spec.alerts if a.target and a.target.name == "bot" and a.name not in spec.bot_down]
    return [
        {
            "name": "critical-mutes-warning-of-same-kind",
            "source_matchers": ['severity="critical"'],
            "target_matchers": ['severity="warning"'],
            "equal": list(spec.same_kind_equal),
        },
        {
            "name": "bot-down-mutes-bot-alerts",
            "source_matchers": [alertname_matcher(list(spec.bot_down))],
            "target_matchers": [alertname_matcher(bot_alerts)],
            "equal": list(spec.bot_down_equal),
        },
    ]


def time_intervals(hours: MarketHours) -> list[dict[str, Any]]:
    """Trading session on weekdays, and the exchange's closed days and early-close afternoons."""

    def day(date: dt.date, **extra: Any) -> dict[str, Any]:
        return {
            "years": [str(date.year)],
            "months": [date.strftime("%B").lower()],
            "days_of_month": [str(date.day)],
            "location": hours.timezone,
            **extra,
        }

    closed = [day(date) for date in hours.holidays]
    closed += [day(date, times=[{"start_time": time, "end_time": hours.end}]) for date, time in hours.early_closes.items()]
    session = {
        "weekdays": [hours.weekdays],
        "times": [{"start_time": hours.start, "end_time": hours.end}],
        "location": hours.timezone,
    }
    return [{"name": MARKET_HOURS, "time_intervals": [session]}, {"name": MARKET_CLOSED, "time_intervals": closed}]


def render_alertmanager(spec: Spec) -> dict[str, Any]:
    return {
        "templates": [TEMPLATES],
        "route": {
            "receiver": spec.default_receiver,
            "group_by": list(spec.group_by),
            **_timings(spec.default_cooldown),
            "routes": routes(spec),
        },
        "receivers": receivers(spec),
        "inhibit_rules": inhibit_rules(spec),
        "time_intervals": time_intervals(spec.market_hours),
    }
