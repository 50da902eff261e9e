"""The health score formula at its documented anchor points."""

from __future__ import annotations

import pytest

from quantwatch.health import HealthInputs


def inputs(**changes: float | None) -> HealthInputs:
    base: dict[str, float | None] = {
        "errors_per_minute": 0.0,
        "api_success_ratio": 1.0,
        "max_data_age_seconds": 0.1,
        "stale_after_seconds": 5.0,
        "cpu_ratio": 0.2,
        "memory_ratio": 0.3,
    }
    base.update(changes)
    return HealthInputs(**base)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("changes", "score"),
    [
        ({}, 100.0),
        ({"errors_per_minute": 5.0}, 82.5),
        ({"errors_per_minute": 50.0}, 65.0),
        ({"api_success_ratio": 0.5}, 82.5),
        ({"max_data_age_seconds": 5.0}, 100.0),
        ({"max_data_age_seconds": 17.5}, 90.0),
        ({"max_data_age_seconds": 30.0}, 80.0),
        ({"max_data_age_seconds": None}, 100.0),
        ({"cpu_ratio": 0.9}, 95.0),
        ({"memory_ratio": 1.0}, 90.0),
        ({"errors_per_minute": 10.0, "api_success_ratio": 0.0}, 30.0),
    ],
)
def test_score(changes: dict[str, float | None], score: float) -> None:
    """Each part moves the score by its weight; errors at the limit plus a dead API is critical (< 50)."""
    assert inputs(**changes).score() == score
