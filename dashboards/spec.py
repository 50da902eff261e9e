"""What the alerts watch, read from the alert spec (alerts/spec.yaml, via alerts.spec).

A dashed line on a panel is where an alert fires: the spec's threshold, on the side its comparison
fires (``<`` colours what lies below), orange for a warning, red for a critical. A panel that shows
an alert's measure queries the series the alert's expression names, so neither thresholds nor
recording-rule names are typed twice.
"""

from __future__ import annotations

import functools

from alerts.spec import Alert, load

from .common import Limit
from .promql import parse

COLORS = {"warning": "orange", "critical": "red"}


@functools.cache
def _alerts() -> dict[str, Alert]:
    return {alert.name: alert for alert in load().alerts}


def limit(alert_name: str) -> Limit:
    """The threshold of ``alert_name`` as a panel limit; KeyError or ValueError if it has none."""
    alert = _alerts()[alert_name]
    if alert.threshold is None:
        raise ValueError(f"{alert_name} has no threshold in alerts/spec.yaml")
    return Limit(alert.threshold, COLORS[alert.severity], below=alert.op.startswith("<"))


def watched(alert_name: str) -> str:
    """The series the alert's expression compares with its threshold (a recording rule or a metric)."""
    return parse(_alerts()[alert_name].expr).selectors[0].name
