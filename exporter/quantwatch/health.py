"""The composite health score, 0-100, from four parts each scaled to 0-1.

    score = 100 * (0.35 * errors + 0.35 * api + 0.20 * freshness + 0.10 * resources)

- errors: 1 with no errors, falling linearly to 0 at the error rate the
  error-rate alert fires on (ERROR_RATE_HIGH errors/min) over the health window;
- api: the lowest success ratio of any API over the window (1 when idle);
- freshness: 1 while the stalest market data is younger than ``stale_after``,
  falling linearly to 0 at DEAD_AFTER_FACTOR times that age (1 with no feed);
- resources: 1 while host CPU and memory use are at most the busy share the
  CPU alert fires on (HOST_CPU_HIGH), falling to 0 at 100 %.

Both alert thresholds come from alerts/spec.yaml, rendered into
:mod:`quantwatch.thresholds` by ``make generate``: the score and the alerts move together.

Errors and the API carry most weight because they stop trading; a slow host
only threatens to. The score alerts (critical below 50) when the bot is likely
unable to trade, e.g. errors at the limit and the broker API failing.
"""

from __future__ import annotations

from dataclasses import dataclass

from .thresholds import ERROR_RATE_HIGH, HOST_CPU_HIGH

DEAD_AFTER_FACTOR = 6.0
WEIGHTS = {"errors": 0.35, "api": 0.35, "freshness": 0.20, "resources": 0.10}


def _clamp(value: float) -> float:
    return min(1.0, max(0.0, value))


@dataclass(frozen=True)
class HealthInputs:
    """What the score is computed from, as measured at scrape time."""

    errors_per_minute: float
    api_success_ratio: float
    max_data_age_seconds: float | None
    stale_after_seconds: float
    cpu_ratio: float
    memory_ratio: float

    def parts(self) -> dict[str, float]:
        """Each part of the score in 0-1."""
        age = self.max_data_age_seconds
        stale = self.stale_after_seconds
        freshness = 1.0 if age is None or age <= stale else _clamp(1 - (age - stale) / (stale * (DEAD_AFTER_FACTOR - 1)))
        pressure = max(self.cpu_ratio, self.memory_ratio)
        return {
            "errors": _clamp(1 - self.errors_per_minute / ERROR_RATE_HIGH),
            "api": _clamp(self.api_success_ratio),
            "freshness": freshness,
            "resources": _clamp(1 - (pressure - HOST_CPU_HIGH) / (1 - HOST_CPU_HIGH)),
        }

    def score(self) -> float:
        """The weighted sum, 0-100."""
        parts = self.parts()
        return round(100 * sum(WEIGHTS[name] * value for name, value in parts.items()), 2)
