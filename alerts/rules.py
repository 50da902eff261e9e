"""Prometheus rule files and their promtool unit tests, rendered from the spec.

Each alert's tests are derived from its threshold: a case just over it (firing), one just under
(quiet), and the ``for`` boundary (pending one evaluation before ``for`` has elapsed, firing at
it). The expected annotations are computed here exactly as Prometheus expands them.
"""

from __future__ import annotations

import math
import operator
from collections.abc import Callable
from typing import Any

from quantwatch.catalogue import BY_NAME

from .spec import Alert, Spec
from .text import SpecError, expand, fill_numbers, format_duration, go_value, number

RECORDING_FILE = "quantwatch-recording.yml"
ALERTS_FILE = "quantwatch-alerts.yml"
TESTS_FILE = "tests/quantwatch-alerts.test.yml"
RECORDING_GROUP = "quantwatch.recording"
_COMPARE: dict[str, Callable[[float, float], bool]] = {
    ">": operator.gt,
    ">=": operator.ge,
    "<": operator.lt,
    "<=": operator.le,
    "==": operator.eq,
    "!=": operator.ne,
}
#: Observations per test interval in a histogram test series.
_OBSERVATIONS = 100
#: How long after an alert fires the quiet case is checked once more.
_SETTLE = 300


def alert_group(alert: Alert) -> str:
    """Bot alerts and meta-monitoring sit in separate groups, so a failing one does not stop the other."""
    return "quantwatch.bot" if alert.target and alert.target.name == "bot" else "quantwatch.meta"


def alert_annotations(spec: Spec, alert: Alert) -> dict[str, str]:
    return {
        "summary": alert.summary,
        "description": alert.description,
        "value": go_value(alert.unit),
        "runbook_url": spec.runbook_anchor(alert),
        "dashboard_url": spec.dashboard_url(alert),
    }


def alert_labels(alert: Alert) -> dict[str, str]:
    return {"severity": alert.severity, "alertgroup": alert.kind}


def render_rules(spec: Spec) -> dict[str, Any]:
    """File name (relative to the rules folder) to its YAML document."""
    groups: dict[str, list[dict[str, Any]]] = {}
    for alert in spec.alerts:
        rule = {
            "alert": alert.name,
            "expr": alert.expr,
            "for": format_duration(alert.for_seconds),
            "labels": alert_labels(alert),
            "annotations": alert_annotations(spec, alert),
        }
        groups.setdefault(alert_group(alert), []).append(rule)
    interval = format_duration(spec.evaluation_interval)
    recording = [{"record": rule.record, "expr": rule.expr} for rule in spec.recording_rules]
    return {
        RECORDING_FILE: {"groups": [{"name": RECORDING_GROUP, "interval": interval, "rules": recording}]},
        ALERTS_FILE: {"groups": [{"name": name, "interval": interval, "rules": rules} for name, rules in sorted(groups.items())]},
        TESTS_FILE: render_tests(spec, [RECORDING_GROUP, *sorted(groups)]),
    }


def render_tests(spec: Spec, group_order: list[str]) -> dict[str, Any]:
    tests = []
    for alert in spec.alerts:
        try:
            tests.extend(_Cases(spec, alert).render())
        except SpecError as exc:
            raise SpecError(f"alerts/spec.yaml:{alert.line}: {alert.name}: {exc}") from None
    return {
        "rule_files": [f"../{RECORDING_FILE}", f"../{ALERTS_FILE}"],
        "evaluation_interval": format_duration(spec.evaluation_interval),
        "group_eval_order": group_order,
        "tests": tests,
    }


