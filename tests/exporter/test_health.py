"""The health score formula at its documented anchor points, where the alert spec's thresholds set them."""

from __future__ import annotations

import pytest

from alerts.spec import load
from quantwatch.health import HealthInputs


def threshold(alert: str) -> float:
    """The threshold of ``alert`` in alerts/spec.yaml."""
    (value,) = [a.threshold for a in load().alerts if a.name == alert]
    assert value is not None
    return value


#: Where the errors part reaches 0 and where the resources part starts to fall.
ERRORS = threshold("QuantwatchErrorRateHigh")
BUSY = threshold("QuantwatchHostCpuHigh")


def inputs(**changes: float | None) -> HealthInputs:
    base: dict[str, float | None] = {
        "errors_per_minute": 0.0,
        "api_success_ratio": 1.0,
        "max_data_age_seconds": 0.1,
        "stale_after_seconds": 5.0,
        "cpu_ratio": BUSY / 4,
        "memory_ratio": BUSY / 2,
    }
    base.update(changes)
    return HealthInputs(**base)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("changes", "score"),
    [
        ({}, 100.0),
        ({"errors_per_minute": ERRORS / 2}, 82.5),
        ({"errors_per_minute": ERRORS * 5}, 65.0),
        ({"api_success_ratio": 0.5}, 82.5),
        ({"max_data_age_seconds": 5.0}, 100.0),
        ({"max_data_age_seconds": 17.5}, 90.0),
        ({"max_data_age_seconds": 30.0}, 80.0),
        ({"max_data_age_seconds": None}, 100.0),
        ({"cpu_ratio": BUSY}, 100.0),
        ({"cpu_ratio": (BUSY + 1) / 2}, 95.0),
        ({"memory_ratio": 1.0}, 90.0),
        ({"errors_per_minute": ERRORS, "api_success_ratio": 0.0}, 30.0),
    ],
)
def test_score(changes: dict[str, float | None], score: float) -> None:
    """Each part moves the score by its weight; errors at the alert's threshold plus a dead API is critical (< 50)."""
    assert inputs(**changes).score() == pytest.approx(score)
