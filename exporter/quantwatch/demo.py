"""A simulated options bot that drives every metric family: ``python -m quantwatch.demo``.

It trades iron condors and credit spreads on a few underlyings and cycles
through phases that give each dashboard panel and alert something to show:
calm trading, an error burst, a broker API outage, a drawdown and a stalled
market-data feed. Durations are simulated, so nothing here sleeps per order.
"""

from __future__ import annotations

import argparse
import itertools
import logging
import random
import signal
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass, field

from .config import ConfigError
from .monitor import Monitor

UNDERLYINGS = {"SPY": 600.0, "QQQ": 520.0, "IWM": 230.0, "AAPL": 240.0}
#: Greeks of one contract of each strategy at entry: (delta, gamma, vega, theta).
STRATEGIES = {
    "iron_condor": (0.0, -0.8, -35.0, 12.0),
    "bull_put_spread": (18.0, -0.5, -15.0, 6.0),
    "bear_call_spread": (-18.0, -0.5, -15.0, 6.0),
}
PHASES = ("calm", "errors", "calm", "outage", "calm", "drawdown", "calm", "stale")
START_EQUITY = 250_000.0
log = logging.getLogger("quantwatch.demo")


@dataclass
class _Position:
    strategy: str
    symbol: str
    contracts: int
    credit: float
    opened: float
    pnl: float = 0.0


@dataclass
class DemoBot:
    """The simulation state; :meth:`step` advances it by one tick."""

    monitor: Monitor
    rng: random.Random
    phase: str = "calm"
    realized: float = 0.0
    prices: dict[str, float] = field(default_factory=lambda: dict(UNDERLYINGS))
    positions: dict[str, _Position] = field(default_factory=dict)
    ids: itertools.count[int] = field(default_factory=itertools.count)

    def step(self, now: float) -> None:
        """One tick: quotes, marks, maybe an order, maybe a close, the phase's trouble, a snapshot."""
        mon, rng = self.monitor, self.rng
        for symbol in self.prices:
            self.prices[symbol] *= 1 + rng.gauss(0, 0.0008)
            if not (self.phase == "stale" and symbol == "SPY"):
                mon.market_data_tick(symbol, age_seconds=rng.uniform(0.005, 0.05))
            outcome = "error" if self.phase == "outage" and rng.random() < 0.3 else "success"
            mon.api_call_finished("market_data", "quotes", rng.lognormvariate(-4.0, 0.4), outcome)
        self._mark()
        if rng.random() < 0.35:
            self._open(now)
        for position_id, position in list(self.positions.items()):
            if now - position.opened > rng.uniform(10, 60):
                self._close(position_id, position)
        if self.phase == "errors" and rng.random() < 0.4:
            mon.error(rng.choice(["execution", "pricing", "risk"]), ValueError("simulated failure"))
            if rng.random() < 0.2:  # a glitching feed hands over garbage: counted as an invalid event
                mon.market_data_tick("QQQ", age_seconds=float("nan"))
        elif rng.random() < 0.01:
            mon.error("pricing", TimeoutError("greeks model timed out"))
        unrealized = sum(p.pnl for p in self.positions.values())
        equity = START_EQUITY + self.realized + unrealized
        mon.portfolio_snapshot(equity, START_EQUITY * 0.4 + self.realized)

    def _greeks(self, strategy: str, contracts: int) -> dict[str, float]:
        scale = contracts * (1 + self.rng.uniform(-0.1, 0.1))
        return dict(zip(("delta", "gamma", "vega", "theta"), (g * scale for g in STRATEGIES[strategy]), strict=True))

    def _mark(self) -> None:
        drift = -60.0 if self.phase == "drawdown" else 2.0
        for position_id, position in self.positions.items():
            position.pnl += position.contracts * (drift + self.rng.gauss(0, 15))
            self.monitor.position_marked(position_id, unrealized_pnl=position.pnl, greeks=self._greeks(position.strategy, position.contracts))

    def _open(self, now: float) -> None:
        mon, rng = self.monitor, self.rng
        strategy = rng.choice(list(STRATEGIES))
        symbol = rng.choice(list(self.prices))
        contracts = rng.randint(1, 5)
        n = next(self.ids)
        order_id, position_id = f"ord-{n:06d}", f"pos-{n:06d}"
        with mon.operation("open_position", strategy=strategy, symbol=symbol):
            breached = self.phase == "drawdown" and rng.random() < 0.5
            mon.risk_check("max_portfolio_delta", not breached, value=1500.0 if breached else 400.0, limit=1000.0)
            mon.order_submitted(order_id, strategy, symbol, "sell", contracts, price=round(rng.uniform(0.8, 2.5), 2))
            broker_down = self.phase == "outage" and rng.random() < 0.8
            latency = rng.lognormvariate(-2.5, 0.6) * (8 if broker_down else 1)
            mon.api_call_finished("broker", "place_order", latency, "error" if broker_down else "success")
            if breached:
                mon.order_rejected(order_id, "risk_limit", latency_seconds=latency)
            elif broker_down:
                mon.order_rejected(order_id, "broker_unavailable", latency_seconds=latency)
            elif rng.random() < 0.04:
                mon.order_cancelled(order_id, latency_seconds=latency)
            else:
                mon.order_filled(order_id, latency_seconds=latency)
                credit = contracts * rng.uniform(80, 250)
                self.positions[position_id] = _Position(strategy, symbol, contracts, credit, now)
                mon.position_opened(position_id, strategy, symbol, -contracts, greeks=self._greeks(strategy, contracts))

    def _close(self, position_id: str, position: _Position) -> None:
        pnl = position.pnl if self.phase == "drawdown" else position.credit * self.rng.choice([0.5, 0.5, 0.6, -1.2])
        self.realized += pnl
        del self.positions[position_id]
        self.monitor.position_closed(position_id)
        self.monitor.trade_closed(position.strategy, position.symbol, "sell", round(pnl, 2), position_id=position_id)
        if self.phase == "outage":
            self.monitor.api_call_finished("broker", "close_position", 2.5, "timeout")


