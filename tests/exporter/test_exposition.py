"""quantwatch.exposition serves the bytes prometheus_client would, in every format, while the bot updates metrics."""

from __future__ import annotations

import asyncio
import gzip
import math
import threading
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st
from prometheus_client import CollectorRegistry, Counter, Gauge
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.exposition import choose_encoder
from prometheus_client.openmetrics.parser import text_string_to_metric_families as parse_openmetrics
from prometheus_client.parser import text_string_to_metric_families as parse_text
from prometheus_client.registry import Collector

from quantwatch.exposition import Exposition, asgi_app, wsgi_app
from quantwatch.metrics import Family, register

#: Accept headers choose_encoder tells apart: OpenMetrics and text, each escaping, as Prometheus 2 and 3 send them.
ACCEPTS = (
    "application/openmetrics-text;version=1.0.0;escaping=allow-utf-8;q=0.7,text/plain;version=0.0.4;q=0.4",
    "application/openmetrics-text;version=0.0.1;q=0.6",
    "application/openmetrics-text",
    "text/plain;version=0.0.4",
    "text/plain;version=1.0.0;escaping=underscores",
    "text/plain;version=1.0.0;escaping=dots",
    "text/plain;version=1.0.0;escaping=values",
    "",
)
#: Label values that need escaping: quotes, backslashes, newlines, unicode (no lone surrogates: UTF-8 cannot carry them).
LABEL = st.text(st.characters(blacklist_categories=("Cs",)), max_size=8) | st.sampled_from(['a"b', "c\\d", "e\nf", "ünï", "\\n", ""])
ANY_FLOAT = st.floats(allow_nan=True, allow_infinity=True) | st.sampled_from([0.0, -0.0, math.nan, math.inf, -math.inf])
UPDATE = st.one_of(
    st.tuples(st.just("submitted"), LABEL, LABEL, st.floats(min_value=0, allow_nan=False)),
    st.tuples(st.just("unrealized_set"), LABEL, LABEL, ANY_FLOAT),
    st.tuples(st.just("unrealized_inc"), LABEL, LABEL, ANY_FLOAT),
    st.tuples(st.just("unrealized_dec"), LABEL, LABEL, ANY_FLOAT),
    st.tuples(st.just("portfolio"), st.just(""), st.just(""), ANY_FLOAT),
    st.tuples(st.just("latency"), LABEL, LABEL, st.floats(min_value=-1, max_value=100, allow_nan=False)),
    st.tuples(st.just("latency_exemplar"), LABEL, st.text(max_size=12), st.floats(min_value=0, max_value=100, allow_nan=False)),
    st.tuples(st.just("pnl"), LABEL, st.just(""), st.floats(min_value=-1e4, max_value=1e4, allow_nan=False)),
    st.tuples(st.just("scrape"), st.sampled_from(ACCEPTS), st.just(""), st.just(0.0)),
)


class _Fixed(Collector):
    """A scrape-time collector with a fixed answer, like the bot's own or quantwatch's System/RuntimeCollector."""

    def __init__(self, name: str) -> None:
        self._name = name

    def collect(self) -> list[Metric]:
        family = GaugeMetricFamily(self._name, 'Help with a "quote" and a \\ backslash.', labels=["k"])
        family.add_metric(["v\n"], 1.5)
        return [family]


def _registry() -> tuple[CollectorRegistry, dict[str, Family]]:
    """The bot's metrics before and after quantwatch's, a scrape-time collector between: every join the body has."""
    registry = CollectorRegistry()
    Counter("bot_before", "The bot's own counter.", ["x"], registry=registry).labels("1").inc(2)
    families = register(registry)
    registry.register(_Fixed("bot_scraped"))
    Gauge("bot_after", "The bot's own gauge.", registry=registry).set(-3)
    return registry, families


def _apply(families: dict[str, Family], update: tuple[str, str, str, float]) -> None:
    kind, a, b, number = update
    if kind == "submitted":
        families["trading_orders_submitted_total"].child(a, b, "buy", "limit").inc(number)
    elif kind.startswith("unrealized"):
        child = families["trading_unrealized_pnl_usd"].child(a, b)
        {"unrealized_set": child.set, "unrealized_inc": child.inc, "unrealized_dec": child.dec}[kind](number)
    elif kind == "portfolio":
        families["trading_portfolio_value_usd"].child().set(number)
    elif kind == "latency":
        families["trading_order_latency_seconds"].child(a, b).observe(number)
    elif kind == "latency_exemplar":
        families["trading_order_latency_seconds"].child(a, "filled").observe(number, {"correlation_id": b} if b else None)
    elif kind == "pnl":
        families["trading_trade_pnl_usd"].child(a).observe(number)


def _check(exposition: Exposition, registry: CollectorRegistry, accept: str) -> None:
    encoder, _ = choose_encoder(accept)
    body = exposition.body(encoder)
    assert body == encoder(registry)
    text = body.decode()
    if encoder(CollectorRegistry()).endswith(b"# EOF\n"):
        # Byte equality is the proof here: prometheus_client's OpenMetrics parser refuses some of its own encoder's bodies
        # (an exemplar label value with a quote, a negative histogram sum, no _sum under a negative first bound), which
        # Prometheus takes; the tests below parse OpenMetrics bodies of ordinary values.
        assert text.endswith("\n# EOF\n")
        assert text.count("\n# EOF\n") == 1
    else:
        assert [f.name for f in parse_text(text)]


