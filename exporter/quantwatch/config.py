"""Monitor settings from keyword arguments, then ``QUANTWATCH_*`` variables, then defaults.

A bad setting raises :class:`ConfigError` when the monitor is built, at bot
start-up, never later in the trading path.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, fields
from typing import Any, NoReturn
from urllib.parse import SplitResult, urlsplit, urlunsplit

#: The largest loki_batch_bytes: a batch may run one line over it, and Loki's ingester message carries ~45 bytes
#: per line more than the text, which must stay under Loki's grpc_server_max_recv_msg_size (default 4 MiB, 4194304
#: bytes: Loki configuration reference, server: grpc_server_max_recv_msg_size).
LOKI_BATCH_MAX = 2 * 1024 * 1024
#: Loki refuses a stream with more label names than max_label_names_per_series (default 15: Loki configuration
#: reference, limits_config: max_label_names_per_series). quantwatch's streams have service, env and level, and
#: Loki adds service_name: 4.
LOKI_MAX_LABEL_NAMES = 15

#: Where Loki serves its push API, under its base URL.
PUSH_PATH = "/loki/api/v1/push"
#: The two forms of loki_url, for error messages.
LOKI_URL_FORMS = (
    f"give the base URL (Loki: http://loki:3100; VictoriaLogs: add /insert, http://victorialogs:9428/insert) or the full push URL ending in {PUSH_PATH}"
)
# Paths of the servers' other APIs, refused unless the path ends in PUSH_PATH: Loki's query and status APIs
# (/loki/api/..., /api/v1/..., /api/prom/...), its OTLP intake, VictoriaLogs' query API (/select/...) and its
# other ingestion protocols (/insert/<protocol>), and the pages every server has (/ready, /metrics...).
_OTHER_API = re.compile(r"/(loki/api|api/v1|api/prom|otlp|select|insert/[^/]+)(/|$)|/(ready|metrics|config|services|log_level|flush|ring|health|flags|vmui)$")


class ConfigError(ValueError):
    """A setting that cannot be used, named with where it came from."""


@dataclass(frozen=True)
class Config:
    """Every knob of a :class:`~quantwatch.Monitor`; the field name upper-cased is the variable."""

    service: str = "trading-bot"
    env: str = "dev"
    metrics_addr: str = "127.0.0.1"
    metrics_port: int = 8000
    #: Distinct values a label may take before new ones become ``other``.
    label_cap: int = 50
    #: Allow-lists; empty means "first label_cap values seen".
    strategies: tuple[str, ...] = ()
    symbols: tuple[str, ...] = ()
    #: Filesystem whose usage is reported as the bot's disk.
    disk_path: str = "/"
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
    #: Directory that parks batches on disk while Loki is unreachable; empty keeps them in memory only.
    loki_spool_dir: str = ""
    loki_spool_bytes: int = 256 * 1024 * 1024
    #: JSONL file that receives every AUDIT line; empty writes none. Rotated at ``audit_max_bytes``.
    audit_path: str = ""
    audit_max_bytes: int = 64 * 1024 * 1024
    #: Rotated audit files kept; 0 keeps all of them (compliance archives).
    audit_backups: int = 0

    @classmethod
    def load(cls, environ: Mapping[str, str] | None = None, **overrides: Any) -> Config:
        """Merge overrides over ``QUANTWATCH_*`` variables over defaults, checking each value."""
        environ = os.environ if environ is None else environ
        values: dict[str, Any] = {}
        sources: dict[str, str] = {}
        for field in fields(cls):
            var = "QUANTWATCH_" + field.name.upper()
            if field.name in overrides and overrides[field.name] is not None:
                raw, source = overrides.pop(field.name), f"argument {field.name}"
            elif var in environ:
                raw, source = environ[var], f"environment variable {var}"
            else:
                continue
            values[field.name] = _coerce(raw, field.default, source)
            sources[field.name] = source
        unknown = sorted(k for k, v in overrides.items() if v is not None)
        if unknown:
            raise ConfigError(f"unknown Monitor option(s): {', '.join(unknown)}")
        config = cls(**values)
        config._check(sources)
        return config

    def _check(self, sources: Mapping[str, str]) -> None:
        if self.loki_url:
            loki_push_url(self.loki_url, sources["loki_url"])
        if not 0 <= self.metrics_port <= 65535:
            raise ConfigError(f"metrics_port {self.metrics_port} is not a TCP port (0-65535)")
        if self.label_cap < 1:
            raise ConfigError(f"label_cap must be at least 1, got {self.label_cap}")
        if self.health_window_seconds <= 0 or self.stale_after_seconds <= 0:
            raise ConfigError("health_window_seconds and stale_after_seconds must be positive")
        if not self.service or not self.env:
            raise ConfigError("service and env must not be empty")
        sizes = (self.loki_queue_lines, self.loki_queue_bytes, self.loki_batch_bytes, self.loki_max_line_bytes, self.loki_spool_bytes, self.audit_max_bytes)
        times = (self.loki_batch_seconds, self.loki_timeout_seconds, self.loki_retry_seconds, self.loki_max_age_seconds, self.loki_close_seconds)
        if min(sizes) < 1 or min(times) <= 0 or self.audit_backups < 0:
            raise ConfigError("loki_* and audit_* sizes and durations must be positive (audit_backups at least 0)")
        if self.loki_batch_bytes > LOKI_BATCH_MAX:
            raise ConfigError(f"loki_batch_bytes {self.loki_batch_bytes} is over {LOKI_BATCH_MAX}: Loki refuses pushes past its 4 MiB gRPC message limit")
        if self.loki_queue_bytes < self.loki_max_line_bytes:
            raise ConfigError(f"loki_queue_bytes {self.loki_queue_bytes} cannot hold one line of loki_max_line_bytes {self.loki_max_line_bytes}")


def loki_push_url(url: str, source: str = "") -> str:
    """The push endpoint of ``url``, a base URL or a full push URL (see Config.loki_url).

    Raises ConfigError, naming ``source`` when given, for a URL that cannot be a push endpoint: caught at
    start-up, it does not become every line refused later.
    """
    try:
        parts = urlsplit(url)
    except ValueError:  # a malformed [IPv6] host
        _refuse(url, source, "is not a URL")
    problem = _not_a_push_url(parts)
    if problem:
        _refuse(url, source, problem)
    path = parts.path.rstrip("/")
    return urlunsplit((parts.scheme, parts.netloc, path if path.endswith(PUSH_PATH) else path + PUSH_PATH, "", ""))


def _refuse(url: str, source: str, problem: str) -> NoReturn:
    shown = re.sub(r"//[^/]*@", "//***@", url)  # credentials stay out of logs and tracebacks
    where = f" ({source})" if source else ""
    raise ConfigError(f"loki_url {shown!r}{where} {problem}: {LOKI_URL_FORMS}")


def _not_a_push_url(parts: SplitResult) -> str:
    """Why ``parts`` cannot be a push endpoint, or "" when it can."""
    path = parts.path.rstrip("/")
    problems = (
        (parts.scheme not in ("http", "https"), "is not an http(s) URL"),
        ("@" in parts.netloc, "carries credentials (set loki_username and loki_password_file instead)"),
        (not parts.hostname, "has no host"),
        (not _valid_port(parts), "has no valid port"),
        (bool(parts.query or parts.fragment), "has a query string or fragment, which the push API does not take"),
        (not path.endswith(PUSH_PATH) and _OTHER_API.search(path) is not None, "names another API, not the push"),
    )
    return next((problem for found, problem in problems if found), "")


def _valid_port(parts: SplitResult) -> bool:
    try:
        parts.port  # noqa: B018 - reading it parses it
    except ValueError:
        return False
    return True


def _coerce(raw: Any, default: Any, source: str) -> Any:
    """Turn a raw setting into the default's type: strings from the environment, values from code."""
    try:
        if isinstance(default, tuple):
            items = raw.split(",") if isinstance(raw, str) else list(raw)
            return tuple(str(item).strip() for item in items if str(item).strip())
        if isinstance(default, bool) or not isinstance(default, int | float | str):
            raise TypeError
        if isinstance(default, int) and isinstance(raw, float):
            raise TypeError
        return type(default)(raw)
    except (TypeError, ValueError):
        raise ConfigError(f"{source}: cannot use {raw!r} as {type(default).__name__}") from None
