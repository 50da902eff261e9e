"""Bot events, 1,000/s: caller cost, CPU share; Monitor shipping to VictoriaLogs v1.52.2 (Loki's push protocol) beside prometheus_client + python-json-logger.

Method. One process, the test bed's log server: VictoriaLogs v1.52.2 speaking
Loki's push protocol (Loki's Go module is AGPL and is not built here). The
event mix (order submitted → filled → trade closed; metric updates and one JSON
line each, see bench/_bots.py) runs paced at 1,000 events/s through:
quantwatch's Monitor shipping its lines to that server as it would to Loki;
the baseline, plain prometheus_client with ``.labels(...)`` per update and
stdlib logging with python-json-logger into a file; and the pacing loop alone,
whose CPU is the floor subtracted from both. *caller* is the wall time of each
event call (perf_counter_ns). *CPU share* is the process's CPU time (all
threads: the shipping worker included, until its queue is flushed) over the
run's wall time. One warm-up run per method, then rounds of one timed run
each, the methods' order rotated per round; figures are the median and
(min–max) over rounds. The same methods back to back (no pacing) show the cost
with hot caches, where the shipping worker's encoding competes for the
interpreter lock; a cProfile of the Monitor's calls says where time goes.
"""

from __future__ import annotations

import cProfile
import io
import itertools
import logging
import pstats
import tempfile
import time
import timeit
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from prometheus_client import CollectorRegistry

from bench._bots import Event, PlainBot, monitor_events
from bench._report import Figure, Pace, percentile, spread, table
from quantwatch import Monitor
from quantwatch.logs import AUDIT, FIELDS_ATTR
from testbed.servers import TestBed  # the test bed starts the same real log server the tests use

PACE = 1_000.0
QUANTWATCH = "quantwatch Monitor, shipping to the log server"
PLAIN = "prometheus_client + python-json-logger to a file"
FLOOR = "pacing loop alone (the floor)"


@dataclass
class Run:
    caller_ns: list[int]
    cpu_share: float

    def p(self, fraction: float) -> float:
        return percentile(self.caller_ns, fraction) / 1e3


#: ``start()`` gives the event and what waits until its work (shipping included) is done.
Start = Callable[[], tuple[Event, Callable[[], None]]]


def paced(event: Event, count: int, drain: Callable[[], None], first: int = 0, pace: float | None = PACE) -> Run:
    """``count`` events at ``pace`` (None: back to back); each call's duration and the process CPU share until ``drain`` returns."""
    durations = [0] * count
    clock = time.perf_counter_ns
    cpu, began = time.process_time(), clock()
    pacer = Pace(pace)
    for n in range(count):
        pacer.wait()
        start = clock()
        event(first + n)
        durations[n] = clock() - start
    wall = (clock() - began) / 1e9
    drain()
    return Run(sorted(durations), (time.process_time() - cpu) / wall)


def _methods(loki_url: str, tmp: Path) -> dict[str, Start]:
    def quantwatch() -> tuple[Event, Callable[[], None]]:
        mon = Monitor(service=f"bench-{uuid.uuid4().hex[:8]}", env="bench", loki_url=loki_url, registry=CollectorRegistry())
        logging.getLogger().setLevel(logging.INFO)  # what log_to_stderr=True would set: INFO lines ship too

        def drain() -> None:
            mon.flush(60)
            mon.close()

        return monitor_events(mon), drain

    def plain() -> tuple[Event, Callable[[], None]]:
        bot = PlainBot(CollectorRegistry(), (tmp / f"plain-{uuid.uuid4().hex[:8]}.log").open("w"))
        return bot.event, bot.close

    return {QUANTWATCH: quantwatch, PLAIN: plain, FLOOR: lambda: ((lambda i: None), lambda: None)}


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


class _Nothing(logging.Handler):
    """Takes a record and does nothing: what stdlib logging costs before any handler works."""

    def handle(self, record: logging.LogRecord) -> bool:
        return True


