"""Acceptance against the real VictoriaLogs: n lines in, exactly n out, with their labels, times, fields and order.

One server for the module; each test ships under a service label of its own.
"""

from __future__ import annotations

import json
import logging
import os
import subprocess
import sys
import threading
import time

import pytest
from logs_helpers import DAY_NS, DROPPED_TOO_OLD, LogServer, Sent, as_stored, offer_lines, record_offers, unique_service

from quantwatch import AUDIT, Config, LokiHandler, Monitor, scoped_context
from quantwatch.config import LOKI_BATCH_MAX
from quantwatch.push import JSON_GZIP, Pusher
from quantwatch.shipper import Shipper
from testbed.binaries import REPO

pytestmark = pytest.mark.servers


def attach(log_server: LogServer, logger: logging.Logger, **options: object) -> LokiHandler:
    """A LokiHandler shipping to ``log_server`` under its own service label, on ``logger``."""
    handler = LokiHandler(log_server.config(**options))
    logger.addHandler(handler)
    return handler


def test_n_lines_in_exactly_n_out_with_labels_times_and_order(log_server: LogServer, logger: logging.Logger, pushes: list[Sent]) -> None:
    """3,000 lines from three threads at four levels are stored once each with their labels and ns times; each stream is sent in the order queued."""
    handler = attach(log_server, logger)
    accepted = record_offers(handler.shipper)

    def emit(worker: int) -> None:
        with scoped_context(strategy="iron_condor", symbol="SPY", correlation_id=f"corr-{worker}"):
            for i in range(1000):
                level = (logging.INFO, logging.WARNING, AUDIT, logging.ERROR)[i % 4]
                logger.log(level, "event %d of worker %d", i, worker, extra={"order_id": f"o-{worker}-{i}"})

    threads = [threading.Thread(target=emit, args=(w,)) for w in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert handler.shipper.flush(timeout=30)
    stored = log_server.stored(handler.shipper.labels["service"])
    assert len(accepted) == 3000
    assert stored == as_stored(handler.shipper, accepted)
    by_stream = sorted([entry for sent in pushes for entry in sent.entries], key=lambda entry: entry[0])  # stable: each level in its own order
    assert by_stream == sorted([(level, line) for _, level, line in accepted], key=lambda entry: entry[0])
    assert handler.shipper.stats.sent == 3000
    assert {"order_id", "correlation_id", "strategy", "symbol"} <= json.loads(stored[0][2]).keys()


def test_labels_are_fixed_and_time_and_trading_fields_are_the_records(log_server: LogServer, logger: logging.Logger) -> None:
    """Stream labels are service, env and level only; the time is the record's; trading ids stay in the JSON line."""
    handler = attach(log_server, logger)
    records: list[logging.LogRecord] = []
    logger.addFilter(lambda record: records.append(record) or True)
    with scoped_context(correlation_id="c0ffee", strategy="iron_condor", symbol="SPY"):
        logger.info("filled %s", "o-1", extra={"order_id": "o-1"})
        logger.log(AUDIT, "order submitted")
        logger.warning("slow broker")
        expected = [handler.format(r) for r in records]
    assert handler.shipper.flush(timeout=5)
    service = handler.shipper.labels["service"]
    stored = log_server.stored(service)
    assert [labels for labels, _, _ in stored] == [{"service": service, "env": "test", "level": level} for level in ("info", "audit", "warning")]
    assert [ts for _, ts, _ in stored] == [int(r.created * 1e9) for r in records]
    assert [line for _, _, line in stored] == expected
    fields = json.loads(stored[0][2])
    assert fields["message"] == "filled o-1"
    assert {k: fields[k] for k in ("correlation_id", "strategy", "symbol", "order_id")} == {
        "correlation_id": "c0ffee",
        "strategy": "iron_condor",
        "symbol": "SPY",
        "order_id": "o-1",
    }


def test_a_record_that_cannot_be_formatted_still_arrives(log_server: LogServer, capfd: pytest.CaptureFixture[str]) -> None:
    """A bad %-argument is stored as a JSON line marked format_error instead of a printed traceback."""
    handler = LokiHandler(log_server.config())
    handler.handle(logging.makeLogRecord({"name": "bot", "levelno": logging.INFO, "levelname": "INFO", "msg": "needs %d", "args": ("not a number",)}))
    assert handler.shipper.close(timeout=5)
    ((_, _, line),) = log_server.stored(handler.shipper.labels["service"])
    assert json.loads(line)["format_error"] is True
    assert json.loads(line)["message"] == "'needs %d'"
    assert capfd.readouterr().err == ""


@pytest.mark.parametrize(
    ("limit", "message"),
    [(1000, "boom " + 'é"' * 3000), (Config().loki_max_line_bytes, "boom " + "x" * 300_000)],
    ids=["small-limit", "default-limit"],
)
def test_long_line_is_stored_cut_to_the_limit_and_marked(log_server: LogServer, logger: logging.Logger, limit: int, message: str) -> None:
    """A line over loki_max_line_bytes is stored within it, still JSON, its long field cut and marked truncated."""
    handler = attach(log_server, logger, loki_max_line_bytes=limit)
    logger.error(message, extra={"order_id": "o-7"})
    assert handler.shipper.flush(timeout=30)
    assert (handler.shipper.stats.sent, sum(handler.shipper.stats.dropped.values())) == (1, 0)
    ((_, _, line),) = log_server.stored(handler.shipper.labels["service"])
    assert limit * 0.9 < len(line.encode()) <= limit
    fields = json.loads(line)
    assert (fields["truncated"], fields["order_id"]) == (True, "o-7")
    assert fields["message"].startswith(message[:6])
    assert fields["message"].endswith("…")


@pytest.mark.parametrize("suffix", ["", "/loki/api/v1/push"], ids=["base-url", "push-url"])
def test_base_url_and_full_push_url_both_deliver(log_server: LogServer, shippers: list[Shipper], suffix: str) -> None:
    """loki_url given as the server's base URL or as its full push URL reaches the same endpoint."""
    shipper = Shipper(log_server.config(loki_url=log_server.bed.loki_url + suffix))
    shippers.append(shipper)
    entries = offer_lines(shipper, 5)
    assert shipper.flush(timeout=5)
    assert log_server.stored(shipper.labels["service"]) == as_stored(shipper, entries)


def test_largest_batch_is_taken_whole(log_server: LogServer) -> None:
    """One push of LOKI_BATCH_MAX plus one longest line, of the shortest lines quantwatch writes, is answered 204 and stored line for line."""
    pusher = Pusher(log_server.bed.loki_url, JSON_GZIP)
    labels = {"service": unique_service(), "env": "test"}
    shortest = '{"ts":"2026-11-25T08:00:00.000000Z","level":"info","logger":"bot","message":"","service":"s","env":"e"}'
    now = time.time_ns()
    count = (LOKI_BATCH_MAX + Config().loki_max_line_bytes) // (len(shortest) + 8)
    batch = [(now + i, "info", f"{shortest} {i:07d}") for i in range(count)]
    try:
        assert pusher.push(JSON_GZIP.encode(batch, labels), len(batch), timeout=30).status == 204
    finally:
        pusher.close()
    log_server.api.flush()
    assert log_server.api.count(f'_stream:{{service="{labels["service"]}"}}') == count


def test_close_drains_queued_lines(log_server: LogServer, shippers: list[Shipper]) -> None:
    """close() pushes what is queued at once, without waiting for the batch interval."""
    shipper = Shipper(log_server.config(loki_batch_seconds=60))
    shippers.append(shipper)
    entries = offer_lines(shipper, 50)
    assert shipper.stats.sent == 0
    assert shipper.close(timeout=5) is True
    assert log_server.stored(shipper.labels["service"]) == as_stored(shipper, entries)


def test_monitor_ships_its_events_and_close_drains_and_detaches(log_server: LogServer) -> None:
    """Monitor events reach the server through the root logger; close() pushes them at once, in order, and detaches the handler."""
    config = log_server.config()
    mon = Monitor(service=config.service, env="test", log_to_stderr=False, loki_url=config.loki_url, loki_batch_seconds=300)
    assert mon.log_outputs.loki in logging.getLogger().handlers
    for i in range(200):
        mon.order_submitted(f"o-{i}", strategy="iron_condor", symbol="SPY", side="sell", quantity=1)
    assert mon.registry.get_sample_value("quantwatch_log_lines_sent_total") == 0  # the batch interval has not passed: close() must push
    mon.close()
    assert [json.loads(line)["order_id"] for _, _, line in log_server.stored(config.service)] == [f"o-{i}" for i in range(200)]
    assert mon.log_outputs.loki not in logging.getLogger().handlers
    assert mon.registry.get_sample_value("quantwatch_log_lines_sent_total") == 200


def test_interpreter_exit_drains(log_server: LogServer) -> None:
    """A bot that exits without closing its Monitor still delivers its queued lines (atexit)."""
    service = log_server.config().service
    script = (
        "import logging, quantwatch\n"
        "logging.getLogger().setLevel(logging.INFO)  # the bot's own level decides what its lines ship\n"
        f"mon = quantwatch.Monitor(service={service!r}, env='test', loki_url={log_server.bed.loki_url!r}, loki_batch_seconds=300)\n"
        "for i in range(300): logging.getLogger('bot').info('line %d', i)\n"
    )
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(filter(None, [str(REPO / "exporter"), os.environ.get("PYTHONPATH")])))
    subprocess.run([sys.executable, "-c", script], check=True, env=env, timeout=60, capture_output=True)
    assert [json.loads(line)["message"] for _, _, line in log_server.stored(service)] == [f"line {i}" for i in range(300)]


def test_lines_older_than_max_age_are_dropped_not_sent(log_server: LogServer, shippers: list[Shipper]) -> None:
    """A line past loki_max_age_seconds (here also past the server's 7 d retention) is counted too_old and never sent for the server to drop."""
    dropped_before = log_server.api.metric(DROPPED_TOO_OLD)
    shipper = Shipper(log_server.config())
    shippers.append(shipper)
    fresh = (time.time_ns(), "info", "fresh")
    assert shipper.offer(fresh[0] - 8 * DAY_NS, "info", "stale")
    assert shipper.offer(*fresh)
    assert shipper.flush(timeout=5)
    assert log_server.stored(shipper.labels["service"]) == as_stored(shipper, [fresh])
    assert (shipper.stats.dropped["too_old"], shipper.stats.sent) == (1, 1)
    assert log_server.api.metric(DROPPED_TOO_OLD) == dropped_before
