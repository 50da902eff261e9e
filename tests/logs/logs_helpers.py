"""Helpers of the log-shipping tests: fast settings, a bed's VictoriaLogs as the tests read it, what went over the wire.

Every test that ships runs against the real VictoriaLogs of a test bed, which takes Loki's push
protocol; its faults come from its own flags and process state, never from a scripted server.
"""

from __future__ import annotations

import gzip
import json
import socket
import threading
import time
import uuid
from dataclasses import dataclass
from typing import Any

from quantwatch import Config
from quantwatch.push import Entry, Outcome
from quantwatch.shipper import Shipper
from testbed.api import LogsAPI
from testbed.servers import TestBed

#: (stream labels, timestamp ns, line): one row as the server stored it.
Stored = tuple[dict[str, str], int, str]
#: The server's own count of requests to its Loki JSON push endpoint.
PUSH_REQUESTS = 'vl_http_requests_total{path="/insert/loki/api/v1/push",format="json"}'
#: The server's count of rows it answered 204 to but dropped as older than its retention (7 d).
DROPPED_TOO_OLD = 'vl_rows_dropped_total{reason="too_small_timestamp"}'
DAY_NS = 86_400 * 10**9


def closed_port_url() -> str:
    """A URL where nothing listens: every push fails with a refused connection."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    return f"http://127.0.0.1:{port}"


def unique_service() -> str:
    """A ``service`` label no other test ships under, so tests can share one server."""
    return f"test-{uuid.uuid4().hex[:10]}"


def config(url: str, **options: Any) -> Config:
    """Fast settings for tests: small batches, short waits."""
    defaults: dict[str, Any] = {"service": "condor-bot", "env": "test", "loki_batch_seconds": 0.05, "loki_timeout_seconds": 2.0, "loki_close_seconds": 5.0}
    return Config.load({}, loki_url=url, **(defaults | options))


def offer_lines(shipper: Shipper, count: int, text: str = "line") -> list[Entry]:
    """Queue ``count`` JSON lines one nanosecond apart, all accepted; returns them as queued."""
    now = time.time_ns()
    entries = [(now + i, "info", f'{{"message":"{text} {i}","n":{i}}}') for i in range(count)]
    for entry in entries:
        assert shipper.offer(*entry)
    return entries


def record_offers(shipper: Shipper) -> list[Entry]:
    """Wrap ``shipper.offer`` to remember every line it accepted, in the order it queued them (one lock over both)."""
    accepted: list[Entry] = []
    offer = shipper.offer
    lock = threading.Lock()

    def recording(ts: int, level: str, line: str) -> bool:
        with lock:
            ok = offer(ts, level, line)
            if ok:
                accepted.append((ts, level, line))
        return ok

    shipper.offer = recording  # type: ignore[method-assign,assignment]
    return accepted


def as_stored(shipper: Shipper, entries: list[Entry]) -> list[Stored]:
    """What the server holds after ``entries`` went through ``shipper``: its labels plus ``level``, oldest first."""
    return sorted((({**shipper.labels, "level": level}, ts, line) for ts, level, line in entries), key=lambda row: row[1:])


@dataclass(frozen=True)
class Sent:
    """One push request a shipper made and what came of it (the client's side of the wire)."""

    body: bytes
    outcome: Outcome

    @property
    def entries(self) -> list[tuple[str, str]]:
        """(level, line) of every line of the body, stream by stream, each stream in the order it was sent."""
        streams = json.loads(gzip.decompress(self.body))["streams"]
        return [(stream["stream"]["level"], line) for stream in streams for _, line in stream["values"]]


class LogServer:
    """A bed's VictoriaLogs as these tests use it: settings that ship there, and exactly what it stored."""

    def __init__(self, bed: TestBed, *flags: str, auth: tuple[str, str] | None = None) -> None:
        self.bed = bed
        self.auth = auth
        self.server = bed.start_victorialogs(*flags)
        self.api = LogsAPI(self.server.url, auth=auth)

    def config(self, **options: Any) -> Config:
        """Fast settings shipping here (unless ``loki_url`` says otherwise), under a service label of their own."""
        settings = {"service": unique_service()} | options
        return config(settings.pop("loki_url", self.bed.loki_url), **settings)

    def stored(self, service: str, tenant: str = "") -> list[Stored]:
        """Every row of ``service`` (in ``tenant``, default the default one), oldest first, once every answered push is searchable."""
        api = LogsAPI(self.server.url, tenant=tenant, auth=self.auth) if tenant else self.api
        api.flush()
        return api.entries(f'_stream:{{service="{service}"}}')

    def push_requests(self) -> int:
        """Push requests that reached the server's Loki endpoint since it started."""
        return int(self.api.metric(PUSH_REQUESTS))

    def restart(self, *flags: str) -> None:
        """Stop and start again on the same port and data, with ``flags`` in place of the first ones."""
        self.bed.servers.pop("victorialogs").stop()
        self.server = self.bed.start_victorialogs(*flags)
