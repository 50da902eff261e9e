"""Bot events, 1,000/s, scraped every second: all monitoring CPU and the caller's latency, quantwatch beside the plain stack.

Method. One process, the test bed's log server: VictoriaLogs v1.52.2 speaking
Loki's push protocol (Loki's Go module is AGPL and is not built here). The
event mix (order submitted → filled → trade closed; metric updates and one JSON
line each, see bench/_bots.py) runs paced at 1,000 events/s through:
quantwatch's Monitor, shipping its lines to that server as it would to Loki and
serving /metrics; the plain stack doing the same work, prometheus_client with
``.labels(...)`` per update, python-json-logger lines through
python-logging-loki's LokiQueueHandler into the same server and
prometheus_client's own /metrics server; and the pacing loop alone, whose CPU
is the floor subtracted from both. After every 1,000 events a separate process
scrapes /metrics as Prometheus 3 asks (OpenMetrics, gzip): one scrape a second.
*caller* is the wall time of each event call (perf_counter_ns). *CPU* is the
process's CPU time (all threads: the shipping worker and the /metrics server
included, until every line is pushed and every scrape answered) over the run's
wall time, as a share of one core. One warm-up run per method, then rounds of
one timed run each, the methods' order rotated per round; figures are the
median and (min–max) over rounds. The Monitor back to back (no pacing) shows
its cost with hot caches and its worker busy, competing for the interpreter
lock; a cProfile of its calls and a breakdown of one event say where time goes.
"""

from __future__ import annotations

import cProfile
import io
import itertools
import logging
import pstats
import subprocess
import sys
import tempfile
import time
import timeit
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from prometheus_client import CollectorRegistry, start_http_server

from bench._bots import Event, PlainBot, monitor_events
from bench._machine import REPO
from bench._report import Figure, Pace, percentile, spread, table
from bench.shipping import DoNothing, logging_loki_queue
from quantwatch import Monitor
from quantwatch.logs import AUDIT, FIELDS_ATTR
from testbed.servers import TestBed  # the test bed starts the same real log server the tests use

PACE = 1_000.0
QUANTWATCH = "quantwatch Monitor: shipping, /metrics"
PLAIN = "plain: prometheus_client, python-json-logger, LokiQueueHandler"
FLOOR = "pacing loop alone (the floor)"
LOGGING = "a bare logger.log() per event into a handler doing nothing"
#: An order event's fields, as the Monitor logs them.
FIELDS = {"order_id": "o-0000001", "strategy": "iron_condor", "symbol": "SPY", "side": "sell", "quantity": 1, "price": 1.25, "order_type": "limit"}


@dataclass
class Run:
    caller_ns: list[int]
    cpu_share: float

    def p(self, fraction: float) -> float:
        return percentile(self.caller_ns, fraction) / 1e3


class Scraper:
    """A process scraping ``url`` once per :meth:`kick` (bench/_scraper.py), so this process only serves the scrapes."""

    def __init__(self, url: str) -> None:
        self._process = subprocess.Popen([sys.executable, "-m", "bench._scraper", url], cwd=REPO, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)  # noqa: S603
        self.asked = 0

    def kick(self) -> None:
        assert self._process.stdin is not None
        self._process.stdin.write("\n")
        self._process.stdin.flush()
        self.asked += 1

    def close(self) -> None:
        """Once every scrape asked for is answered; a failed scrape fails the benchmark."""
        answers, _ = self._process.communicate(timeout=120)
        if self._process.returncode or len(answers.split()) != self.asked:
            raise RuntimeError(f"the scraper answered {len(answers.split())} of {self.asked} scrapes (exit status {self._process.returncode})")


@dataclass
class Side:
    """One way of monitoring the events: the event call, one scrape (None: not served), and what waits until all its work is done."""

    event: Event
    scrape: Callable[[], None] | None
    drain: Callable[[], None]


def paced(event: Event, count: int, drain: Callable[[], None], first: int = 0, *, pace: float | None = PACE, tick: Callable[[], None] | None = None) -> Run:
    """``count`` events at ``pace`` (None: back to back) and ``tick()`` after each 1,000; call durations and the process CPU share until ``drain`` returns."""
    durations = [0] * count
    clock = time.perf_counter_ns
    cpu, began = time.process_time(), clock()
    pacer = Pace(pace)
    for n in range(count):
        pacer.wait()
        start = clock()
        event(first + n)
        durations[n] = clock() - start
        if tick is not None and n % 1_000 == 999:
            tick()
    wall = (clock() - began) / 1e9
    drain()
    return Run(sorted(durations), (time.process_time() - cpu) / wall)


