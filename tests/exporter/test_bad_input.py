"""Bad input from the bot is counted by reason and logged, never raised, and never enters a figure."""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

import pytest
from prometheus_client import generate_latest

from quantwatch import Monitor, monitor
from quantwatch.catalogue import INVALID_REASONS
from quantwatch.logs import LEVELS
from quantwatch.testing import capture

NAN, INF = float("nan"), float("inf")
LONG = "x" * 65
SURROGATE = "SPY\udc80"

# (event, call, expected invalid reasons) — each row is one bad event.
CASES: list[tuple[str, Callable[[Monitor], Any], set[str]]] = [
    ("nan quantity", lambda m: m.order_submitted("o", "ic", "SPY", "sell", NAN), {"non_finite"}),
    ("inf price", lambda m: m.order_submitted("o", "ic", "SPY", "sell", 1, price=INF), {"non_finite"}),
    ("quantity past any float", lambda m: m.order_submitted("o", "ic", "SPY", "sell", 10**400), {"non_finite"}),
    ("negative quantity", lambda m: m.order_submitted("o", "ic", "SPY", "sell", -1), {"negative"}),
    ("negative price", lambda m: m.order_submitted("o", "ic", "SPY", "sell", 1, price=-2.0), {"negative"}),
    ("string quantity", lambda m: m.order_submitted("o", "ic", "SPY", "sell", "1"), {"wrong_type"}),
    ("bool quantity", lambda m: m.order_submitted("o", "ic", "SPY", "sell", True), {"wrong_type"}),
    ("unknown side", lambda m: m.order_submitted("o", "ic", "SPY", "long", 1), {"unknown_value"}),
    ("side not a string", lambda m: m.order_submitted("o", "ic", "SPY", 1, 1), {"wrong_type"}),
    ("unknown order type", lambda m: m.order_submitted("o", "ic", "SPY", "buy", 1, order_type="iceberg"), {"unknown_value"}),
    ("strategy too long", lambda m: m.order_submitted("o", LONG, "SPY", "buy", 1), {"too_long"}),
    ("empty symbol", lambda m: m.order_submitted("o", "ic", "", "buy", 1), {"empty"}),
    ("symbol not UTF-8", lambda m: m.order_submitted("o", "ic", SURROGATE, "buy", 1), {"not_utf8"}),
    ("symbol is None", lambda m: m.order_submitted("o", "ic", None, "buy", 1), {"wrong_type"}),
    ("order id is None", lambda m: m.order_submitted(None, "ic", "SPY", "buy", 1), {"wrong_type"}),
    ("order id empty", lambda m: m.order_submitted("", "ic", "SPY", "buy", 1), {"empty"}),
    ("quantity missing", lambda m: m.order_submitted("o", "ic", "SPY", "buy"), {"missing"}),
    ("fill of unknown order", lambda m: m.order_filled("nope"), {"unknown_value"}),
    ("fill of order id None", lambda m: m.order_filled(None), {"wrong_type"}),
    ("negative fill latency", lambda m: m.order_filled("nope", latency_seconds=-1.0), {"negative", "unknown_value"}),
    ("nan fill price", lambda m: m.order_filled("nope", fill_price=NAN, latency_seconds=0.1), {"non_finite"}),
    ("rejection reason too long", lambda m: m.order_rejected("nope", LONG, latency_seconds=0.1), {"too_long"}),
    ("rejection reason not a string", lambda m: m.order_rejected("nope", 42, latency_seconds=0.1), {"wrong_type"}),
    ("cancel with nan latency", lambda m: m.order_cancelled("nope", latency_seconds=NAN), {"non_finite", "unknown_value"}),
    ("nan pnl", lambda m: m.trade_closed("ic", "SPY", "sell", NAN), {"non_finite"}),
    ("pnl as string", lambda m: m.trade_closed("ic", "SPY", "sell", "12"), {"wrong_type"}),
    ("pnl is None", lambda m: m.trade_closed("ic", "SPY", "sell", None), {"wrong_type"}),
    ("pnl missing", lambda m: m.trade_closed("ic", "SPY", "sell"), {"missing"}),
    ("trade side unknown", lambda m: m.trade_closed("ic", "SPY", "short", 1.0), {"unknown_value"}),
    ("trade strategy is a dict", lambda m: m.trade_closed({}, "SPY", "sell", 1.0), {"wrong_type"}),
    ("position id is None", lambda m: m.position_opened(None, "ic", "SPY", 1), {"wrong_type"}),
    ("position quantity nan", lambda m: m.position_opened("p", "ic", "SPY", NAN), {"non_finite"}),
    ("unknown greek", lambda m: m.position_opened("p", "ic", "SPY", 1, greeks={"rho": 1.0}), {"unknown_value"}),
    ("greek value inf", lambda m: m.position_opened("p", "ic", "SPY", 1, greeks={"delta": INF}), {"non_finite"}),
    ("greeks not a mapping", lambda m: m.position_opened("p", "ic", "SPY", 1, greeks=[1, 2]), {"wrong_type"}),
    ("mark of unknown position", lambda m: m.position_marked("ghost", unrealized_pnl=1.0), {"unknown_value"}),
    ("mark with nan pnl", lambda m: m.position_marked("ghost", unrealized_pnl=NAN), {"non_finite", "unknown_value"}),
    ("close of unknown position", lambda m: m.position_closed("ghost"), {"unknown_value"}),
    ("close of position id 7", lambda m: m.position_closed(7), {"wrong_type"}),
    ("unexpected positional", lambda m: m.position_closed("p", "extra"), {"unexpected"}),
    ("negative equity", lambda m: m.portfolio_snapshot(-1.0, 0.0), {"negative"}),
    ("nan equity", lambda m: m.portfolio_snapshot(NAN, 0.0), {"non_finite"}),
    ("cash as None", lambda m: m.portfolio_snapshot(1.0, None), {"wrong_type"}),
    ("negative cash", lambda m: m.portfolio_snapshot(1.0, -1), {"negative"}),
    ("peak equity negative", lambda m: m.portfolio_snapshot(1.0, 1.0, peak_equity=-5.0), {"negative"}),
    ("tick age negative", lambda m: m.market_data_tick("SPY", age_seconds=-0.5), {"negative"}),
    ("tick symbol a number", lambda m: m.market_data_tick(123), {"wrong_type"}),
    ("api outcome unknown", lambda m: m.api_call_finished("broker", "quote", 0.1, "maybe"), {"unknown_value"}),
    ("api duration nan", lambda m: m.api_call_finished("broker", "quote", NAN), {"non_finite"}),
    ("api endpoint too long", lambda m: m.api_call_finished("broker", LONG, 0.1), {"too_long"}),
    ("api name given twice", lambda m: m.api_call_finished("broker", "quote", 0.1, api="broker"), {"unexpected"}),
    ("risk passed not bool", lambda m: m.risk_check("max_delta", "yes"), {"wrong_type"}),
    ("risk value nan", lambda m: m.risk_check("max_delta", True, value=NAN), {"non_finite"}),
    ("error component empty", lambda m: m.error(""), {"empty"}),
    ("error type too long", lambda m: m.error("execution", error_type=LONG), {"too_long"}),
    ("error with no component and a string for the exception", lambda m: m.error(None, "not an exception"), {"wrong_type"}),
    ("error message not a string", lambda m: m.error("execution", message=404), {"wrong_type"}),
]


