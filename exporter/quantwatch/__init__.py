"""quantwatch: Prometheus metrics and JSON logs for an options-trading bot.

Importing it changes nothing in the bot's process beyond naming two log levels
(see :mod:`quantwatch.logs`). For example::

    import quantwatch

    mon = quantwatch.Monitor(service="condor-bot", env="prod")
    mon.serve()
    with mon.operation("rebalance", strategy="iron_condor"):
        mon.order_submitted("o-1", strategy="iron_condor", symbol="SPY", side="sell", quantity=1)
"""

from .audit import AuditHandler, AuditLog
from .config import Config, ConfigError
from .context import bind_context, current_context, new_correlation_id, scoped_context, set_context
from .logs import AUDIT, BUSINESS, JsonFormatter, configure_logging
from .loki import LokiHandler
from .monitor import ApiCall, Monitor, Operation
from .version import __version__

__all__ = [
    "AUDIT",
    "BUSINESS",
    "ApiCall",
    "AuditHandler",
    "AuditLog",
    "Config",
    "ConfigError",
    "JsonFormatter",
    "LokiHandler",
    "Monitor",
    "Operation",
    "__version__",
    "bind_context",
    "configure_logging",
    "current_context",
    "new_correlation_id",
    "scoped_context",
    "set_context",
]
