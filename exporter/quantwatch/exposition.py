"""``/metrics`` with quantwatch's own families served from rendered text kept between scrapes.

prometheus_client builds a Sample object per series and formats every line on
every scrape: ~50 ms of the trading process's CPU for the default ~2,000
series, most of them unchanged since the previous scrape. Here each child of
the event-driven families (:func:`quantwatch.metrics.register`) keeps the bytes
prometheus_client's own encoder rendered for it, with the value objects they
were rendered from; a scrape compares those objects by identity (any update
stores a new float, and the cache holds the old one, so identity means
"unchanged") and re-renders only the children that changed or are new. Every
other collector of the registry (the bot's metrics, the scrape-time
collectors) is rendered by prometheus_client's encoders at each scrape, in the
registry's order.

The Accept header picks the encoder through prometheus_client's
``choose_encoder`` and ``gzip_accepted`` decides compression, so content
negotiation is theirs. Requests this module does not speed up (``name[]``
filters, OPTIONS and other methods, a registry with ``target_info``, a
multiprocess value class, an encoder it does not know) go to prometheus_client
unchanged. tests/exporter/test_exposition.py checks byte equality with
prometheus_client in both formats under random updates.
"""

from __future__ import annotations

import functools
import gzip
import operator
import threading
import time
from collections.abc import Awaitable, Callable, Iterable, Iterator
from typing import Any
from urllib.parse import parse_qs

from prometheus_client import CollectorRegistry, make_asgi_app, make_wsgi_app, values
from prometheus_client.core import Metric
from prometheus_client.exposition import choose_encoder, gzip_accepted
from prometheus_client.exposition import generate_latest as text_generate_latest
from prometheus_client.openmetrics.exposition import generate_latest as openmetrics_generate_latest
from prometheus_client.registry import Collector

from .metrics import EventFamilies

__all__ = ["Exposition", "asgi_app", "wsgi_app"]

Encoder = Callable[[Any], bytes]
EOF = b"# EOF\n"
#: zlib's default level: a third of level 9's CPU (prometheus_client's) on a metrics body, ~8% more bytes on the wire.
GZIP_LEVEL = 6


class _Just(Collector):
    """A collector of the given families, to hand a slice of the registry to an encoder."""

    def __init__(self, families: Iterable[Metric]) -> None:
        self._families = families

    def collect(self) -> Iterable[Metric]:
        return self._families


class _Chain(Collector):
    """The families of several collectors in turn, as the registry would collect them."""

    def __init__(self, collectors: list[Any]) -> None:
        self._collectors = collectors

    def collect(self) -> Iterator[Metric]:
        for collector in self._collectors:
            yield from collector.collect()


class _FamilyCache:
    """One family's header and, per child, its rendered bytes and the value objects they came from."""

    __slots__ = ("children", "header", "metric")

    def __init__(self, metric: Any, encoder: Encoder, trailer: bytes) -> None:
        self.metric = metric
        self.header = _strip(encoder(_Just(metric.describe())), trailer)
        self.children: dict[tuple[str, ...], tuple[Any, tuple[Any, ...], bytes]] = {}

    def render(self, encoder: Encoder, trailer: bytes, parts: list[bytes]) -> None:
        metric = self.metric
        if metric._labelnames:
            with metric._lock:
                children = metric._metrics.copy()
        else:
            children = {(): metric}
        cached, fresh = self.children, {}
        parts.append(self.header)
        for labelvalues, child in children.items():
            entry = cached.get(labelvalues)
            value = getattr(child, "_value", None)
            if value is not None:  # counter or gauge: one value, one exemplar
                if entry is None or entry[0] is not child or entry[1][0] is not value._value or entry[1][1] is not value._exemplar:
                    entry = (child, (value._value, value._exemplar), self._render_child(encoder, trailer, labelvalues, child))
            else:
                buckets = child._buckets
                state = (child._sum._value, *[b._value for b in buckets], *[b._exemplar for b in buckets])
                if entry is None or entry[0] is not child or not all(map(operator.is_, entry[1], state)):
                    entry = (child, state, self._render_child(encoder, trailer, labelvalues, child))
            fresh[labelvalues] = entry
            parts.append(entry[2])
        self.children = fresh

    def _render_child(self, encoder: Encoder, trailer: bytes, labelvalues: tuple[str, ...], child: Any) -> bytes:
        """The child's lines as prometheus_client renders them, from samples read after its state (never older)."""
        metric = self.metric
        family = metric.describe()[0]
        series = list(zip(metric._labelnames, labelvalues, strict=True))
        created = "_created"
        for sample in child._child_samples():
            if sample.name != created:
                family.add_sample(metric._name + sample.name, dict(series + list(sample.labels.items())), sample.value, sample.timestamp, sample.exemplar)
        return _strip(encoder(_Just([family])), trailer)[len(self.header) :]


def _strip(body: bytes, trailer: bytes) -> bytes:
    return body[: len(body) - len(trailer)] if trailer and body.endswith(trailer) else body


