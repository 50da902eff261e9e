"""The memory queue with no server to reach: bounds in lines and bytes, close() by its deadline, the counters as metrics."""

from __future__ import annotations

import logging
import time

import pytest
from logs_helpers import closed_port_url, config, offer_lines
from prometheus_client import CollectorRegistry

from quantwatch import LokiHandler
from quantwatch.catalogue import BY_NAME, LOG_DROP_REASONS
from quantwatch.loki import LokiCollector
from quantwatch.shipper import Shipper


def test_full_queue_drops_and_counts_without_printing(capfd: pytest.CaptureFixture[str], shippers: list[Shipper]) -> None:
    """With the server unreachable, lines past loki_queue_lines are refused at once and counted as queue_full; nothing is printed."""
    shipper = Shipper(config(closed_port_url(), loki_queue_lines=10))
    shippers.append(shipper)
    accepted = [shipper.offer(time.time_ns(), "info", f"line {i}") for i in range(25)]
    assert accepted == [True] * 10 + [False] * 15
    assert shipper.stats.dropped["queue_full"] == 15
    assert shipper.held_lines == 10
    assert capfd.readouterr() == ("", "")


def test_queue_is_bounded_in_bytes_too(shippers: list[Shipper]) -> None:
    """A line that would take the queue past loki_queue_bytes is dropped even when the line count allows it."""
    shipper = Shipper(config(closed_port_url(), loki_queue_bytes=1000, loki_max_line_bytes=400))
    shippers.append(shipper)
    assert [shipper.offer(time.time_ns(), "info", "x" * 400) for _ in range(3)] == [True, True, False]
    assert shipper.held_bytes == 800
    assert shipper.stats.dropped["queue_full"] == 1


def test_close_with_the_server_unreachable_counts_what_is_left_as_shutdown(shippers: list[Shipper]) -> None:
    """close() gives up at its deadline with the server unreachable and counts the undelivered lines, and later ones, as shutdown."""
    shipper = Shipper(config(closed_port_url()))
    shippers.append(shipper)
    offer_lines(shipper, 12)
    assert shipper.close(timeout=0.5) is False
    assert shipper.stats.dropped["shutdown"] == 12
    assert shipper.offer(time.time_ns(), "info", "late") is False
    assert shipper.stats.dropped["shutdown"] == 13


def test_collector_exposes_every_log_family_of_the_catalogue(logger: logging.Logger) -> None:
    """Each quantwatch_log_* family is exposed with the catalogue's labels, reading the shipper's counters."""
    handler = LokiHandler(config(closed_port_url(), loki_queue_lines=2, loki_close_seconds=0.1))
    logger.addHandler(handler)
    for i in range(3):
        logger.info("line %d", i)
    registry = CollectorRegistry()
    registry.register(LokiCollector(handler.shipper))
    exposed = {metric.name for metric in registry.collect()}
    expected = {spec.name.removesuffix("_total") for spec in BY_NAME.values() if spec.name.startswith("quantwatch_log_")}
    assert exposed == expected
    for reason in LOG_DROP_REASONS:
        assert registry.get_sample_value("quantwatch_log_lines_dropped_total", {"reason": reason}) == (1 if reason == "queue_full" else 0)
    assert registry.get_sample_value("quantwatch_log_queue_lines") == 2
    assert registry.get_sample_value("quantwatch_log_push_duration_seconds_count") == sum(handler.shipper.stats.push_buckets)
