"""Execution and broker API: how fast orders complete, how many are refused, how the APIs behave.

Latency panels ask for exemplars: each dot carries the correlation_id of one order or call, and the
Prometheus datasource turns it into a link to that operation's log lines in Loki.
"""

from __future__ import annotations

from grafana_foundation_sdk.models.dashboard import Dashboard

from .common import Row, board, heatmap_panel, per_minute, prom, quantile, rate, sel, timeseries_panel
from .spec import limit, watched

UID = "qw-execution"
FOLDER = "Trading"


def dashboard() -> Dashboard:
    """The board model."""
    latency_limit = limit("QuantwatchOrderLatencyHigh")
    rejection_limit = limit("QuantwatchOrderRejectionRatioHigh")
    api_limit = limit("QuantwatchBrokerApiSuccessLow")
    orders = Row(
        "Orders",
        [
            heatmap_panel(
                "Order latency distribution",
                "Time from order submission to its final state, per histogram bucket and rate interval. Exemplar dots link to the order's logs.",
                prom(
                    rate("trading_order_latency_seconds_bucket", by=("le",)),
                    "{{le}}",
                    exemplar=True,
                    fmt="heatmap",
                ),
            ),
            timeseries_panel(
                "Order latency p50 and p99",
                f"Median and 99th percentile of order round trips over the rate interval; the alert threshold is {latency_limit.value:g} s. "
                "Exemplar dots link to the order's logs.",
                "s",
                prom(quantile(0.5, "trading_order_latency_seconds"), "p50", exemplar=True),
                prom(quantile(0.99, "trading_order_latency_seconds"), "p99", exemplar=True),
                limits=[latency_limit],
            ),
            timeseries_panel(
                "Order latency p99 by strategy (5 min)",
                f"99th percentile of order round trips per strategy over 5 minutes, as the latency alert sees it "
                f"(dashed line: its threshold, {latency_limit.value:g} s).",
                "s",
                prom(f"max by (strategy) ({sel(watched('QuantwatchOrderLatencyHigh'))})", "{{strategy}}"),
                limits=[latency_limit],
            ),
            timeseries_panel(
                "Order rejection ratio by strategy (5 min)",
                f"Share of submitted orders that the broker or a risk check refused over 5 minutes, as the rejection alert sees it "
                f"(dashed line: its threshold, {rejection_limit.value:.0%}).",
                "percentunit",
                prom(f"max by (strategy) ({sel(watched('QuantwatchOrderRejectionRatioHigh'))})", "{{strategy}}"),
                limits=[rejection_limit],
            ),
            timeseries_panel(
                "Orders per minute by outcome",
                "Orders submitted, filled, rejected and cancelled per minute.",
                "suffix: orders/min",
                prom(per_minute("trading_orders_submitted_total"), "submitted"),
                prom(per_minute("trading_orders_filled_total"), "filled"),
                prom(per_minute("trading_orders_rejected_total"), "rejected"),
                prom(per_minute("trading_orders_cancelled_total"), "cancelled"),
            ),
            timeseries_panel(
                "Rejections by reason",
                "Refused orders per minute, by the reason the broker or the risk check gave.",
                "suffix: orders/min",
                prom(per_minute("trading_orders_rejected_total", by=("reason",)), "{{reason}}"),
                stack=True,
            ),
        ],
    )
    apis = Row(
        "Broker and market-data APIs",
        [
            timeseries_panel(
                "API success ratio (5 min)",
                f"Share of successful calls per API over 5 minutes, as the broker API alert sees it (dashed line: its threshold, {api_limit.value:.0%}).",
                "percentunit",
                prom(f"min by (api) ({sel(watched('QuantwatchBrokerApiSuccessLow'))})", "{{api}}"),
                limits=[api_limit],
            ),
            timeseries_panel(
                "API requests by endpoint",
                "Calls per second to each broker and market-data endpoint, all outcomes.",
                "reqps",
                prom(rate("trading_api_requests_total", by=("api", "endpoint")), "{{api}} {{endpoint}}"),
            ),
            timeseries_panel(
                "API errors and timeouts by endpoint",
                "Failed calls per second per endpoint, by outcome (error, timeout).",
                "reqps",
                prom(rate("trading_api_requests_total", 'outcome!="success"', by=("api", "endpoint", "outcome")), "{{api}} {{endpoint}} {{outcome}}"),
            ),
            timeseries_panel(
                "API latency p99 by endpoint",
                "99th percentile of call latency per endpoint. Exemplar dots link to the call's logs.",
                "s",
                prom(quantile(0.99, "trading_api_request_duration_seconds", by=("api", "endpoint")), "{{api}} {{endpoint}}", exemplar=True),
            ),
        ],
    )
    return board(
        UID,
        "Execution and broker API",
        "Order latency with exemplars, rejections, and the health of the broker and market-data APIs.",
        [orders, apis],
    )
