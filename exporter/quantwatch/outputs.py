"""The log handlers a :class:`~quantwatch.Monitor` puts on the root logger: Loki and the audit file.

Both sit on the root logger, so the bot's own ``logging.getLogger(...)`` lines
and the Monitor's event lines take the same path: what is shipped is what the
bot's loggers let through, and the Monitor's event lines from ``log_level`` up.
Adding them is all the Monitor does to the root logger, and only when
``loki_url`` or ``audit_path`` asks for it.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

from prometheus_client import CollectorRegistry

from .audit import AuditHandler, AuditLog
from .config import Config
from .logs import JsonFormatter
from .loki import LokiCollector, LokiHandler


class LogOutputs:
    """A LokiHandler when ``loki_url`` is set and an AuditHandler when ``audit_path`` is set, on the root logger.

    For example ``LogOutputs(config, registry, on_audit_error=errors.inc).flush(timeout=5.0)``.
    """

    def __init__(self, config: Config, registry: CollectorRegistry, on_audit_error: Callable[[], None]) -> None:
        self.loki = LokiHandler(config) if config.loki_url else None
        self.audit: AuditHandler | None = None
        if config.audit_path:
            audit_log = AuditLog(config.audit_path, config.audit_max_bytes, config.audit_backups)
            self.audit = AuditHandler(audit_log, JsonFormatter(config.service, config.env), on_audit_error)
        if self.loki is not None:
            registry.register(LokiCollector(self.loki.shipper))
        for handler in self._handlers():
            logging.getLogger().addHandler(handler)

    def sole_loki(self, logger: logging.Logger, level: int) -> LokiHandler | None:
        """The LokiHandler when it is the only handler a record of ``logger`` at ``level`` would reach, else None.

        Then the Monitor hands it the event's fields directly (:meth:`LokiHandler.offer_event`);
        any other handler the record would reach (the bot's own, pytest's, the audit file's) needs a real record.
        """
        loki = self.loki
        if loki is None or logger.filters or loki.filters or level < loki.level:
            return None
        found = False
        node: logging.Logger | None = logger
        while node is not None:
            for handler in node.handlers:
                if handler is loki:
                    found = True
                elif level >= handler.level and type(handler) is not logging.NullHandler:
                    return None
            node = node.parent if node.propagate else None
        return loki if found else None

    def _handlers(self) -> list[logging.Handler]:
        return [h for h in (self.loki, self.audit) if h is not None]

    def flush(self, timeout: float) -> bool:
        """Push queued lines to Loki and sync the audit file; True when every line arrived or was counted in time."""
        if self.audit is not None:
            self.audit.flush()
        return self.loki.shipper.flush(timeout) if self.loki is not None else True

    def close(self, timeout: float | None = None) -> bool:
        """Detach both handlers, drain Loki within ``timeout`` (default loki_close_seconds); True when nothing was dropped. Idempotent."""
        for handler in self._handlers():
            logging.getLogger().removeHandler(handler)
        if self.audit is not None:
            self.audit.close()
        return self.loki.shipper.close(timeout) if self.loki is not None else True
