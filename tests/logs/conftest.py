"""Fixtures of the log-shipping tests (helpers in loki_helpers.py)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from loki_helpers import PushStandIn

from quantwatch.shipper import Shipper


@pytest.fixture
def push_standin() -> Iterator[PushStandIn]:
    standin = PushStandIn()
    yield standin
    standin.stop()


@pytest.fixture
def shippers() -> Iterator[list[Shipper]]:
    """Shippers a test made, closed at its end even when it fails."""
    made: list[Shipper] = []
    yield made
    for shipper in made:
        shipper.close(timeout=0.5)
