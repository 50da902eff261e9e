"""The PromQL reader behind the lint: which series, labels, calls and windows Prometheus' grammar finds in an expression."""

from __future__ import annotations

import re

import pytest

from dashboards.metrics import kept_labels
from dashboards.promql import PromQLError, parse


def test_selectors_matchers_and_enclosing_calls() -> None:
    """A histogram quantile names its bucket series, matchers, window and the calls around it."""
    query = parse('histogram_quantile(0.99, sum by (le, strategy) (rate(x_bucket{env=~"$env", a!="b"}[$__rate_interval])))')
    [selector] = query.selectors
    assert selector.name == "x_bucket"
    assert selector.matchers == (("env", "=~", "$env"), ("a", "!=", "b"))
    assert selector.enclosing == ("histogram_quantile", "sum", "rate")
    assert query.grouping == {"by": {"le", "strategy"}}
    assert query.windows == (("rate", "$__rate_interval"),)


@pytest.mark.parametrize(
    ("expr", "names", "grouping"),
    [
        ("sum(rate(a_total[5m])) by (x) / on (y) group_left (z) b offset 5m > bool 3", ["a_total", "b"], {"by": {"x"}, "on": {"y"}, "group_left": {"z"}}),
        ("sum without (mode) (c) / d", ["c", "d"], {"without": {"mode"}}),
        ('count_values("v", up) and ALERTS{alertstate="firing"}', ["up", "ALERTS"], {}),
        ("1 - e / f unless g", ["e", "f", "g"], {}),
        ("max_over_time(h[5m:1m]) @ end()", ["h"], {}),
        ('{"utf8.series", "a.b"="x"} + SUM BY ("q.r") (i) # a comment', ["utf8.series", "i"], {"by": {"q.r"}}),
    ],
)
def test_series_and_grouping(expr: str, names: list[str], grouping: dict[str, set[str]]) -> None:
    """Keywords, functions, numbers, strings and comments are never taken for series names; quoted UTF-8 names are."""
    query = parse(expr)
    assert [s.name for s in query.selectors] == names
    assert query.grouping == grouping


def test_grafana_variables_read_as_written() -> None:
    """Variables are substituted for the grammar only: windows, offsets and values keep Grafana's text."""
    query = parse('max_over_time(sum by (${group:csv}) (a{b=~"${x:regex}|[[y]]"} offset $shift)[$__range:$step]) / rate(c[$window])')
    assert [(s.name, s.matchers) for s in query.selectors] == [("a", (("b", "=~", "${x:regex}|[[y]]"),)), ("c", ())]
    assert query.windows == (("max_over_time", "$__range"), ("rate", "$window"))
    assert query.grouping == {"by": {"${group:csv}"}}


@pytest.mark.parametrize(
    ("expr", "error"),
    [
        ("sum(rate(a[5m])", "at character 16: unexpected end of query"),
        ("a)", "at character 2: unexpected ')'"),
        ("sumz(a)", "at character 5: unexpected '('"),
        ('a{b="$env"', "at character 11: unexpected end of query"),
        ("a{b}", "at character 4: something is missing before '}'"),
        ("a{b=$env}", "at character 5: unexpected '$env'"),
        ("rate(a[$__rate_interval] x)", "at character 26: unexpected 'x'"),
    ],
)
def test_malformed_expressions_are_refused(expr: str, error: str) -> None:
    """Unbalanced brackets, unknown functions and unquoted values raise PromQLError, placed in the text as written."""
    with pytest.raises(PromQLError, match=re.escape(f"PromQL syntax error {error} in {expr!r}")):
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