def _breakdown(loki_url: str, number: int, repeat: int) -> str:
    """µs per call of the event mix and of its parts, back to back, the best of ``repeat`` runs (the least disturbed)."""
    mon = Monitor(service=f"bench-{uuid.uuid4().hex[:8]}", env="bench", loki_url=loki_url, registry=CollectorRegistry())
    root, ids, event = logging.getLogger(), itertools.count(), monitor_events(mon)
    fields = {"order_id": "o-0000001", "strategy": "iron_condor", "symbol": "SPY", "side": "sell", "quantity": 1, "price": 1.25, "order_type": "limit"}
    record = mon.logger.makeRecord(mon.logger.name, AUDIT, "", 0, "order submitted", (), None, None, {FIELDS_ATTR: fields})
    handler = mon.log_outputs.loki
    assert handler is not None
    line = handler.format(record)
    floor = logging.getLogger("bench.floor")
    floor.handlers[:], floor.propagate = [_Nothing()], False

    def best(call: Callable[[], object]) -> str:
        return f"{min(timeit.repeat(call, number=number, repeat=repeat)) / number * 1e6:.2f}"

    rows = [["the whole event, shipping on", best(lambda: event(next(ids)))]]
    root.setLevel(logging.CRITICAL + 1)
    rows.append(["its metric updates and input checks (logging off)", best(lambda: event(next(ids)))])
    root.setLevel(logging.INFO)
    rows += [
        ["stdlib logging alone: logger.log() into a handler doing nothing", best(lambda: floor.log(AUDIT, "order submitted", extra={FIELDS_ATTR: fields}))],
        ["JsonFormatter.format() of an order line", best(lambda: handler.format(record))],
        ["Shipper.offer() of the line", best(lambda: handler.shipper.offer(time.time_ns(), "audit", line))],
    ]
    mon.flush(60)
    mon.close()
    return table(["part (back to back, best of runs)", "µs per call"], rows)


def run(*, smoke: bool) -> list[Figure]:
    rounds, count, warm = (1, 300, 100) if smoke else (3, 5_000, 1_000)
    print(f"Pace {PACE:,.0f} events/s; {count:,} events per run; 1 warm-up run of {warm:,} per method, then {rounds} round(s).\n")
    results: dict[str, list[Run]] = {}
    with tempfile.TemporaryDirectory(prefix="quantwatch-bench-") as tmp:
        bed = TestBed(Path(tmp), name="bench-events")
        try:
            bed.start_victorialogs()
            url = bed.loki_url
            methods = _methods(url, Path(tmp))
            for start in methods.values():
                _once(start, warm)
            names = list(methods)
            for r in range(rounds):
                for name in names[r % len(names) :] + names[: r % len(names)]:
                    results.setdefault(name, []).append(_once(methods[name], count))
            hot = {name: [_once(methods[name], count, None) for _ in range(rounds)] for name in (QUANTWATCH, PLAIN)}
            profile = _profile(url, 600 if smoke else 6_000)
            breakdown = _breakdown(url, 300 if smoke else 3_000, 3 if smoke else 9)
        finally:
            bed.close()
    floor = [run.cpu_share for run in results[FLOOR]]

    def net(runs: list[Run]) -> list[float]:
        """CPU % of a core above the pacing loop's, run by run."""
        return [(r.cpu_share - f) * 100 for r, f in zip(runs, floor, strict=True)]

    rows = []
    for name, runs in results.items():
        rows.append(
            [
                name,
                spread([r.p(0.5) for r in runs], 2),
                spread([r.p(0.99) for r in runs], 1),
                spread([r.p(0.999) for r in runs], 1),
                spread([r.cpu_share * 100 for r in runs]),
                spread(net(runs)),
            ]
        )
    print(table(["paced, 1,000 events/s", "caller p50 µs", "caller p99 µs", "caller p99.9 µs", "CPU % of a core", "CPU % above the floor"], rows))
    rows = [[name, spread([r.p(0.5) for r in runs], 2), spread([r.p(0.99) for r in runs], 1)] for name, runs in hot.items()]
    print("\n" + table(["back to back (hot caches, the worker competing)", "caller p50 µs", "caller p99 µs"], rows))
    print(f"\nWhere an event's time goes:\n\n{breakdown}")
    print(f"\nProfile of the Monitor's event calls, flat out (cProfile: its own overhead inflates the times; the split is what counts):\n\n```\n{profile}\n```")
    ours, theirs = results[QUANTWATCH], results[PLAIN]
    return [
        Figure("caller cost per bot event, p50", "µs", [r.p(0.5) for r in ours], [r.p(0.5) for r in theirs], "plain + python-json-logger", most=10, digits=2),
        Figure("caller cost per bot event, p99", "µs", [r.p(0.99) for r in ours], [r.p(0.99) for r in theirs], "plain + python-json-logger"),
        Figure("CPU share of one core at 1,000 events/s (with shipping)", "%", net(ours), net(theirs), "plain, no shipping", most=10),
    ]


def _once(start: Start, count: int, pace: float | None = PACE) -> Run:
    event, drain = start()
    return paced(event, count, drain, pace=pace)
