"""Acceptance against the real Loki of the test bed: exact delivery, an outage under steady load, a real 400, draining at exit."""

from __future__ import annotations

import json
import logging
import os
import statistics
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from loki_helpers import loki_entries
from testbed.poll import wait_until
from testbed.servers import REPO, Server, TestBed

from quantwatch import AUDIT, Config, LokiHandler, Monitor, context
from quantwatch.config import LOKI_BATCH_MAX
from quantwatch.push import JSON_GZIP, Pusher
from quantwatch.shipper import Shipper

pytestmark = pytest.mark.servers


def stream_labels(service: str, level: str) -> dict[str, str]:
    """The labels Loki stores for a quantwatch line: ours, plus the service_name Loki derives from ``service``."""
    return {"service": service, "env": "test", "level": level, "service_name": service}


def record_offers(shipper: Shipper) -> list[tuple[int, str, str]]:
    """Wrap ``shipper.offer`` to remember every line it accepted, in order."""
    accepted: list[tuple[int, str, str]] = []
    offer = shipper.offer

    def recording(ts: int, level: str, line: str) -> bool:
        ok = offer(ts, level, line)
        if ok:
            accepted.append((ts, level, line))
        return ok

    shipper.offer = recording  # type: ignore[method-assign]
    return accepted


def private_logger(handler: logging.Handler) -> Iterator[logging.Logger]:
    log = logging.getLogger(f"test.loki.{uuid.uuid4().hex[:8]}")
    log.propagate = False
    log.setLevel(logging.DEBUG)
    log.addHandler(handler)
    yield log
    log.removeHandler(handler)
    handler.close()


@pytest.fixture
def handler_for(loki: Server) -> Iterator[Callable[..., tuple[LokiHandler, logging.Logger]]]:
    """``make(**options)``: a LokiHandler to the shared Loki, its own service label, on a private logger."""
    made: list[Iterator[logging.Logger]] = []

    def make(**options: object) -> tuple[LokiHandler, logging.Logger]:
        service = f"test-{uuid.uuid4().hex[:10]}"
        handler = LokiHandler(Config.load({}, service=service, env="test", loki_url=loki.url, **options))
        made.append(private_logger(handler))
        return handler, next(made[-1])

    yield make
    for gen in made:
        next(gen, None)


