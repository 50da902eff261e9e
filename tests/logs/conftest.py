"""Fixtures of the log-shipping tests (helpers in logs_helpers.py)."""

from __future__ import annotations

import logging
import uuid
from collections.abc import Callable, Iterator

import pytest
from logs_helpers import LogServer, Sent

from quantwatch.push import Outcome, Pusher
from quantwatch.shipper import Shipper
from testbed.servers import TestBed


@pytest.fixture
def shippers() -> Iterator[list[Shipper]]:
    """Shippers a test made, closed at its end even when it fails."""
    made: list[Shipper] = []
    yield made
    for shipper in made:
        shipper.close(timeout=0.5)


@pytest.fixture
def logger() -> Iterator[logging.Logger]:
    """A logger of its own, so the root logger's handlers stay out of the test; its handlers are closed at the end."""
    log = logging.getLogger(f"test.logs.{uuid.uuid4().hex[:8]}")
    log.propagate = False
    log.setLevel(logging.DEBUG)
    yield log
    for handler in list(log.handlers):
        log.removeHandler(handler)
        handler.close()


@pytest.fixture(scope="module")
def log_server(testbed_factory: Callable[[str], TestBed]) -> Iterator[LogServer]:
    """One VictoriaLogs for a module whose tests leave it running; each test ships under a service label of its own."""
    bed = testbed_factory("logs")
    yield LogServer(bed)
    bed.close()


@pytest.fixture
def own_bed(testbed_factory: Callable[[str], TestBed]) -> Iterator[TestBed]:
    """A bed for one test that stops, pauses or reconfigures its VictoriaLogs; closed at the test's end."""
    bed = testbed_factory("logs-fault")
    yield bed
    bed.close()


@pytest.fixture
def pushes(monkeypatch: pytest.MonkeyPatch) -> list[Sent]:
    """Every push request the test's shippers made, in order, with what the server answered."""
    sent: list[Sent] = []
    push = Pusher.push

    def recording(self: Pusher, body: bytes, lines: int, timeout: float) -> Outcome:
        outcome = push(self, body, lines, timeout)
        sent.append(Sent(body, outcome))
        return outcome

    monkeypatch.setattr(Pusher, "push", recording)
    return sent
