"""Trading context carried by ``contextvars`` into every log line and exemplar.

Asyncio tasks inherit the context on creation; plain threads do not, so
:func:`bind_context` carries it into a callable run elsewhere.
"""

from __future__ import annotations

import contextvars
import uuid
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from types import MappingProxyType
from typing import Any, ParamSpec, TypeVar

_EMPTY: Mapping[str, Any] = MappingProxyType({})
_context: contextvars.ContextVar[Mapping[str, Any]] = contextvars.ContextVar("quantwatch_context", default=_EMPTY)

P = ParamSpec("P")
R = TypeVar("R")


def current_context() -> Mapping[str, Any]:
    """The fields in force here (read-only)."""
    return _context.get()


def set_context(**fields: Any) -> None:
    """Add fields (symbol, strategy, order_id, ...) to every later log line of this task or thread."""
    _context.set(MappingProxyType({**_context.get(), **fields}))


@contextmanager
def scoped_context(**fields: Any) -> Iterator[Mapping[str, Any]]:
    """Add fields for the duration of a ``with`` block, then restore what was there."""
    token = _context.set(MappingProxyType({**_context.get(), **fields}))
    try:
        yield _context.get()
    finally:
        _context.reset(token)


def new_correlation_id() -> str:
    """A short random id, unique enough to find one operation's lines in Loki."""
    return uuid.uuid4().hex[:16]


def bind_context(fn: Callable[P, R]) -> Callable[P, R]:
    """Wrap ``fn`` to run in a copy of the caller's context, e.g. for a thread pool."""
    ctx = contextvars.copy_context()

    def run(*args: P.args, **kwargs: P.kwargs) -> R:
        return ctx.copy().run(fn, *args, **kwargs)

    return run
