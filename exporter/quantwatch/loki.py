"""LokiHandler: the bot's log records into Loki without ever waiting for Loki.

``emit`` runs in the caller's thread and only formats the record with
:class:`~quantwatch.logs.JsonFormatter` (where the caller's ``contextvars``
trading context lives) and offers the line to the bounded queue of a
:class:`~quantwatch.shipper.Shipper`; a full queue drops and counts, nothing is
printed per record. Stream labels are service, env and level only; symbol,
strategy, order_id and correlation_id stay in the JSON line, where LogQL's
``| json`` reads them, instead of making a Loki stream per order.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Callable, Iterable
from typing import Any

from prometheus_client.core import HistogramMetricFamily, Metric
from prometheus_client.registry import Collector
from prometheus_client.utils import floatToGoString

from .catalogue import BY_NAME
from .config import Config
from .logs import JsonFormatter, rfc3339
from .metrics import scraped_family
from .push import JSON_GZIP, Wire
from .shipper import PUSH_BUCKETS, Shipper

#: ``level`` label per level name: one shared string each, not a new one per queued line.
_LEVEL_LABELS: dict[str, str] = {}
_DUMPS: dict[str, Any] = {"ensure_ascii": False, "separators": (",", ":"), "default": str}


class LokiHandler(logging.Handler):
    """Ships every record it handles to Loki as a JSON line; never blocks, never raises.

    For example::

        handler = LokiHandler(Config.load(loki_url="http://loki:3100", service="condor-bot", env="prod"))
        logging.getLogger().addHandler(handler)
        handler.shipper.flush(timeout=5.0)  # True once every queued line arrived or was counted
    """

    def __init__(self, config: Config, *, wire: Wire = JSON_GZIP) -> None:
        super().__init__()
        #: The handler's formatter, typed: the Monitor writes event lines with its :meth:`~JsonFormatter.line`.
        self.json_formatter = JsonFormatter(config.service, config.env)
        self.setFormatter(self.json_formatter)
        self.shipper = Shipper(config, wire=wire)
        self._max_line = config.loki_max_line_bytes
        self._close_seconds = config.loki_close_seconds

    def handle(self, record: logging.LogRecord) -> bool:
        """Filter and emit without the handler lock: emit is thread-safe, and the lock would queue the bot's threads."""
        checked: Any = self.filter(record)
        if isinstance(checked, logging.LogRecord):  # Python 3.12+ filters may hand back a replacement record
            record = checked
        if checked:
            self.emit(record)
        return bool(checked)

    def emit(self, record: logging.LogRecord) -> None:
        """Format here, in the caller's thread and context, then queue the line for the worker."""
        self._offer(record.created, record.levelname, format_record(self.format, record))

    def offer_event(self, levelno: int, logger: str, message: str, fields: dict[str, Any]) -> bool:
        """Queue an event's line without a LogRecord, as :meth:`emit` would; False when only a record can carry it.

        The Monitor's path when this handler is the only one its record would
        reach: making the record and passing it through logging cost more
        than the line itself (make bench: events).
        """
        created = time.time()
        levelname = logging.getLevelName(levelno)
        line = self.json_formatter.line(created, levelname, logger, message, fields)
        if line is None:
            return False
        self._offer(created, levelname, line)
        return True

    def _offer(self, created: float, levelname: str, line: str) -> None:
        if len(line) * 4 > self._max_line:  # a character is at most 4 UTF-8 bytes: most lines skip the exact count
            line = truncate_line(line, self._max_line)
        level = _LEVEL_LABELS.get(levelname) or _LEVEL_LABELS.setdefault(levelname, levelname.lower())
        self.shipper.offer(int(created * 1e9), level, line)

    def flush(self) -> None:
        """Push what is queued now, waiting at most loki_close_seconds (``logging.shutdown`` calls this)."""
        self.shipper.flush(self._close_seconds)

    def close(self) -> None:
        """Push what is queued within loki_close_seconds and stop the worker."""
        self.shipper.close()
        super().close()


