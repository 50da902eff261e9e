"""Event methods update exactly the catalogue's series; exposition parsed back and asserted."""

from __future__ import annotations

import math
import time

import pytest
from prometheus_client import generate_latest
from prometheus_client.openmetrics.exposition import generate_latest as generate_openmetrics
from prometheus_client.openmetrics.parser import text_string_to_metric_families as parse_openmetrics
from prometheus_client.parser import text_string_to_metric_families

from quantwatch import scoped_context
from quantwatch.catalogue import BY_NAME, CATALOGUE, Kind
from quantwatch.testing import Captured, capture


@pytest.fixture
def cap() -> Captured:
    with capture() as captured:
        yield captured


def samples(cap: Captured) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    """Every sample of the text exposition, parsed back by prometheus_client's own parser."""
    text = generate_latest(cap.monitor.registry).decode()
    return {(s.name, tuple(sorted(s.labels.items()))): s.value for family in text_string_to_metric_families(text) for s in family.samples}


def test_exposition_declares_each_family_as_catalogued(cap: Captured) -> None:
    """Every family the registry exposes is in the catalogue with the same type, help and labels."""
    cap.monitor.trade_closed("ic", "SPY", "sell", 10.0)
    text = generate_latest(cap.monitor.registry).decode()
    for family in text_string_to_metric_families(text):
        name = family.name + "_total" if family.type == "counter" else family.name
        spec = BY_NAME[name]
        assert family.type == spec.kind.value
        assert family.documentation == spec.help
        for sample in family.samples:
            assert set(sample.labels) - {"le"} <= set(spec.labels), sample


def test_catalogue_follows_naming_rules() -> None:
    """Counters end in _total, prefixes are trading_/quantwatch_, no id labels, histograms have buckets."""
    for spec in CATALOGUE:
        assert spec.name.startswith(("trading_", "quantwatch_")), spec.name
        assert spec.name.endswith("_total") == (spec.kind is Kind.COUNTER), spec.name
        assert not {"order_id", "position_id", "correlation_id"} & set(spec.labels), spec.name
        assert bool(spec.buckets) == (spec.kind is Kind.HISTOGRAM), spec.name


def test_order_lifecycle_counts_and_latency(cap: Captured) -> None:
    """Submit then fill counts both and observes the given latency under the submission's labels."""
    mon = cap.monitor
    mon.order_submitted("o-1", "iron_condor", "SPY", "sell", 2, price=1.25)
    mon.order_filled("o-1", latency_seconds=0.042)
    mon.order_submitted("o-2", "iron_condor", "SPY", "buy", 1, order_type="market")
    mon.order_rejected("o-2", "insufficient_margin", latency_seconds=0.3)
    got = samples(cap)

    def at(name: str, **labels: str) -> float:
        return got[(name, tuple(sorted(labels.items())))]

    ic_spy = {"strategy": "iron_condor", "symbol": "SPY"}
    assert at("trading_orders_submitted_total", **ic_spy, side="sell", order_type="limit") == 1
    assert at("trading_orders_submitted_total", **ic_spy, side="buy", order_type="market") == 1
    assert at("trading_orders_filled_total", **ic_spy, side="sell") == 1
    assert at("trading_orders_rejected_total", **ic_spy, reason="insufficient_margin") == 1
    filled = {"strategy": "iron_condor", "outcome": "filled"}
    assert at("trading_order_latency_seconds_count", **filled) == 1
    assert at("trading_order_latency_seconds_sum", **filled) == pytest.approx(0.042)
    assert at("trading_order_latency_seconds_bucket", **filled, le="0.025") == 0
    assert at("trading_order_latency_seconds_bucket", **filled, le="0.05") == 1
    assert ("trading_orders_filled_total", tuple(sorted({**ic_spy, "side": "buy"}.items()))) not in got


def test_fill_without_latency_measures_since_submission(cap: Captured) -> None:
    """The library times an order itself when the bot gives no latency: the time between the two calls."""
    before = time.monotonic()
    cap.monitor.order_submitted("o-1", "ic", "SPY", "sell", 1)
    cap.monitor.order_cancelled("o-1")
    after = time.monotonic()
    count = cap.value("trading_order_latency_seconds_count", strategy="ic", outcome="cancelled")
    total = cap.value("trading_order_latency_seconds_sum", strategy="ic", outcome="cancelled")
    assert count == 1
    assert total is not None
    assert 0 <= total <= after - before
    assert cap.value("trading_orders_cancelled_total", strategy="ic", symbol="SPY") == 1


def test_trades_pnl_and_win_ratio(cap: Captured) -> None:
    """Closed trades split by result; realised P&L accumulates; win ratio is wins over trades."""
    for pnl in (100.0, -40.0, 60.0, 0.0):
        cap.monitor.trade_closed("ic", "SPY", "sell", pnl)
    assert cap.value("trading_trades_total", strategy="ic", symbol="SPY", side="sell", result="win") == 2
    assert cap.value("trading_trades_total", strategy="ic", symbol="SPY", side="sell", result="loss") == 1
    assert cap.value("trading_trades_total", strategy="ic", symbol="SPY", side="sell", result="flat") == 1
    assert cap.value("trading_realized_pnl_usd", strategy="ic") == 120.0
    assert cap.value("trading_win_ratio", strategy="ic") == 0.5
    assert cap.value("trading_trade_pnl_usd_bucket", strategy="ic", le="-50.0") == 0
    assert cap.value("trading_trade_pnl_usd_bucket", strategy="ic", le="0.0") == 2


