"""Bad input from the bot is counted and logged, never raised, and never breaks the exposition."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from prometheus_client import generate_latest
from prometheus_client.parser import text_string_to_metric_families

from quantwatch import Monitor
from quantwatch.testing import capture

NAN, INF = float("nan"), float("inf")
LONG = "x" * 65

# (event, call, expected invalid reasons) — each row is one bad event.
CASES: list[tuple[str, Callable[[Monitor], Any], set[str]]] = [
    ("nan quantity", lambda m: m.order_submitted("o", "ic", "SPY", "sell", NAN), {"non_finite"}),
    ("inf price", lambda m: m.order_submitted("o", "ic", "SPY", "sell", 1, price=INF), {"non_finite"}),
    ("negative quantity", lambda m: m.order_submitted("o", "ic", "SPY", "sell", -1), {"negative"}),
    ("negative price", lambda m: m.order_submitted("o", "ic", "SPY", "sell", 1, price=-2.0), {"negative"}),
    ("string quantity", lambda m: m.order_submitted("o", "ic", "SPY", "sell", "1"), {"wrong_type"}),
    ("bool quantity", lambda m: m.order_submitted("o", "ic", "SPY", "sell", True), {"wrong_type"}),
    ("unknown side", lambda m: m.order_submitted("o", "ic", "SPY", "long", 1), {"unknown_value"}),
    ("side not a string", lambda m: m.order_submitted("o", "ic", "SPY", 1, 1), {"wrong_type"}),
    ("unknown order type", lambda m: m.order_submitted("o", "ic", "SPY", "buy", 1, order_type="iceberg"), {"unknown_value"}),
    ("strategy too long", lambda m: m.order_submitted("o", LONG, "SPY", "buy", 1), {"too_long"}),
    ("empty symbol", lambda m: m.order_submitted("o", "ic", "", "buy", 1), {"empty"}),
    ("symbol is None", lambda m: m.order_submitted("o", "ic", None, "buy", 1), {"wrong_type"}),
    ("order id is None", lambda m: m.order_submitted(None, "ic", "SPY", "buy", 1), {"wrong_type"}),
    ("fill of unknown order", lambda m: m.order_filled("nope"), {"unknown_value"}),
    ("negative fill latency", lambda m: m.order_filled("nope", latency_seconds=-1.0), {"negative", "unknown_value"}),
    ("nan fill price", lambda m: m.order_filled("nope", fill_price=NAN, latency_seconds=0.1), {"non_finite"}),
    ("rejection reason too long", lambda m: m.order_rejected("nope", LONG, latency_seconds=0.1), {"too_long"}),
    ("rejection reason not a string", lambda m: m.order_rejected("nope", 42, latency_seconds=0.1), {"wrong_type"}),
    ("cancel with nan latency", lambda m: m.order_cancelled("nope", latency_seconds=NAN), {"non_finite", "unknown_value"}),
    ("nan pnl", lambda m: m.trade_closed("ic", "SPY", "sell", NAN), {"non_finite"}),
    ("pnl as string", lambda m: m.trade_closed("ic", "SPY", "sell", "12"), {"wrong_type"}),
    ("trade side unknown", lambda m: m.trade_closed("ic", "SPY", "short", 1.0), {"unknown_value"}),
    ("trade strategy is a dict", lambda m: m.trade_closed({}, "SPY", "sell", 1.0), {"wrong_type"}),
    ("position quantity nan", lambda m: m.position_opened("p", "ic", "SPY", NAN), {"non_finite"}),
    ("unknown greek", lambda m: m.position_opened("p", "ic", "SPY", 1, greeks={"rho": 1.0}), {"unknown_value"}),
    ("greek value inf", lambda m: m.position_opened("p", "ic", "SPY", 1, greeks={"delta": INF}), {"non_finite"}),
    ("greeks not a mapping", lambda m: m.position_opened("p", "ic", "SPY", 1, greeks=[1, 2]), {"wrong_type"}),
    ("mark of unknown position", lambda m: m.position_marked("ghost", unrealized_pnl=1.0), {"unknown_value"}),
    ("mark with nan pnl", lambda m: m.position_marked("ghost", unrealized_pnl=NAN), {"non_finite", "unknown_value"}),
    ("close of unknown position", lambda m: m.position_closed("ghost"), {"unknown_value"}),
    ("negative equity", lambda m: m.portfolio_snapshot(-1.0, 0.0), {"negative"}),
    ("nan equity", lambda m: m.portfolio_snapshot(NAN, 0.0), {"non_finite"}),
    ("cash as None", lambda m: m.portfolio_snapshot(1.0, None), {"wrong_type"}),
    ("peak equity negative", lambda m: m.portfolio_snapshot(1.0, 1.0, peak_equity=-5.0), {"negative"}),
    ("tick age negative", lambda m: m.market_data_tick("SPY", age_seconds=-0.5), {"negative"}),
    ("tick symbol a number", lambda m: m.market_data_tick(123), {"wrong_type"}),
    ("api outcome unknown", lambda m: m.api_call_finished("broker", "quote", 0.1, "maybe"), {"unknown_value"}),
    ("api duration nan", lambda m: m.api_call_finished("broker", "quote", NAN), {"non_finite"}),
    ("api endpoint too long", lambda m: m.api_call_finished("broker", LONG, 0.1), {"too_long"}),
    ("risk passed not bool", lambda m: m.risk_check("max_delta", "yes"), {"wrong_type"}),
    ("risk value nan", lambda m: m.risk_check("max_delta", True, value=NAN), {"non_finite"}),
    ("error component empty", lambda m: m.error(""), {"empty"}),
    ("error type too long", lambda m: m.error("execution", error_type=LONG), {"too_long"}),
    ("missing argument", lambda m: m.order_submitted("o"), {"internal_error"}),
    ("unexpected positional", lambda m: m.position_closed("p", "extra"), {"internal_error"}),
]


@pytest.mark.parametrize(("call", "reasons"), [(c, r) for _, c, r in CASES], ids=[name for name, _, _ in CASES])
def test_bad_event_is_counted_logged_and_not_raised(call: Callable[[Monitor], Any], reasons: set[str]) -> None:
    """The event returns None, each reason's counter rises once and a warning line names it."""
    with capture() as cap:
        assert call(cap.monitor) is None
        counted = {r for r in reasons if cap.value("quantwatch_invalid_events_total", reason=r) == 1}
        assert counted == reasons
        others = [line for line in cap.lines if "invalid" in line or line["level"] == "warning"]
        assert others, "the bad event left no log line"
        if "internal_error" not in reasons:
            logged = {r.partition(":")[0] for r in others[-1]["invalid"]}
            assert logged == reasons


