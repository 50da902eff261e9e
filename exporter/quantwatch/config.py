"""Monitor settings from keyword arguments, then ``QUANTWATCH_*`` variables, then defaults.

Every setting is checked when its Config is made, at bot start-up, never later
in the trading path: a bad one raises :class:`ConfigError` naming the field, its
value and where the value came from (an argument, an environment variable, the
default). The checks themselves are in :mod:`quantwatch.config_checks`.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass, fields
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from .config_checks import CHECKS, LOKI_BATCH_MAX, LOKI_URL_FORMS, PUSH_PATH, masked, pair_problems, url_problem

__all__ = ["LOKI_BATCH_MAX", "LOKI_URL_FORMS", "PUSH_PATH", "Config", "ConfigError", "loki_push_url"]


class ConfigError(ValueError):
    """A setting that cannot be used, named with where it came from."""


@dataclass(frozen=True)
class Config:
    """Every knob of a :class:`~quantwatch.Monitor`; ``QUANTWATCH_`` and the field name upper-cased is its variable.

    ``Config(...)`` takes values as given, typed; :meth:`load` also reads the
    environment and parses its text. Both check every field.
    """

    service: str = "trading-bot"
    env: str = "dev"
    metrics_addr: str = "127.0.0.1"
    metrics_port: int = 8000
    #: ``/metrics`` over TLS (scraped across hosts): PEM certificate (chain) and key files; both or neither.
    metrics_tls_cert_file: str = ""
    metrics_tls_key_file: str = ""
    #: Basic auth on ``/metrics``: the user and a file holding the password Prometheus sends; both or neither.
    metrics_username: str = ""
    metrics_password_file: str = ""
    #: Distinct values a label may take before new ones become ``other``.
    label_cap: int = 50
    #: Allow-lists; empty means "first label_cap values seen".
    strategies: tuple[str, ...] = ()
    symbols: tuple[str, ...] = ()
    #: Filesystem whose usage is reported as the bot's disk; it must exist at start-up.
    disk_path: str = "/"
    #: Level of the Monitor's own event lines (any case; BUSINESS and AUDIT included); with ``log_to_stderr``,
    #: also the root logger's.
    log_level: str = "INFO"
    #: Window of the error rate and API success ratio behind the health score.
    health_window_seconds: float = 300.0
    #: Market data older than this lowers the health score.
    stale_after_seconds: float = 5.0
    #: Where lines are pushed; empty ships nothing. Either a base URL, to which ``/loki/api/v1/push`` is appended
    #: (Loki's ``http://loki:3100``, also behind a path prefix; VictoriaLogs' ``http://victorialogs:9428/insert``),
    #: or the full push URL ending in ``/loki/api/v1/push``, used as is. Anything that cannot be a push endpoint
    #: (not http(s), no host, a query or fragment, credentials, another API's path) fails at start-up; see
    #: docs/logging.md.
    loki_url: str = ""
    #: ``X-Scope-OrgID`` for a multi-tenant Loki; empty sends none.
    loki_tenant: str = ""
    #: Basic auth for Loki: the user, and a file holding the password (e.g. ``/run/secrets/loki_password``).
    loki_username: str = ""
    loki_password_file: str = ""
    #: Lines held in memory (queued and in flight) before new ones are dropped as ``queue_full``: 30 s of a
    #: busy bot's 1,000 lines/s, ~12 MiB resident at ~440 bytes a line (make bench: footprint), which keeps
    #: the exporter inside its 35 MiB budget. Longer outages are what ``loki_spool_dir`` is for.
    loki_queue_lines: int = 30_000
    #: Characters of line text held in memory, the same bound in bytes (for long lines).
    loki_queue_bytes: int = 12 * 1024 * 1024
    #: A push is sent when this much text is queued or ``loki_batch_seconds`` after the last one; at most
    #: LOKI_BATCH_MAX, as Loki answers 500 to a push whose lines exceed its 4 MiB gRPC message limit
    #: (grpc_server_max_recv_msg_size). VictoriaLogs takes up to -loki.maxRequestSize (default 64 MiB).
    loki_batch_bytes: int = 1024 * 1024
    loki_batch_seconds: float = 1.0
    loki_timeout_seconds: float = 10.0
    #: Without a spool, a batch that keeps failing is dropped (``retries_exhausted``) after this long.
    loki_retry_seconds: float = 3600.0
    #: Loki's ``max_line_size``, default 256KB = 262,144 bytes (Loki configuration reference, limits_config:
    #: max_line_size): longer lines are truncated and marked before they are queued, instead of being refused.
    loki_max_line_bytes: int = 256 * 1024
    #: Lines older than this are dropped (``too_old``) instead of being refused by Loki's
    #: ``reject_old_samples_max_age``, default 1w (Loki configuration reference, limits_config:
    #: reject_old_samples_max_age); a day below it, so a line is not refused on its way. VictoriaLogs answers 204
    #: to rows older than its retention (default 7 d) but drops them, counted in its vl_rows_dropped_total.
    loki_max_age_seconds: float = 6 * 24 * 3600.0
    #: How long ``Monitor.close()`` and interpreter exit wait for queued lines to reach Loki.
    loki_close_seconds: float = 5.0
    #: Directory that parks batches on disk while Loki is unreachable, created if its parent exists; empty keeps
    #: them in memory only.
    loki_spool_dir: str = ""
    loki_spool_bytes: int = 256 * 1024 * 1024
    #: JSONL file that receives every AUDIT line, in a folder that exists; empty writes none. Rotated at
    #: ``audit_max_bytes``.
    audit_path: str = ""
    audit_max_bytes: int = 64 * 1024 * 1024
    #: Rotated audit files kept; 0 keeps all of them (compliance archives).
    audit_backups: int = 0

    def __post_init__(self) -> None:
        """Check a Config made directly as :meth:`load` checks one it makes (again, then: cheap, once per start)."""
        _check(vars(self), lambda name: "default" if getattr(self, name) == _DEFAULTS[name] else f"Config argument {name}")

    @classmethod
    def load(cls, environ: Mapping[str, str] | None = None, **overrides: Any) -> Config:
        """Merge overrides over ``QUANTWATCH_*`` variables over defaults, checking each value."""
        environ = os.environ if environ is None else environ
        values: dict[str, Any] = {}
        sources: dict[str, str] = {}
        for field in fields(cls):
            var = "QUANTWATCH_" + field.name.upper()
            if overrides.get(field.name) is not None:
                raw, source, from_text = overrides.pop(field.name), f"argument {field.name}", False
            elif var in environ:
                raw, source, from_text = environ[var], f"environment variable {var}", True
            else:
                continue
            values[field.name] = _coerce(field.name, raw, from_text=from_text, source=source)
            sources[field.name] = source
        unknown = sorted(k for k, v in overrides.items() if v is not None)
        if unknown:
            raise ConfigError(f"unknown Monitor option(s): {', '.join(unknown)}")
        _check(_DEFAULTS | values, lambda name: sources.get(name, "default"))
        return cls(**values)


_DEFAULTS: dict[str, Any] = {field.name: field.default for field in fields(Config)}
_KINDS = {int: "an integer", float: "a number", str: "a string"}


def _coerce(name: str, raw: Any, *, from_text: bool, source: str) -> Any:
    """``raw`` in its field's type: a variable's text is parsed; an argument must have the type already."""
    default = _DEFAULTS[name]
    if isinstance(default, tuple):
        items = raw.split(",") if isinstance(raw, str) else raw
        if not isinstance(items, list | tuple) or not all(isinstance(item, str) for item in items):
            raise _error(name, raw, source, "is not a list of strings")
        return tuple(item.strip() for item in items if item.strip())
    if not from_text or isinstance(default, str):
        return raw
    try:
        return type(default)(raw.strip())
    except ValueError:
        raise _error(name, raw, source, f"is not {_KINDS[type(default)]}") from None


def _type_problem(value: Any, default: Any) -> str:
    if isinstance(default, tuple):
        return "" if isinstance(value, tuple) and all(isinstance(item, str) for item in value) else "is not a tuple of strings"
    kind = int | float if isinstance(default, float) else type(default)
    return "" if isinstance(value, kind) and not isinstance(value, bool) else f"is not {_KINDS[type(default)]}"


def _check(values: Mapping[str, Any], source: Callable[[str], str]) -> None:
    """Raise ConfigError for the first bad setting in ``values``, named with ``source(field)``."""
    for name, check in CHECKS.items():
        value = values[name]
        problem = _type_problem(value, _DEFAULTS[name]) or check(value)
        if problem:
            raise _error(name, value, source(name), problem)
    pairs = pair_problems(values, lambda other: f"{other} {values[other]!r} ({source(other)})")
    if pairs:
        name, problem = pairs[0]
        raise _error(name, values[name], source(name), problem)


def _error(name: str, value: Any, source: str, problem: str) -> ConfigError:
    shown = masked(value) if name == "loki_url" and isinstance(value, str) else value
    return ConfigError(f"{name} {shown!r} ({source}) {problem}")


def loki_push_url(url: str) -> str:
    """The push endpoint of ``url``, a base URL or a full push URL (see Config.loki_url); ConfigError if it cannot be one."""
    problem = url_problem(url)
    if problem:
        raise ConfigError(f"loki_url {masked(url)!r} {problem}: {LOKI_URL_FORMS}")
    parts = urlsplit(url)
    path = parts.path.rstrip("/")
    return urlunsplit((parts.scheme, parts.netloc, path if path.endswith(PUSH_PATH) else path + PUSH_PATH, "", ""))
