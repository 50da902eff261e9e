"""Helpers for the bot's own tests: a private Monitor whose metrics and log lines can be asserted.

>>> from quantwatch.testing import capture
>>> with capture() as cap:
...     cap.monitor.trade_closed("iron_condor", "SPY", "sell", 120.0)
>>> cap.value("trading_trades_total", strategy="iron_condor", symbol="SPY", side="sell", result="win")
1.0
>>> cap.logs(message="trade closed")[0]["realized_pnl"]
120.0
"""

from __future__ import annotations

import itertools
import json
import logging
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from prometheus_client import CollectorRegistry

from .config import Config
from .logs import JsonFormatter
from .monitor import Monitor

_ids = itertools.count()


class _ListHandler(logging.Handler):
    """Keeps every record as the parsed JSON line the real formatter writes."""

    def __init__(self, lines: list[dict[str, Any]], formatter: JsonFormatter) -> None:
        super().__init__(logging.DEBUG)
        self.lines = lines
        self.setFormatter(formatter)

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(json.loads(self.format(record)))


@dataclass
class Captured:
    """A monitor on its own registry and logger, and what it produced."""

    monitor: Monitor
    lines: list[dict[str, Any]]

    def value(self, name: str, **labels: str) -> float | None:
        """The sample ``name{labels}``, or None when the series does not exist."""
        return self.monitor.registry.get_sample_value(name, labels)

    def logs(self, message: str | None = None, **fields: Any) -> list[dict[str, Any]]:
        """Captured lines with this message (if given) and these field values."""
        return [line for line in self.lines if (message is None or line.get("message") == message) and all(line.get(k) == v for k, v in fields.items())]


@contextmanager
def capture(**options: Any) -> Iterator[Captured]:
    """A fresh Monitor (no HTTP server, nothing on stderr) whose lines are captured at DEBUG."""
    logger = logging.getLogger(f"quantwatch.testing.{next(_ids)}")
    logger.propagate = False
    logger.setLevel(logging.DEBUG)
    lines: list[dict[str, Any]] = []
    monitor = Monitor(registry=CollectorRegistry(), logger=logger, **options)
    config: Config = monitor.config
    handler = _ListHandler(lines, JsonFormatter(config.service, config.env))
    logger.addHandler(handler)
    try:
        yield Captured(monitor, lines)
    finally:
        logger.removeHandler(handler)
        monitor.close()
