"""The push protocol under faults Loki cannot be made to produce on demand: a scripted stand-in answers.

What is pinned: a 400 is sent once and its refused lines counted; 429, 503,
timeouts and dropped connections are retried with the same body; headers for
tenant and basic auth; nothing is retried past its budget and every line not
delivered is counted by reason.
"""

from __future__ import annotations

import base64
import time
from pathlib import Path

import pytest
from loki_helpers import PushStandIn, Reply, closed_port_url, config

from quantwatch import ConfigError
from quantwatch.push import JSON_GZIP, Pusher, rejected_lines
from quantwatch.shipper import Shipper


def offer_lines(shipper: Shipper, count: int, level: str = "info") -> list[str]:
    lines = [f'{{"message":"line {i}","n":{i}}}' for i in range(count)]
    now = time.time_ns()
    for i, line in enumerate(lines):
        assert shipper.offer(now + i, level, line)
    return lines


def test_400_is_sent_once_and_its_refused_lines_counted(push_standin: PushStandIn, shippers: list[Shipper]) -> None:
    """A 400 is final: one request, the lines Loki named counted as rejected, the rest as sent, no retry."""
    push_standin.script = [Reply(400, "2 errors like: entry for stream '{...}' has timestamp too old")]
    shipper = Shipper(config(push_standin.url))
    shippers.append(shipper)
    offer_lines(shipper, 10)
    assert shipper.flush(timeout=5)
    assert len(push_standin.pushes) == 1
    stats = shipper.stats
    assert (stats.sent, stats.dropped["rejected"], stats.batches["rejected"]) == (8, 2, 1)
    assert sum(stats.retries.values()) == 0


@pytest.mark.parametrize(
    ("replies", "reasons"),
    [
        ([Reply(429, "rate limited", {"Retry-After": "0"}), Reply(503, "ingester not ready")], {"rate_limited": 1, "server_error": 1}),
        ([Reply(0)], {"connection": 1}),
        ([Reply(204, delay=1.0)], {"timeout": 1}),
    ],
    ids=["429-then-503", "dropped-connection", "timeout"],
)
def test_retryable_failures_are_retried_with_the_same_body(
    push_standin: PushStandIn, shippers: list[Shipper], replies: list[Reply], reasons: dict[str, int]
) -> None:
    """429, 5xx, a dropped connection and a timeout are retried until Loki takes the batch, counted by reason."""
    push_standin.script = list(replies)
    shipper = Shipper(config(push_standin.url, loki_timeout_seconds=0.3))
    shippers.append(shipper)
    lines = offer_lines(shipper, 5)
    assert shipper.flush(timeout=10)
    assert [push.entries for push in push_standin.pushes[1:]] == [push_standin.pushes[0].entries] * len(replies)
    assert [line for _, _, line in push_standin.pushes[-1].entries] == lines
    stats = shipper.stats
    assert stats.sent == 5
    assert {k: v for k, v in stats.retries.items() if v} == reasons
    assert (stats.batches["error"], stats.batches["success"]) == (len(replies), 1)
    assert sum(stats.dropped.values()) == 0


def test_retries_stop_after_loki_retry_seconds(push_standin: PushStandIn, shippers: list[Shipper]) -> None:
    """Without a spool, a batch refused with 503 past loki_retry_seconds is dropped as retries_exhausted."""
    push_standin.script = [Reply(503)] * 100
    shipper = Shipper(config(push_standin.url, loki_retry_seconds=0.5))
    shippers.append(shipper)
    offer_lines(shipper, 7)
    assert shipper.flush(timeout=10)
    assert shipper.stats.dropped["retries_exhausted"] == 7
    assert shipper.stats.sent == 0
    assert 2 <= len(push_standin.pushes) < 100


def test_full_queue_drops_and_counts_without_printing(capfd: pytest.CaptureFixture[str], shippers: list[Shipper]) -> None:
    """With Loki unreachable, lines past loki_queue_lines are refused at once and counted as queue_full; nothing is printed."""
    shipper = Shipper(config(closed_port_url(), loki_queue_lines=10))
    shippers.append(shipper)
    accepted = [shipper.offer(time.time_ns(), "info", f"line {i}") for i in range(25)]
    assert accepted == [True] * 10 + [False] * 15
    assert shipper.stats.dropped["queue_full"] == 15
    assert shipper.held_lines == 10
    assert capfd.readouterr() == ("", "")


def test_queue_is_bounded_in_bytes_too(shippers: list[Shipper]) -> None:
    """A line that would take the queue past loki_queue_bytes is dropped even when the line count allows it."""
    shipper = Shipper(config(closed_port_url(), loki_queue_bytes=1000, loki_max_line_bytes=400))
    shippers.append(shipper)
    assert [shipper.offer(time.time_ns(), "info", "x" * 400) for _ in range(3)] == [True, True, False]
    assert shipper.held_bytes == 800
    assert shipper.stats.dropped["queue_full"] == 1


