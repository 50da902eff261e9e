"""The PromQL reader behind the lint: which series, labels, calls and windows an expression names."""

from __future__ import annotations

import pytest

from dashboards.metrics import kept_labels
from dashboards.promql import PromQLError, parse


def test_selectors_matchers_and_enclosing_calls() -> None:
    """A histogram quantile names its bucket series, matchers, window and the calls around it."""
    query = parse('histogram_quantile(0.99, sum by (le, strategy) (rate(x_bucket{env=~"$env", a!="b"}[$__rate_interval])))')
    [selector] = query.selectors
    assert selector.name == "x_bucket"
    assert selector.matchers == [("env", "=~", "$env"), ("a", "!=", "b")]
    assert selector.window == "$__rate_interval"
    assert selector.enclosing == ("histogram_quantile", "sum", "rate")
    assert query.grouping == {"by": {"le", "strategy"}}
    assert query.windows == [("rate", "$__rate_interval")]


@pytest.mark.parametrize(
    ("expr", "names", "grouping"),
    [
        ("sum(rate(a_total[5m])) by (x) / on (y) group_left (z) b offset 5m > bool 3", ["a_total", "b"], {"by": {"x"}, "on": {"y"}, "group_left": {"z"}}),
        ("sum without (mode) (c) / d", ["c", "d"], {"without": {"mode"}}),
        ('count_values("v", up) and ALERTS{alertstate="firing"}', ["up", "ALERTS"], {}),
        ("1 - e / f unless g", ["e", "f", "g"], {}),
        ("max_over_time(h[5m:1m]) @ end()", ["h"], {}),
    ],
)
def test_series_and_grouping(expr: str, names: list[str], grouping: dict[str, set[str]]) -> None:
    """Keywords, functions, numbers and strings are never taken for series names."""
    query = parse(expr)
    assert [s.name for s in query.selectors] == names
    assert query.grouping == grouping


@pytest.mark.parametrize(
    ("expr", "error"),
    [
        ("sum(rate(a[5m])", "unclosed"),
        ("a)", "unbalanced"),
        ("sumz(a)", "unknown function"),
        ('a{b="c"', "unclosed"),
        ("a{b}", "bad label matcher"),
        ("a # b", "unexpected"),
    ],
)
def test_malformed_expressions_are_refused(expr: str, error: str) -> None:
    """Unbalanced brackets, unknown functions and stray characters raise PromQLError."""
    with pytest.raises(PromQLError, match=error):
        parse(expr)


@pytest.mark.parametrize(
    ("expr", "kept"),
    [
        (
            "sum without (symbol, reason) (rate(trading_orders_rejected_total[5m]))"
            " / sum without (symbol, side, order_type) (rate(trading_orders_submitted_total[5m]))",
            {"strategy"},
        ),
        ("histogram_quantile(0.99, sum without (outcome) (rate(trading_order_latency_seconds_bucket[5m])))", {"strategy"}),
        ("sum by (api) (rate(trading_api_requests_total[5m]))", {"api"}),
        ("sum(rate(trading_errors_total[5m]))", set()),
        ("trading_greek_exposure * 2", {"symbol", "greek"}),
    ],
)
def test_labels_a_recording_rule_keeps(expr: str, kept: set[str]) -> None:
    """by keeps its labels, without drops its own from the inputs', histogram_quantile drops le."""
    assert kept_labels(expr) == kept