@settings(max_examples=200, deadline=None)
@given(st.lists(UPDATE, max_size=40))
def test_body_equals_prometheus_clients_after_any_updates(updates: list[tuple[str, str, str, float]]) -> None:
    """Random updates with scrapes between them: every body equals prometheus_client's for the same registry, and parses."""
    registry, families = _registry()
    exposition = Exposition(registry)
    for update in updates:
        if update[0] == "scrape":
            _check(exposition, registry, update[1])
        else:
            _apply(families, update)
    for accept in ACCEPTS:
        _check(exposition, registry, accept)


def test_new_children_and_exemplars_appear() -> None:
    """A child created after a scrape is in the next one, and a histogram bucket's exemplar renders as prometheus_client's."""
    registry, families = _registry()
    exposition = Exposition(registry)
    encoder, _ = choose_encoder(ACCEPTS[0])
    exposition.body(encoder)
    families["trading_order_latency_seconds"].child("ic", "filled").observe(0.02, {"correlation_id": "c-1"})
    body = exposition.body(encoder)
    assert body == encoder(registry)
    assert b'trading_order_latency_seconds_bucket{le="0.025",outcome="filled",strategy="ic"} 1.0 # {correlation_id="c-1"} 0.02 ' in body


def test_a_registry_with_target_info_is_rendered_by_prometheus_client() -> None:
    """target_info comes first in prometheus_client's body; such a registry is left to it whole."""
    registry, _ = _registry()
    registry.set_target_info({"service": "bot"})
    for accept in ACCEPTS:
        _check(Exposition(registry), registry, accept)


def test_scrapes_while_threads_update_are_whole() -> None:
    """Bot threads update children (new ones too) while scrapes render: no scrape raises, each parses, each ends in one # EOF."""
    registry, families = _registry()
    exposition = Exposition(registry)
    encoder, _ = choose_encoder(ACCEPTS[0])
    stop = threading.Event()

    def bot(n: int) -> None:
        i = 0
        while not stop.is_set():
            i += 1
            _apply(families, ("submitted", f"s{n}", f"sym{i % 50}", 1.0))
            _apply(families, ("latency_exemplar", f"s{n}", f"c-{i}", (i % 40) / 10))
            _apply(families, ("unrealized_set", f"s{n}", f"sym{i % 7}", -i / 3))

    threads = [threading.Thread(target=bot, args=(n,)) for n in range(3)]
    for thread in threads:
        thread.start()
    try:
        for _ in range(40):
            text = exposition.body(encoder).decode()
            assert text.endswith("\n# EOF\n")
            assert text.count("# EOF") == 1
            parsed = {f.name: f for f in parse_openmetrics(text)}
            assert "trading_order_latency_seconds" in parsed
    finally:
        stop.set()
        for thread in threads:
            thread.join()
    assert exposition.body(encoder) == encoder(registry)


def _wsgi_get(app: Any, **environ: str) -> tuple[str, dict[str, str], bytes]:
    answer: list[Any] = []
    body = b"".join(app({"REQUEST_METHOD": "GET", "PATH_INFO": "/metrics", "QUERY_STRING": "", **environ}, lambda s, h: answer.extend([s, dict(h)])))
    return answer[0], answer[1], body


def test_wsgi_app_negotiates_as_prometheus_client() -> None:
    """Content type from choose_encoder, gzip when accepted, ``name[]`` filters and other methods answered by prometheus_client."""
    registry, families = _registry()
    _apply(families, ("latency_exemplar", "ic", "c-9", 0.3))
    app = wsgi_app(registry)
    for accept in ACCEPTS:
        encoder, content_type = choose_encoder(accept)
        status, headers, body = _wsgi_get(app, HTTP_ACCEPT=accept, HTTP_ACCEPT_ENCODING="br, gzip;q=0.9")
        assert (status, headers["Content-Type"], headers["Content-Encoding"]) == ("200 OK", content_type, "gzip")
        assert gzip.decompress(body) == encoder(registry)
    status, headers, body = _wsgi_get(app)
    assert "Content-Encoding" not in headers
    assert body == choose_encoder("")[0](registry)
    _, _, body = _wsgi_get(app, QUERY_STRING="name[]=bot_after")
    assert body == b"# HELP bot_after The bot's own gauge.\n# TYPE bot_after gauge\nbot_after -3.0\n"
    assert _wsgi_get(app, REQUEST_METHOD="POST")[0] == "405 Method Not Allowed"


def test_asgi_app_serves_the_same_body() -> None:
    """The ASGI app answers as the WSGI one: same content type, same bytes."""
    registry, families = _registry()
    _apply(families, ("submitted", "ic", "SPY", 2.0))
    sent: list[dict[str, Any]] = []

    async def receive() -> dict[str, Any]:
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    scope = {"type": "http", "method": "GET", "path": "/metrics", "query_string": b"", "headers": [(b"accept", ACCEPTS[0].encode())]}
    asyncio.run(asgi_app(registry)(scope, receive, send))
    encoder, content_type = choose_encoder(ACCEPTS[0])
    assert sent[0]["status"] == 200
    assert dict(sent[0]["headers"])[b"Content-Type"] == content_type.encode()
    assert sent[1]["body"] == encoder(registry)
