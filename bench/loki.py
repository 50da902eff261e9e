"""Loki shipping: lines/s into the real Loki and the log call's cost, quantwatch beside python-logging-loki.

Method. One process logs the same JSON lines (quantwatch's JsonFormatter: an
order-fill event with its trading context, ~330 bytes) through each handler
into the real Loki of the test bed (the pinned Loki, provisioning/loki/loki.yml).
*lines/s* is the lines Loki holds afterwards (its ``count_over_time``) divided
by the time from the first log call until the handler says everything is
pushed (quantwatch: ``flush()``; LokiQueueHandler: its listener stopped; the
synchronous LokiHandler: its last call returned). *caller* is the wall time of
each ``logger.info()`` call. Each method has one warm-up run, then the timed
runs; figures are the median and (min–max) over runs. The paced table logs at
1,000 lines/s, a busy bot's rate, where no backlog builds up.
"""

from __future__ import annotations

import logging
import queue
import sys
import tempfile
import time
import timeit
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import logging_loki
import requests

from bench._proto import PROTO_SNAPPY
from bench._report import percentile, spread, table
from quantwatch import Config, JsonFormatter, LokiHandler, context
from quantwatch.logs import FIELDS_ATTR
from quantwatch.push import JSON_GZIP, Entry, Wire, encode_json

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))
from testbed.servers import TestBed  # the test bed starts the same real Loki the tests use

Drain = Callable[[], None]


@dataclass(frozen=True)
class Method:
    """A way to ship log lines: ``start(url, service)`` gives its handler and what waits until all is pushed."""

    name: str
    lines: int
    start: Callable[[str, str], tuple[logging.Handler, Drain]]


def _quantwatch(wire: Wire) -> Callable[[str, str], tuple[logging.Handler, Drain]]:
    def start(url: str, service: str) -> tuple[logging.Handler, Drain]:
        handler = LokiHandler(Config.load({}, service=service, env="bench", loki_url=url), wire=wire)

        def drain() -> None:
            handler.shipper.flush(timeout=120)
            handler.close()

        return handler, drain

    return start


def _logging_loki(url: str, service: str) -> tuple[logging.Handler, Drain]:
    handler = logging_loki.LokiHandler(url=url + "/loki/api/v1/push", tags={"service": service}, version="1")
    handler.setFormatter(JsonFormatter(service, "bench"))
    return handler, handler.emitter.close


def _logging_loki_queue(url: str, service: str) -> tuple[logging.Handler, Drain]:
    handler = logging_loki.LokiQueueHandler(queue.Queue(-1), url=url + "/loki/api/v1/push", tags={"service": service}, version="1")
    handler.handler.setFormatter(JsonFormatter(service, "bench"))
    return handler, handler.listener.stop


def methods(smoke: bool) -> list[Method]:
    ours, theirs = (5_000, 300) if smoke else (200_000, 3_000)
    return [
        Method("quantwatch LokiHandler (JSON+gzip, the default)", ours, _quantwatch(JSON_GZIP)),
        Method("quantwatch LokiHandler (protobuf+snappy)", ours, _quantwatch(PROTO_SNAPPY)),
        Method("python-logging-loki LokiHandler", theirs, _logging_loki),
        Method("python-logging-loki LokiQueueHandler", theirs, _logging_loki_queue),
    ]


@dataclass(frozen=True)
class Run:
    lines: int
    delivered: int
    seconds: float
    caller_ns: list[int]

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
    with context(strategy="iron_condor", symbol="SPY", correlation_id=uuid.uuid4().hex[:16]):
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


def _loki_count(url: str, service: str, expected: int) -> int:
    """Lines Loki holds for ``service``, polled until it has ``expected`` or the count stops growing."""
    query = f'sum(count_over_time({{service="{service}"}}[1h]))'
    last, stable_since = -1, time.monotonic()
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        result = requests.get(f"{url}/loki/api/v1/query", params={"query": query}, timeout=30).json()["data"]["result"]
        count = int(float(result[0]["value"][1])) if result else 0
        if count >= expected:
            return count
        if count != last:
            last, stable_since = count, time.monotonic()
        elif time.monotonic() - stable_since > 5:
            return count
        time.sleep(0.5)
    return last