def run(argv: Sequence[str] | None = None) -> None:
    """Parse arguments, serve /metrics and simulate until SIGTERM, Ctrl-C or ``--duration``.

    A bad setting, from an option or a ``QUANTWATCH_*`` variable, ends the demo at once with one line
    naming it and exit status 2, as for a bad option. The demo asks for quantwatch's JSON lines on stderr.
    """
    parser = argparse.ArgumentParser(prog="python -m quantwatch.demo", description=__doc__)
    parser.add_argument("--port", type=int, default=None, help="metrics port (default QUANTWATCH_METRICS_PORT or 8000; 0 picks one)")
    parser.add_argument("--addr", default=None, help="metrics address (default QUANTWATCH_METRICS_ADDR or 127.0.0.1)")
    parser.add_argument("--tick", type=float, default=0.5, help="seconds between simulation steps")
    parser.add_argument("--phase-seconds", type=float, default=60.0, help="length of each phase of the cycle")
    parser.add_argument("--phase", choices=sorted(set(PHASES)), help="stay in one phase instead of cycling")
    parser.add_argument("--duration", type=float, default=0.0, help="stop after this many seconds (0 = run until stopped)")
    parser.add_argument("--seed", type=int, default=None)
    parser.add_argument("--loki-url", default=None, help="ship logs to this Loki (default QUANTWATCH_LOKI_URL)")
    args = parser.parse_args(argv)

    try:
        monitor = Monitor(
            service="demo-bot",
            strategies=tuple(STRATEGIES),
            symbols=tuple(UNDERLYINGS),
            metrics_port=args.port,
            metrics_addr=args.addr,
            loki_url=args.loki_url,
            log_to_stderr=True,
        )
    except ConfigError as exc:
        parser.exit(2, f"{parser.prog}: error: {exc}\n")
    port = monitor.serve()
    log.info("demo bot serving metrics", extra={"port": port})
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    bot = DemoBot(monitor, random.Random(args.seed))
    start = time.monotonic()
    try:
        while not stop.is_set():
            now = time.monotonic()
            if args.duration and now - start >= args.duration:
                break
            bot.phase = args.phase or PHASES[int((now - start) / args.phase_seconds) % len(PHASES)]
            bot.step(now)
            stop.wait(args.tick)
    except KeyboardInterrupt:
        pass
    finally:
        monitor.close()


if __name__ == "__main__":
    run()
