"""LokiHandler: what a log call turns into on the wire, and that it never raises or prints."""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator

import pytest
from loki_helpers import PushStandIn, closed_port_url, config
from prometheus_client import CollectorRegistry

from quantwatch import AUDIT, LokiHandler, Monitor, context
from quantwatch.catalogue import BY_NAME, LOG_DROP_REASONS
from quantwatch.loki import LokiCollector, truncate_line


@pytest.fixture
def logger() -> Iterator[logging.Logger]:
    """A logger of its own, so the root logger's handlers stay out of the test."""
    log = logging.getLogger("test.loki")
    log.propagate = False
    log.setLevel(logging.DEBUG)
    yield log
    for handler in list(log.handlers):
        log.removeHandler(handler)
        handler.close()


def test_lines_keep_fixed_labels_record_time_and_trading_fields(push_standin: PushStandIn, logger: logging.Logger) -> None:
    """Labels are service, env and level only; the timestamp is the record's; trading ids stay in the JSON line."""
    handler = LokiHandler(config(push_standin.url))
    logger.addHandler(handler)
    records: list[logging.LogRecord] = []
    logger.addFilter(lambda record: records.append(record) or True)
    with context(correlation_id="c0ffee", strategy="iron_condor", symbol="SPY"):
        logger.info("filled %s", "o-1", extra={"order_id": "o-1"})
        logger.log(AUDIT, "order submitted")
        logger.warning("slow broker")
        expected = [handler.format(r) for r in records]
    assert handler.shipper.flush(timeout=5)
    entries = sorted((e for push in push_standin.pushes for e in push.entries), key=lambda e: e[1])
    assert [labels for labels, _, _ in entries] == [{"service": "condor-bot", "env": "test", "level": level} for level in ("info", "audit", "warning")]
    assert [ts for _, ts, _ in entries] == [int(r.created * 1e9) for r in records]
    first = json.loads(entries[0][2])
    assert first["message"] == "filled o-1"
    assert {k: first[k] for k in ("correlation_id", "strategy", "symbol", "order_id")} == {
        "correlation_id": "c0ffee",
        "strategy": "iron_condor",
        "symbol": "SPY",
        "order_id": "o-1",
    }
    assert [line for _, _, line in entries] == expected


def test_a_record_that_cannot_be_formatted_still_arrives(push_standin: PushStandIn, capfd: pytest.CaptureFixture[str]) -> None:
    """A bad %-argument gives a JSON line marked format_error instead of a printed traceback."""
    handler = LokiHandler(config(push_standin.url))
    handler.handle(logging.makeLogRecord({"name": "bot", "levelno": logging.INFO, "levelname": "INFO", "msg": "needs %d", "args": ("not a number",)}))
    assert handler.shipper.close(timeout=5)
    (line,) = push_standin.lines()
    assert json.loads(line)["format_error"] is True
    assert json.loads(line)["message"] == "'needs %d'"
    assert capfd.readouterr().err == ""


def test_long_line_is_truncated_to_max_and_marked(push_standin: PushStandIn, logger: logging.Logger) -> None:
    """A line over loki_max_line_bytes arrives within it, still JSON, its long field cut and marked truncated."""
    handler = LokiHandler(config(push_standin.url, loki_max_line_bytes=1000))
    logger.addHandler(handler)
    logger.error("boom " + 'é"' * 3000, extra={"order_id": "o-7"})
    assert handler.shipper.flush(timeout=5)
    (line,) = push_standin.lines()
    assert len(line.encode()) <= 1000
    fields = json.loads(line)
    assert fields["truncated"] is True
    assert fields["order_id"] == "o-7"
    assert fields["message"].startswith("boom é")
    assert fields["message"].endswith("…")


def test_plain_text_over_the_limit_is_cut_and_marked() -> None:
    """A line that is not a JSON object is cut to the limit and ends with its original size."""
    line = truncate_line("x" * 5000, 100)
    assert len(line.encode()) <= 100
    assert line.endswith("…[truncated 5000 bytes]")
    assert truncate_line("short", 100) == "short"


def test_collector_exposes_every_log_family_of_the_catalogue(logger: logging.Logger) -> None:
    """Each quantwatch_log_* family is exposed with the catalogue's labels, reading the shipper's counters."""
    handler = LokiHandler(config(closed_port_url(), loki_queue_lines=2))
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


def test_monitor_ships_its_events_and_drains_on_close(push_standin: PushStandIn) -> None:
    """With loki_url set, Monitor events reach Loki through the root logger and close() drains and detaches."""
    mon = Monitor(service="condor-bot", env="test", log_to_stderr=False, loki_url=push_standin.url, loki_batch_seconds=60)
    assert mon.logs.loki in logging.getLogger().handlers
    mon.order_submitted("o-1", strategy="iron_condor", symbol="SPY", side="sell", quantity=1)
    assert push_standin.lines() == []  # the batch interval has not passed: close() must push it
    mon.close()
    (line,) = push_standin.lines()
    assert json.loads(line)["order_id"] == "o-1"
    assert mon.logs.loki not in logging.getLogger().handlers
    assert mon.registry.get_sample_value("quantwatch_log_lines_sent_total") == 1