def _quantwatch(loki_url: str) -> Side:
    mon = Monitor(service=f"bench-{uuid.uuid4().hex[:8]}", env="bench", loki_url=loki_url, registry=CollectorRegistry())
    logging.getLogger().setLevel(logging.INFO)  # the bot's choice: its INFO lines ship too
    scraper = Scraper(f"http://127.0.0.1:{mon.serve(port=0, addr='127.0.0.1')}/metrics")

    def drain() -> None:
        scraper.close()
        mon.flush(60)
        mon.close()

    return Side(monitor_events(mon), scraper.kick, drain)


def _plain(loki_url: str) -> Side:
    registry = CollectorRegistry()
    handler, stop = logging_loki_queue(loki_url, f"bench-{uuid.uuid4().hex[:8]}")
    bot = PlainBot(registry, handler)
    server, _ = start_http_server(0, "127.0.0.1", registry=registry)
    scraper = Scraper(f"http://127.0.0.1:{server.server_port}/metrics")

    def drain() -> None:
        scraper.close()
        stop()
        bot.close()
        server.shutdown()
        server.server_close()

    return Side(bot.event, scraper.kick, drain)


def _logging_floor() -> Side:
    """What any stdlib log call costs here: the floor under a bot's own ``logger.info()``."""
    floor = logging.getLogger("bench.floor")
    floor.handlers[:], floor.propagate = [DoNothing()], False
    return Side(lambda i: floor.log(AUDIT, "order submitted", extra={FIELDS_ATTR: FIELDS}), None, lambda: None)


def _methods(loki_url: str) -> dict[str, Callable[[], Side]]:
    return {
        QUANTWATCH: lambda: _quantwatch(loki_url),
        PLAIN: lambda: _plain(loki_url),
        LOGGING: _logging_floor,
        FLOOR: lambda: Side(lambda i: None, None, lambda: None),
    }


def _once(start: Callable[[], Side], count: int, pace: float | None = PACE) -> Run:
    side = start()
    return paced(side.event, count, side.drain, pace=pace, tick=side.scrape)


def _profile(loki_url: str, events: int) -> str:
    """cProfile of the Monitor's event calls flat out: where a call's time goes."""
    mon = Monitor(service=f"bench-{uuid.uuid4().hex[:8]}", env="bench", loki_url=loki_url, registry=CollectorRegistry())
    event = monitor_events(mon)
    for i in range(300):
        event(i)
    profiler = cProfile.Profile()
    profiler.enable()
    for i in range(300, 300 + events):
        event(i)
    profiler.disable()
    mon.flush(60)
    mon.close()
    out = io.StringIO()
    pstats.Stats(profiler, stream=out).strip_dirs().sort_stats("tottime").print_stats(18)
    body = out.getvalue()
    return body[body.index("ncalls") :].rstrip() if "ncalls" in body else body


def _breakdown(loki_url: str, number: int, repeat: int) -> str:
    """µs per call of the event mix and of its parts, back to back, the best of ``repeat`` runs (the least disturbed)."""
    mon = Monitor(service=f"bench-{uuid.uuid4().hex[:8]}", env="bench", loki_url=loki_url, registry=CollectorRegistry())
    root, ids, event = logging.getLogger(), itertools.count(), monitor_events(mon)
    handler = mon.log_outputs.loki
    assert handler is not None
    json_line = handler.json_formatter.line
    line = json_line(time.time(), "AUDIT", mon.logger.name, "order submitted", FIELDS)
    floor = _logging_floor().event

    def best(call: Callable[[], object]) -> str:
        return f"{min(timeit.repeat(call, number=number, repeat=repeat)) / number * 1e6:.2f}"

    rows = [["the whole event, shipping on", best(lambda: event(next(ids)))]]
    root.setLevel(logging.CRITICAL + 1)
    rows.append(["its metric updates and input checks (logging off)", best(lambda: event(next(ids)))])
    root.setLevel(logging.INFO)
    rows += [
        ["its line: JsonFormatter.line() of an order event", best(lambda: json_line(time.time(), "AUDIT", mon.logger.name, "order submitted", FIELDS))],
        ["its queueing: Shipper.offer() of the line", best(lambda: handler.shipper.offer(time.time_ns(), "audit", line or ""))],
        ["not paid: logger.log() of a record into a handler doing nothing", best(lambda: floor(0))],
    ]
    mon.flush(60)
    mon.close()
    return table(["part (back to back, best of runs)", "µs per call"], rows)