def format_record(format: Callable[[logging.LogRecord], str], record: logging.LogRecord) -> str:
    """``format(record)``, or when that fails (a bad %-argument, a ``__str__`` that raises) a JSON line saying so."""
    try:
        return format(record)
    except Exception:  # noqa: BLE001 - a bad record must still arrive, not print a traceback
        fallback: dict[str, Any] = {"ts": rfc3339(record.created), "level": record.levelname.lower(), "logger": record.name}
        fallback.update(message=_repr(record.msg), args=_repr(record.args), format_error=True)
        return json.dumps(fallback, **_DUMPS)


def _repr(value: object) -> str:
    try:
        return repr(value)
    except Exception:  # noqa: BLE001 - even repr() may be broken in a bot's own class
        return f"<unrepresentable {type(value).__name__}>"


def truncate_line(line: str, limit: int) -> str:
    """``line`` cut to at most ``limit`` UTF-8 bytes and marked.

    A JSON object stays valid JSON: its longest strings are shortened (ending in
    ``…``) and ``"truncated": true`` is added. Other text is cut and ends in
    ``…[truncated N bytes]``, N being its original size.
    """
    size = len(line.encode("utf-8", "replace"))
    if size <= limit:
        return line
    try:
        fields = json.loads(line)
    except ValueError:
        fields = None
    if isinstance(fields, dict):
        shortened = _shorten(fields, limit)
        if shortened is not None:
            return shortened
    marker = f"…[truncated {size} bytes]"
    return line.encode("utf-8", "replace")[: max(0, limit - len(marker.encode()))].decode("utf-8", "ignore") + marker


def _shorten(fields: dict[str, Any], limit: int) -> str | None:
    """Shorten the longest string values of ``fields`` until its JSON fits ``limit`` bytes; None if it cannot."""
    fields["truncated"] = True
    for _ in range(32):
        text = json.dumps(fields, **_DUMPS)
        excess = len(text.encode("utf-8", "replace")) - limit
        if excess <= 0:
            return text
        key = max((k for k, v in fields.items() if isinstance(v, str)), key=lambda k: len(fields[k]), default=None)
        if key is None or len(fields[key]) <= 1:
            return None
        value: str = fields[key]
        encoded = len(json.dumps(value, **_DUMPS).encode("utf-8", "replace"))
        # Escapes make the JSON longer than the text: cut in proportion, with a little to spare.
        keep = int(len(value) * max(0.0, 1.0 - (excess + 8) / encoded))
        fields[key] = value[:keep] + "…"
    return None


class LokiCollector(Collector):
    """The shipper's plain counters as the catalogue's ``quantwatch_log_*`` families, read at scrape time."""

    def __init__(self, shipper: Shipper) -> None:
        self._shipper = shipper

    def collect(self) -> Iterable[Metric]:
        shipper, stats = self._shipper, self._shipper.stats
        sent = scraped_family("quantwatch_log_lines_sent_total")
        sent.add_metric([], stats.sent)
        yield sent
        for name, counts in (
            ("quantwatch_log_lines_dropped_total", stats.dropped),
            ("quantwatch_log_batches_total", stats.batches),
            ("quantwatch_log_retries_total", stats.retries),
        ):
            family = scraped_family(name)
            for label, value in counts.items():
                family.add_metric([label], value)
            yield family
        for name, value in (
            ("quantwatch_log_queue_lines", shipper.held_lines),
            ("quantwatch_log_queue_bytes", shipper.held_bytes),
            ("quantwatch_log_spool_bytes", shipper.spool.bytes if shipper.spool is not None else 0),
        ):
            gauge = scraped_family(name)
            gauge.add_metric([], value)
            yield gauge
        spec = BY_NAME["quantwatch_log_push_duration_seconds"]
        cumulative, buckets = 0, []
        for bound, count in zip((*PUSH_BUCKETS, float("inf")), stats.push_buckets, strict=True):
            cumulative += count
            buckets.append((floatToGoString(bound), cumulative))  # type: ignore[no-untyped-call]  # unannotated upstream
        yield HistogramMetricFamily(spec.name, spec.help, buckets=buckets, sum_value=stats.push_seconds)

    def describe(self) -> Iterable[Metric]:
        return []
