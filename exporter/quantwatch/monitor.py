"""The Monitor: bot events in, Prometheus metrics and JSON log lines out, in one call.

Every public event method is wrapped by :func:`_never_raises`: bad input is
counted in ``quantwatch_invalid_events_total`` and logged, a call with missing
or extra arguments too, and even a bug in quantwatch itself ends as a counted
``internal_error``, never as an exception in the trading path.
"""

from __future__ import annotations

import functools
import inspect
import logging
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from types import MappingProxyType, TracebackType
from typing import Any, TypeVar, cast

from prometheus_client import CollectorRegistry

from . import catalogue as cat
from . import exposition
from .collectors import RuntimeCollector, SystemCollector
from .config import Config, ConfigError
from .context import _context, current_context, new_correlation_id
from .labels import OTHER, Checker, LabelGuard, label_problem
from .logs import AUDIT, BUSINESS, FIELDS_ATTR, configure_logging, level_number
from .metrics import register
from .outputs import LogOutputs
from .serving import serve_wsgi
from .version import __version__
from .window import Window

F = TypeVar("F", bound=Callable[..., Any])

#: Orders awaiting a final state are remembered up to this many, oldest forgotten first.
MAX_PENDING_ORDERS = 100_000
#: Open positions tracked for exposure; more means a bug in the bot, counted as invalid.
MAX_OPEN_POSITIONS = 10_000
_GUARDED_LABELS = ("strategy", "symbol", "reason", "component", "error_type", "api", "endpoint", "check", "operation")


def _never_raises(method: F) -> F:
    """Turn any exception inside an event method into a counted invalid event: a bad call, else an internal error."""
    signature = inspect.signature(method)

    @functools.wraps(method)
    def wrapper(self: Monitor, *args: Any, **kwargs: Any) -> Any:
        try:
            return method(self, *args, **kwargs)
        except Exception as exc:  # noqa: BLE001 - the trading path must never see our failures
            self._failed(method.__name__, _call_problem(signature, self, *args, **kwargs), exc)
            return None

    return cast(F, wrapper)


def _call_problem(signature: inspect.Signature, *args: Any, **kwargs: Any) -> str:
    """The invalid reason of a call that does not fit ``signature`` (``missing:<argument>`` or ``unexpected:arguments``), or ""."""
    try:
        bound = signature.bind_partial(*args, **kwargs)
    except TypeError:  # too many positional arguments, or one given twice
        return "unexpected:arguments"
    required = (p.name for p in signature.parameters.values() if p.default is p.empty and p.kind not in (p.VAR_POSITIONAL, p.VAR_KEYWORD))
    missing = next((name for name in required if name not in bound.arguments), None)
    return "" if missing is None else f"missing:{missing}"


@dataclass
class _Order:
    started: float
    strategy: str
    symbol: str
    side: str
    correlation_id: str | None


@dataclass
class _Position:
    strategy: str
    symbol: str
    unrealized: float = 0.0
    greeks: dict[str, float] = field(default_factory=dict)


