"""The footprint benchmark scrapes with the headers the real Prometheus sends, so its scrape cost is the one a bot pays."""

from __future__ import annotations

import http.server
import threading
from collections.abc import Callable

import pytest

from bench.footprint import FORMATS
from testbed.poll import wait_until
from testbed.ports import LOCAL_HOST
from testbed.servers import TestBed

#: The Accept and Accept-Encoding of every scrape the recorder answered.
SEEN: list[tuple[str, str]] = []


class _Recorder(http.server.BaseHTTPRequestHandler):
    """Answers a scrape with one sample and keeps the request's content-negotiation headers in SEEN."""

    def do_GET(self) -> None:
        SEEN.append((self.headers.get("Accept", ""), self.headers.get("Accept-Encoding", "")))
        body = b"# TYPE up_probe gauge\nup_probe 1\n"
        self.send_response(200)
        self.send_header("Content-Type", "text/plain; version=0.0.4")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: object) -> None:
        pass


@pytest.mark.servers
def test_footprint_scrapes_as_prometheus_does(testbed_factory: Callable[[str], TestBed]) -> None:
    """The repository's Prometheus, scraping the bot's endpoint, sends exactly the Accept and Accept-Encoding the benchmark uses."""
    bed = testbed_factory("scrape-headers")
    server = http.server.ThreadingHTTPServer((LOCAL_HOST, bed.mapping.ports["bot:8000"]), _Recorder)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        bed.start_prometheus()
        wait_until(lambda: bool(SEEN), 30, "a scrape of the bot's endpoint")
    finally:
        server.shutdown()
        server.server_close()
    assert SEEN[0] == FORMATS["OpenMetrics + gzip (Prometheus 3)"]
