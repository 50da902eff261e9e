"""Checks on bot input: values become safe label values and finite numbers, or reasons.

Nothing here raises. A bad value is replaced (``other`` for a label, ``None``
for a number or an id) and its reason recorded, so the event is still counted
and logged and the caller can report the reasons once.
"""

from __future__ import annotations

import math
import threading
from collections.abc import Callable, Collection, Iterable
from typing import Any

OTHER = "other"
MAX_LABEL_LENGTH = 64


class LabelGuard:
    """Bounds the values one label may take: an allow-list, else the first ``cap`` values seen.

    >>> guard = LabelGuard("symbol", cap=2)
    >>> [guard.admit(s) for s in ("SPY", "QQQ", "IWM", "SPY")]
    ['SPY', 'QQQ', 'other', 'SPY']
    """

    def __init__(self, label: str, cap: int, allowed: Iterable[str] = (), on_overflow: Callable[[], None] = lambda: None) -> None:
        self.label = label
        self.cap = cap
        self._seen: set[str] = set(allowed)
        self._fixed = bool(self._seen)
        self._lock = threading.Lock()
        self._on_overflow = on_overflow

    def admitted(self, value: str) -> bool:
        """Whether ``value`` is already a label value here (allow-listed or seen); it passed the checks then."""
        return value in self._seen

    def admit(self, value: str) -> str:
        """``value`` if it may be a label value, else ``other``."""
        if value in self._seen:
            return value
        with self._lock:
            if not self._fixed and len(self._seen) < self.cap:
                self._seen.add(value)
                return value
        self._on_overflow()
        return OTHER


def label_problem(value: str) -> str:
    """Why the string ``value`` cannot be a label value ("" when it can): also used to check allow-lists."""
    if not value:
        return "empty"
    if len(value) > MAX_LABEL_LENGTH:
        return "too_long"
    if not value.isascii():
        try:
            value.encode("utf-8")
        except UnicodeEncodeError:  # a lone surrogate: the exposition could never be encoded again
            return "not_utf8"
    return ""


class Checker:
    """Collects the reasons an event's fields are bad while turning them into usable values."""

    __slots__ = ("reasons",)

    def __init__(self) -> None:
        self.reasons: list[str] = []

    def bad(self, reason: str, field: str) -> None:
        """Record that ``field`` is bad for ``reason`` (one of the catalogue's INVALID_REASONS)."""
        self.reasons.append(f"{reason}:{field}")

    def number(self, field: str, value: Any, *, negative_ok: bool = False) -> float | None:
        """A finite float (non-negative unless allowed), or None."""
        if isinstance(value, bool) or not isinstance(value, int | float):
            self.bad("wrong_type", field)
            return None
        try:
            number = float(value)
        except OverflowError:  # an int beyond any float
            number = math.inf
        if not math.isfinite(number):
            self.bad("non_finite", field)
            return None
        if number < 0 and not negative_ok:
            self.bad("negative", field)
            return None
        return number

    def optional_number(self, field: str, value: Any, *, negative_ok: bool = False) -> float | None:
        """Like :meth:`number`, but None passes silently."""
        return None if value is None else self.number(field, value, negative_ok=negative_ok)

    def identifier(self, field: str, value: Any) -> str | None:
        """A non-empty string naming an order or a position, or None; ids never become labels, so any length will do."""
        if not isinstance(value, str):
            self.bad("wrong_type", field)
            return None
        if not value:
            self.bad("empty", field)
            return None
        return value

    def text(self, field: str, value: Any) -> str:
        """A string that can be a label value, else ``other``."""
        if not isinstance(value, str):
            self.bad("wrong_type", field)
            return OTHER
        problem = label_problem(value)
        if problem:
            self.bad(problem, field)
            return OTHER
        return value

    def label(self, field: str, value: Any, guard: LabelGuard) -> str:
        """A checked string, admitted by ``guard``; one admitted before skips the checks (the bot repeats a few values)."""
        if isinstance(value, str) and guard.admitted(value):
            return value
        text = self.text(field, value)
        return text if text == OTHER else guard.admit(text)

    def choice(self, field: str, value: Any, allowed: Collection[str]) -> str:
        """One of ``allowed`` (case-insensitive), else ``other``."""
        if not isinstance(value, str):
            self.bad("wrong_type", field)
            return OTHER
        lowered = value.lower()
        if lowered not in allowed:
            self.bad("unknown_value", field)
            return OTHER
        return lowered
