"""Outages of the real VictoriaLogs: lines parked on disk while it is down and replayed in order, a spool left at
shutdown replayed by the next run, too-old lines dropped on replay, and the memory bound under steady load."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from pathlib import Path

import pytest
from logs_helpers import DAY_NS, DROPPED_TOO_OLD, LogServer, Sent, as_stored, offer_lines, record_offers

from quantwatch import Config, LokiHandler
from quantwatch.shipper import Shipper
from quantwatch.spool import Spool
from testbed.poll import wait_until
from testbed.servers import TestBed

pytestmark = pytest.mark.servers


def test_outage_parks_lines_on_disk_and_replays_them_in_order(own_bed: TestBed, shippers: list[Shipper], pushes: list[Sent], tmp_path: Path) -> None:
    """While the server is stopped, queued lines move to the spool and memory drains; once it is back every line is stored, sent in order."""
    log_server = LogServer(own_bed)
    log_server.server.stop()
    shipper = Shipper(log_server.config(loki_spool_dir=str(tmp_path / "spool")))
    shippers.append(shipper)
    spool = shipper.spool
    assert spool is not None
    entries = offer_lines(shipper, 100, "before")
    wait_until(lambda: spool.lines == 100 and shipper.held_lines == 0, 10, "the first lines parked on disk")
    entries += offer_lines(shipper, 200, "during")
    log_server.server.start()
    assert shipper.flush(timeout=20)
    assert log_server.stored(shipper.labels["service"]) == as_stored(shipper, entries)
    assert [line for sent in pushes if sent.outcome.status == 204 for _, line in sent.entries] == [line for _, _, line in entries]
    assert (spool.lines, spool.bytes, sum(shipper.stats.dropped.values())) == (0, 0, 0)
    assert not list((tmp_path / "spool").iterdir())


def test_lines_spooled_at_shutdown_are_replayed_by_the_next_run(own_bed: TestBed, shippers: list[Shipper], tmp_path: Path) -> None:
    """Closing while the server is stopped keeps the queue on disk, not dropped; the next run on that spool stores it once the server is up."""
    log_server = LogServer(own_bed)
    log_server.server.stop()
    folder = str(tmp_path / "spool")
    down = Shipper(log_server.config(loki_spool_dir=folder, loki_batch_seconds=60))
    shippers.append(down)
    entries = offer_lines(down, 40, "kept")
    assert down.close(timeout=0.5) is True
    assert down.stats.dropped["shutdown"] == 0
    log_server.server.start()
    up = Shipper(log_server.config(service=down.labels["service"], loki_spool_dir=folder))
    shippers.append(up)
    assert up.flush(timeout=10)
    assert log_server.stored(up.labels["service"]) == as_stored(up, entries)
    assert up.stats.sent == 40


def test_replay_drops_lines_too_old_for_the_server(own_bed: TestBed, shippers: list[Shipper], tmp_path: Path) -> None:
    """Spooled lines now past loki_max_age_seconds (and the server's retention) are counted too_old on replay, never sent; the rest are stored in order."""
    log_server = LogServer(own_bed)
    folder = tmp_path / "spool"
    now = time.time_ns()
    spool = Spool(folder, 10**6, lambda lines: None)
    fresh = [(now + i, "info", f"fresh {i}") for i in range(3)]
    assert spool.put([(now - 8 * DAY_NS, "info", "stale 0"), (now - 8 * DAY_NS + 1, "info", "stale 1"), fresh[0]])
    assert spool.put(fresh[1:])
    shipper = Shipper(log_server.config(loki_spool_dir=str(folder)))
    shippers.append(shipper)
    assert shipper.flush(timeout=10)
    assert log_server.stored(shipper.labels["service"]) == as_stored(shipper, fresh)
    assert (shipper.stats.dropped["too_old"], shipper.stats.sent) == (2, 3)
    assert log_server.api.metric(DROPPED_TOO_OLD) == 0


class SteadyProducer(threading.Thread):
    """Logs one line per millisecond until told to stop, counting them."""

    def __init__(self, log: logging.Logger, per_second: float = 1000.0) -> None:
        super().__init__(daemon=True)
        self.log, self.step = log, 1.0 / per_second
        self.count = 0
        self.done = threading.Event()

    def run(self) -> None:
        due = time.monotonic()
        while not self.done.is_set():
            due += self.step
            time.sleep(max(0.0, due - time.monotonic()))
            self.log.info("tick %d", self.count, extra={"order_id": f"o-{self.count}", "symbol": "SPY"})
            self.count += 1


@pytest.mark.parametrize("spool", [False, True], ids=["memory-bound", "disk-spool"])
def test_outage_under_steady_load(own_bed: TestBed, logger: logging.Logger, tmp_path: Path, spool: bool) -> None:
    """The server stopped under 1,000 lines/s: memory stays within the bound, every accepted line is stored once, and drops are exact (none with a spool)."""
    log_server = LogServer(own_bed)
    bound = 1_000
    options: dict[str, object] = {"loki_queue_lines": bound, "loki_batch_seconds": 0.2}
    if spool:
        options["loki_spool_dir"] = str(tmp_path / "spool")
    handler = LokiHandler(log_server.config(**options))
    logger.addHandler(handler)
    shipper = handler.shipper
    accepted = record_offers(shipper)
    producer = SteadyProducer(logger)
    peak = {"lines": 0, "bytes": 0}

    def produced(count: int) -> Callable[[], bool]:
        def check() -> bool:
            peak["lines"] = max(peak["lines"], shipper.held_lines)
            peak["bytes"] = max(peak["bytes"], shipper.held_bytes)
            return producer.count >= count

        return check

    producer.start()
    try:
        wait_until(produced(500), 20, "500 lines before the outage", interval=0.01)
        log_server.server.stop()
        wait_until(produced(producer.count + 2_000), 30, "2,000 lines while the server is stopped", interval=0.01)
        log_server.server.start()
        wait_until(produced(producer.count + 500), 20, "500 lines after it is back", interval=0.01)
    finally:
        producer.done.set()
        producer.join()
    assert shipper.flush(timeout=60)
    stored = log_server.stored(shipper.labels["service"])
    stats = shipper.stats
    assert stored == as_stored(shipper, accepted)
    assert producer.count - len(stored) == stats.dropped["queue_full"] == sum(stats.dropped.values())
    if spool:
        assert stats.dropped["queue_full"] == 0
    else:
        assert stats.dropped["queue_full"] > 0  # the outage outlasted the bound: the drop path was taken
        assert peak["lines"] == bound
    assert peak["lines"] <= bound
    assert peak["bytes"] <= Config().loki_queue_bytes
