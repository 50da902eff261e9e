"""The one catalogue of every metric family quantwatch exposes.

Rules, dashboards, docs and the contract tests read this module; nothing else
names a metric. ``trading_`` families describe the bot, ``quantwatch_`` ones
describe the library itself. Label values are bounded by design: symbols and
strategies pass through a cap (see ``labels.py``); order and correlation ids
never become labels.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class Kind(StrEnum):
    """Prometheus metric type of a family."""

    COUNTER = "counter"
    GAUGE = "gauge"
    HISTOGRAM = "histogram"


@dataclass(frozen=True)
class MetricSpec:
    """One metric family: what it is called, measures and is split by."""

    name: str
    kind: Kind
    help: str
    labels: tuple[str, ...] = ()
    buckets: tuple[float, ...] = ()
    #: Filled at scrape time by a collector rather than by bot events.
    scraped: bool = False


#: Order round trips and broker calls: 1 ms to 30 s.
LATENCY_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0)
#: Realised P&L per trade in USD, symmetric around zero.
PNL_BUCKETS = (-5000.0, -2000.0, -1000.0, -500.0, -200.0, -100.0, -50.0, 0.0, 50.0, 100.0, 200.0, 500.0, 1000.0, 2000.0, 5000.0)

#: Closed sets of label values; anything else is an invalid event.
SIDES = ("buy", "sell")
ORDER_TYPES = ("market", "limit", "stop", "stop_limit")
API_OUTCOMES = ("success", "error", "timeout")
GREEKS = ("delta", "gamma", "vega", "theta")
#: Why an event's input was bad: a value (not finite, negative, of the wrong type, not one of a closed set, too
#: long, empty, a string that is not UTF-8, an id already open or over the tracking limit), the call itself (an
#: argument missing or one too many), or a bug in quantwatch (internal_error, which should stay at 0).
INVALID_REASONS = (
    "non_finite",
    "negative",
    "wrong_type",
    "unknown_value",
    "too_long",
    "empty",
    "not_utf8",
    "capacity",
    "missing",
    "unexpected",
    "internal_error",
)
#: Why a log line never reached Loki (``spool``: the disk spool was full or unreadable).
LOG_DROP_REASONS = ("queue_full", "rejected", "retries_exhausted", "too_old", "shutdown", "spool")
#: Push requests: accepted (2xx), refused for good (other 4xx), failed but retryable (429, 5xx, no answer).
LOG_BATCH_OUTCOMES = ("success", "rejected", "error")
#: Why a push is retried: 429, 5xx, a refused or broken connection, no answer within the timeout.
LOG_RETRY_REASONS = ("rate_limited", "server_error", "connection", "timeout")

CATALOGUE: tuple[MetricSpec, ...] = (
    # Orders and execution.
    MetricSpec("trading_orders_submitted_total", Kind.COUNTER, "Orders sent to the broker.", ("strategy", "symbol", "side", "order_type")),
    MetricSpec("trading_orders_filled_total", Kind.COUNTER, "Orders completely filled.", ("strategy", "symbol", "side")),
    MetricSpec("trading_orders_rejected_total", Kind.COUNTER, "Orders the broker or a risk check refused.", ("strategy", "symbol", "reason")),
    MetricSpec("trading_orders_cancelled_total", Kind.COUNTER, "Orders cancelled before a complete fill.", ("strategy", "symbol")),
    MetricSpec(
        "trading_order_latency_seconds",
        Kind.HISTOGRAM,
        "Time from order submission to its final state; exemplars carry the correlation_id.",
        ("strategy", "outcome"),
        LATENCY_BUCKETS,
    ),
    # Trades and P&L.
    MetricSpec("trading_trades_total", Kind.COUNTER, "Closed trades.", ("strategy", "symbol", "side", "result")),
    MetricSpec("trading_trade_pnl_usd", Kind.HISTOGRAM, "Realised P&L per closed trade in USD.", ("strategy",), PNL_BUCKETS),
    MetricSpec("trading_realized_pnl_usd", Kind.GAUGE, "Cumulative realised P&L since start in USD.", ("strategy",)),
    MetricSpec("trading_win_ratio", Kind.GAUGE, "Share of closed trades with a positive P&L since start (0-1).", ("strategy",)),
    # Positions and options risk.
    MetricSpec("trading_open_positions", Kind.GAUGE, "Positions currently open.", ("strategy", "symbol")),
    MetricSpec("trading_unrealized_pnl_usd", Kind.GAUGE, "Mark-to-market P&L of open positions in USD.", ("strategy", "symbol")),
    MetricSpec(
        "trading_greek_exposure",
        Kind.GAUGE,
        "Net option Greek exposure per underlying (delta in shares, gamma per $1, vega in USD per vol point, theta in USD per day).",
        ("symbol", "greek"),
    ),
    # Portfolio.
    MetricSpec("trading_portfolio_value_usd", Kind.GAUGE, "Account equity in USD."),
    MetricSpec("trading_cash_usd", Kind.GAUGE, "Cash balance in USD."),
    MetricSpec("trading_drawdown_ratio", Kind.GAUGE, "Fall of equity from its running peak (0-1)."),
    # Broker and market-data APIs.
    MetricSpec("trading_api_requests_total", Kind.COUNTER, "Broker and market-data API calls by outcome.", ("api", "endpoint", "outcome")),
    MetricSpec(
        "trading_api_request_duration_seconds",
        Kind.HISTOGRAM,
        "Broker and market-data API call latency; exemplars carry the correlation_id.",
        ("api", "endpoint"),
        LATENCY_BUCKETS,
    ),
    MetricSpec("trading_api_success_ratio", Kind.GAUGE, "Share of successful API calls over the health window (0-1).", ("api",), scraped=True),
    MetricSpec("trading_market_data_age_seconds", Kind.GAUGE, "Age of the newest market-data tick per symbol.", ("symbol",), scraped=True),
    # Risk and errors.
    MetricSpec("trading_risk_checks_total", Kind.COUNTER, "Pre-trade risk checks by result.", ("check", "result")),
    MetricSpec("trading_risk_violations_total", Kind.COUNTER, "Risk limits breached.", ("check",)),
    MetricSpec("trading_errors_total", Kind.COUNTER, "Errors the bot reported, by component and exception type.", ("component", "error_type")),
    MetricSpec(
        "trading_operation_duration_seconds",
        Kind.HISTOGRAM,
        "Duration of operations timed with Monitor.operation; exemplars carry the correlation_id.",
        ("operation", "outcome"),
        LATENCY_BUCKETS,
    ),
    MetricSpec("trading_health_score", Kind.GAUGE, "Composite health 0-100 (formula in quantwatch.health).", scraped=True),
    # Process and host, read by psutil at scrape time.
    MetricSpec("trading_process_cpu_seconds_total", Kind.COUNTER, "CPU time used by the bot process.", scraped=True),
    MetricSpec("trading_process_resident_memory_bytes", Kind.GAUGE, "Resident memory of the bot process.", scraped=True),
    MetricSpec("trading_host_cpu_seconds_total", Kind.COUNTER, "Host CPU time by mode, all cores.", ("mode",), scraped=True),
    MetricSpec("trading_host_cpus", Kind.GAUGE, "Logical CPUs of the host.", scraped=True),
    MetricSpec("trading_host_memory_total_bytes", Kind.GAUGE, "Host physical memory.", scraped=True),
    MetricSpec("trading_host_memory_available_bytes", Kind.GAUGE, "Host memory available without swapping.", scraped=True),
    MetricSpec("trading_host_disk_total_bytes", Kind.GAUGE, "Size of the filesystem holding the bot's data.", ("path",), scraped=True),
    MetricSpec("trading_host_disk_free_bytes", Kind.GAUGE, "Free space on the filesystem holding the bot's data.", ("path",), scraped=True),
    # The library's own health.
    MetricSpec("quantwatch_build_info", Kind.GAUGE, "Always 1; labels say which quantwatch runs.", ("version",)),
    MetricSpec("quantwatch_invalid_events_total", Kind.COUNTER, "Bot events with bad input, counted instead of raised.", ("reason",)),
    MetricSpec("quantwatch_label_overflow_total", Kind.COUNTER, "Label values folded into 'other' by the cardinality cap.", ("label",)),
    MetricSpec("quantwatch_collector_errors_total", Kind.COUNTER, "Scrape-time collectors that failed and were skipped.", ("collector",)),
    MetricSpec("quantwatch_audit_write_errors_total", Kind.COUNTER, "AUDIT lines that could not be written to the local audit file."),
    MetricSpec("quantwatch_log_lines_sent_total", Kind.COUNTER, "Log lines Loki accepted.", scraped=True),
    MetricSpec("quantwatch_log_lines_dropped_total", Kind.COUNTER, "Log lines dropped before reaching Loki, by reason.", ("reason",), scraped=True),
    MetricSpec("quantwatch_log_batches_total", Kind.COUNTER, "Push requests to Loki by outcome.", ("outcome",), scraped=True),
    MetricSpec("quantwatch_log_retries_total", Kind.COUNTER, "Push requests retried, by reason.", ("reason",), scraped=True),
    MetricSpec("quantwatch_log_queue_lines", Kind.GAUGE, "Log lines waiting to be shipped.", scraped=True),
    MetricSpec("quantwatch_log_queue_bytes", Kind.GAUGE, "Bytes of log lines waiting to be shipped.", scraped=True),
    MetricSpec("quantwatch_log_spool_bytes", Kind.GAUGE, "Bytes of log lines parked in the disk spool during a Loki outage.", scraped=True),
    MetricSpec(
        "quantwatch_log_push_duration_seconds",
        Kind.HISTOGRAM,
        "Latency of push requests to Loki.",
        (),
        LATENCY_BUCKETS,
        scraped=True,
    ),
)

BY_NAME: dict[str, MetricSpec] = {spec.name: spec for spec in CATALOGUE}