@pytest.mark.parametrize(("call", "reasons"), [(c, r) for _, c, r in CASES], ids=[name for name, _, _ in CASES])
def test_bad_event_is_counted_logged_and_not_raised(call: Callable[[Monitor], Any], reasons: set[str]) -> None:
    """The event returns None, each reason's counter rises once, a line at WARNING or above names them, and internal_error stays 0."""
    with capture() as cap:
        assert call(cap.monitor) is None
        counted = {r for r in INVALID_REASONS if cap.value("quantwatch_invalid_events_total", reason=r)}
        assert counted == reasons
        assert all(cap.value("quantwatch_invalid_events_total", reason=r) == 1 for r in reasons)
        (line,) = [line for line in cap.lines if "invalid" in line]
        assert LEVELS[line["level"].upper()] >= logging.WARNING
        assert {r.partition(":")[0] for r in line["invalid"]} == reasons


def test_every_reason_but_two_has_a_case() -> None:
    """The table shows every reason a bad value or call can have; capacity and internal_error have tests of their own below."""
    assert {r for _, _, reasons in CASES for r in reasons} == set(INVALID_REASONS) - {"capacity", "internal_error"}


def test_positions_past_the_tracking_limit_are_counted_as_capacity(monkeypatch: pytest.MonkeyPatch) -> None:
    """A position opened while MAX_OPEN_POSITIONS are open is counted as capacity and left out of the exposure gauges."""
    monkeypatch.setattr(monitor, "MAX_OPEN_POSITIONS", 1)
    with capture() as cap:
        cap.monitor.position_opened("p-1", "ic", "SPY", -1)
        cap.monitor.position_opened("p-2", "ic", "SPY", -1)
        assert cap.value("quantwatch_invalid_events_total", reason="capacity") == 1
        assert cap.value("trading_open_positions", strategy="ic", symbol="SPY") == 1
    assert cap.lines[-1]["invalid"] == ["capacity:position_id"]