class Monitor:
    """Create once per bot; call its event methods from anywhere, they never raise.

    Settings come as keyword options (or ``QUANTWATCH_*`` variables) or as one
    typed ``config=Config(...)``. The bot's logging stays as the bot set it up:
    event lines go to the logger ``quantwatch.events`` (its level is
    ``log_level``) and from there to the bot's handlers; ``log_to_stderr=True``
    asks for quantwatch's JSON lines on stderr instead (:func:`configure_logging`).
    For example::

        mon = Monitor(service="condor-bot", env="prod")
        mon.serve()  # /metrics on 127.0.0.1:8000
        mon.order_submitted("o-1", strategy="iron_condor", symbol="SPY", side="sell", quantity=1)
        mon.order_filled("o-1")  # latency measured since submission
    """

    def __init__(
        self,
        service: str | None = None,
        env: str | None = None,
        *,
        config: Config | None = None,
        registry: CollectorRegistry | None = None,
        logger: logging.Logger | None = None,
        log_to_stderr: bool = False,
        **options: Any,
    ) -> None:
        if config is None:
            config = Config.load(service=service, env=env, **options)
        else:
            given = sorted(name for name, value in {"service": service, "env": env, **options}.items() if value is not None)
            if given:
                raise ConfigError(f"Monitor takes config= or keyword settings, not both (got config and {', '.join(given)})")
        self.config = config
        self.registry = registry if registry is not None else CollectorRegistry()
        if logger is None:
            logger = logging.getLogger("quantwatch.events")
            logger.setLevel(level_number(config.log_level))
        #: Where the event lines go: the ``logger`` given, else ``quantwatch.events``.
        self.logger = logger
        if log_to_stderr:
            configure_logging(config.service, config.env, config.log_level)
        fam = register(self.registry)
        self._fam = fam
        self._invalid = fam["quantwatch_invalid_events_total"]
        overflow = fam["quantwatch_label_overflow_total"]
        allowed = {"strategy": self.config.strategies, "symbol": self.config.symbols}
        self._guards = {name: LabelGuard(name, self.config.label_cap, allowed.get(name, ()), overflow.child(name).inc) for name in _GUARDED_LABELS}
        self._lock = threading.Lock()
        self._orders: dict[str, _Order] = {}
        self._positions: dict[str, _Position] = {}
        self._wins: dict[str, list[int]] = {}
        self._peak_equity = 0.0
        self._error_window = Window(self.config.health_window_seconds)
        self._api_windows: dict[str, Window] = {}
        self._ticks: dict[str, tuple[float, float]] = {}
        errors = fam["quantwatch_collector_errors_total"]
        # Closed label sets start at zero, so rate() and increase() see the first event.
        for reason in cat.INVALID_REASONS:
            self._invalid.child(reason)
        for name in _GUARDED_LABELS:
            overflow.child(name)
        for collector in (SystemCollector.name, RuntimeCollector.name):
            errors.child(collector)
        self.registry.register(SystemCollector(errors, self.config.disk_path))
        self.registry.register(
            RuntimeCollector(
                errors,
                error_window=self._error_window,
                api_windows=self._api_windows,
                ticks=self._ticks,
                stale_after_seconds=self.config.stale_after_seconds,
            )
        )
        fam["quantwatch_build_info"].child(__version__).set(1)
        self._server: Any = None
        #: Loki shipping and the audit file, on the root logger when loki_url / audit_path are set.
        self.log_outputs = LogOutputs(self.config, self.registry, fam["quantwatch_audit_write_errors_total"].child().inc)

    # -- serving -----------------------------------------------------------

    def serve(self, port: int | None = None, addr: str | None = None) -> int:
        """Serve ``/metrics`` from a background thread; returns the bound port (``port=0`` picks one).

        Over TLS with ``metrics_tls_cert_file``/``metrics_tls_key_file``, and only to
        ``metrics_username`` with the password in ``metrics_password_file`` (see :mod:`quantwatch.serving`).
        """
        port = self.config.metrics_port if port is None else port
        addr = addr or self.config.metrics_addr
        c = self.config
        tls = (c.metrics_tls_cert_file, c.metrics_tls_key_file) if c.metrics_tls_cert_file else None
        auth = (c.metrics_username, c.metrics_password_file) if c.metrics_username else None
        self._server = serve_wsgi(self.wsgi_app(), addr, port, tls=tls, auth=auth)
        return int(self._server.server_port)

    def wsgi_app(self) -> Callable[..., Any]:
        """A WSGI app serving this monitor's metrics, for bots that already run a WSGI server (see :mod:`quantwatch.exposition`)."""
        return exposition.wsgi_app(self.registry)

    def asgi_app(self) -> Callable[..., Any]:
        """An ASGI app serving this monitor's metrics, for asyncio bots (see :mod:`quantwatch.exposition`)."""
        return exposition.asgi_app(self.registry)

    def flush(self, timeout: float = 5.0) -> bool:
        """Push queued log lines to Loki now; True when all arrived or were counted within ``timeout`` seconds."""
        return self.log_outputs.flush(timeout)

    def close(self) -> None:
        """Stop serving, then drain log lines to Loki within loki_close_seconds; safe to call twice."""
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None
        self.log_outputs.close()

    def __enter__(self) -> Monitor:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- plumbing ----------------------------------------------------------

    def _label(self, check: Checker, name: str, value: Any) -> str:
        return check.label(name, value, self._guards[name])

    def _emit(self, level: int, message: str, check: Checker, fields: dict[str, Any], exc_info: Any = None) -> None:
        """Count the event's bad input once per reason, then write its log line."""
        if check.reasons:
            for reason in {r.partition(":")[0] for r in check.reasons}:
                self._invalid.child(reason).inc()
            fields["invalid"] = check.reasons
            level = max(level, logging.WARNING)
        log = self.logger
        if log.isEnabledFor(level):
            loki = self.log_outputs.sole_loki(log, level) if exc_info is None else None
            if loki is not None and loki.offer_event(level, log.name, message, fields):
                return
            # The record made directly, as logging does with ``logging._srcfile = None``: the caller's
            # frame, file and line are always this method, so looking them up (findCaller) is waste.
            log.handle(log.makeRecord(log.name, level, "(unknown file)", 0, message, (), exc_info, "(unknown function)", {FIELDS_ATTR: fields}))

    def _failed(self, event: str, call_problem: str, exc: Exception) -> None:
        """Count and log an event that raised: a call that does not fit the method, else a bug in quantwatch."""
        try:
            if call_problem:
                check = Checker()
                check.reasons.append(call_problem)
                self._emit(logging.WARNING, f"{event} not recorded", check, {"event": event, "error_message": str(exc)})
                return
            self._invalid.child("internal_error").inc()
            self.logger.warning("quantwatch could not record %s", event, exc_info=exc, extra={FIELDS_ATTR: {"event": event}})
        except Exception:  # noqa: BLE001, S110 - last resort: even logging failed; the counter is what we keep
            pass

    @staticmethod
    def _exemplar(correlation_id: Any) -> dict[str, str] | None:
        """The exemplar naming ``correlation_id``; None without one that an exemplar label can hold (the log lines keep any)."""
        return {"correlation_id": correlation_id} if isinstance(correlation_id, str) and not label_problem(correlation_id) else None

    # -- orders ------------------------------------------------------------

    @_never_raises
    def order_submitted(
        self, order_id: str, strategy: str, symbol: str, side: str, quantity: float, *, price: float | None = None, order_type: str = "limit", **fields: Any
    ) -> None:
        """An order left for the broker; its latency runs until filled, rejected or cancelled."""
        c = Checker()
        labels = (self._label(c, "strategy", strategy), self._label(c, "symbol", symbol), c.choice("side", side, cat.SIDES))
        c.number("quantity", quantity)
        c.optional_number("price", price)
        kind = c.choice("order_type", order_type, cat.ORDER_TYPES)
        key = c.identifier("order_id", order_id)
        self._fam["trading_orders_submitted_total"].child(*labels, kind).inc()
        correlation_id = current_context().get("correlation_id")
        if key is not None:
            with self._lock:
                if len(self._orders) >= MAX_PENDING_ORDERS:
                    self._orders.pop(next(iter(self._orders)))
                self._orders[key] = _Order(time.monotonic(), *labels, correlation_id)
        fields.update(order_id=order_id, strategy=strategy, symbol=symbol, side=side, quantity=quantity, price=price, order_type=order_type)
        self._emit(AUDIT, "order submitted", c, fields)

    def _finish_order(self, c: Checker, order_id: str, outcome: str, latency_seconds: float | None, fields: dict[str, Any]) -> tuple[str, str, str]:
        """Close an order's latency clock; returns its strategy, symbol and side labels."""
        key = c.identifier("order_id", order_id)
        order = None
        if key is not None:
            with self._lock:
                order = self._orders.pop(key, None)
        given = c.optional_number("latency_seconds", latency_seconds)
        if order is None:
            strategy = self._label(c, "strategy", fields.get("strategy", OTHER)) if "strategy" in fields else OTHER
            symbol = self._label(c, "symbol", fields.get("symbol", OTHER)) if "symbol" in fields else OTHER
            side = c.choice("side", fields["side"], cat.SIDES) if "side" in fields else OTHER
            if given is None and key is not None:
                c.bad("unknown_value", "order_id")
            correlation_id = current_context().get("correlation_id")
        else:
            strategy, symbol, side, correlation_id = order.strategy, order.symbol, order.side, order.correlation_id
            if given is None and latency_seconds is None:
                given = time.monotonic() - order.started
        if given is not None:
            self._fam["trading_order_latency_seconds"].child(strategy, outcome).observe(given, self._exemplar(correlation_id))
            fields["latency_ms"] = round(given * 1000, 3)
        fields.update(order_id=order_id, outcome=outcome)
        fields.setdefault("strategy", strategy)
        fields.setdefault("symbol", symbol)
        if correlation_id and "correlation_id" not in current_context():
            fields["correlation_id"] = correlation_id
        return strategy, symbol, side

    @_never_raises
    def order_filled(self, order_id: str, *, fill_price: float | None = None, latency_seconds: float | None = None, **fields: Any) -> None:
        """An order filled completely. Strategy, symbol and side come from its submission."""
        c = Checker()
        c.optional_number("fill_price", fill_price)
        strategy, symbol, side = self._finish_order(c, order_id, "filled", latency_seconds, fields)
        self._fam["trading_orders_filled_total"].child(strategy, symbol, side).inc()
        self._emit(AUDIT, "order filled", c, {**fields, "fill_price": fill_price})

    @_never_raises
    def order_rejected(self, order_id: str, reason: str, *, latency_seconds: float | None = None, **fields: Any) -> None:
        """The broker or a risk check refused an order; ``reason`` is a short code, e.g. ``insufficient_margin``."""
        c = Checker()
        label = self._label(c, "reason", reason)
        strategy, symbol, _ = self._finish_order(c, order_id, "rejected", latency_seconds, fields)
        self._fam["trading_orders_rejected_total"].child(strategy, symbol, label).inc()
        self._emit(AUDIT, "order rejected", c, {**fields, "reason": reason})

    @_never_raises
    def order_cancelled(self, order_id: str, *, latency_seconds: float | None = None, **fields: Any) -> None:
        """An order was cancelled before it filled completely."""
        c = Checker()
        strategy, symbol, _ = self._finish_order(c, order_id, "cancelled", latency_seconds, fields)
        self._fam["trading_orders_cancelled_total"].child(strategy, symbol).inc()
        self._emit(AUDIT, "order cancelled", c, fields)

    # -- trades and positions ------------------------------------------------

    @_never_raises
    def trade_closed(self, strategy: str, symbol: str, side: str, realized_pnl: float, **fields: Any) -> None:
        """A round trip ended with this realised P&L in USD (negative for a loss).

        A P&L that is not a finite number is counted as invalid and logged, and
        the trade stays out of the trade count, the P&L and the win ratio:
        whether it won is unknown.
        """
        c = Checker()
        strategy_l, symbol_l = self._label(c, "strategy", strategy), self._label(c, "symbol", symbol)
        side_l = c.choice("side", side, cat.SIDES)
        pnl = c.number("realized_pnl", realized_pnl, negative_ok=True)
        result = None if pnl is None else "win" if pnl > 0 else "loss" if pnl < 0 else "flat"
        if pnl is not None and result is not None:
            self._fam["trading_trades_total"].child(strategy_l, symbol_l, side_l, result).inc()
            self._fam["trading_trade_pnl_usd"].child(strategy_l).observe(pnl)
            self._fam["trading_realized_pnl_usd"].child(strategy_l).inc(pnl)
            with self._lock:
                tally = self._wins.setdefault(strategy_l, [0, 0])
                tally[0] += result == "win"
                tally[1] += 1
                ratio = tally[0] / tally[1]
            self._fam["trading_win_ratio"].child(strategy_l).set(ratio)
        fields.update(strategy=strategy, symbol=symbol, side=side, realized_pnl=realized_pnl, result=result)
        self._emit(BUSINESS, "trade closed", c, fields)

    def _apply(self, position: _Position, sign: float) -> None:
        """Add (sign=1) or remove (sign=-1) a position's contribution to the exposure gauges."""
        self._fam["trading_unrealized_pnl_usd"].child(position.strategy, position.symbol).inc(sign * position.unrealized)
        for greek, value in position.greeks.items():
            self._fam["trading_greek_exposure"].child(position.symbol, greek).inc(sign * value)

    def _greeks(self, c: Checker, greeks: Mapping[str, Any] | None) -> dict[str, float]:
        if greeks is None:
            return {}
        if not isinstance(greeks, Mapping):
            c.bad("wrong_type", "greeks")
            return {}
        clean: dict[str, float] = {}
        for name, value in greeks.items():
            greek = c.choice("greek", name, cat.GREEKS)
            number = c.number(f"greeks.{name}", value, negative_ok=True)
            if greek != OTHER and number is not None:
                clean[greek] = number
        return clean

    @_never_raises
    def position_opened(
        self,
        position_id: str,
        strategy: str,
        symbol: str,
        quantity: float,
        *,
        unrealized_pnl: float = 0.0,
        greeks: Mapping[str, float] | None = None,
        **fields: Any,
    ) -> None:
        """A position opened on underlying ``symbol``; ``greeks`` are the whole position's, e.g. ``{"delta": -12.5}``."""
        c = Checker()
        key = c.identifier("position_id", position_id)
        position = _Position(self._label(c, "strategy", strategy), self._label(c, "symbol", symbol))
        c.number("quantity", quantity, negative_ok=True)
        position.unrealized = c.number("unrealized_pnl", unrealized_pnl, negative_ok=True) or 0.0
        position.greeks = self._greeks(c, greeks)
        if key is not None:
            with self._lock:
                if key in self._positions or len(self._positions) >= MAX_OPEN_POSITIONS:
                    c.bad("unknown_value" if key in self._positions else "capacity", "position_id")
                else:
                    self._positions[key] = position
                    self._fam["trading_open_positions"].child(position.strategy, position.symbol).inc()
                    self._apply(position, 1)
        fields.update(position_id=position_id, strategy=strategy, symbol=symbol, quantity=quantity, unrealized_pnl=unrealized_pnl, greeks=greeks)
        self._emit(BUSINESS, "position opened", c, fields)

    @_never_raises
    def position_marked(self, position_id: str, *, unrealized_pnl: float | None = None, greeks: Mapping[str, float] | None = None, **fields: Any) -> None:
        """New marks for an open position: unrealised P&L and/or Greeks replace the previous ones."""
        c = Checker()
        key = c.identifier("position_id", position_id)
        pnl = c.optional_number("unrealized_pnl", unrealized_pnl, negative_ok=True)
        new_greeks = self._greeks(c, greeks)
        with self._lock:
            position = None if key is None else self._positions.get(key)
            if position is None and key is not None:
                c.bad("unknown_value", "position_id")
            elif position is not None:
                self._apply(position, -1)
                if pnl is not None:
                    position.unrealized = pnl
                position.greeks.update(new_greeks)
                self._apply(position, 1)
        fields.update(position_id=position_id, unrealized_pnl=unrealized_pnl, greeks=greeks)
        self._emit(logging.DEBUG, "position marked", c, fields)

    @_never_raises
    def position_closed(self, position_id: str, **fields: Any) -> None:
        """A position is gone; its exposure leaves the gauges (record the P&L with :meth:`trade_closed`)."""
        c = Checker()
        key = c.identifier("position_id", position_id)
        with self._lock:
            position = None if key is None else self._positions.pop(key, None)
            if position is None and key is not None:
                c.bad("unknown_value", "position_id")
            elif position is not None:
                self._apply(position, -1)
                self._fam["trading_open_positions"].child(position.strategy, position.symbol).dec()
        fields["position_id"] = position_id
        self._emit(BUSINESS, "position closed", c, fields)

    @_never_raises
    def portfolio_snapshot(self, equity: float, cash: float, *, peak_equity: float | None = None, **fields: Any) -> None:
        """Account equity and cash in USD, neither negative; drawdown is measured from the running peak (or ``peak_equity``)."""
        c = Checker()
        value = c.number("equity", equity)
        cash_value = c.number("cash", cash)
        peak = c.optional_number("peak_equity", peak_equity)
        if value is not None:
            with self._lock:
                self._peak_equity = max(self._peak_equity, value, peak or 0.0)
                drawdown = 1 - value / self._peak_equity if self._peak_equity > 0 else 0.0
            self._fam["trading_portfolio_value_usd"].child().set(value)
            self._fam["trading_drawdown_ratio"].child().set(drawdown)
            fields["drawdown_ratio"] = round(drawdown, 6)
        if cash_value is not None:
            self._fam["trading_cash_usd"].child().set(cash_value)
        fields.update(equity=equity, cash=cash)
        self._emit(logging.DEBUG, "portfolio snapshot", c, fields)

    # -- market data, APIs, risk, errors ---------------------------------------

    @_never_raises
    def market_data_tick(self, symbol: str, *, age_seconds: float = 0.0) -> None:
        """A quote arrived for ``symbol``, already ``age_seconds`` old; its age keeps growing until the next."""
        c = Checker()
        label = self._label(c, "symbol", symbol)
        age = c.number("age_seconds", age_seconds) or 0.0
        self._ticks[label] = (time.monotonic(), age)
        if c.reasons or self.logger.isEnabledFor(logging.DEBUG):
            self._emit(logging.DEBUG, "market data tick", c, {"symbol": symbol, "age_seconds": age_seconds})

    def api_call(self, api: str, endpoint: str) -> ApiCall:
        """Time a broker or market-data call: ``with mon.api_call("broker", "place_order") as call: ...``.

        An exception inside marks it ``error`` (``timeout`` for TimeoutError) and propagates
        unchanged; ``call.fail("http_503")`` marks a failure that raised nothing.
        """
        return ApiCall(self, api, endpoint)

    @_never_raises
    def api_call_finished(self, api: str, endpoint: str, duration_seconds: float, outcome: str = "success", **fields: Any) -> None:
        """Record a call the bot timed itself; ``outcome`` is success, error or timeout."""
        c = Checker()
        api_l, endpoint_l = self._label(c, "api", api), self._label(c, "endpoint", endpoint)
        outcome_l = c.choice("outcome", outcome, cat.API_OUTCOMES)
        duration = c.number("duration_seconds", duration_seconds)
        self._fam["trading_api_requests_total"].child(api_l, endpoint_l, outcome_l).inc()
        if duration is not None:
            exemplar = self._exemplar(current_context().get("correlation_id"))
            self._fam["trading_api_request_duration_seconds"].child(api_l, endpoint_l).observe(duration, exemplar)
        window = self._api_windows.get(api_l)
        if window is None:
            window = self._api_windows.setdefault(api_l, Window(self.config.health_window_seconds))
        window.add(ok=outcome_l == "success")
        fields.update(api=api, endpoint=endpoint, outcome=outcome, execution_time_ms=None if duration is None else round(duration * 1000, 3))
        self._emit(logging.DEBUG if outcome_l == "success" else logging.WARNING, "api call", c, fields)

    @_never_raises
    def risk_check(self, check: str, passed: bool, *, value: float | None = None, limit: float | None = None, **fields: Any) -> None:
        """A pre-trade risk check ran; a failure counts as a violation and is audited."""
        c = Checker()
        check_l = self._label(c, "check", check)
        if not isinstance(passed, bool):
            c.bad("wrong_type", "passed")
        c.optional_number("value", value, negative_ok=True)
        c.optional_number("limit", limit, negative_ok=True)
        ok = passed is True
        # The check's violations series exists at 0 from its first run: increase() cannot see a series' first sample,
        # so a violation counted into a new series never fires QuantwatchRiskLimitViolated (make bench: pipeline).
        violations = self._fam["trading_risk_violations_total"].child(check_l)
        self._fam["trading_risk_checks_total"].child(check_l, "pass" if ok else "fail").inc()
        if not ok:
            violations.inc()
        fields.update(check=check, passed=passed, value=value, limit=limit)
        self._emit(logging.DEBUG if ok else AUDIT, "risk check passed" if ok else "risk limit violated", c, fields)

    @_never_raises
    def error(self, component: str, exc: BaseException | None = None, *, error_type: str | None = None, message: str = "", **fields: Any) -> None:
        """The bot hit an error in ``component``; give the exception, or its type name."""
        c = Checker()
        component_l = self._label(c, "component", component)
        if exc is not None and not isinstance(exc, BaseException):
            c.bad("wrong_type", "exc")
            fields["exc"], exc = exc, None
        if not isinstance(message, str):
            c.bad("wrong_type", "message")
            fields["given_message"], message = message, ""
        type_name = error_type if error_type is not None else (type(exc).__name__ if exc is not None else "Error")
        type_l = self._label(c, "error_type", type_name)
        self._fam["trading_errors_total"].child(component_l, type_l).inc()
        self._error_window.add()
        fields.update(component=component, error_type=type_name)
        exc_info = (type(exc), exc, exc.__traceback__) if exc is not None else None
        self._emit(logging.ERROR, message or (str(exc) if exc is not None else f"error in {component}"), c, fields, exc_info)

    # -- operations ----------------------------------------------------------------

    def operation(self, name: str, **fields: Any) -> Operation:
        """Time a block as one operation with a correlation_id; nested operations share it."""
        return Operation(self, name, fields)

    @_never_raises
    def _operation_finished(self, op: Operation, elapsed: float, exc: BaseException | None) -> None:
        c = Checker()
        outcome = "ok" if exc is None else "error"
        name = self._label(c, "operation", op.name)
        self._fam["trading_operation_duration_seconds"].child(name, outcome).observe(elapsed, self._exemplar(op.correlation_id))
        fields: dict[str, Any] = {"outcome": outcome, "execution_time_ms": round(elapsed * 1000, 3)}
        if exc is not None:
            fields["error_type"] = type(exc).__name__
        self._emit(logging.INFO, f"{op.name} finished", c, fields)


