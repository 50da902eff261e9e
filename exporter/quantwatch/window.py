"""Bounded sliding windows of recent events, for rates that must exist inside the process.

The health score needs an error rate and an API success ratio without asking
Prometheus. Appends are O(1) on the event path; pruning happens at scrape time.
"""

from __future__ import annotations

import time
from collections import deque


class Window:
    """Monotonic timestamps of recent events with a success flag; at most ``maxlen`` kept.

    >>> w = Window(seconds=60)
    >>> w.add(ok=False); w.add(ok=True)
    >>> w.ratio_ok(time.monotonic())
    0.5
    """

    def __init__(self, seconds: float, maxlen: int = 100_000) -> None:
        self.seconds = seconds
        self._events: deque[tuple[float, bool]] = deque(maxlen=maxlen)

    def add(self, ok: bool = True) -> None:
        """Record one event, now."""
        self._events.append((time.monotonic(), ok))

    def _prune(self, now: float) -> None:
        cutoff = now - self.seconds
        events = self._events
        while events and events[0][0] < cutoff:
            events.popleft()

    def per_minute(self, now: float) -> float:
        """Events per minute over the window ending at ``now``."""
        self._prune(now)
        return len(self._events) * 60.0 / self.seconds

    def ratio_ok(self, now: float) -> float | None:
        """Share of events flagged ok in the window, or None when there were none."""
        self._prune(now)
        events = list(self._events)
        if not events:
            return None
        return sum(1 for _, ok in events if ok) / len(events)
