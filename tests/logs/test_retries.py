"""Every failure class of a push, provoked in the real VictoriaLogs by its own flags or process state.

A final answer (400) is sent once and its lines counted; 429, 503, a refused connection and a
timeout are retried with the same body while the fault lasts and delivered once it ends. Each test
has a bed of its own: the faults take the whole server.
"""

from __future__ import annotations

import os
import signal
import socket
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import AbstractContextManager, contextmanager

import pytest
from logs_helpers import LogServer, Sent, as_stored, offer_lines

from quantwatch.shipper import Shipper
from testbed.poll import wait_until
from testbed.servers import TestBed

pytestmark = pytest.mark.servers

#: A minimum free disk space no disk has: the storage turns read-only and every insert is answered 429.
READ_ONLY = "-storage.minFreeDiskSpaceBytes=1E18"
#: One insert at a time, and no wait for the slot: an insert while another runs is answered 503.
ONE_INSERT = ("-maxConcurrentInserts=1", "-insert.maxQueueDuration=1ms")
#: The start of a push whose body never comes: it holds an insert slot until its connection closes.
UNFINISHED_PUSH = b"POST /insert/loki/api/v1/push HTTP/1.1\r\nHost: loki\r\nContent-Type: application/json\r\nContent-Length: 1000\r\n\r\n{"


@contextmanager
def read_only(bed: TestBed) -> Iterator[LogServer]:
    """429 while the storage is read-only; a restart without the flag, on the same port and data, ends it."""
    log_server = LogServer(bed, READ_ONLY)
    yield log_server
    log_server.restart()


@contextmanager
def inserts_busy(bed: TestBed) -> Iterator[LogServer]:
    """503 while the only insert slot is held by an unfinished push; closing its connection ends it."""
    log_server = LogServer(bed, *ONE_INSERT)
    with socket.create_connection(("127.0.0.1", log_server.server.port)) as held:
        held.sendall(UNFINISHED_PUSH)
        wait_until(lambda: log_server.api.metric("vm_concurrent_insert_current") == 1, 10, "the insert slot taken")
        yield log_server


@contextmanager
def stopped(bed: TestBed) -> Iterator[LogServer]:
    """Connection refused while the server is stopped; starting it again ends it."""
    log_server = LogServer(bed)
    log_server.server.stop()
    yield log_server
    log_server.server.start()


@contextmanager
def paused(bed: TestBed) -> Iterator[LogServer]:
    """A timeout while the process is stopped (SIGSTOP): the kernel takes the connection and nobody answers; SIGCONT ends it."""
    log_server = LogServer(bed)
    pid = log_server.server.pid
    assert pid is not None
    os.kill(pid, signal.SIGSTOP)
    try:
        yield log_server
    finally:
        os.kill(pid, signal.SIGCONT)


#: Each retried fault, the retry reason it is counted under, and the reasons its ending may add (a restart refuses connections).
FAULTS: dict[str, tuple[Callable[[TestBed], AbstractContextManager[LogServer]], str, set[str]]] = {
    "429-read-only": (read_only, "rate_limited", {"connection"}),
    "503-inserts-busy": (inserts_busy, "server_error", set()),
    "connection-refused": (stopped, "connection", set()),
    "timeout-paused": (paused, "timeout", set()),
}


@pytest.mark.parametrize("fault", FAULTS)
def test_retryable_failure_is_retried_with_the_same_body_then_delivered(own_bed: TestBed, shippers: list[Shipper], pushes: list[Sent], fault: str) -> None:
    """429, 503, a refused connection and a timeout are retried with the same body while the fault lasts; once it ends the lines are stored."""
    provoke, reason, ending = FAULTS[fault]
    with ThreadPoolExecutor(1) as pool, provoke(own_bed) as log_server:
        shipper = Shipper(log_server.config(loki_batch_seconds=60, loki_timeout_seconds=0.3))
        shippers.append(shipper)
        entries = offer_lines(shipper, 5)
        flushed = pool.submit(shipper.flush, 30)  # one batch of all five: flush() takes what is queued at once
        wait_until(lambda: shipper.stats.retries[reason] >= 2, 15, f"two pushes failed ({reason})")
    assert flushed.result()
    stats = shipper.stats
    *failed, delivered = pushes
    assert delivered.outcome.status == 204
    assert all(sent.body == delivered.body for sent in failed)
    assert {name for name, count in stats.retries.items() if count} <= {reason, *ending}
    assert sum(stats.retries.values()) == len(failed) == stats.batches["error"]
    assert (stats.sent, stats.batches["success"], sum(stats.dropped.values())) == (5, 1, 0)
    # A timed-out push may still be stored once the server resumes: Loki drops such an exact copy (same
    # stream, time and line: why a retry carries the same body), VictoriaLogs keeps it.
    stored = log_server.stored(shipper.labels["service"])
    copies = [stored.count(row) for row in as_stored(shipper, entries)]
    assert sum(copies) == len(stored)
    assert 1 <= min(copies) <= max(copies) <= 1 + stats.retries["timeout"]


def test_400_is_sent_once_and_its_lines_counted_rejected(own_bed: TestBed, shippers: list[Shipper], pushes: list[Sent]) -> None:
    """A push over -loki.maxRequestSize is refused whole with 400: sent once, every line counted rejected, and the next batch still goes."""
    log_server = LogServer(own_bed, "-loki.maxRequestSize=2000")
    shipper = Shipper(log_server.config(loki_batch_seconds=60))
    shippers.append(shipper)
    offer_lines(shipper, 10, "x" * 300)
    assert shipper.flush(timeout=5)
    small = offer_lines(shipper, 2)
    assert shipper.flush(timeout=5)
    assert [sent.outcome.status for sent in pushes] == [400, 204]
    assert log_server.push_requests() == 2
    stats = shipper.stats
    assert (stats.sent, stats.dropped["rejected"], stats.batches["rejected"], stats.batches["success"]) == (2, 10, 1, 1)
    assert sum(stats.retries.values()) == 0
    assert log_server.stored(shipper.labels["service"]) == as_stored(shipper, small)


def test_retries_stop_after_loki_retry_seconds(own_bed: TestBed, shippers: list[Shipper], pushes: list[Sent]) -> None:
    """Without a spool, a batch the server keeps answering 429 is dropped as retries_exhausted after loki_retry_seconds."""
    log_server = LogServer(own_bed, READ_ONLY)
    shipper = Shipper(log_server.config(loki_retry_seconds=0.5))
    shippers.append(shipper)
    offer_lines(shipper, 7)
    assert shipper.flush(timeout=10)
    assert (shipper.stats.dropped["retries_exhausted"], shipper.stats.sent) == (7, 0)
    assert len(pushes) >= 2
    assert {sent.outcome.status for sent in pushes} == {429}
    assert log_server.stored(shipper.labels["service"]) == []
