"""What a notification must say, and waiting for what must not happen within a bounded time."""

from __future__ import annotations

import json
import operator
import re
import time
from collections.abc import Callable

from alerts.spec import Alert, Spec

from .pipeline import Notice

_COMPARE: dict[str, Callable[[float, float], bool]] = {">": operator.gt, ">=": operator.ge, "<": operator.lt, "<=": operator.le}
_VALUE = re.compile(r"Value:\*? (-?[\d.]+(?:e[-+]?\d+)?)(%|/min|s)?")


def value_in(notice: Notice) -> float:
    """The alert's value as the message shows it (``Value: 24/min``, ``12.5%``), in the unit of its threshold."""
    text = json.loads(notice.text)["alerts"][0]["annotations"]["value"] if notice.receiver == "webhook" else notice.text
    match = _VALUE.search(text if notice.receiver != "webhook" else f"Value: {text}")
    assert match, f"no value in the {notice.receiver} message: {notice.text!r}"
    number = float(match.group(1))
    return number / 100 if match.group(2) == "%" else number


def check_message(spec: Spec, alert: Alert, notice: Notice) -> None:
    """The message names the alert's value (past its threshold), its runbook section and its dashboard."""
    assert spec.runbook_anchor(alert) in notice.text, notice.text
    assert spec.dashboard_url(alert) in notice.text, notice.text
    value = value_in(notice)
    assert alert.threshold is not None
    assert _COMPARE[alert.op](value, alert.threshold), f"{notice.receiver} shows {value}, not {alert.op} {alert.threshold}"


def never_within(check: Callable[[], object], seconds: float, what: str) -> None:
    """Poll ``check`` for ``seconds`` and fail as soon as it returns something truthy (a bounded negative)."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        found = check()
        assert not found, f"{what}: {found!r}"
        time.sleep(0.1)