class _Cases:
    """The promtool test groups of one alert."""

    def __init__(self, spec: Spec, alert: Alert) -> None:
        self.spec, self.alert, self.test = spec, alert, alert.test
        self.step = spec.evaluation_interval
        self.interval = spec.test_interval
        # When the expression first has a value: gauges at the first sample, rates at the second.
        self.start = 0 if self.test.shape == "gauge" else self.interval

    def points(self) -> tuple[float | str, float | str | None]:
        """(firing, quiet) test points: the threshold moved by the margin in the direction that fires."""
        threshold, test = self.alert.threshold, self.test
        if threshold is None:
            return test.firing if test.firing is not None else 1.0, test.quiet
        if threshold == 0:
            over, under = 1.0, 0.0
        else:
            over, under = threshold * (1 + self.spec.test_margin), threshold * (1 - self.spec.test_margin)
        return (over, under) if self.alert.op in (">", ">=", "!=") else (under, over)

    def value_at(self, point: float | str, t: int) -> float | None:
        """The expression's value at ``t`` for a test point; None before it has one."""
        if t < self.start:
            return None
        if point == "_" or not self.test.series:
            return 1.0  # absent() and vector(1)
        assert isinstance(point, float)
        if self.test.shape == "rate":  # a rate over a window filling up since the first sample
            return point * min(t / self.test.window, 1.0)
        return point

    def active(self, point: float | str, t: int) -> bool:
        value = self.value_at(point, t)
        if value is None or self.alert.threshold is None:
            return value is not None  # without a threshold, the firing point fires once there is a value
        return _COMPARE[self.alert.op](value, self.alert.threshold)

    def first_active(self, point: float | str) -> int:
        """The first evaluation at which the condition holds."""
        limit = 3600
        for t in range(0, limit + 1, self.step):
            if self.active(point, t):
                return t
        raise SpecError(f"the firing test point {point} never meets the condition within {limit}s")

    def series(self, point: float | str, samples: int) -> list[dict[str, str]]:
        if self.test.shape == "histogram":
            assert isinstance(self.test.series, str)
            assert isinstance(point, float)
            return [
                {"series": self.with_target(name), "values": f"0+{number(step)}x{samples}"}
                for name, step in _buckets(self.test.series, self.test.quantile, point)
            ]
        assert isinstance(self.test.series, dict)
        out = []
        for name, template in self.test.series.items():
            if isinstance(point, str):
                if "[[" in template:
                    continue  # "_": the series has no sample at all
                point = 0.0
            names = {"v": point, "threshold": self.alert.threshold or 0.0}
            out.append({"series": self.with_target(name), "values": f"{fill_numbers(template, names)}x{samples}"})
        return out

    def with_target(self, series: str) -> str:
        """The series name with the target's job and instance added first."""
        target = self.alert.target
        if target is None:
            return series
        name, _, rest = series.partition("{")
        inner = rest.removesuffix("}").strip()
        own = f'job="{target.job}", instance="{target.instance}"'
        return f"{name}{{{own}{', ' + inner if inner else ''}}}"

    def expected(self, value: float) -> dict[str, Any]:
        labels = self.test.labels | alert_labels(self.alert)
        notes = alert_annotations(self.spec, self.alert)
        return {
            "exp_labels": labels,
            "exp_annotations": {key: expand(text, self.alert.unit, value, labels) for key, text in notes.items()},
        }

    def check(self, t: int, firing_value: float | None) -> dict[str, Any]:
        return {
            "eval_time": format_duration(t),
            "alertname": self.alert.name,
            "exp_alerts": [] if firing_value is None else [self.expected(firing_value)],
        }

    def render(self) -> list[dict[str, Any]]:
        firing, quiet = self.points()
        fires_at = self.first_active(firing) + self.alert.for_seconds
        end = fires_at + _SETTLE
        samples = math.ceil(end / self.interval) + 1
        name, threshold = self.alert.name, self.alert.threshold_text
        checks = []
        if fires_at - self.step >= 0:
            checks.append(self.check(fires_at - self.step, None))
        checks.append(self.check(fires_at, self.value_at(firing, fires_at)))
        checks.append(self.check(end, self.value_at(firing, end)))
        over = f"just over {threshold}" if threshold else "firing"
        cases = [
            {
                "name": f"{name}: {over} ({firing}) fires after for={format_duration(self.alert.for_seconds)}",
                "interval": format_duration(self.interval),
                "input_series": self.series(firing, samples),
                "alert_rule_test": checks,
            }
        ]
        if quiet is not None:
            under = f"just under {threshold}" if threshold else "quiet"
            cases.append(
                {
                    "name": f"{name}: {under} ({quiet}) stays quiet",
                    "interval": format_duration(self.interval),
                    "input_series": self.series(quiet, samples),
                    "alert_rule_test": [self.check(fires_at, None), self.check(end, None)],
                }
            )
        return cases


def _buckets(series: str, quantile: float, point: float) -> list[tuple[str, float]]:
    """Bucket series (with ``le``) and their increments per interval whose ``quantile`` is ``point``.

    Of N observations, k fall in the bucket (lo, hi] holding ``point`` and the rest at ``lo``;
    histogram_quantile interpolates lo + (hi - lo) * (1 - (1 - q) N / k), so k follows from point.
    """
    name, _, rest = series.partition("{")
    family = BY_NAME.get(name.removesuffix("_bucket"))
    if family is None or not name.endswith("_bucket") or not family.buckets:
        raise SpecError(f"{name} is not the _bucket series of a catalogue histogram")
    bounds = [*family.buckets, math.inf]
    index = next((i for i, bound in enumerate(bounds) if point <= bound), None)
    if index is None or index == 0 or math.isinf(bounds[index]):
        raise SpecError(f"test point {point} must fall between two finite buckets of {family.name}")
    low, high = bounds[index - 1], bounds[index]
    share = (point - low) / (high - low)
    if share > quantile:
        raise SpecError(f"test point {point} is too close to the bucket bound {high} for a {quantile} quantile")
    in_bucket = (1 - quantile) * _OBSERVATIONS / (1 - share)
    inner = rest.removesuffix("}").strip()
    out = []
    for i, bound in enumerate(bounds):
        count = 0.0 if i < index - 1 else _OBSERVATIONS - in_bucket if i == index - 1 else float(_OBSERVATIONS)
        le = "+Inf" if math.isinf(bound) else number(bound)
        out.append((f'{name}{{{inner}{", " if inner else ""}le="{le}"}}', count))
    return out
