"""The same trading events two ways: through quantwatch's Monitor, and through plain prometheus_client
with stdlib logging and python-json-logger (the usual hand-rolled alternative).

The event mix repeats order submitted → order filled → trade closed: each is
one or more metric updates and one JSON log line at INFO or above.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram
from pythonjsonlogger.json import JsonFormatter as PlainJsonFormatter

from bench._series import STRATEGIES
from quantwatch import Monitor
from quantwatch.catalogue import LATENCY_BUCKETS, PNL_BUCKETS

SYMBOLS = ("SPY", "QQQ", "IWM", "AAPL")

#: One bot event: ``event(i)`` for i = 0, 1, 2, ...
Event = Callable[[int], None]


def _pick(i: int) -> tuple[str, str, str]:
    """Order id, strategy and symbol of the i-th event's order (three events per order)."""
    n = i // 3
    return f"o-{n:07d}", STRATEGIES[n % 3], SYMBOLS[n % 4]


def monitor_events(mon: Monitor) -> Event:
    """The event mix through the Monitor's event methods."""

    def event(i: int) -> None:
        order_id, strategy, symbol = _pick(i)
        step = i % 3
        if step == 0:
            mon.order_submitted(order_id, strategy=strategy, symbol=symbol, side="sell", quantity=1 + i % 5, price=1.25)
        elif step == 1:
            mon.order_filled(order_id, fill_price=1.24)
        else:
            mon.trade_closed(strategy, symbol, "sell", realized_pnl=(i % 7 - 3) * 41.5)

    return event


class PlainBot:
    """What a bot writes without quantwatch: module-level metrics, ``.labels(...)`` per update, python-json-logger lines into ``handler``."""

    def __init__(self, registry: CollectorRegistry, handler: logging.Handler) -> None:
        self.submitted = Counter("orders_submitted_total", "Orders sent.", ("strategy", "symbol", "side", "order_type"), registry=registry)
        self.filled = Counter("orders_filled_total", "Orders filled.", ("strategy", "symbol", "side"), registry=registry)
        self.latency = Histogram("order_latency_seconds", "Order latency.", ("strategy", "outcome"), registry=registry, buckets=LATENCY_BUCKETS)
        self.trades = Counter("trades_total", "Closed trades.", ("strategy", "symbol", "side", "result"), registry=registry)
        self.pnl = Histogram("trade_pnl_usd", "P&L per trade.", ("strategy",), registry=registry, buckets=PNL_BUCKETS)
        self.realized = Gauge("realized_pnl_usd", "Realised P&L.", ("strategy",), registry=registry)
        self.orders: dict[str, tuple[float, str, str]] = {}
        formatted = getattr(handler, "handler", handler)  # a QueueHandler formats in its listener's handler
        formatted.setFormatter(PlainJsonFormatter("%(asctime)s %(levelname)s %(name)s %(message)s"))
        self.log = logging.getLogger("bench.plain")
        self.log.handlers[:] = [handler]
        self.log.propagate = False
        self.log.setLevel(logging.INFO)

    def event(self, i: int) -> None:
        order_id, strategy, symbol = _pick(i)
        step = i % 3
        if step == 0:
            self.submitted.labels(strategy, symbol, "sell", "limit").inc()
            self.orders[order_id] = (time.monotonic(), strategy, symbol)
            fields = {"order_id": order_id, "strategy": strategy, "symbol": symbol, "side": "sell", "quantity": 1 + i % 5, "price": 1.25}
            self.log.info("order submitted", extra=fields)
        elif step == 1:
            started, strategy, symbol = self.orders.pop(order_id)
            latency = time.monotonic() - started
            self.latency.labels(strategy, "filled").observe(latency)
            self.filled.labels(strategy, symbol, "sell").inc()
            self.log.info("order filled", extra={"order_id": order_id, "strategy": strategy, "fill_price": 1.24, "latency_ms": round(latency * 1000, 3)})
        else:
            pnl = (i % 7 - 3) * 41.5
            self.trades.labels(strategy, symbol, "sell", "win" if pnl > 0 else "loss").inc()
            self.pnl.labels(strategy).observe(pnl)
            self.realized.labels(strategy).inc(pnl)
            self.log.info("trade closed", extra={"strategy": strategy, "symbol": symbol, "side": "sell", "realized_pnl": pnl})

    def close(self) -> None:
        """Take the handler off the logger (the caller stops it)."""
        self.log.handlers.clear()
