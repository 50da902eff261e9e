"""Waiting with a deadline: tests poll for a condition, never sleep and hope."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import TypeVar

T = TypeVar("T")


def wait_until(
    check: Callable[[], T | None],
    timeout: float,
    what: str,
    interval: float = 0.1,
    retry_on: tuple[type[BaseException], ...] = (),
) -> T:
    """Call ``check`` until it returns something truthy and return that.

    Exceptions in ``retry_on`` count as "not yet". After ``timeout`` seconds raise
    ``TimeoutError`` naming ``what`` and the last result or exception, so a failure says how far it got.
    """
    deadline = time.monotonic() + timeout
    last: object = None
    while True:
        try:
            result = check()
            if result:
                return result
            last = result
        except retry_on as exc:
            last = exc
        if time.monotonic() >= deadline:
            raise TimeoutError(f"{what}: not true after {timeout:g} s (last: {last!r})")
        time.sleep(interval)