def test_a_bug_in_quantwatch_is_an_internal_error_logged_with_its_stack(monkeypatch: pytest.MonkeyPatch) -> None:
    """An exception inside a well-formed event call is counted as internal_error and logged with its stack, not raised."""
    with capture() as cap:

        def broken(*_: object) -> str:
            raise KeyError("bug")

        monkeypatch.setattr(cap.monitor, "_label", broken)
        assert cap.monitor.trade_closed("ic", "SPY", "sell", 1.0) is None
        assert cap.value("quantwatch_invalid_events_total", reason="internal_error") == 1
    (line,) = cap.lines
    assert (line["message"], line["event"], line["error_type"]) == ("quantwatch could not record trade_closed", "trade_closed", "KeyError")
    assert "raise KeyError" in line["stack_trace"]


@pytest.mark.parametrize(
    ("bad", "reason"),
    [((NAN,), "non_finite"), ((INF,), "non_finite"), ((-INF,), "non_finite"), ((None,), "wrong_type"), (("12",), "wrong_type"), ((), "missing")],
    ids=["nan", "inf", "-inf", "none", "text", "missing"],
)
def test_invalid_pnl_stays_out_of_trades_pnl_and_win_ratio(bad: tuple[Any, ...], reason: str) -> None:
    """One winning trade and one with a P&L that is no finite number: one trade, its P&L, a win ratio of 1; the other only counted as invalid and logged."""
    with capture() as cap:
        cap.monitor.trade_closed("ic", "SPY", "sell", 100.0)
        cap.monitor.trade_closed("ic", "SPY", "sell", *bad)
        trades = {result: cap.value("trading_trades_total", strategy="ic", symbol="SPY", side="sell", result=result) for result in ("win", "loss", "flat")}
        assert trades == {"win": 1.0, "loss": None, "flat": None}
        assert cap.value("trading_trade_pnl_usd_count", strategy="ic") == 1
        assert cap.value("trading_realized_pnl_usd", strategy="ic") == 100.0
        assert cap.value("trading_win_ratio", strategy="ic") == 1.0
        assert cap.value("quantwatch_invalid_events_total", reason=reason) == 1
    assert [r.partition(":")[0] for r in cap.lines[-1]["invalid"]] == [reason]


def test_position_with_a_bad_id_is_not_tracked() -> None:
    """position_opened(None, ...) leaves the open-position and exposure gauges alone; a later close of None finds nothing either."""
    with capture() as cap:
        cap.monitor.position_opened(None, "ic", "SPY", -1, greeks={"delta": -5.0})
        cap.monitor.position_closed(None)
        assert cap.value("trading_open_positions", strategy="ic", symbol="SPY") is None
        assert cap.value("trading_greek_exposure", symbol="SPY", greek="delta") is None
        assert cap.value("quantwatch_invalid_events_total", reason="wrong_type") == 2
        assert cap.value("quantwatch_invalid_events_total", reason="unknown_value") == 0


def test_negative_cash_is_not_reported() -> None:
    """portfolio_snapshot(cash=-1) keeps the last good cash figure; equity and drawdown are still reported."""
    with capture() as cap:
        cap.monitor.portfolio_snapshot(100.0, 10.0)
        cap.monitor.portfolio_snapshot(90.0, -1)
        assert (cap.value("trading_cash_usd"), cap.value("trading_portfolio_value_usd")) == (10.0, 90.0)


def test_error_without_an_exception_object_is_still_counted() -> None:
    """error(None, "not an exception") counts one error under other/Error and logs the value it was given."""
    with capture() as cap:
        cap.monitor.error(None, "not an exception")
        assert cap.value("trading_errors_total", component="other", error_type="Error") == 1
    assert cap.lines[-1]["exc"] == "not an exception"


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
