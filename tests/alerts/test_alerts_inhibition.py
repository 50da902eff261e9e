"""Inhibition in the real Alertmanager: which firing alert mutes which, with the committed alertmanager.yml."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

import pytest
import requests

from alerts.check import routing_row
from alerts.spec import Alert, load
from testbed.api import AlertmanagerAPI
from testbed.poll import wait_until
from testbed.servers import TestBed

pytestmark = pytest.mark.servers

SPEC = load()
LABELS = {alert.name: routing_row(alert)[0] for alert in SPEC.alerts}


def _bot_metric(alert: Alert) -> bool:
    return alert.target is not None and alert.target.name == "bot" and alert.name not in SPEC.bot_down


#: (source, target, target muted): both fire; the source is never muted. Each row runs under its own job, so rows do not meet.
ROWS = [
    ("QuantwatchDrawdownHigh", "QuantwatchDrawdownElevated", True),  # critical mutes the warning of its kind, not the other way round
    ("QuantwatchHealthScoreLow", "QuantwatchErrorRateHigh", False),  # nor a warning of another kind
    *[(source, alert.name, _bot_metric(alert)) for source in SPEC.bot_down for alert in SPEC.alerts if alert.name not in SPEC.bot_down],
]


def _labels(name: str, row: int, **extra: str) -> dict[str, str]:
    return LABELS[name] | {"job": f"row{row}"} | extra


def test_inhibition_pairs(testbed_factory: Callable[[str], TestBed]) -> None:
    """Critical mutes the warning of its own kind on the same target; bot-down mutes every bot-metric alert, no meta alert."""
    alertmanager = testbed_factory("inhibition").start_alertmanager()
    now = dt.datetime.now(dt.UTC)
    window = {"startsAt": now.isoformat(), "endsAt": (now + dt.timedelta(minutes=10)).isoformat()}
    posted = [_labels(source, i) for i, (source, _, _) in enumerate(ROWS)] + [_labels(target, i) for i, (_, target, _) in enumerate(ROWS)]
    # The same pair on two instances: the critical of one target does not mute the warning of another.
    other = len(ROWS)
    posted += [_labels("QuantwatchDrawdownHigh", other, instance="a"), _labels("QuantwatchDrawdownElevated", other, instance="b")]
    requests.post(f"{alertmanager.url}/api/v2/alerts", json=[{"labels": labels} | window for labels in posted], timeout=10).raise_for_status()
    api = AlertmanagerAPI(alertmanager.url)

    def held() -> dict[tuple[tuple[str, str], ...], dict[str, Any]] | None:
        alerts = {tuple(sorted(a["labels"].items())): a for a in api.alerts()}
        muted = sum(1 for a in alerts.values() if a["status"]["inhibitedBy"])
        return alerts if len(alerts) == len(posted) and muted == sum(row[2] for row in ROWS) else None

    alerts = wait_until(held, timeout=15, what="every posted alert held, the expected number inhibited")
    fingerprint = {key: a["fingerprint"] for key, a in alerts.items()}
    for i, (source, target, muted) in enumerate(ROWS):
        source_key = tuple(sorted(_labels(source, i).items()))
        assert alerts[source_key]["status"]["inhibitedBy"] == [], source
        by = alerts[tuple(sorted(_labels(target, i).items()))]["status"]["inhibitedBy"]
        assert by == ([fingerprint[source_key]] if muted else []), (source, target)
    assert alerts[tuple(sorted(_labels("QuantwatchDrawdownElevated", other, instance="b").items()))]["status"]["inhibitedBy"] == []
