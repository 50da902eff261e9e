"""The Monitor's event lines reach Loki without a LogRecord when its handler is the only one they would reach, and read the same."""

from __future__ import annotations

import enum
import json
import logging
from collections.abc import Callable
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st
from prometheus_client import CollectorRegistry

from quantwatch import Monitor, scoped_context
from quantwatch.logs import _encode, _encode_plain
from quantwatch.loki import LokiHandler

#: Nothing listens here: the shipper is replaced before a line could be pushed.
UNUSED_URL = "http://127.0.0.1:9/insert"


class _Listening(logging.Handler):
    """A handler of the bot's: its presence means a real record must be made."""

    def emit(self, record: logging.LogRecord) -> None:
        pass


def _events(mon: Monitor) -> None:
    with scoped_context(symbol="SPY", desk="vol"):
        mon.order_submitted("o-1", strategy="iron_condor", symbol="SPY", side="sell", quantity=2, price=1.25, note='a "quoted" note')
        mon.order_filled("o-1", fill_price=1.24, latency_seconds=0.25)
        mon.trade_closed("iron_condor", "SPY", "sell", realized_pnl=-41.5)
        mon.order_submitted("o-2", strategy="iron_condor", symbol="SPY", side="sell", quantity=float("nan"))  # invalid: counted and logged
        mon.api_call_finished("broker", "quote", 0.5, "timeout", level="a field named like a head key")
        mon.error("broker", ValueError("boom"))


def _ship(monkeypatch: pytest.MonkeyPatch, handlers: Callable[[LokiHandler], list[logging.Handler]]) -> tuple[list[dict[str, Any]], int]:
    """The lines ``_events`` ships (their ts left out) with the root logger's handlers set by ``handlers``, and how many went direct."""
    mon = Monitor(service="bot", env="test", loki_url=UNUSED_URL, registry=CollectorRegistry())
    loki = mon.log_outputs.loki
    assert loki is not None
    lines: list[dict[str, Any]] = []
    direct = 0
    offer_event = loki.offer_event

    def counted(*args: Any) -> bool:
        nonlocal direct
        shipped = offer_event(*args)
        direct += shipped
        return shipped

    monkeypatch.setattr(loki.shipper, "offer", lambda ts, level, line: lines.append({"stream_level": level, **json.loads(line)}) or True)
    monkeypatch.setattr(loki, "offer_event", counted)
    with monkeypatch.context() as patch:
        patch.setattr(logging.getLogger(), "handlers", handlers(loki))
        _events(mon)
    mon.close()
    for line in lines:
        line.pop("ts")
        line.pop("stack_trace", None)  # the traceback names the frames it passed through
    return lines, direct


def test_the_direct_path_ships_the_lines_a_record_would(monkeypatch: pytest.MonkeyPatch) -> None:
    """Same keys in the same order, same values and stream level; a NaN, a head-key field or an exception still take the record's path."""
    direct, went_direct = _ship(monkeypatch, lambda loki: [loki])
    by_record, none_direct = _ship(monkeypatch, lambda loki: [loki, _Listening()])
    assert none_direct == 0
    assert went_direct == 3  # the three good events; not the NaN (written as "nan"), the head-key field or the exception
    assert [list(line) for line in direct] == [list(line) for line in by_record]
    assert direct == by_record


@pytest.mark.parametrize(
    ("handler_level", "expected"),
    [(logging.ERROR, True), (logging.NOTSET, False)],
    ids=["the bot's handler above the event level", "the bot's handler takes everything"],
)
def test_a_handler_of_the_bots_that_takes_the_event_gets_a_record(monkeypatch: pytest.MonkeyPatch, handler_level: int, expected: bool) -> None:
    mon = Monitor(service="bot", env="test", loki_url=UNUSED_URL, registry=CollectorRegistry())
    loki = mon.log_outputs.loki
    assert loki is not None
    listening = _Listening(handler_level)
    monkeypatch.setattr(logging.getLogger(), "handlers", [loki, listening])
    try:
        assert (mon.log_outputs.sole_loki(mon.logger, logging.INFO) is loki) is expected
        assert mon.log_outputs.sole_loki(mon.logger, logging.CRITICAL) is None  # the bot's handler takes that one either way
    finally:
        mon.close()
    assert mon.log_outputs.sole_loki(mon.logger, logging.INFO) is None  # closed: Loki is off the root logger


class Side(enum.Enum):
    SELL = "sell"


scalars = st.one_of(st.none(), st.booleans(), st.integers(), st.floats(), st.text())
extras = st.one_of(scalars, st.lists(scalars, max_size=3), st.dictionaries(st.text(max_size=5), scalars, max_size=3), st.sampled_from([Side.SELL]))


@given(st.dictionaries(st.text(max_size=8), extras, max_size=8))
def test_the_fast_encoder_writes_what_the_standard_one_does_or_declines(fields: dict[str, Any]) -> None:
    """orjson writes plain finite scalars only, and then the same JSON; NaN, nesting, enums and big ints are left to the json module."""
    fast = _encode_plain(fields)
    if fast is None:
        return
    assert all(type(v) in {str, int, float, bool, type(None)} for v in fields.values())
    assert json.loads(fast) == json.loads(_encode(fields))
    assert list(json.loads(fast)) == list(fields)


def test_the_fast_encoder_declines_what_it_would_write_differently() -> None:
    for value in (float("nan"), float("inf"), -float("inf"), 2**64, Side.SELL, {"nested": 1}, [1], "\ud800"):
        assert _encode_plain({"value": value}) is None, value