def test_n_lines_in_exactly_n_out_with_their_labels(loki: Server, handler_for: Callable[..., tuple[LokiHandler, logging.Logger]]) -> None:
    """3,000 lines from three threads at four levels come back from query_range once each, same line, time and labels."""
    handler, log = handler_for()
    accepted = record_offers(handler.shipper)
    since = time.time_ns()

    def emit(worker: int) -> None:
        with context(strategy="iron_condor", symbol="SPY", correlation_id=f"corr-{worker}"):
            for i in range(1000):
                level = (logging.INFO, logging.WARNING, AUDIT, logging.ERROR)[i % 4]
                log.log(level, "event %d of worker %d", i, worker, extra={"order_id": f"o-{worker}-{i}"})

    threads = [threading.Thread(target=emit, args=(w,)) for w in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert handler.shipper.flush(timeout=30)
    service = handler.shipper.labels["service"]
    got = loki_entries(loki.url, f'{{service="{service}"}}', since)
    expected = sorted(((stream_labels(service, level), ts, line) for ts, level, line in accepted), key=lambda e: (e[1], e[2]))
    assert len(accepted) == 3000
    assert got == expected
    assert handler.shipper.stats.sent == 3000
    first = json.loads(got[0][2])
    assert {"order_id", "correlation_id", "strategy", "symbol"} <= first.keys()


def test_real_400_is_sent_once_and_loki_keeps_the_valid_lines(loki: Server, handler_for: Callable[..., tuple[LokiHandler, logging.Logger]]) -> None:
    """A line over Loki's max_line_size makes Loki answer 400: one request, one line counted rejected, the others stored."""
    handler, log = handler_for(loki_max_line_bytes=1_000_000, loki_batch_seconds=60)
    since = time.time_ns()
    for i in range(5):
        log.info("fine %d", i)
    log.info("x" * 300_000)
    assert handler.shipper.flush(timeout=30)
    stats = handler.shipper.stats
    assert (stats.sent, stats.dropped["rejected"], stats.batches["rejected"], stats.batches["success"]) == (5, 1, 1, 0)
    assert sum(stats.retries.values()) == 0
    service = handler.shipper.labels["service"]
    assert [json.loads(line)["message"] for _, _, line in loki_entries(loki.url, f'{{service="{service}"}}', since)] == [f"fine {i}" for i in range(5)]


def test_line_over_max_line_size_arrives_truncated_and_marked(loki: Server, handler_for: Callable[..., tuple[LokiHandler, logging.Logger]]) -> None:
    """With the defaults, which match provisioning/loki/loki.yml's max_line_size, a 300 kB message is stored cut to fit and marked."""
    handler, log = handler_for()
    since = time.time_ns()
    log.error("x" * 300_000, extra={"order_id": "o-1"})
    assert handler.shipper.flush(timeout=30)
    assert (handler.shipper.stats.sent, sum(handler.shipper.stats.dropped.values())) == (1, 0)
    service = handler.shipper.labels["service"]
    ((_, _, line),) = loki_entries(loki.url, f'{{service="{service}"}}', since)
    assert 250_000 < len(line.encode()) <= 256 * 1024
    fields = json.loads(line)
    assert (fields["truncated"], fields["order_id"], fields["message"][-1]) == (True, "o-1", "…")


def test_largest_batch_fits_lokis_grpc_limit(loki: Server) -> None:
    """The real Loki takes a batch of LOKI_BATCH_MAX plus one longest line, of the shortest lines, and answers 500 to 4 MiB (why the cap exists)."""
    pusher = Pusher(loki.url, JSON_GZIP)
    labels = {"service": f"test-{uuid.uuid4().hex[:10]}", "env": "test"}
    now = time.time_ns()

    def batch(text_bytes: int, line: str) -> list[tuple[int, str, str]]:
        return [(now + i, "info", f"{line} {i:07d}") for i in range(text_bytes // (len(line) + 8))]

    shortest = '{"ts":"2026-11-25T08:00:00.000000Z","level":"info","logger":"bot","message":"","service":"s","env":"e"}'
    fitting = batch(LOKI_BATCH_MAX + Config().loki_max_line_bytes, shortest)
    assert pusher.push(JSON_GZIP.encode(fitting, labels), len(fitting), timeout=30).status == 204
    too_big = batch(4 * 1024 * 1024, "x" * 300)
    assert pusher.push(JSON_GZIP.encode(too_big, labels), len(too_big), timeout=30).status == 500
    pusher.close()


def test_monitor_close_drains_to_loki(loki: Server) -> None:
    """Monitor.close() pushes queued event lines at once, long before the batch interval."""
    service = f"test-{uuid.uuid4().hex[:10]}"
    since = time.time_ns()
    mon = Monitor(service=service, env="test", log_to_stderr=False, loki_url=loki.url, loki_batch_seconds=300)
    for i in range(200):
        mon.order_submitted(f"o-{i}", strategy="iron_condor", symbol="SPY", side="sell", quantity=1)
    mon.close()
    got = loki_entries(loki.url, f'{{service="{service}"}}', since)
    assert [json.loads(line)["order_id"] for _, _, line in got] == [f"o-{i}" for i in range(200)]


def test_interpreter_exit_drains_to_loki(loki: Server) -> None:
    """A bot that exits without closing its Monitor still delivers its queued lines (atexit)."""
    service = f"test-{uuid.uuid4().hex[:10]}"
    since = time.time_ns()
    script = (
        "import logging, quantwatch\n"
        f"mon = quantwatch.Monitor(service={service!r}, env='test', loki_url={loki.url!r}, loki_batch_seconds=300)\n"
        "for i in range(300): logging.getLogger('bot').info('line %d', i)\n"
    )
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(filter(None, [str(REPO / "exporter"), os.environ.get("PYTHONPATH")])))
    subprocess.run([sys.executable, "-c", script], check=True, env=env, timeout=60, capture_output=True)
    got = loki_entries(loki.url, f'{{service="{service}"}}', since)
    assert [json.loads(line)["message"] for _, _, line in got] == [f"line {i}" for i in range(300)]


class SteadyProducer(threading.Thread):
    """Logs one line per millisecond and times each call, filed under the phase in force."""

    def __init__(self, log: logging.Logger, per_second: float = 1000.0) -> None:
        super().__init__(daemon=True)
        self.log, self.step = log, 1.0 / per_second
        self.phase = "before"
        self.calls: dict[str, list[int]] = {"before": [], "outage": [], "after": []}
        self.count = 0
        self.done = threading.Event()

    def run(self) -> None:
        due = time.monotonic()
        while not self.done.is_set():
            due += self.step
            time.sleep(max(0.0, due - time.monotonic()))
            began = time.perf_counter_ns()
            self.log.info("tick %d", self.count, extra={"order_id": f"o-{self.count}", "symbol": "SPY"})
            self.calls[self.phase].append(time.perf_counter_ns() - began)
            self.count += 1


@pytest.mark.parametrize("spool", [False, True], ids=["memory-bound", "disk-spool"])
def test_outage_under_steady_load(testbed_factory: Callable[[str], TestBed], tmp_path: Path, spool: bool) -> None:
    """Loki stopped during 1,000 lines/s: calls stay fast, memory stays within the bound, every accepted line arrives, drops are exact."""
    bed = testbed_factory("loki-outage")
    loki = bed.start_loki()
    bound = 3_000
    options: dict[str, object] = {"loki_queue_lines": bound, "loki_batch_seconds": 0.2, "loki_timeout_seconds": 2.0}
    if spool:
        options["loki_spool_dir"] = str(tmp_path / "spool")
    service = f"outage-{uuid.uuid4().hex[:8]}"
    handler = LokiHandler(Config.load({}, service=service, env="test", loki_url=loki.url, **options))
    shipper = handler.shipper
    accepted = record_offers(shipper)
    logs = private_logger(handler)
    producer = SteadyProducer(next(logs))
    since = time.time_ns()
    producer.start()
    peak = {"lines": 0, "bytes": 0}

    def produced(count: int) -> Callable[[], bool]:
        def check() -> bool:
            peak["lines"] = max(peak["lines"], shipper.held_lines)
            peak["bytes"] = max(peak["bytes"], shipper.held_bytes)
            return producer.count >= count

        return check

    try:
        wait_until(produced(2_000), 20, "2,000 lines before the outage", interval=0.01)
        producer.phase = "outage"
        loki.stop()
        wait_until(produced(producer.count + 6_000), 30, "6,000 lines while Loki is down", interval=0.01)
        loki.start()
        producer.phase = "after"
        wait_until(produced(producer.count + 2_000), 20, "2,000 lines after Loki is back", interval=0.01)
    finally:
        producer.done.set()
        producer.join()
    assert shipper.flush(timeout=60)
    got = loki_entries(loki.url, f'{{service="{service}"}}', since)
    stats = shipper.stats
    assert [(ts, line) for _, ts, line in got] == [(ts, line) for ts, _, line in accepted]
    assert producer.count - len(got) == stats.dropped["queue_full"] == sum(stats.dropped.values())
    if spool:
        assert stats.dropped["queue_full"] == 0
    else:
        assert stats.dropped["queue_full"] > 0  # the outage outlasted the bound: the drop path was taken
        assert peak["lines"] == bound
    assert peak["lines"] <= bound
    assert peak["bytes"] <= Config().loki_queue_bytes
    before, outage = statistics.median(producer.calls["before"]), statistics.median(producer.calls["outage"])
    assert outage < 3 * before + 50_000, f"median log call {before / 1e3:.0f} µs before the outage, {outage / 1e3:.0f} µs during it"
    next(logs, None)