def _format(encoder: Encoder) -> tuple[Encoder, bytes] | None:
    """The encoder and the trailer it ends a body with, or None for an encoder this module does not know."""
    func = encoder.func if isinstance(encoder, functools.partial) else encoder
    if func is openmetrics_generate_latest:
        return encoder, EOF
    if func is text_generate_latest:
        return encoder, b""
    return None


class Exposition:
    """Renders a registry's /metrics body, quantwatch's families from cached bytes; safe to call from many threads."""

    def __init__(self, registry: CollectorRegistry) -> None:
        self.registry = registry
        self._lock = threading.Lock()
        #: Per encoder (format and escaping) and per cached collector, its families' caches.
        self._caches: dict[tuple[Any, ...], dict[EventFamilies, list[_FamilyCache]]] = {}

    def body(self, encoder: Encoder) -> bytes:
        """What ``encoder(registry)`` returns, byte for byte."""
        known = _format(encoder)
        registry = self.registry
        collectors = getattr(registry, "_collector_to_names", None)
        if known is None or collectors is None or registry._target_info or values.ValueClass is not values.MutexValue:
            return encoder(registry)
        trailer = known[1]
        with registry._lock:
            order = list(collectors)
        parts: list[bytes] = []
        others: list[Any] = []
        with self._lock:
            caches = self._caches.setdefault(_key(encoder), {})
            for collector in order:
                if not isinstance(collector, EventFamilies):
                    others.append(collector)
                    continue
                if others:
                    parts.append(_strip(encoder(_Chain(others)), trailer))
                    others = []
                families = caches.get(collector)
                if families is None:
                    families = caches[collector] = [_FamilyCache(metric, encoder, trailer) for metric in collector.metrics]
                for family in families:
                    family.render(encoder, trailer, parts)
                    # Hand the GIL to a waiting bot thread: it would otherwise wait the whole body (up to the 5 ms switch interval).
                    time.sleep(0)
        if others:
            parts.append(_strip(encoder(_Chain(others)), trailer))
        parts.append(trailer)
        return b"".join(parts)

    def response(self, accept: str | None, accept_encoding: str | None) -> tuple[list[tuple[str, str]], bytes]:
        """Headers and body for a GET with these Accept and Accept-Encoding headers."""
        encoder, content_type = choose_encoder(accept or "")
        body = self.body(encoder)
        headers = [("Content-Type", content_type)]
        if gzip_accepted(accept_encoding or ""):
            body = gzip.compress(body, GZIP_LEVEL)
            headers.append(("Content-Encoding", "gzip"))
        return headers, body


def _key(encoder: Encoder) -> tuple[Any, ...]:
    if isinstance(encoder, functools.partial):
        return (encoder.func, *encoder.args, *sorted(encoder.keywords.items()))
    return (encoder,)


WsgiApp = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]
AsgiApp = Callable[[dict[str, Any], Callable[[], Awaitable[dict[str, Any]]], Callable[[dict[str, Any]], Awaitable[None]]], Awaitable[None]]


def wsgi_app(registry: CollectorRegistry) -> WsgiApp:
    """prometheus_client's ``make_wsgi_app(registry)`` with its GET /metrics answered by an :class:`Exposition`."""
    exposition = Exposition(registry)
    fallback = make_wsgi_app(registry)

    def app(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        if environ["REQUEST_METHOD"] != "GET" or environ.get("PATH_INFO") == "/favicon.ico" or "name[]" in parse_qs(environ.get("QUERY_STRING", "")):
            return fallback(environ, start_response)  # type: ignore[no-any-return]
        headers, body = exposition.response(environ.get("HTTP_ACCEPT"), environ.get("HTTP_ACCEPT_ENCODING"))
        start_response("200 OK", headers)
        return [body]

    return app


def asgi_app(registry: CollectorRegistry) -> AsgiApp:
    """prometheus_client's ``make_asgi_app(registry)`` with its requests answered by an :class:`Exposition`."""
    exposition = Exposition(registry)
    fallback = make_asgi_app(registry)

    async def app(scope: dict[str, Any], receive: Callable[[], Awaitable[dict[str, Any]]], send: Callable[[dict[str, Any]], Awaitable[None]]) -> None:
        if "name[]" in parse_qs(scope.get("query_string", b"").decode("utf8")):
            await fallback(scope, receive, send)
            return
        given = scope.get("headers") or []
        accept = ",".join(value.decode("utf8") for name, value in given if name.decode("utf8").lower() == "accept")
        accept_encoding = ",".join(value.decode("utf8") for name, value in given if name.decode("utf8").lower() == "accept-encoding")
        headers, body = exposition.response(accept, accept_encoding)
        if (await receive()).get("type") == "http.request":
            await send({"type": "http.response.start", "status": 200, "headers": [(k.encode(), v.encode()) for k, v in headers]})
            await send({"type": "http.response.body", "body": body})

    return app
