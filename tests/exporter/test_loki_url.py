"""loki_url: a base URL or the full push URL, anything else refused at start-up; a wrong one the server reveals is logged once."""

from __future__ import annotations

import json
import logging
import threading
import time
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, HTTPServer

import pytest

from quantwatch import Config, ConfigError
from quantwatch.config import PUSH_PATH, loki_push_url
from quantwatch.push import JSON_GZIP, Pusher, encode_json
from quantwatch.shipper import Shipper

#: Loki refuses a stream with more label names than max_label_names_per_series (default 15: Loki configuration
#: reference, limits_config: max_label_names_per_series).
LOKI_MAX_LABEL_NAMES = 15

#: How each source of a setting is loaded, and how a ConfigError names it.
SOURCES: dict[str, tuple[Callable[[str], Config], str]] = {
    "argument": (lambda url: Config.load({}, loki_url=url), "argument loki_url"),
    "environment": (lambda url: Config.load({"QUANTWATCH_LOKI_URL": url}), "environment variable QUANTWATCH_LOKI_URL"),
}


@pytest.mark.parametrize("source", SOURCES)
@pytest.mark.parametrize(
    ("url", "push_url"),
    [
        ("http://loki:3100", "http://loki:3100/loki/api/v1/push"),
        ("http://loki:3100/", "http://loki:3100/loki/api/v1/push"),
        ("https://logs.example/loki/", "https://logs.example/loki/loki/api/v1/push"),
        ("http://victorialogs:9428/insert", "http://victorialogs:9428/insert/loki/api/v1/push"),
        ("http://loki:3100/loki/api/v1/push", "http://loki:3100/loki/api/v1/push"),
        ("http://victorialogs:9428/insert/loki/api/v1/push/", "http://victorialogs:9428/insert/loki/api/v1/push"),
        ("http://[::1]:3100", "http://[::1]:3100/loki/api/v1/push"),
    ],
)
def test_base_or_push_url_is_accepted_and_pushed_to(source: str, url: str, push_url: str) -> None:
    """A base URL gets the push path appended, a full push URL is used as is, from an argument or the environment."""
    load, _ = SOURCES[source]
    config = load(url)
    assert config.loki_url == url
    pusher = Pusher(config.loki_url, JSON_GZIP)
    assert pusher.url == loki_push_url(url) == push_url
    assert pusher.path.endswith(PUSH_PATH)


@pytest.mark.parametrize("source", SOURCES)
@pytest.mark.parametrize(
    ("url", "problem"),
    [
        ("loki:3100", "is not an http(s) URL"),
        ("ftp://loki:3100", "is not an http(s) URL"),
        ("http:///loki/api/v1/push", "has no host"),
        ("http://loki:99999", "has no valid port"),
        ("http://[::1", "is not a URL"),
        ("http://loki:3100/loki/api/v1/push?tenant=bot", "has a query string or fragment"),
        ("http://loki:3100#push", "has a query string or fragment"),
        ("http://bot:s3cret@loki:3100", "carries credentials (set loki_username and loki_password_file instead)"),
        ("http://loki:3100/loki/api/v1/query_range", "names another API"),
        ("http://loki:3100/loki/api/v1", "names another API"),
        ("http://loki:3100/api/v1/push", "names another API"),
        ("http://loki:3100/otlp/v1/logs", "names another API"),
        ("http://loki:3100/ready", "names another API"),
        ("http://loki:3100/metrics", "names another API"),
        ("http://victorialogs:9428/select/logsql/query", "names another API"),
        ("http://victorialogs:9428/insert/loki", "names another API"),
        ("http://victorialogs:9428/insert/jsonline", "names another API"),
    ],
)
def test_url_that_cannot_be_a_push_endpoint_fails_at_start(source: str, url: str, problem: str) -> None:
    """Each refused form raises ConfigError naming loki_url, its source, the problem and the two accepted forms."""
    load, named = SOURCES[source]
    with pytest.raises(ConfigError) as refused:
        load(url)
    message = str(refused.value)
    assert message.startswith("loki_url ")
    assert f"({named}) {problem}" in message
    assert "http://loki:3100" in message
    assert f"ending in {PUSH_PATH}" in message
    assert "s3cret" not in message