def measure(method: Method, url: str, lines: int, per_second: float | None = None) -> Run:
    """One run: a fresh service label, so Loki's count is this run's alone."""
    service = f"bench-{uuid.uuid4().hex[:10]}"
    handler, drain = method.start(url, service)
    log = logging.getLogger(f"bench.{service}")
    log.propagate = False
    log.setLevel(logging.INFO)
    log.addHandler(handler)
    try:
        started = time.perf_counter()
        durations = _produce(log, lines, per_second)
        drain()
        seconds = time.perf_counter() - started
    finally:
        log.removeHandler(handler)
    return Run(lines, _loki_count(url, service, lines), seconds, sorted(durations))


def wire_table(smoke: bool) -> str:
    """Worker cost and size per line of each push body, for one batch of ~1 MiB of the benchmark's lines."""
    formatter = JsonFormatter("condor-bot", "bench")
    now = time.time_ns()
    entries: list[Entry] = []
    with context(strategy="iron_condor", symbol="SPY", correlation_id="0123456789abcdef"):
        for i in range(3_000):
            record = logging.makeLogRecord({"name": "bot", "levelno": 20, "levelname": "INFO", "msg": "order filled", FIELDS_ATTR: _fill(i)})
            entries.append((now + i, "info", formatter.format(record)))
    labels = {"service": "condor-bot", "env": "bench"}
    encoders = {"JSON (no compression)": encode_json, "JSON + gzip level 1 (chosen)": JSON_GZIP.encode, "protobuf + snappy": PROTO_SNAPPY.encode}
    rows = []
    for name, encode in encoders.items():
        times = timeit.repeat(lambda encode=encode: encode(entries, labels), number=1, repeat=3 if smoke else 15)
        per_line = [t / len(entries) * 1e6 for t in times]
        rows.append([name, spread(per_line, 2), f"{len(encode(entries, labels)) / len(entries):.0f}"])
    return table(["body", "worker µs/line", "bytes/line"], rows)


def run(*, smoke: bool) -> None:
    runs = 1 if smoke else 3
    print(f"Runs: {runs} timed after 1 warm-up per method; figures: median (min–max) over runs.\n")
    print(wire_table(smoke) + "\n", flush=True)
    with tempfile.TemporaryDirectory(prefix="quantwatch-bench-") as tmp:
        bed = TestBed(Path(tmp), name="bench")
        try:
            url = bed.start_loki().url
            flat, paced = [], []
            for method in methods(smoke):
                measure(method, url, max(100, method.lines // 10))
                results = [measure(method, url, method.lines) for _ in range(runs)]
                flat.append(
                    [
                        method.name,
                        f"{method.lines:,}",
                        spread([r.rate for r in results], 0),
                        spread([percentile(r.caller_ns, 0.5) / 1e3 for r in results]),
                        spread([percentile(r.caller_ns, 0.99) / 1e3 for r in results]),
                        f"{min(r.delivered for r in results):,} of {method.lines:,}",
                    ]
                )
                paced_lines = 500 if smoke else 3_000
                slow = [measure(method, url, paced_lines, per_second=1_000) for _ in range(runs)]
                paced.append(
                    [
                        method.name,
                        spread([percentile(r.caller_ns, 0.5) / 1e3 for r in slow]),
                        spread([percentile(r.caller_ns, 0.99) / 1e3 for r in slow]),
                        f"{min(r.delivered for r in slow):,} of {paced_lines:,}",
                    ]
                )
                print(f"  done: {method.name}", file=sys.stderr, flush=True)
        finally:
            bed.close()
    print(table(["flat out, one thread", "lines/run", "lines/s end to end", "caller p50 µs", "caller p99 µs", "in Loki (worst run)"], flat) + "\n")
    print(table(["paced, 1,000 lines/s", "caller p50 µs", "caller p99 µs", "in Loki (worst run)"], paced))
