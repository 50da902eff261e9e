"""Log shipping: lines/s into VictoriaLogs v1.52.2 over Loki's push protocol and the log call's cost, quantwatch beside python-logging-loki.

Method. One process logs the same JSON lines (quantwatch's JsonFormatter: an
order-fill event with its trading context, ~330 bytes) through each handler
into the test bed's log server: VictoriaLogs v1.52.2 speaking Loki's push
protocol (``/insert/loki/api/v1/push``, each line kept whole; Loki's Go module
is AGPL and is not built here), where both quantwatch and python-logging-loki
push as they would to Loki. *lines/s* is the lines the server holds afterwards
(LogsQL ``stats count()`` over the run's service label) divided by the time
from the first log call until the handler says everything is pushed
(quantwatch: ``flush()``; LokiQueueHandler: its listener stopped; the
synchronous LokiHandler: its last call returned). quantwatch's handler, with
its default settings, never makes the caller wait: what its queue (30,000
lines) cannot hold is dropped and counted, and the last column adds that count
to the server's, so every line is accounted for. *caller* is the wall time of
each ``logger.info()`` call. Each method has one warm-up run, then the timed
runs; figures are the median and (min–max) over runs. The paced table logs at
1,000 lines/s, a busy bot's rate, where no backlog builds up. Two rows frame
quantwatch's: *the floor* is the same ``logger.info()`` into a handler that
does nothing (what ``logging`` itself costs on this machine), and *the transport
alone* offers lines formatted beforehand straight to the Shipper (its lines/s
without the bot's formatting). The body table encodes one ~1 MiB batch of the
same lines in each push format, best of its repeats being noise-free enough.
"""

from __future__ import annotations

import functools
import gzip
import logging
import queue
import statistics
import sys
import tempfile
import time
import timeit
import uuid
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import logging_loki

from bench._proto import PROTO_SNAPPY
from bench._report import Figure, percentile, spread, table
from quantwatch import Config, JsonFormatter, LokiHandler, scoped_context
from quantwatch.logs import FIELDS_ATTR
from quantwatch.push import JSON_GZIP, Entry, Wire, encode_json
from quantwatch.shipper import Shipper
from testbed.api import LogsAPI
from testbed.servers import TestBed  # the test bed starts the same real log server the tests use

#: Waits until the handler has pushed all it will; returns the lines it counted as dropped (0 for a handler that keeps no count).
Drain = Callable[[], int]


@dataclass(frozen=True)
class Method:
    """A way to ship log lines: ``start(loki_url, service)`` gives its handler and what waits until all is pushed."""

    name: str
    lines: int
    start: Callable[[str, str], tuple[logging.Handler, Drain]]


def _quantwatch(wire: Wire) -> Callable[[str, str], tuple[logging.Handler, Drain]]:
    def start(url: str, service: str) -> tuple[logging.Handler, Drain]:
        handler = LokiHandler(Config.load({}, service=service, env="bench", loki_url=url), wire=wire)

        def drain() -> int:
            handler.shipper.flush(timeout=120)
            handler.close()
            return sum(handler.shipper.stats.dropped.values())

        return handler, drain

    return start


def _uncounted(stop: Callable[[], None]) -> Drain:
    """The drain of a handler that keeps no count of the lines it lost: ``stop``, then 0."""

    def drain() -> int:
        stop()
        return 0

    return drain


def _logging_loki(url: str, service: str) -> tuple[logging.Handler, Drain]:
    handler = logging_loki.LokiHandler(url=url + "/loki/api/v1/push", tags={"service": service}, version="1")
    handler.setFormatter(JsonFormatter(service, "bench"))
    return handler, _uncounted(handler.emitter.close)


def logging_loki_queue(url: str, service: str) -> tuple[logging.Handler, Drain]:
    """python-logging-loki's queued handler pushing to ``url`` (the log server's /insert), with what stops it once it has pushed all."""
    handler = logging_loki.LokiQueueHandler(queue.Queue(-1), url=url + "/loki/api/v1/push", tags={"service": service}, version="1")
    handler.handler.setFormatter(JsonFormatter(service, "bench"))
    return handler, _uncounted(handler.listener.stop)


