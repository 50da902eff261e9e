"""System health: the composite score, errors, data freshness, host and process resources, log shipping."""

from __future__ import annotations

from grafana_foundation_sdk.models.dashboard import Dashboard

from .common import Limit, Row, board, gauge_panel, gauge_sum, per_minute, prom, quantile, rate, sel, stat_panel, timeseries_panel
from .spec import limit, watched

UID = "qw-system-health"
FOLDER = "Operations"


def dashboard() -> Dashboard:
    """The board model."""
    health_limit = limit("QuantwatchHealthScoreLow")
    cpu_limit = limit("QuantwatchHostCpuHigh")
    error_limit = limit("QuantwatchErrorRateHigh")
    stale_limit = limit("QuantwatchMarketDataStale")
    health = Row(
        "Health",
        [
            gauge_panel(
                "Health score",
                f"Composite health 0-100 from error rate, API success, data freshness and resources (quantwatch.health). "
                f"Red below {health_limit.value:g}, where the critical alert fires.",
                "none",
                prom(f"min({sel('trading_health_score')})"),
                low=0,
                high=100,
                limits=[health_limit],
            ),
            timeseries_panel(
                "Health score over time",
                f"The composite score per bot. The dashed line is the critical threshold, {health_limit.value:g}.",
                "none",
                prom(f"min by (instance) ({sel('trading_health_score')})", "{{instance}}"),
                limits=[health_limit],
                w=10,
            ),
            stat_panel(
                "Scrape health",
                "Whether Prometheus reached each target at its last scrape (1 up, 0 down). A bot at 0 is down or unreachable.",
                "bool_yes_no",
                prom('min by (job) (up{env=~"$env"})', "{{job}}"),
                limits=[Limit(1, "green", below=True)],
                w=8,
                h=7,
            ),
        ],
    )
    trouble = Row(
        "Errors and data freshness",
        [
            timeseries_panel(
                "Errors per minute by component",
                f"Errors the bot reported per minute: the 5-minute total the error-rate alert watches (dashed line: its threshold, "
                f"{error_limit.value:g}/min), and each component and exception type.",
                "suffix: errors/min",
                prom(f"sum({sel(watched('QuantwatchErrorRateHigh'))}) * 60", "total (5 min)"),
                prom(per_minute("trading_errors_total", by=("component", "error_type")), "{{component}} {{error_type}}"),
                limits=[error_limit],
            ),
            timeseries_panel(
                "Market data age by underlying",
                f"Age of the newest tick per underlying. The dashed line is the stale-data alert threshold, {stale_limit.value:g} s.",
                "s",
                prom(f"max by (symbol) ({sel('trading_market_data_age_seconds')})", "{{symbol}}"),
                limits=[stale_limit],
            ),
        ],
    )
    resources = Row(
        "Resources",
        [
            timeseries_panel(
                "Host CPU busy (5 min)",
                f"Share of the host's CPU time spent busy (not idle, not waiting on I/O) over 5 minutes, as the CPU alert sees it "
                f"(dashed line: its threshold, {cpu_limit.value:.0%}).",
                "percentunit",
                prom(f"max by (instance) ({sel(watched('QuantwatchHostCpuHigh'))})", "{{instance}}"),
                limits=[cpu_limit],
                w=8,
            ),
            timeseries_panel(
                "Host memory used",
                "Share of host memory not available without swapping.",
                "percentunit",
                prom(f"1 - {gauge_sum('trading_host_memory_available_bytes')} / {gauge_sum('trading_host_memory_total_bytes')}", "host"),
                w=8,
            ),
            timeseries_panel(
                "Disk used by path",
                "Share of the filesystem holding the bot's data that is full.",
                "percentunit",
                prom(f"1 - {gauge_sum('trading_host_disk_free_bytes', by=('path',))} / {gauge_sum('trading_host_disk_total_bytes', by=('path',))}", "{{path}}"),
                w=8,
            ),
            timeseries_panel(
                "Bot process CPU",
                "CPU time the bot process uses per second: 100 % is one core fully busy.",
                "percentunit",
                prom(rate("trading_process_cpu_seconds_total", by=("instance",)), "{{instance}}"),
            ),
            timeseries_panel(
                "Bot process resident memory",
                "Resident set size of the bot process.",
                "bytes",
                prom(gauge_sum("trading_process_resident_memory_bytes", by=("instance",)), "{{instance}}"),
            ),
        ],
    )
    shipping = Row(
        "Log shipping and exporter",
        [
            timeseries_panel(
                "Log lines sent and dropped",
                "Lines per second Loki accepted, and lines dropped before reaching it by reason. Any drop above zero (the dashed line) "
                "fires the log-shipping alert.",
                "suffix: lines/s",
                prom(rate("quantwatch_log_lines_sent_total"), "sent"),
                prom(rate("quantwatch_log_lines_dropped_total", by=("reason",)), "dropped: {{reason}}"),
                limits=[limit("QuantwatchLogLinesDropped")],
            ),
            timeseries_panel(
                "Loki push requests",
                "Push requests per second by outcome, and retries by reason.",
                "reqps",
                prom(rate("quantwatch_log_batches_total", by=("outcome",)), "batches: {{outcome}}"),
                prom(rate("quantwatch_log_retries_total", by=("reason",)), "retries: {{reason}}"),
            ),
            timeseries_panel(
                "Log queue",
                "Lines waiting in the exporter's queue to be shipped; it grows while Loki is slow or down.",
                "short",
                prom(gauge_sum("quantwatch_log_queue_lines", by=("instance",)), "{{instance}}"),
                w=8,
            ),
            timeseries_panel(
                "Log queue size",
                "Bytes waiting in the exporter's queue to be shipped; bounded by its byte limit.",
                "bytes",
                prom(gauge_sum("quantwatch_log_queue_bytes", by=("instance",)), "{{instance}}"),
                w=8,
            ),
            timeseries_panel(
                "Loki push latency p99",
                "99th percentile of push request latency to Loki.",
                "s",
                prom(quantile(0.99, "quantwatch_log_push_duration_seconds"), "p99"),
                w=8,
            ),
            timeseries_panel(
                "Exporter input problems",
                "Per minute: bot events with bad input (by reason), label values folded into 'other' by the cardinality cap, failed collectors.",
                "suffix: /min",
                prom(per_minute("quantwatch_invalid_events_total", by=("reason",)), "invalid: {{reason}}"),
                prom(per_minute("quantwatch_label_overflow_total", by=("label",)), "overflow: {{label}}"),
                prom(per_minute("quantwatch_collector_errors_total", by=("collector",)), "collector failed: {{collector}}"),
                w=24,
            ),
        ],
    )
    return board(
        UID,
        "System health",
        "The bot's composite health score, errors, data freshness, host and process resources, and the exporter's own log shipping.",
        [health, trouble, resources, shipping],
    )
