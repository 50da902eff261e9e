"""JSON log lines: fields, levels, error context, and context across threads and asyncio tasks."""

from __future__ import annotations

import asyncio
import io
import json
import logging
import re
from concurrent.futures import ThreadPoolExecutor

import pytest

from quantwatch import AUDIT, BUSINESS, bind_context, configure_logging, current_context, scoped_context, set_context
from quantwatch.logs import JsonFormatter, rfc3339
from quantwatch.testing import capture

RFC3339_US = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{6}Z$")


def test_event_line_has_every_field_in_order() -> None:
    """An order line carries time, level, logger, service, env, context and the event's fields."""
    with capture(service="condor-bot", env="prod") as cap, scoped_context(correlation_id="abc123", strategy="ic"):
        cap.monitor.order_submitted("o-9", "ic", "SPY", "sell", 3, price=1.5)
    (line,) = cap.lines
    assert RFC3339_US.match(line["ts"])
    assert list(line)[:6] == ["ts", "level", "logger", "message", "service", "env"]
    assert line == {
        "ts": line["ts"],
        "level": "audit",
        "logger": line["logger"],
        "message": "order submitted",
        "service": "condor-bot",
        "env": "prod",
        "correlation_id": "abc123",
        "strategy": "ic",
        "order_id": "o-9",
        "symbol": "SPY",
        "side": "sell",
        "quantity": 3,
        "price": 1.5,
        "order_type": "limit",
    }


def test_rfc3339_is_utc_with_microseconds() -> None:
    """Timestamps are UTC, microsecond precision, with a Z suffix, and round up cleanly."""
    assert rfc3339(0.0) == "1970-01-01T00:00:00.000000Z"
    assert rfc3339(1_700_000_000.123456) == "2023-11-14T22:13:20.123456Z"
    assert rfc3339(59.9999999) == "1970-01-01T00:01:00.000000Z"


def test_custom_levels_are_named_and_ordered() -> None:
    """BUSINESS sits between INFO and WARNING, AUDIT above WARNING so a quiet logger keeps it."""
    assert logging.INFO < BUSINESS < logging.WARNING < AUDIT < logging.ERROR
    assert logging.getLevelName(BUSINESS) == "BUSINESS"
    assert logging.getLevelName(AUDIT) == "AUDIT"
    with capture() as cap:
        cap.monitor.trade_closed("ic", "SPY", "sell", 5.0)
    assert cap.lines[0]["level"] == "business"


def test_error_line_has_type_message_and_stack() -> None:
    """An error with an exception logs its type, message and full stack trace."""
    with capture() as cap:
        try:
            raise ConnectionError("broker hung up")
        except ConnectionError as exc:
            cap.monitor.error("execution", exc)
    (line,) = cap.lines
    assert line["level"] == "error"
    assert line["component"] == "execution"
    assert line["error_type"] == "ConnectionError"
    assert line["error_message"] == "broker hung up"
    assert "Traceback" in line["stack_trace"]
    assert "raise ConnectionError" in line["stack_trace"]


def test_non_finite_values_stay_valid_json() -> None:
    """A NaN from the bot becomes the string 'nan' so the line still parses as JSON."""
    with capture() as cap:
        cap.monitor.trade_closed("ic", "SPY", "sell", float("nan"))
    assert cap.lines[0]["realized_pnl"] == "nan"


def test_plain_logging_gets_json_with_context_and_extra() -> None:
    """Existing logger calls become JSON lines with context and extra fields."""
    stream, root = io.StringIO(), logging.getLogger()
    level = root.level
    handler = configure_logging("bot", "test", stream=stream)
    try:
        with scoped_context(symbol="QQQ"):
            logging.getLogger("bot.strategy").warning("spread too wide", extra={"spread_bps": 42})
    finally:
        root.removeHandler(handler)
        root.setLevel(level)
    line = json.loads(stream.getvalue())
    assert (line["level"], line["logger"], line["message"]) == ("warning", "bot.strategy", "spread too wide")
    assert (line["symbol"], line["spread_bps"], line["service"]) == ("QQQ", 42, "bot")


def test_operation_nests_and_times() -> None:
    """A nested operation shares the correlation_id, names its parent and logs its duration."""
    with capture() as cap:
        with cap.monitor.operation("rebalance", strategy="ic") as outer, cap.monitor.operation("hedge") as inner:
            assert current_context()["parent_operation"] == "rebalance"
        assert "correlation_id" not in current_context()
    assert inner.correlation_id == outer.correlation_id
    hedge, rebalance = cap.lines
    assert hedge["message"] == "hedge finished"
    assert hedge["strategy"] == "ic"
    assert hedge["correlation_id"] == outer.correlation_id
    assert rebalance["execution_time_ms"] >= hedge["execution_time_ms"] >= 0
    assert cap.value("trading_operation_duration_seconds_count", operation="hedge", outcome="ok") == 1


def test_failed_operation_is_timed_and_reraised() -> None:
    """An exception inside an operation propagates unchanged and is recorded as outcome=error."""
    with capture() as cap:
        with pytest.raises(RuntimeError, match="no liquidity"), cap.monitor.operation("roll"):
            raise RuntimeError("no liquidity")
        assert cap.value("trading_operation_duration_seconds_count", operation="roll", outcome="error") == 1
    assert cap.lines[0]["error_type"] == "RuntimeError"


def test_context_crosses_threads_with_bind_context() -> None:
    """bind_context carries the caller's fields into a pool thread; a bare submit does not."""
    with scoped_context(correlation_id="c-1"), ThreadPoolExecutor(max_workers=1) as pool:
        bound = pool.submit(bind_context(lambda: current_context().get("correlation_id"))).result()
        bare = pool.submit(lambda: current_context().get("correlation_id")).result()
    assert (bound, bare) == ("c-1", None)


def test_context_is_per_asyncio_task() -> None:
    """Each task sees the fields it set itself, plus what the parent had when it was created."""

    async def task(symbol: str) -> tuple[str, str]:
        set_context(symbol=symbol)
        await asyncio.sleep(0)
        return current_context()["symbol"], current_context()["strategy"]

    async def main() -> list[tuple[str, str]]:
        set_context(strategy="ic")
        return await asyncio.gather(task("SPY"), task("QQQ"))

    assert asyncio.run(main()) == [("SPY", "ic"), ("QQQ", "ic")]
    assert "strategy" not in current_context()


@pytest.mark.parametrize(
    "fields",
    [
        {},
        {"qw_fields": {"order_id": "o-1", "price": 1.25, "legs": [{"k": None}], "obj": object.__new__(object)}},
        {"qw_fields": {"symbol": "QQQ"}},  # overrides the context's symbol in place
        {"qw_fields": {"message": "renamed"}},  # a head key: the general path
        {"spread_bps": 42},  # `extra`: the general path
        {"name": None},  # a hand-made record
    ],
    ids=["plain", "event-fields", "field-over-context", "head-key", "extra", "no-name"],
)
def test_fast_path_writes_the_general_paths_line(fields: dict[str, object]) -> None:
    """format()'s hand-written head gives exactly the line of json.dumps(to_dict()), escapes included."""
    formatter = JsonFormatter('condor "bot"', "prod")
    record = logging.makeLogRecord({"name": "bot.é", "levelno": AUDIT, "levelname": "AUDIT", "msg": 'fill %s\n"%d"', "args": ("é", 3), **fields})
    with scoped_context(symbol="SPY", strategy="ic"):
        expected = json.dumps(formatter.to_dict(record), separators=(",", ":"), ensure_ascii=False, default=str)
        assert formatter.format(record) == expected
