"""The real Prometheus scrapes a Monitor's cached /metrics body and stores the values its children hold, exemplar included."""

from __future__ import annotations

import time
from collections.abc import Callable

import pytest

from quantwatch import Monitor
from testbed.api import PrometheusAPI
from testbed.poll import wait_until
from testbed.ports import LOCAL_HOST
from testbed.servers import TestBed

pytestmark = pytest.mark.servers


def test_prometheus_stores_what_the_children_hold(testbed_factory: Callable[[str], TestBed]) -> None:
    """Counter, gauge (negative), both histograms (the P&L one has no _sum) and a latency exemplar, changed between scrapes."""
    bed = testbed_factory("scrape")
    with Monitor(service="scrape-test", env="test", metrics_addr=LOCAL_HOST) as mon:
        mon.serve(port=bed.mapping.ports["bot:8000"])
        api = PrometheusAPI(bed.start_prometheus().url)
        fam = mon._fam
        wait_until(lambda: api.value('up{job="bot"}') == 1, 30, 'up{job="bot"} == 1')  # the cache is filled
        fam["trading_orders_submitted_total"].child("ic", 'S"P\\Y', "buy", "limit").inc(3)
        fam["trading_unrealized_pnl_usd"].child("ic", "SPY").set(-12.5)
        fam["trading_trade_pnl_usd"].child("ic").observe(-120.0)
        fam["trading_order_latency_seconds"].child("ic", "filled").observe(0.02, {"correlation_id": "c-scrape-1"})
        start = time.time()
        expected = {
            'trading_orders_submitted_total{symbol="S\\"P\\\\Y"}': 3.0,
            'trading_unrealized_pnl_usd{symbol="SPY"}': -12.5,
            'trading_trade_pnl_usd_bucket{strategy="ic",le="-100.0"}': 1.0,
            'trading_trade_pnl_usd_count{strategy="ic"}': 1.0,
            'trading_order_latency_seconds_bucket{strategy="ic",le="0.025"}': 1.0,
            'trading_order_latency_seconds_sum{strategy="ic"}': 0.02,
        }
        for expr, value in expected.items():
            wait_until(lambda expr=expr, value=value: api.value(expr) == value, 30, f"{expr} == {value}")

        def exemplar() -> list[dict[str, object]]:
            found = api.get("query_exemplars", query="trading_order_latency_seconds_bucket", start=start - 60, end=time.time() + 60)
            return [e for series in found for e in series["exemplars"] if e["labels"] == {"correlation_id": "c-scrape-1"}]

        assert float(str(wait_until(exemplar, 30, "the correlation_id exemplar")[0]["value"])) == 0.02
