"""JSON log lines with trading context, on the standard ``logging`` module.

Existing ``logging.getLogger(...)`` calls in the bot keep working: the
formatter adds service, env, the ``contextvars`` context and any ``extra``
fields. BUSINESS sits between INFO and WARNING for trades and P&L; AUDIT sits
above WARNING so that order and risk decisions survive a quiet log level.

The bot's logging stays the bot's: importing this module only names those two
levels (where the bot has not named them already) and gives the ``quantwatch``
logger a NullHandler, as libraries do, so that its lines never reach logging's
last-resort handler. Root handlers and levels change only through
:func:`configure_logging`, which the bot calls or asks for.
"""

from __future__ import annotations

import functools
import json
import logging
import math
import sys
import time
import traceback
from collections.abc import Callable, Mapping
from typing import IO, Any

import orjson

from .context import current_context

BUSINESS = 25
AUDIT = 35
#: The level names a setting may use (any case), quantwatch's two among the standard ones.
LEVELS = {
    "DEBUG": logging.DEBUG,
    "INFO": logging.INFO,
    "BUSINESS": BUSINESS,
    "WARNING": logging.WARNING,
    "AUDIT": AUDIT,
    "ERROR": logging.ERROR,
    "CRITICAL": logging.CRITICAL,
}

#: Attribute under which the event API hands its fields to the formatter.
FIELDS_ATTR = "qw_fields"
_STANDARD_ATTRS = frozenset(logging.makeLogRecord({}).__dict__) | {"message", "asctime", "taskName", FIELDS_ATTR}


def _name_levels() -> None:
    """Name BUSINESS and AUDIT, unless the bot gave those numbers names of its own."""
    for level, name in ((BUSINESS, "BUSINESS"), (AUDIT, "AUDIT")):
        if logging.getLevelName(level) == f"Level {level}":
            logging.addLevelName(level, name)


_name_levels()
logging.getLogger("quantwatch").addHandler(logging.NullHandler())


def level_number(level: str | int) -> int:
    """The number of a level given by name (any case, see LEVELS) or number."""
    if isinstance(level, int):
        return level
    try:
        return LEVELS[level.upper()]
    except KeyError:
        raise ValueError(f"unknown log level {level!r} (known: {', '.join(LEVELS)})") from None


def rfc3339(created: float) -> str:
    """UTC timestamp with microseconds, e.g. ``2026-11-25T08:00:00.123456Z``."""
    seconds, micros = divmod(round(created * 1_000_000), 1_000_000)  # exact: a time in µs stays below 2**53 until the year 2255
    return f"{_utc_second(seconds)}.{micros:06d}Z"


@functools.lru_cache(maxsize=64)
def _utc_second(seconds: int) -> str:
    """The date and time part, formatted once per second instead of once per line (make bench: loki)."""
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(seconds))


#: The keys every line starts with, written by hand in :meth:`JsonFormatter.line`.
_HEAD_KEYS = frozenset(("ts", "level", "logger", "message", "service", "env"))
_escape: Callable[[str], str] = json.encoder.encode_basestring
_ENCODER = json.JSONEncoder(default=str, separators=(",", ":"), ensure_ascii=False, allow_nan=False)


def _one_encoder() -> Callable[[dict[str, Any]], str]:
    """``_ENCODER.encode`` without its fixed cost: ``encode`` builds a new C encoder per call (~1 µs of a ~7 µs line).

    The C encoder is built once, without the circular-reference check (that
    needs a fresh ``markers`` dict per call): a dict containing itself raises
    RecursionError instead of ValueError, which callers already treat as a
    record that cannot be formatted. Same output as ``_ENCODER.encode``.
    """
    make = getattr(json.encoder, "c_make_encoder", None)  # not in typeshed: the C half of json.encoder
    if make is None:  # no C accelerator in this interpreter
        return _ENCODER.encode
    chunks = make(None, str, _escape, None, ":", ",", False, False, False)
    return lambda value: "".join(chunks(value, 0))


_encode = _one_encoder()
#: Value types orjson writes exactly as ``_encode`` does (bar the spelling of some floats, e.g. 1e16 for 1e+16).
_PLAIN_TYPES = frozenset((str, int, float, bool, type(None)))


def _encode_plain(fields: dict[str, Any]) -> str | None:
    """``_encode(fields)`` by orjson, about a tenth of its cost (make bench: events); None unless every value is a finite plain scalar.

    Other values (a NaN, a nested dict, an enum, a bot's own class) keep the
    standard library's rendering, so a line never depends on which encoder wrote it.
    """
    for value in fields.values():
        kind = type(value)
        if kind not in _PLAIN_TYPES or (kind is float and value - value):  # inf - inf and nan - nan are nan, which is true
            return None
    try:
        return orjson.dumps(fields).decode()
    except orjson.JSONEncodeError:  # an int beyond 64 bits, a key that is not a string, a lone surrogate
        return None