class ApiCall:
    """The context manager behind :meth:`Monitor.api_call`."""

    __slots__ = ("_failure", "_monitor", "_reason", "_started", "api", "endpoint")

    def __init__(self, monitor: Monitor, api: str, endpoint: str) -> None:
        self._monitor, self.api, self.endpoint = monitor, api, endpoint
        self._started = 0.0
        self._failure: str | None = None
        self._reason = ""

    def fail(self, reason: str = "error", *, timeout: bool = False) -> None:
        """Mark the call failed although nothing was raised; ``reason`` goes to the log line."""
        self._failure = "timeout" if timeout else "error"
        self._reason = reason

    def __enter__(self) -> ApiCall:
        self._started = time.perf_counter()
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None) -> None:
        duration = time.perf_counter() - self._started
        if exc_type is not None:
            outcome = "timeout" if issubclass(exc_type, TimeoutError) else "error"
            self._monitor.api_call_finished(self.api, self.endpoint, duration, outcome, error_type=exc_type.__name__)
        elif self._failure is not None:
            self._monitor.api_call_finished(self.api, self.endpoint, duration, self._failure, reason=self._reason)
        else:
            self._monitor.api_call_finished(self.api, self.endpoint, duration)


class Operation:
    """The context manager behind :meth:`Monitor.operation`; ``correlation_id`` names it in logs."""

    __slots__ = ("_fields", "_monitor", "_started", "_token", "correlation_id", "name")

    def __init__(self, monitor: Monitor, name: str, fields: dict[str, Any]) -> None:
        self._monitor, self.name, self._fields = monitor, name, fields
        parent = current_context()
        self.correlation_id: str = str(fields.pop("correlation_id", None) or parent.get("correlation_id") or new_correlation_id())
        self._started = 0.0

    def __enter__(self) -> Operation:
        parent = current_context()
        ctx = {**parent, **self._fields, "correlation_id": self.correlation_id, "operation": self.name}
        if "operation" in parent:
            ctx["parent_operation"] = parent["operation"]
        self._token = _context.set(MappingProxyType(ctx))
        self._started = time.perf_counter()
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None) -> None:
        elapsed = time.perf_counter() - self._started
        try:
            self._monitor._operation_finished(self, elapsed, exc)
        finally:
            _context.reset(self._token)
