"""Property fuzz of every public event method: any arguments, of any type and value, in any number.

Each example makes a fresh monitor with a small label cap and calls every
event method once, in a drawn order, with drawn arguments, then times an
operation and an API call: 1,000 examples are 1,000 cases for each method. It
passes when no call raises, the exposition parses (prometheus_client's own
parser), label values stay inside the cap and the closed sets, and
internal_error stays at 0: every bad input is classified.
"""

from __future__ import annotations

import inspect
from collections import defaultdict
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st
from prometheus_client import generate_latest
from prometheus_client.parser import text_string_to_metric_families

from quantwatch import Monitor
from quantwatch.catalogue import API_OUTCOMES, GREEKS, INVALID_REASONS, ORDER_TYPES, SIDES
from quantwatch.labels import MAX_LABEL_LENGTH, OTHER
from quantwatch.monitor import _GUARDED_LABELS
from quantwatch.testing import Captured, capture

EVENTS = (
    "order_submitted",
    "order_filled",
    "order_rejected",
    "order_cancelled",
    "trade_closed",
    "position_opened",
    "position_marked",
    "position_closed",
    "portfolio_snapshot",
    "market_data_tick",
    "api_call_finished",
    "risk_check",
    "error",
)
#: Examples, each a call of every method: at least 1,000 cases each.
EXAMPLES = 1000
CAP = 2
#: Label values outside the guarded labels: the closed sets, and what the library sets itself.
CLOSED = {
    "side": {*SIDES, OTHER},
    "order_type": {*ORDER_TYPES, OTHER},
    "greek": {*GREEKS, OTHER},
    "result": {"win", "loss", "flat", "pass", "fail"},
    "outcome": {*API_OUTCOMES, "filled", "rejected", "cancelled", "ok", OTHER},
}
#: Values a bot might pass: plausible ones, so that calls get past the first check, and anything else.
PLAUSIBLE = st.sampled_from(["SPY", "QQQ", "IWM", "ic", "sell", "buy", "limit", "success", "delta", "o-1", "p-1", "broker", 1, 2.5, -3.0, 0, True])
SCALARS = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.floats(),
    st.text(max_size=70),
    st.text(st.characters(min_codepoint=0xD800, max_codepoint=0xDFFF, exclude_categories=()), min_size=1, max_size=2),
    st.binary(max_size=4),
    st.builds(object),
    st.just(ValueError("boom")),
    st.just(TimeoutError),
)
ANY = st.one_of(
    PLAUSIBLE,
    SCALARS,
    st.lists(SCALARS, max_size=2),
    st.dictionaries(st.text(max_size=6) | PLAUSIBLE, SCALARS, max_size=2),
)


def arguments(method: str) -> st.SearchStrategy[tuple[list[Any], dict[str, Any]]]:
    """Positional arguments up to one more than the method takes, and keywords named like its parameters or not."""
    parameters = [p for p in inspect.signature(getattr(Monitor, method)).parameters.values() if p.name != "self" and p.kind is not p.VAR_KEYWORD]
    positional = sum(p.kind is p.POSITIONAL_OR_KEYWORD for p in parameters)
    names = st.sampled_from([p.name for p in parameters] + ["strategy", "symbol", "side", "order_id", "correlation_id", "message", "extra"])
    return st.tuples(st.lists(ANY, max_size=positional + 1), st.dictionaries(names, ANY, max_size=3))


def assert_sound(cap: Captured) -> None:
    """The exposition parses; every label value is bounded; no event ended as an internal error."""
    values: defaultdict[tuple[str, str], set[str]] = defaultdict(set)
    internal_errors = None
    for family in text_string_to_metric_families(generate_latest(cap.monitor.registry).decode()):
        for sample in family.samples:
            for label, value in sample.labels.items():
                values[(family.name, label)].add(value)
            if sample.labels == {"reason": "internal_error"} and family.name == "quantwatch_invalid_events":
                internal_errors = sample.value
    assert internal_errors == 0
    for (family, label), seen in values.items():
        if family == "quantwatch_invalid_events":
            assert seen <= set(INVALID_REASONS), seen
        elif label in _GUARDED_LABELS:
            assert len(seen - {OTHER}) <= CAP, (family, label, seen)
            assert all(len(value) <= MAX_LABEL_LENGTH for value in seen), (family, label, seen)
        elif label in CLOSED:
            assert seen <= CLOSED[label], (family, label, seen)


@settings(max_examples=EXAMPLES, deadline=None, database=None)
@given(
    order=st.permutations(EVENTS),
    calls=st.fixed_dictionaries({method: arguments(method) for method in EVENTS}),
    block=st.tuples(ANY, ANY, st.dictionaries(st.text(max_size=12) | st.just("correlation_id"), ANY, max_size=3), st.booleans()),
)
def test_every_event_method_takes_anything(
    order: list[str], calls: dict[str, tuple[list[Any], dict[str, Any]]], block: tuple[Any, Any, dict[str, Any], bool]
) -> None:
    """Any arguments to each event method, and any names and fields for an operation and an API call: nothing raises and the monitor stays sound."""
    name, endpoint, fields, fails = block
    with capture(label_cap=CAP) as cap:
        for method in order:
            args, kwargs = calls[method]
            assert getattr(cap.monitor, method)(*args, **kwargs) is None, method
        try:
            with cap.monitor.operation(name, **fields), cap.monitor.api_call(name, endpoint) as call:
                call.fail(endpoint, timeout=fails)
                if fails:
                    raise TimeoutError
        except TimeoutError:
            pass
        assert_sound(cap)


def test_the_fuzz_calls_every_event_method() -> None:
    """EVENTS is every public Monitor method wrapped to never raise, so a new event method cannot miss the fuzz."""
    wrapped = {name for name, member in vars(Monitor).items() if not name.startswith("_") and hasattr(member, "__wrapped__")}
    assert wrapped == set(EVENTS)
