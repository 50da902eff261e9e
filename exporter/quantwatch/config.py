"""Monitor settings from keyword arguments, then ``QUANTWATCH_*`` variables, then defaults.

A bad setting raises :class:`ConfigError` when the monitor is built, at bot
start-up, never later in the trading path.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, fields
from typing import Any

#: The largest loki_batch_bytes: a batch may run one line over it, and Loki's ingester message carries ~45 bytes
#: per line more than the text, which must stay under Loki's default grpc_server_max_recv_msg_size of 4 MiB.
LOKI_BATCH_MAX = 2 * 1024 * 1024


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
    #: Loki base URL, e.g. ``http://loki:3100``; empty ships nothing (see docs/logging.md).
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
    #: LOKI_BATCH_MAX, as Loki answers 500 to a push whose lines exceed its 4 MiB gRPC message limit.
    loki_batch_bytes: int = 1024 * 1024
    loki_batch_seconds: float = 1.0
    loki_timeout_seconds: float = 10.0
    #: Without a spool, a batch that keeps failing is dropped (``retries_exhausted``) after this long.
    loki_retry_seconds: float = 3600.0
    #: Loki's ``max_line_size``: longer lines are truncated and marked before they are queued.
    loki_max_line_bytes: int = 256 * 1024
    #: Lines older than this are dropped (``too_old``) instead of being refused by Loki's ``reject_old_samples_max_age``.
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
        for field in fields(cls):
            var = "QUANTWATCH_" + field.name.upper()
            if field.name in overrides and overrides[field.name] is not None:
                raw, source = overrides.pop(field.name), f"argument {field.name}"
            elif var in environ:
                raw, source = environ[var], f"environment variable {var}"
            else:
                continue
            values[field.name] = _coerce(raw, field.default, source)
        unknown = sorted(k for k, v in overrides.items() if v is not None)
        if unknown:
            raise ConfigError(f"unknown Monitor option(s): {', '.join(unknown)}")
        config = cls(**values)
        config._check()
        return config

    def _check(self) -> None:
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