class JsonFormatter(logging.Formatter):
    """One JSON object per record; keys in a fixed order so lines read well in Loki.

    For example ``handler.setFormatter(JsonFormatter(service="condor-bot", env="prod"))``.
    """

    def __init__(self, service: str, env: str) -> None:
        super().__init__()
        self.service = service
        self.env = env
        self._service_env = f',"service":{_escape(service)},"env":{_escape(env)}'
        #: ``","level":...,"logger":...,"message":`` per (levelname, logger name), escaped once.
        self._heads: dict[tuple[str, str], str] = {}

    def to_dict(self, record: logging.LogRecord) -> dict[str, Any]:
        """The record as the dict that :meth:`format` serialises."""
        line: dict[str, Any] = {
            "ts": rfc3339(record.created),
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": record.getMessage(),
            "service": self.service,
            "env": self.env,
        }
        line.update(current_context())
        fields: Mapping[str, Any] | None = getattr(record, FIELDS_ATTR, None)
        if fields:
            line.update(fields)
        for key, value in record.__dict__.items():
            if key not in _STANDARD_ATTRS:
                line[key] = value
        if record.exc_info and record.exc_info[0] is not None:
            exc_type, exc, tb = record.exc_info
            line["error_type"] = exc_type.__name__
            line["error_message"] = str(exc)
            line["stack_trace"] = "".join(traceback.format_exception(exc_type, exc, tb))
        return line

    def format(self, record: logging.LogRecord) -> str:
        """The line; most records take the fast path of :meth:`line`, the rest :meth:`to_dict`."""
        if not record.exc_info and record.__dict__.keys() <= _STANDARD_ATTRS and isinstance(record.name, str) and isinstance(record.levelname, str):
            line = self.line(record.created, record.levelname, record.name, record.getMessage(), getattr(record, FIELDS_ATTR, None))
            if line is not None:
                return line
        return self._encode(self.to_dict(record))  # an exception, `extra` fields, a field named like a head key or a hand-made record

    def line(self, created: float, levelname: str, logger: str, message: str, fields: Mapping[str, Any] | None) -> str | None:
        """The line of a record without an exception or ``extra``, its fixed head written by hand (make bench: events).

        Also how the Monitor writes an event line without making a LogRecord.
        None when a field is named like a head key or a value is not finite:
        :meth:`to_dict` handles those.
        """
        context = current_context()
        rest = {**context, **fields} if fields else dict(context)
        if rest and not _HEAD_KEYS.isdisjoint(rest):
            return None
        key = (levelname, logger)
        head = self._heads.get(key)
        if head is None:
            if len(self._heads) >= 1024:  # a bot making loggers per order: stay bounded
                self._heads.clear()
            head = self._heads[key] = f'","level":{_escape(levelname.lower())},"logger":{_escape(logger)},"message":'
        line = f'{{"ts":"{rfc3339(created)}{head}{_escape(message)}{self._service_env}'
        if not rest:
            return line + "}"
        body = _encode_plain(rest)
        if body is None:
            try:
                body = _encode(rest)
            except ValueError:
                return None
        return line + "," + body[1:]

    @staticmethod
    def _encode(line: dict[str, Any]) -> str:
        try:
            return _encode(line)
        except ValueError:  # NaN or infinity from a bad event: keep the line valid JSON
            return json.dumps(_finite(line), default=str, separators=(",", ":"), ensure_ascii=False)


def _finite(value: Any) -> Any:
    """``value`` with every non-finite float replaced by its name, e.g. ``"nan"``."""
    if isinstance(value, float) and not math.isfinite(value):
        return str(value)
    if isinstance(value, dict):
        return {k: _finite(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_finite(v) for v in value]
    return value


class _QuantwatchStreamHandler(logging.StreamHandler):  # type: ignore[type-arg]
    """Marks the handler :func:`configure_logging` owns, so a second call replaces it."""


def configure_logging(service: str, env: str, level: str | int = "INFO", stream: IO[str] | None = None) -> logging.Handler:
    """Send every record of the process as a JSON line to ``stream`` (stderr by default), from ``level`` up.

    A process-wide choice, made only when the bot calls this (or passes
    ``Monitor(log_to_stderr=True)``): it sets the root logger's level and adds
    one handler to it, replacing the one an earlier call added; the bot's own
    handlers stay.
    """
    number = level_number(level)
    root = logging.getLogger()
    for old in [h for h in root.handlers if isinstance(h, _QuantwatchStreamHandler)]:
        root.removeHandler(old)
    handler = _QuantwatchStreamHandler(stream or sys.stderr)
    handler.setFormatter(JsonFormatter(service, env))
    root.addHandler(handler)
    root.setLevel(number)
    return handler