def test_table_is_large_enough() -> None:
    """The issue asks for at least 40 bad inputs."""
    assert len(CASES) >= 40


def test_cardinality_cap_folds_new_values_into_other() -> None:
    """Past the cap, new symbols become 'other' and the overflow is counted; order ids never appear."""
    with capture(label_cap=2) as cap:
        for i, symbol in enumerate(("SPY", "QQQ", "IWM", "AAPL")):
            cap.monitor.order_submitted(f"order-{i}", "ic", symbol, "buy", 1)
        assert cap.value("trading_orders_submitted_total", strategy="ic", symbol="other", side="buy", order_type="limit") == 2
        assert cap.value("quantwatch_label_overflow_total", label="symbol") == 2
        assert b"order-1" not in generate_latest(cap.monitor.registry)


def test_allow_list_admits_only_listed_values() -> None:
    """With an allow-list, unlisted strategies are 'other' even below the cap."""
    with capture(strategies=("iron_condor",)) as cap:
        cap.monitor.trade_closed("straddle", "SPY", "buy", 5.0)
        assert cap.value("trading_trades_total", strategy="other", symbol="SPY", side="buy", result="win") == 1


values = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-(10**6), 10**6),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=80),
    st.lists(st.integers(), max_size=3),
    st.dictionaries(st.text(max_size=8), st.floats(), max_size=3),
)
EVENTS = [
    "order_submitted",
    "order_filled",
    "order_rejected",
    "order_cancelled",
    "trade_closed",
    "position_opened",
    "position_marked",
    "position_closed",
    "portfolio_snapshot",
    "market_data_tick",
    "api_call_finished",
    "risk_check",
    "error",
]


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.lists(st.tuples(st.sampled_from(EVENTS), st.lists(values, max_size=6)), max_size=25))
def test_no_sequence_of_events_raises(events: list[tuple[str, list[Any]]]) -> None:
    """Any event with any arguments returns None, and the exposition still parses."""
    with capture() as cap:
        for name, args in events:
            assert getattr(cap.monitor, name)(*args) is None
        text = generate_latest(cap.monitor.registry).decode()
        assert list(text_string_to_metric_families(text))