def run(*, smoke: bool) -> list[Figure]:
    rounds, count, warm = (1, 1_000, 1_000) if smoke else (5, 5_000, 1_000)
    print(f"Pace {PACE:,.0f} events/s; {count:,} events per run; 1 warm-up run of {warm:,} per method, then {rounds} round(s).\n")
    results: dict[str, list[Run]] = {}
    with tempfile.TemporaryDirectory(prefix="quantwatch-bench-") as tmp:
        bed = TestBed(Path(tmp), name="bench-events")
        try:
            bed.start_victorialogs()
            url = bed.loki_url
            methods = _methods(url)
            for start in methods.values():
                _once(start, warm)
            names = list(methods)
            for r in range(rounds):
                for name in names[r % len(names) :] + names[: r % len(names)]:
                    results.setdefault(name, []).append(_once(methods[name], count))
            hot = [_once(methods[QUANTWATCH], count, None) for _ in range(rounds)]
            profile = _profile(url, 600 if smoke else 6_000)
            breakdown = _breakdown(url, 300 if smoke else 3_000, 3 if smoke else 9)
        finally:
            bed.close()
    floor = [run.cpu_share for run in results[FLOOR]]

    def net(runs: list[Run]) -> list[float]:
        """CPU % of a core above the pacing loop's, run by run."""
        return [(r.cpu_share - f) * 100 for r, f in zip(runs, floor, strict=True)]

    def p(runs: list[Run], fraction: float) -> list[float]:
        return [r.p(fraction) for r in runs]

    rows = []
    for name, runs in results.items():
        cpu = spread([r.cpu_share * 100 for r in runs])
        rows.append([name, spread(p(runs, 0.5), 2), spread(p(runs, 0.99), 1), spread(p(runs, 0.999), 1), cpu, spread(net(runs))])
    print(table(["paced, 1,000 events/s, one scrape/s", "caller p50 µs", "caller p99 µs", "caller p99.9 µs", "CPU % of a core", "CPU % above the floor"], rows))
    row = [QUANTWATCH, spread(p(hot, 0.5), 2), spread(p(hot, 0.99), 1), spread(p(hot, 0.999), 1)]
    print("\n" + table(["back to back (hot caches, the worker busy)", "caller p50 µs", "caller p99 µs", "caller p99.9 µs"], [row]))
    print(f"\nWhere an event's time goes:\n\n{breakdown}")
    print(f"\nProfile of the Monitor's event calls, flat out (cProfile: its own overhead inflates the times; the split is what counts):\n\n```\n{profile}\n```")
    ours, theirs = results[QUANTWATCH], results[PLAIN]
    base = "the plain stack"
    return [
        Figure("all monitoring CPU at 1,000 events/s, one scrape/s (original claim: < 5 %)", "% of a core", net(ours), net(theirs), base, most=5),
        Figure("all monitoring CPU at 1,000 events/s, vs the plain stack", "% of a core", net(ours), net(theirs), base, most_ratio=0.33),
        Figure("caller p99 per event, paced", "µs", p(ours, 0.99), p(theirs, 0.99), base, most=100),
        Figure("caller p99 per event, paced, vs the plain stack", "µs", p(ours, 0.99), p(theirs, 0.99), base, most_ratio=0.25),
        Figure("caller p99.9 per event, paced", "µs", p(ours, 0.999), p(theirs, 0.999), base),
        Figure("caller p50 per event, paced", "µs", p(ours, 0.5), p(theirs, 0.5), base, digits=2),
        Figure("the floor: caller p99 of a bare logger.log(), paced", "µs", p(results[LOGGING], 0.99)),
        Figure("the floor: CPU of a bare logger.log() per event, paced", "% of a core", net(results[LOGGING])),
        Figure("caller p99 per event, back to back, worker busy", "µs", p(hot, 0.99), p(ours, 0.99), "paced, same run"),
    ]