def test_close_with_loki_down_counts_what_is_left_as_shutdown(shippers: list[Shipper]) -> None:
    """close() returns by its deadline with Loki unreachable and counts the undelivered lines as shutdown."""
    shipper = Shipper(config(closed_port_url()))
    shippers.append(shipper)
    offer_lines(shipper, 12)
    started = time.monotonic()
    assert shipper.close(timeout=0.5) is False
    assert time.monotonic() - started < 2.0
    assert shipper.stats.dropped["shutdown"] == 12
    assert shipper.offer(time.time_ns(), "info", "late") is False
    assert shipper.stats.dropped["shutdown"] == 13


def test_close_drains_queued_lines(push_standin: PushStandIn, shippers: list[Shipper]) -> None:
    """close() pushes what is queued at once, without waiting for the batch interval."""
    shipper = Shipper(config(push_standin.url, loki_batch_seconds=60))
    shippers.append(shipper)
    lines = offer_lines(shipper, 50)
    assert shipper.close(timeout=5) is True
    assert push_standin.lines() == lines


def test_lines_older_than_max_age_are_dropped_not_pushed(push_standin: PushStandIn, shippers: list[Shipper]) -> None:
    """A line older than loki_max_age_seconds is counted as too_old and never sent for Loki to refuse."""
    shipper = Shipper(config(push_standin.url, loki_max_age_seconds=60))
    shippers.append(shipper)
    assert shipper.offer(time.time_ns() - 120 * 10**9, "info", "stale")
    assert shipper.offer(time.time_ns(), "info", "fresh")
    assert shipper.flush(timeout=5)
    assert push_standin.lines() == ["fresh"]
    assert shipper.stats.dropped["too_old"] == 1


def test_tenant_and_basic_auth_headers(push_standin: PushStandIn, shippers: list[Shipper], tmp_path: Path) -> None:
    """X-Scope-OrgID carries loki_tenant; basic auth uses loki_username and the password file."""
    secret = tmp_path / "loki_password"
    secret.write_text("s3cret\n")
    shipper = Shipper(config(push_standin.url, loki_tenant="desk-7", loki_username="bot", loki_password_file=str(secret)))
    shippers.append(shipper)
    offer_lines(shipper, 1)
    assert shipper.flush(timeout=5)
    headers = push_standin.pushes[0].headers
    assert headers["X-Scope-OrgID"] == "desk-7"
    assert headers["Authorization"] == "Basic " + base64.b64encode(b"bot:s3cret").decode()
    assert (headers["Content-Type"], headers["Content-Encoding"]) == ("application/json", "gzip")


def test_batch_over_lokis_grpc_limit_fails_at_start() -> None:
    """loki_batch_bytes past 2 MiB raises ConfigError: the real Loki answers 500 to a 4 MiB push, which would be retried forever."""
    with pytest.raises(ConfigError, match="loki_batch_bytes"):
        config("http://127.0.0.1:1", loki_batch_bytes=4 * 1024 * 1024)


def test_missing_password_file_fails_at_start(tmp_path: Path) -> None:
    """An unreadable loki_password_file raises ConfigError naming it, at start-up."""
    with pytest.raises(ConfigError, match="loki_password_file"):
        Shipper(config("http://127.0.0.1:1", loki_username="bot", loki_password_file=str(tmp_path / "absent")))


@pytest.mark.parametrize(
    ("url", "path"),
    [
        ("http://loki:3100", "/loki/api/v1/push"),
        ("https://logs.example/loki/", "/loki/loki/api/v1/push"),
        ("http://loki:3100/loki/api/v1/push", "/loki/api/v1/push"),
    ],
)
def test_push_path_from_base_or_full_url(url: str, path: str) -> None:
    """loki_url may be Loki's base URL (behind a path prefix too) or the full push URL."""
    assert Pusher(url, JSON_GZIP).path == path


def test_url_that_is_not_http_fails_at_start() -> None:
    """A loki_url without an http(s) scheme and host raises ConfigError."""
    with pytest.raises(ConfigError, match="not an http"):
        Pusher("loki:3100", JSON_GZIP)


@pytest.mark.parametrize(
    ("message", "total", "expected"),
    [
        ("entry for stream '{a=\"b\"}' has timestamp too old", 10, 1),
        ("3 errors like: line too long; 2 errors like: timestamp too old", 10, 5),
        ("entry with timestamp x ignored, reason: 'too far behind',\nuser 'fake', total ignored: 4 out of 9 for stream: {a=\"b\"}", 9, 4),
        ("", 6, 6),
        ("99 errors like: nonsense", 6, 6),
    ],
)
def test_rejected_lines_read_from_loki_400_body(message: str, total: int, expected: int) -> None:
    """The count of refused lines comes from Loki's message; without a usable count the whole batch counts."""
    assert rejected_lines(message, total) == expected
