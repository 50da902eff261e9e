"""Helpers of the log-shipping tests: a scripted push stand-in, fast settings, reading back from the real Loki.

``push_standin`` answers Loki's push endpoint with scripted faults (a 400, a
429, a 503, a hang, a dropped connection), which the real Loki cannot be made
to produce on demand; every acceptance test of delivery runs against the real
Loki of the test bed (``loki`` / ``testbed_factory`` fixtures).
"""

from __future__ import annotations

import gzip
import json
import socket
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import requests

from quantwatch import Config


@dataclass
class Push:
    """One request the stand-in received, decoded."""

    headers: dict[str, str]
    body: dict[str, Any]

    @property
    def entries(self) -> list[tuple[dict[str, str], int, str]]:
        """(labels, timestamp ns, line) of every value, in body order."""
        return [(s["stream"], int(ts), line) for s in self.body["streams"] for ts, line in s["values"]]


@dataclass
class Reply:
    """What the stand-in answers next: a status (0 drops the connection), a body, headers, a delay."""

    status: int = 204
    body: str = ""
    headers: dict[str, str] = field(default_factory=dict)
    delay: float = 0.0


class PushStandIn:
    """An HTTP server on 127.0.0.1 recording pushes and answering from a script (then 204)."""

    def __init__(self) -> None:
        self.pushes: list[Push] = []
        self.script: list[Reply] = []
        self._lock = threading.Lock()
        standin = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_POST(self) -> None:
                raw = self.rfile.read(int(self.headers["Content-Length"]))
                if self.headers.get("Content-Encoding") == "gzip":
                    raw = gzip.decompress(raw)
                with standin._lock:
                    standin.pushes.append(Push(dict(self.headers), json.loads(raw)))
                    reply = standin.script.pop(0) if standin.script else Reply()
                time.sleep(reply.delay)
                if reply.status == 0:
                    self.close_connection = True
                    return
                data = reply.body.encode()
                self.send_response(reply.status)
                for name, value in reply.headers.items():
                    self.send_header(name, value)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_port}"
        self._thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self._thread.start()

    def lines(self) -> list[str]:
        with self._lock:
            return [line for push in self.pushes for _, _, line in push.entries]

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()


def closed_port_url() -> str:
    """A URL where nothing listens: every push fails with a refused connection."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    return f"http://127.0.0.1:{port}"


def config(url: str, **options: Any) -> Config:
    """Fast settings for tests: small batches, short waits."""
    defaults: dict[str, Any] = {"service": "condor-bot", "env": "test", "loki_batch_seconds": 0.05, "loki_timeout_seconds": 2.0, "loki_close_seconds": 5.0}
    return Config.load({}, loki_url=url, **(defaults | options))


def loki_entries(url: str, selector: str, start_ns: int) -> list[tuple[dict[str, str], int, str]]:
    """Every (stream labels, timestamp, line) Loki holds for ``selector`` since ``start_ns``, oldest first, paging past the 5,000-line limit."""
    found: dict[tuple[str, int, str], dict[str, str]] = {}
    start = start_ns
    while True:
        params: dict[str, str | int] = {"query": selector, "start": start, "end": time.time_ns() + 1, "limit": 5000, "direction": "forward"}
        # categorize-labels: "stream" holds the stream's labels only, not structured metadata or parsed fields.
        response = requests.get(f"{url}/loki/api/v1/query_range", params=params, headers={"X-Loki-Response-Encoding-Flags": "categorize-labels"}, timeout=30)
        response.raise_for_status()
        page = [(s["stream"], int(v[0]), v[1]) for s in response.json()["data"]["result"] for v in s["values"]]
        for labels, ts, line in page:
            found[(json.dumps(labels, sort_keys=True), ts, line)] = labels
        if len(page) < 5000:
            return sorted(((labels, ts, line) for (_, ts, line), labels in found.items()), key=lambda e: (e[1], e[2]))
        start = max(ts for _, ts, _ in page)  # inclusive: lines sharing the boundary timestamp are deduplicated above