def test_positions_aggregate_exposure_per_underlying(cap: Captured) -> None:
    """Greeks and unrealised P&L sum over open positions and leave with a closed one."""
    mon = cap.monitor
    mon.position_opened("p1", "ic", "SPY", -1, greeks={"delta": -5.0, "vega": -30.0})
    mon.position_opened("p2", "bps", "SPY", -2, greeks={"delta": 20.0})
    mon.position_marked("p1", unrealized_pnl=-50.0, greeks={"delta": -8.0})
    assert cap.value("trading_open_positions", strategy="ic", symbol="SPY") == 1
    assert cap.value("trading_greek_exposure", symbol="SPY", greek="delta") == 12.0
    assert cap.value("trading_greek_exposure", symbol="SPY", greek="vega") == -30.0
    assert cap.value("trading_unrealized_pnl_usd", strategy="ic", symbol="SPY") == -50.0
    mon.position_closed("p1")
    assert cap.value("trading_open_positions", strategy="ic", symbol="SPY") == 0
    assert cap.value("trading_greek_exposure", symbol="SPY", greek="delta") == 20.0
    assert cap.value("trading_greek_exposure", symbol="SPY", greek="vega") == 0.0
    assert cap.value("trading_unrealized_pnl_usd", strategy="ic", symbol="SPY") == 0.0


def test_drawdown_from_running_peak(cap: Captured) -> None:
    """Drawdown is the fall from the highest equity seen, not from the first."""
    for equity in (100_000.0, 120_000.0, 90_000.0):
        cap.monitor.portfolio_snapshot(equity, 5_000.0)
    assert cap.value("trading_portfolio_value_usd") == 90_000.0
    assert cap.value("trading_cash_usd") == 5_000.0
    assert cap.value("trading_drawdown_ratio") == pytest.approx(0.25)


def test_api_call_outcomes_and_success_ratio(cap: Captured) -> None:
    """The context manager counts success, failure and timeout, and the ratio follows."""
    mon = cap.monitor
    with mon.api_call("broker", "place_order"):
        pass
    with mon.api_call("broker", "place_order") as call:
        call.fail("http_503")
    with pytest.raises(TimeoutError), mon.api_call("broker", "place_order"):
        raise TimeoutError
    for outcome in ("success", "error", "timeout"):
        assert cap.value("trading_api_requests_total", api="broker", endpoint="place_order", outcome=outcome) == 1
    assert cap.value("trading_api_request_duration_seconds_count", api="broker", endpoint="place_order") == 3
    assert cap.value("trading_api_success_ratio", api="broker") == pytest.approx(1 / 3)


def test_risk_errors_and_market_data_age(cap: Captured) -> None:
    """A failed risk check is a violation; errors count by type; tick age at scrape is the age given plus the time since."""
    mon = cap.monitor
    mon.risk_check("max_delta", passed=True)
    mon.risk_check("max_delta", passed=False, value=12, limit=10)
    mon.error("execution", KeyError("x"))
    ticked = time.monotonic()
    mon.market_data_tick("SPY", age_seconds=2.0)
    assert cap.value("trading_risk_checks_total", check="max_delta", result="pass") == 1
    assert cap.value("trading_risk_violations_total", check="max_delta") == 1
    assert cap.value("trading_errors_total", component="execution", error_type="KeyError") == 1
    age = cap.value("trading_market_data_age_seconds", symbol="SPY")
    scraped = time.monotonic()
    assert age is not None
    assert 2.0 <= age <= 2.0 + (scraped - ticked)


def test_passing_risk_check_has_its_violations_series_at_zero(cap: Captured) -> None:
    """A check that has only passed is exposed with 0 violations, so increase() sees its first violation and the alert fires."""
    cap.monitor.risk_check("max_gamma", passed=True)
    assert cap.value("trading_risk_violations_total", check="max_gamma") == 0


def test_operation_exemplar_carries_correlation_id(cap: Captured) -> None:
    """Latency histograms carry the correlation_id as an OpenMetrics exemplar."""
    with cap.monitor.operation("rebalance") as op:
        cap.monitor.order_submitted("o-1", "ic", "SPY", "sell", 1)
        cap.monitor.order_filled("o-1", latency_seconds=0.2)
    text = generate_openmetrics(cap.monitor.registry).decode()
    exemplars = {family.name: s.exemplar.labels["correlation_id"] for family in parse_openmetrics(text) for s in family.samples if s.exemplar is not None}
    assert exemplars == {"trading_order_latency_seconds": op.correlation_id, "trading_operation_duration_seconds": op.correlation_id}


@pytest.mark.parametrize("correlation_id", ["c" * 65, "c-\udc80", 42], ids=["too-long", "not-utf8", "not-a-string"])
def test_correlation_id_an_exemplar_cannot_hold_is_left_out(cap: Captured, correlation_id: object) -> None:
    """An API call in a context whose correlation_id no exemplar label can hold is timed without an exemplar; OpenMetrics still encodes."""
    with scoped_context(correlation_id=correlation_id):
        cap.monitor.api_call_finished("broker", "quote", 0.1)
    assert cap.value("trading_api_request_duration_seconds_count", api="broker", endpoint="quote") == 1
    assert cap.value("quantwatch_invalid_events_total", reason="internal_error") == 0
    families = parse_openmetrics(generate_openmetrics(cap.monitor.registry).decode())
    assert not [s for family in families if family.name == "trading_api_request_duration_seconds" for s in family.samples if s.exemplar]


def test_health_score_is_exposed_in_range(cap: Captured) -> None:
    """The composite score is present and within 0-100 even before any event."""
    score = cap.value("trading_health_score")
    assert score is not None
    assert 0 <= score <= 100
    assert not math.isnan(score)
