"""Monitor settings from keyword arguments, then ``QUANTWATCH_*`` variables, then defaults.

A bad setting raises :class:`ConfigError` when the monitor is built, at bot
start-up, never later in the trading path.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, fields
from typing import Any


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
    #: Loki base URL; empty ships nothing.
    loki_url: str = ""

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