class DoNothing(logging.Handler):
    """The floor: a handler that takes the record and does nothing with it (what ``logging`` itself costs)."""

    def handle(self, record: logging.LogRecord) -> bool:
        return True


def _floor(url: str, service: str) -> tuple[logging.Handler, Drain]:
    return DoNothing(), lambda: 0


OURS, SNAPPY, SYNC, QUEUED, FLOOR = (
    "quantwatch LokiHandler (JSON+gzip, the default)",
    "quantwatch LokiHandler (protobuf+snappy)",
    "python-logging-loki LokiHandler",
    "python-logging-loki LokiQueueHandler",
    "the floor: logger.info() into a handler doing nothing",
)


def methods(smoke: bool) -> list[Method]:
    ours, theirs = (5_000, 300) if smoke else (200_000, 3_000)
    return [
        Method(OURS, ours, _quantwatch(JSON_GZIP)),
        Method(SNAPPY, ours, _quantwatch(PROTO_SNAPPY)),
        Method(SYNC, theirs, _logging_loki),
        Method(QUEUED, theirs, logging_loki_queue),
        Method(FLOOR, ours, _floor),
    ]


@dataclass(frozen=True)
class Run:
    lines: int
    delivered: int
    seconds: float
    caller_ns: list[int]
    #: Lines the handler counted as dropped (its queue full: it never blocks the caller).
    dropped: int = 0

    @property
    def rate(self) -> float:
        return self.delivered / self.seconds


def _fill(i: int) -> dict[str, object]:
    """The fields of the i-th order fill: varied like a bot's, so compression meets realistic lines."""
    return {
        "order_id": f"o-{i:07d}-{i * 7919 % 100_000:05d}",
        "side": "sell",
        "quantity": 1 + i % 5,
        "fill_price": round(0.5 + i * 37 % 400 / 100, 2),
        "latency_ms": i * 131 % 5_000 / 100,
        "outcome": "filled",
    }


def _produce(log: logging.Logger, lines: int, per_second: float | None) -> list[int]:
    """Log ``lines`` order fills, flat out or paced; returns each call's duration in ns."""
    durations = [0] * lines
    clock = time.perf_counter_ns
    step = int(1e9 / per_second) if per_second else 0
    due = clock()
    with scoped_context(strategy="iron_condor", symbol="SPY", correlation_id=uuid.uuid4().hex[:16]):
        for i in range(lines):
            if step:
                due += step
                wait = due - clock()
                if wait > 0:
                    time.sleep(wait / 1e9)
            extra = {FIELDS_ATTR: _fill(i)}
            began = clock()
            log.info("order filled", extra=extra)
            durations[i] = clock() - began
    return durations


def log_count(logs: LogsAPI, service: str, expected: int) -> int:
    """Lines the log server holds for ``service``, counted by the server until it has ``expected`` or the count stops growing for 5 s."""
    query = f'_stream:{{service="{service}"}}'
    last, stable_since = -1, time.monotonic()
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        logs.flush()  # every row answered 204 so far, searchable now
        count = logs.count(query, since=3600)
        if count >= expected:
            return count
        if count != last:
            last, stable_since = count, time.monotonic()
        elif time.monotonic() - stable_since > 5:
            return count
        time.sleep(0.5)
    return last


def measure(method: Method, url: str, logs: LogsAPI, lines: int, per_second: float | None = None) -> Run:
    """One run pushing to ``url`` (a ``loki_url``): a fresh service label, so the server's count in ``logs`` is this run's alone."""
    service = f"bench-{uuid.uuid4().hex[:10]}"
    handler, drain = method.start(url, service)
    log = logging.getLogger(f"bench.{service}")
    log.propagate = False
    log.setLevel(logging.INFO)
    log.addHandler(handler)
    try:
        started = time.perf_counter()
        durations = _produce(log, lines, per_second)
        dropped = drain()
        seconds = time.perf_counter() - started
    finally:
        log.removeHandler(handler)
    delivered = log_count(logs, service, lines - dropped) if method.name != FLOOR else lines
    return Run(lines, delivered, seconds, sorted(durations), dropped)


