"""A scripted trading bot on a real :class:`~quantwatch.Monitor`, whose trouble the test sets.

A loop ticks every :data:`TICK` seconds and turns the current :class:`Trouble` into the events a
bot in that trouble reports: failing broker calls inside operations (each with its
correlation_id), errors, stale quotes, an equity drop. The host's CPU is a :class:`FakeHost`
that psutil answers for, so the CPU alert is driven without burning CPU::

    bot = ScriptedBot(monitor, host).start()
    event_at = bot.set(Trouble(broker_failure_ratio=0.8))   # the broker starts failing now
    bot.set(Trouble())                                      # calm again
"""

from __future__ import annotations

import threading
import time
from collections import deque
from dataclasses import dataclass, replace
from typing import Any, NamedTuple

import psutil

from quantwatch import Monitor

TICK = 0.1
START_EQUITY = 250_000.0


@dataclass(frozen=True)
class Trouble:
    """What goes wrong now; the default is a calm bot."""

    #: Errors the bot reports per second (component "pricing").
    errors_per_second: float = 0.0
    #: Share of broker calls that fail (each call is one ``place_order`` operation).
    broker_failure_ratio: float = 0.0
    #: Equity below its peak, 0-1.
    drawdown: float = 0.0
    #: Age of every SPY quote when it arrives.
    data_age_seconds: float = 0.0
    #: Share of the host's CPU time that is busy.
    cpu_busy: float = 0.1


class _CpuTimes(NamedTuple):
    user: float
    nice: float
    system: float
    idle: float
    iowait: float


class FakeHost:
    """psutil with the host's CPU replaced: counters that advance at a busy share set by the test.

    Everything else (processes, memory, disks) is the real psutil.
    """

    def __init__(self, cpus: int = 2, busy: float = 0.1) -> None:
        self.cpus = cpus
        self._busy = busy
        self._busy_seconds = self._idle_seconds = 0.0
        self._at = time.monotonic()
        self._lock = threading.Lock()

    def __getattr__(self, name: str) -> Any:
        return getattr(psutil, name)

    def set_busy(self, share: float) -> None:
        with self._lock:
            self._advance()
            self._busy = share

    def _advance(self) -> None:
        now = time.monotonic()
        elapsed, self._at = (now - self._at) * self.cpus, now
        self._busy_seconds += elapsed * self._busy
        self._idle_seconds += elapsed * (1 - self._busy)

    def cpu_times(self, percpu: bool = False) -> _CpuTimes:
        with self._lock:
            self._advance()
            return _CpuTimes(user=self._busy_seconds, nice=0.0, system=0.0, idle=self._idle_seconds, iowait=0.0)

    def cpu_percent(self, interval: float | None = None, percpu: bool = False) -> float:
        return self._busy * 100

    def cpu_count(self, logical: bool = True) -> int:
        return self.cpus


class BrokerUnavailableError(ConnectionError):
    """What a failing broker call raises inside the bot."""


class ScriptedBot:
    """Emits the events of its current :class:`Trouble` every tick, from its own thread."""

    def __init__(self, monitor: Monitor, host: FakeHost) -> None:
        self.monitor = monitor
        self.host = host
        self.trouble = Trouble()
        #: correlation_ids of the latest failed operations, newest last.
        self.failed_operations: deque[str] = deque(maxlen=1000)
        self._debt = {"errors": 0.0, "failures": 0.0}
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="scripted-bot", daemon=True)

    def start(self) -> ScriptedBot:
        self.monitor.portfolio_snapshot(START_EQUITY, START_EQUITY)
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join(timeout=5)

    def set(self, trouble: Trouble | None = None, **changes: Any) -> float:
        """Switch to ``trouble`` (or the current one with ``changes``); returns the wall-clock time of the switch."""
        trouble = replace(trouble or self.trouble, **changes)
        self.host.set_busy(trouble.cpu_busy)
        self.trouble = trouble
        return time.time()

    def _run(self) -> None:
        while not self._stop.wait(TICK):
            self.tick(self.trouble)

    def tick(self, trouble: Trouble) -> None:
        """One tick's events: a quote, a broker call, the errors due, an equity snapshot."""
        mon = self.monitor
        mon.market_data_tick("SPY", age_seconds=trouble.data_age_seconds)
        self._debt["failures"] += trouble.broker_failure_ratio
        failing = self._debt["failures"] >= 1
        self._debt["failures"] -= failing
        try:
            with mon.operation("place_order", strategy="iron_condor", symbol="SPY") as op, mon.api_call("broker", "place_order"):
                if failing:
                    self.failed_operations.append(op.correlation_id)
                    raise BrokerUnavailableError("broker answered 503")
        except BrokerUnavailableError:
            pass  # the bot retries on its next tick
        self._debt["errors"] += trouble.errors_per_second * TICK
        while self._debt["errors"] >= 1:
            self._debt["errors"] -= 1
            mon.error("pricing", error_type="TimeoutError", message="pricing model timed out")
        equity = START_EQUITY * (1 - trouble.drawdown)
        mon.portfolio_snapshot(equity, equity * 0.4)