def test_empty_url_ships_nothing() -> None:
    """The default, an empty loki_url, is no error: it turns shipping off."""
    assert Config.load({"QUANTWATCH_LOKI_URL": ""}).loki_url == ""


class WrongPath(HTTPServer):
    """A server on 127.0.0.1 answering every push as a server with no push endpoint at that path does."""

    def __init__(self, status: int, body: str) -> None:
        self.paths: list[str] = []
        answer = body.encode()

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                self.rfile.read(int(self.headers["Content-Length"]))
                server.paths.append(self.path)
                self.send_response(status)
                self.send_header("Content-Length", str(len(answer)))
                self.end_headers()
                self.wfile.write(answer)

            def log_message(self, format: str, *args: object) -> None:
                """Quiet: the test reads the paths instead."""

        server = self
        super().__init__(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server_address[1]}"


@pytest.fixture
def answers(request: pytest.FixtureRequest) -> Iterator[WrongPath]:
    server = WrongPath(*request.param)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server
    server.shutdown()
    server.server_close()


VICTORIALOGS_400 = (400, 'remoteAddr: "127.0.0.1:50000"; requestURI: /loki/api/v1/push; unsupported path requested: "/loki/api/v1/push"')
LOKI_404 = (404, "404 page not found\n")


@pytest.mark.parametrize("answers", [VICTORIALOGS_400, LOKI_404], ids=["victorialogs-400", "404"], indirect=True)
def test_wrong_path_is_logged_once_and_lines_counted_as_rejected(answers: WrongPath, caplog: pytest.LogCaptureFixture) -> None:
    """Several batches refused as "no such path" give one error line naming the URL and the accepted forms; every line counts as rejected."""
    shipper = Shipper(Config.load({}, loki_url=answers.url, loki_batch_seconds=60, loki_close_seconds=1))
    try:
        with caplog.at_level(logging.ERROR, logger="quantwatch.loki"):
            for batch in range(3):
                for n in range(4):
                    shipper.offer(time.time_ns(), "info", f'{{"message":"batch {batch} line {n}"}}')
                assert shipper.flush(timeout=10)
    finally:
        shipper.close()
    assert answers.paths == [PUSH_PATH] * 3
    assert (shipper.stats.batches["rejected"], shipper.stats.dropped["rejected"], shipper.stats.sent) == (3, 12, 0)
    (record,) = [r for r in caplog.records if r.name == "quantwatch.loki"]
    message = record.getMessage()
    assert record.levelno == logging.ERROR
    assert f"{answers.url}{PUSH_PATH} is not a Loki push endpoint" in message
    assert "add /insert" in message
    assert f"ending in {PUSH_PATH}" in message


@pytest.mark.parametrize("answers", [(400, "entry for stream '{service=\"condor-bot\"}' has timestamp too old")], indirect=True)
def test_ordinary_refusal_is_not_reported_as_wrong_url(answers: WrongPath, caplog: pytest.LogCaptureFixture) -> None:
    """A 400 refusing lines (too old, too long) is only counted: the URL is right, nothing is logged."""
    shipper = Shipper(Config.load({}, loki_url=answers.url, loki_batch_seconds=60, loki_close_seconds=1))
    try:
        with caplog.at_level(logging.ERROR, logger="quantwatch.loki"):
            shipper.offer(time.time_ns(), "info", '{"message":"old"}')
            assert shipper.flush(timeout=10)
    finally:
        shipper.close()
    assert shipper.stats.dropped["rejected"] == 1
    assert not [r for r in caplog.records if r.name == "quantwatch.loki"]


def test_stream_labels_stay_within_lokis_label_limit() -> None:
    """Every stream pushed, with the service_name Loki adds, has at most max_label_names_per_series label names."""
    shipper = Shipper(Config.load({}, loki_url="http://127.0.0.1:9", service="condor-bot", env="prod", loki_close_seconds=0.1))
    shipper.close()
    levels = ("debug", "info", "business", "warning", "audit", "error", "critical")
    body = json.loads(encode_json([(1, level, "line") for level in levels], shipper.labels))
    assert len(body["streams"]) == len(levels)
    assert max(len(stream["stream"].keys() | {"service_name"}) for stream in body["streams"]) <= LOKI_MAX_LABEL_NAMES