def _lines(count: int, service: str) -> list[Entry]:
    """``count`` of the benchmark's lines, formatted as the LokiHandler would, time-stamped now."""
    formatter = JsonFormatter(service, "bench")
    now = time.time_ns()
    entries: list[Entry] = []
    with scoped_context(strategy="iron_condor", symbol="SPY", correlation_id="0123456789abcdef"):
        for i in range(count):
            record = logging.makeLogRecord({"name": "bot", "levelno": 20, "levelname": "INFO", "msg": "order filled", FIELDS_ATTR: _fill(i)})
            entries.append((now + i, "info", formatter.format(record)))
    return entries


def measure_transport(url: str, logs: LogsAPI, lines: int, wire: Wire) -> tuple[Run, float]:
    """The Shipper alone: lines formatted beforehand, offered flat out, until flush() says all are pushed; and the server's push µs per line."""
    service = f"bench-{uuid.uuid4().hex[:10]}"
    entries = _lines(lines, service)
    # A queue that holds the whole run: offered flat out, lines arrive far faster than any server takes them.
    config = Config.load({}, service=service, env="bench", loki_url=url, loki_queue_lines=lines, loki_queue_bytes=1 << 30)
    shipper = Shipper(config, wire=wire)
    durations = [0] * lines
    clock = time.perf_counter_ns
    started = time.perf_counter()
    for i, (ts, level, line) in enumerate(entries):
        began = clock()
        shipper.offer(ts, level, line)
        durations[i] = clock() - began
    shipper.flush(timeout=120)
    seconds = time.perf_counter() - started
    shipper.close()
    push_us = shipper.stats.push_seconds / max(1, shipper.stats.sent) * 1e6
    return Run(lines, log_count(logs, service, lines), seconds, sorted(durations)), push_us


JSON_NAME, PROTO_NAME = "JSON + gzip level 1 (chosen)", "protobuf + snappy"
#: The push bodies measured: Loki's push protocol takes the last two; quantwatch sends JSON + gzip.
WIRES: dict[str, Callable[[Sequence[Entry], Mapping[str, str]], bytes]] = {
    "JSON (no compression)": encode_json,
    "JSON + gzip level 6 (gzip's default)": lambda entries, labels: gzip.compress(encode_json(entries, labels), compresslevel=6, mtime=0),
    JSON_NAME: JSON_GZIP.encode,
    PROTO_NAME: PROTO_SNAPPY.encode,
}


def wire_costs(smoke: bool) -> dict[str, tuple[list[float], float]]:
    """Per push body: worker µs per line over repeats, and bytes per line, for one batch of ~1 MiB of the benchmark's lines."""
    entries = _lines(3_000, "condor-bot")
    labels = {"service": "condor-bot", "env": "bench"}
    costs: dict[str, tuple[list[float], float]] = {}
    for name, encode in WIRES.items():
        times = timeit.repeat(functools.partial(encode, entries, labels), number=1, repeat=3 if smoke else 15)
        costs[name] = ([t / len(entries) * 1e6 for t in times], len(encode(entries, labels)) / len(entries))
    return costs


def _row(name: str, results: list[Run], lines: int, rate: bool = True) -> list[str]:
    return [
        name,
        f"{lines:,}",
        spread([r.rate for r in results], 0) if rate else "–",
        spread([percentile(r.caller_ns, 0.5) / 1e3 for r in results], 2),
        spread([percentile(r.caller_ns, 0.99) / 1e3 for r in results]),
        spread([statistics.fmean(r.caller_ns) / 1e3 for r in results]),
        _accounted(min(results, key=lambda r: r.delivered + r.dropped)) if rate else "–",
    ]


def _accounted(run: Run) -> str:
    """Lines in the server, and those the handler counted as dropped, of those logged."""
    dropped = f" + {run.dropped:,} counted as dropped" if run.dropped else ""
    return f"{run.delivered:,}{dropped} of {run.lines:,}"


def run(*, smoke: bool) -> list[Figure]:
    runs = 1 if smoke else 5
    print(f"Runs: {runs} timed after 1 warm-up per method; figures: median (min–max) over runs.\n")
    wires = wire_costs(smoke)
    flat: dict[str, list[Run]] = {}
    paced: dict[str, list[Run]] = {}
    transport: dict[str, list[tuple[Run, float]]] = {}
    paced_lines = 500 if smoke else 3_000
    every = methods(smoke)
    transport_lines = every[0].lines
    with tempfile.TemporaryDirectory(prefix="quantwatch-bench-") as tmp:
        bed = TestBed(Path(tmp), name="bench")
        try:
            logs, url = LogsAPI(bed.start_victorialogs().url), bed.loki_url
            pushes = {JSON_NAME: JSON_GZIP, PROTO_NAME: PROTO_SNAPPY}
            for wire in pushes.values():
                measure_transport(url, logs, max(100, transport_lines // 10), wire)
            for _ in range(runs):  # alternated, so neither format gets the quieter minutes
                for name, wire in pushes.items():
                    transport.setdefault(name, []).append(measure_transport(url, logs, transport_lines, wire))
            for method in every:
                measure(method, url, logs, max(100, method.lines // 10))
                flat[method.name] = [measure(method, url, logs, method.lines) for _ in range(runs)]
                paced[method.name] = [measure(method, url, logs, paced_lines, per_second=1_000) for _ in range(runs)]
                print(f"  done: {method.name}", file=sys.stderr, flush=True)
        finally:
            bed.close()
    rows = []
    for name, (times, size) in wires.items():
        pushed = transport.get(name)
        server = [spread([us for _, us in pushed], 2), spread([r.rate for r, _ in pushed], 0)] if pushed else ["–", "–"]
        rows.append([name, spread(times, 2), f"{size:.0f}", *server])
    print(
        table(
            ["push body, ~1 MiB batch", "worker µs/line", "bytes/line", "push µs/line (the server's time)", f"lines/s, transport alone ({transport_lines:,})"],
            rows,
        )
        + "\n"
    )
    rows = [_row(m.name, flat[m.name], m.lines, rate=m.name != FLOOR) for m in every]
    rows.insert(2, _row("quantwatch Shipper.offer() alone, lines formatted beforehand", [r for r, _ in transport[JSON_NAME]], transport_lines))
    caller = ["caller p50 µs", "caller p99 µs", "caller mean µs", "in the log server (+ counted as dropped), worst run"]
    print(table(["flat out, one thread", "lines/run", "lines/s end to end", *caller], rows) + "\n")
    rows = []
    for m in every:
        row = _row(m.name, paced[m.name], paced_lines, rate=m.name != FLOOR)
        rows.append([row[0], *row[3:]])
    print(table(["paced, 1,000 lines/s", *caller], rows))

    def p(name: str, fraction: float) -> list[float]:
        return [percentile(r.caller_ns, fraction) / 1e3 for r in flat[name]]

    def rate(name: str) -> list[float]:
        return [r.rate for r in flat[name]]

    def alone(name: str) -> list[float]:
        return [r.rate for r, _ in transport[name]]

    return [
        Figure(
            "shipping: lines/s into the log server from one process (logger.info, flat out)",
            "lines/s",
            rate(OURS),
            rate(QUEUED),
            QUEUED,
            least=50_000,
            digits=0,
        ),
        Figure("shipping: lines/s flat out, the original claim (10,000+ logs/s)", "lines/s", rate(OURS), rate(QUEUED), QUEUED, least=10_000, digits=0),
        Figure("shipping: lines/s, the transport alone (Shipper.offer)", "lines/s", alone(JSON_NAME), rate(QUEUED), QUEUED, least=50_000, digits=0),
        Figure("shipping: log call p50 per line (flat out)", "µs", p(OURS, 0.5), p(SYNC, 0.5), SYNC, most=10, digits=2),
        Figure("shipping: log call p50 per line, vs the queued baseline", "µs", p(OURS, 0.5), p(QUEUED, 0.5), QUEUED, digits=2),
        Figure("shipping: log call p99 per line (flat out)", "µs", p(OURS, 0.99), p(SYNC, 0.99), SYNC),
        Figure("shipping: log call p50, the logging floor (no handler work)", "µs", p(FLOOR, 0.5), digits=2),
        Figure("shipping: push body, worker cost JSON+gzip vs protobuf+snappy", "µs/line", wires[JSON_NAME][0], wires[PROTO_NAME][0], PROTO_NAME, digits=2),
        Figure("shipping: transport alone, JSON+gzip vs protobuf+snappy", "lines/s", alone(JSON_NAME), alone(PROTO_NAME), PROTO_NAME, digits=0),
    ]
