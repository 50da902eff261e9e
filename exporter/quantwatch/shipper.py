"""The background half of Loki shipping: a bounded queue in memory and one worker thread.

The bot's threads only call :meth:`Shipper.offer`: an append under a lock that
never waits on the network and never raises. The worker batches by size and
time, pushes with a timeout and retries 429, 5xx and connection failures with
jittered exponential backoff; other 4xx are final (Loki kept the valid lines).
With a disk spool, a failed batch is parked on disk and later lines follow it
there until Loki answers again, so memory stays bounded and lines arrive in
order. Whatever is not delivered is counted in :class:`ShipperStats` by reason;
a loki_url the server says is no push endpoint is also logged, once.
"""

from __future__ import annotations

import atexit
import bisect
import contextlib
import logging
import random
import threading
import time
from collections import deque
from pathlib import Path

from .catalogue import BY_NAME, LOG_BATCH_OUTCOMES, LOG_DROP_REASONS, LOG_RETRY_REASONS
from .config import LOKI_URL_FORMS, Config, ConfigError
from .logs import FIELDS_ATTR
from .push import JSON_GZIP, Entry, Outcome, Pusher, Wire
from .spool import Spool

#: The first retry waits about BACKOFF_FIRST seconds, doubling per failure up to BACKOFF_MAX; jitter takes up to half off.
BACKOFF_FIRST = 0.25
BACKOFF_MAX = 5.0
#: A server's ``Retry-After`` is honoured up to this many seconds.
RETRY_AFTER_MAX = 30.0
PUSH_BUCKETS = BY_NAME["quantwatch_log_push_duration_seconds"].buckets
_log = logging.getLogger("quantwatch.loki")


class ShipperStats:
    """Plain counters the worker bumps and a scrape reads: no metric locks on the bot's path."""

    def __init__(self) -> None:
        self.sent = 0
        self.dropped = dict.fromkeys(LOG_DROP_REASONS, 0)
        self.batches = dict.fromkeys(LOG_BATCH_OUTCOMES, 0)
        self.retries = dict.fromkeys(LOG_RETRY_REASONS, 0)
        #: Pushes per PUSH_BUCKETS bucket, not cumulative, the last one past every bound; and their total seconds.
        self.push_buckets = [0] * (len(PUSH_BUCKETS) + 1)
        self.push_seconds = 0.0

    def observe(self, seconds: float, outcome: Outcome) -> None:
        """Count one push request and its latency."""
        self.push_buckets[bisect.bisect_left(PUSH_BUCKETS, seconds)] += 1
        self.push_seconds += seconds
        self.batches[outcome.outcome] += 1


class Shipper:
    """Ships ``(timestamp ns, level, line)`` entries to Loki from a daemon thread.

    For example::

        shipper = Shipper(Config.load(loki_url="http://loki:3100", service="condor-bot", env="prod"))
        shipper.offer(time.time_ns(), "info", '{"message":"hello"}')  # True: queued
        shipper.close(timeout=5.0)  # True: every line arrived or was counted
    """

    def __init__(self, config: Config, *, wire: Wire = JSON_GZIP) -> None:
        self.stats = ShipperStats()
        #: The stream labels besides ``level``.
        self.labels = {"service": config.service, "env": config.env}
        self._wire = wire
        password = _read_secret(config.loki_password_file) if config.loki_password_file else ""
        self._pusher = Pusher(config.loki_url, wire, tenant=config.loki_tenant, username=config.loki_username, password=password)
        self._max_lines, self._max_bytes = config.loki_queue_lines, config.loki_queue_bytes
        self._batch_bytes, self._batch_seconds = config.loki_batch_bytes, config.loki_batch_seconds
        self._timeout, self._retry_seconds = config.loki_timeout_seconds, config.loki_retry_seconds
        self._max_age_ns = int(config.loki_max_age_seconds * 1e9)
        self._close_seconds = config.loki_close_seconds
        self.spool = Spool(config.loki_spool_dir, config.loki_spool_bytes, self._lost_in_spool) if config.loki_spool_dir else None
        self._lock = threading.Lock()
        self._settled = threading.Condition(self._lock)
        self._pending: deque[Entry] = deque()
        self._pending_bytes = 0
        #: Lines and characters in memory, queued or in flight: what loki_queue_lines and loki_queue_bytes bound.
        self.held_lines = 0
        self.held_bytes = 0
        self._accepted = 0  # lines ever queued
        self._released = 0  # lines that left memory: delivered, dropped or spooled
        self._flushers = 0
        self._failures = 0  # consecutive failed pushes, for the backoff
        self._retry_at = 0.0  # monotonic time of the next try of the spool's oldest batch
        self._closed = False
        self._told_wrong_url = False
        self._clean_close = True
        self._deadline: float | None = None
        self._wake = threading.Event()
        self._interrupt = threading.Event()
        self._thread = threading.Thread(target=self._run, name="quantwatch-loki", daemon=True)
        self._thread.start()
        atexit.register(self.close)

    # -- the bot's side ------------------------------------------------------

    def offer(self, ts_ns: int, level: str, line: str) -> bool:
        """Queue one line without waiting; False (and counted) when the queue is full or closed."""
        size = len(line)
        with self._lock:
            if self._closed:
                self.stats.dropped["shutdown"] += 1
                return False
            if self.held_lines >= self._max_lines or self.held_bytes + size > self._max_bytes:
                self.stats.dropped["queue_full"] += 1
                return False
            self._pending.append((ts_ns, level, line))
            self._pending_bytes += size
            self.held_lines += 1
            self.held_bytes += size
            self._accepted += 1
            full = self._pending_bytes >= self._batch_bytes
        if full and not self._wake.is_set():
            self._wake.set()
        return True

    def flush(self, timeout: float) -> bool:
        """Push everything queued so far now; True when all of it reached Loki or was counted within ``timeout`` seconds."""
        deadline = time.monotonic() + timeout
        with self._lock:
            target = self._accepted
            self._flushers += 1
        self._wake.set()
        try:
            with self._lock:
                while self._released < target or (self.spool is not None and self.spool.lines):
                    remaining = deadline - time.monotonic()
                    if remaining <= 0 or not self._thread.is_alive():
                        return False
                    self._settled.wait(remaining)
                return True
        finally:
            with self._lock:
                self._flushers -= 1

    def close(self, timeout: float | None = None) -> bool:
        """Refuse new lines, push the queued ones until ``timeout`` (default loki_close_seconds), then spool or count the rest.

        True when nothing was dropped at shutdown. Registered with ``atexit``; safe to call twice.
        """
        with self._lock:
            if self._closed:
                return self._clean_close
            self._closed = True
            self._deadline = time.monotonic() + (self._close_seconds if timeout is None else timeout)
            dropped_before = self.stats.dropped["shutdown"]
        atexit.unregister(self.close)
        self._wake.set()
        self._interrupt.set()
        # The worker gives up at the deadline and bounds its last push by it too.
        self._thread.join(max(0.0, self._deadline - time.monotonic()) + 1.0)
        if not self._thread.is_alive():
            self._pusher.close()
        self._clean_close = self.stats.dropped["shutdown"] == dropped_before and not self._thread.is_alive()
        return self._clean_close

    # -- the worker ----------------------------------------------------------

    def _run(self) -> None:
        while True:
            if self.spool is not None and self.spool.lines:
                self._replay()
            else:
                batch = self._take()
                if batch:
                    self._ship(batch)
            with self._lock:
                if self._closed and not self._pending and not (self.spool is not None and self.spool.lines and not self._past_deadline()):
                    return

    def _take(self) -> list[Entry]:
        """The next batch: once batch_bytes are queued, batch_seconds after the last one, or at once on flush() and close()."""
        self._wake.clear()
        if not (self._pending_bytes >= self._batch_bytes or self._flushers or self._closed):
            self._wake.wait(self._batch_seconds)
        return self._pop()

    def _pop(self) -> list[Entry]:
        """Up to batch_bytes of the oldest queued lines."""
        batch: list[Entry] = []
        size = 0
        # popleft is atomic and this thread is the only consumer: the bot's threads are not held up meanwhile.
        while self._pending and size < self._batch_bytes:
            entry = self._pending.popleft()
            batch.append(entry)
            size += len(entry[2])
        with self._lock:
            self._pending_bytes -= size
        return batch

    def _release(self, batch: list[Entry]) -> None:
        """Give a batch's room in the queue back: it was delivered, parked on disk or counted."""
        size = sum(len(line) for _, _, line in batch)
        with self._lock:
            self.held_lines -= len(batch)
            self.held_bytes -= size
            self._released += len(batch)
            self._settled.notify_all()

    def _ship(self, batch: list[Entry]) -> None:
        try:
            self._deliver(batch, spooled=False)
        finally:
            self._release(batch)

    def _replay(self) -> None:
        """Outage mode: queued lines go behind the spool while Loki fails, and the oldest spooled batch is tried when due."""
        assert self.spool is not None
        if self._failures or self._closed or self._pending_bytes >= self._batch_bytes:
            while self._pending:
                batch = self._pop()
                self._park(batch)
                self._release(batch)
        wait = self._retry_at - time.monotonic()
        if wait > 0 and not self._past_deadline():
            # Not due yet: wake for new lines to park (offer() sets _wake at batch_bytes) or at the next batch interval.
            self._wake.clear()
            if self._deadline is not None:
                wait = min(wait, self._deadline - time.monotonic())
            self._wake.wait(max(0.0, min(wait, self._batch_seconds)))
            return
        oldest = self.spool.head()
        if oldest is not None and self._deliver(oldest, spooled=True):
            self.spool.pop()
        with self._lock:
            self._settled.notify_all()

    def _deliver(self, batch: list[Entry], *, spooled: bool) -> bool:
        """Push until Loki answers for good (True); False leaves a spooled batch on disk for the next try."""
        started = time.monotonic()
        body = b""
        while True:
            fresh = self._fresh(batch)
            if not fresh:
                return True
            if fresh is not batch or not body:
                batch, body = fresh, self._wire.encode(fresh, self.labels)
            outcome = None if self._past_deadline() else self._push(body, len(batch))
            if outcome is not None and outcome.retry is None:
                if outcome.wrong_url:
                    self._tell_wrong_url(outcome.status)
                self._failures = 0
                self.stats.sent += len(batch) - outcome.rejected
                self._drop("rejected", outcome.rejected)
                return True
            done = self._failed(batch, outcome, spooled=spooled, started=started)
            if done is not None:
                return done

    def _failed(self, batch: list[Entry], outcome: Outcome | None, *, spooled: bool, started: float) -> bool | None:
        """After a failed push (None: not tried, the close deadline has passed): True done, False left on disk, None try again."""
        if outcome is not None:
            self._failures += 1
        if outcome is None or self._past_deadline():
            if spooled:
                return False  # stays on disk for the next run
            if self.spool is not None:
                self._park(batch)
            else:
                self._drop("shutdown", len(batch))
            return True
        assert outcome.retry is not None  # final answers never get here
        if not spooled and self.spool is None and time.monotonic() - started >= self._retry_seconds:
            self._drop("retries_exhausted", len(batch))
            return True
        self.stats.retries[outcome.retry] += 1
        if spooled:
            self._retry_at = time.monotonic() + self._backoff(outcome.retry_after)
            return False
        if self.spool is not None:
            self._park(batch)  # later lines follow it to disk until Loki answers: order is kept
            return True
        self._sleep(self._backoff(outcome.retry_after))
        return None

    def _park(self, batch: list[Entry]) -> None:
        assert self.spool is not None
        if not self.spool.put(batch):
            self._drop("spool", len(batch))

    def _push(self, body: bytes, lines: int) -> Outcome:
        timeout = self._timeout
        if self._deadline is not None:
            timeout = max(0.01, min(timeout, self._deadline - time.monotonic()))
        started = time.perf_counter()
        outcome = self._pusher.push(body, lines, timeout)
        self.stats.observe(time.perf_counter() - started, outcome)
        return outcome

    def _fresh(self, batch: list[Entry]) -> list[Entry]:
        """``batch`` less the lines older than Loki accepts, counted as too_old; the same list when none is."""
        horizon = time.time_ns() - self._max_age_ns
        if min(ts for ts, _, _ in batch) >= horizon:
            return batch
        fresh = [entry for entry in batch if entry[0] >= horizon]
        self._drop("too_old", len(batch) - len(fresh))
        return fresh

    def _backoff(self, retry_after: float | None) -> float:
        """Exponential in the consecutive failures, with up to half taken off at random so many bots do not retry in step."""
        delay = min(BACKOFF_MAX, BACKOFF_FIRST * 2.0 ** max(0, self._failures - 1)) * random.uniform(0.5, 1.0)
        return max(delay, min(retry_after, RETRY_AFTER_MAX)) if retry_after is not None else delay

    def _sleep(self, seconds: float) -> None:
        """Wait, but never past the close deadline; close() cuts a wait short."""
        self._interrupt.clear()
        if self._deadline is not None:
            seconds = min(seconds, max(0.0, self._deadline - time.monotonic()))
        self._interrupt.wait(seconds)

    def _past_deadline(self) -> bool:
        return self._deadline is not None and time.monotonic() >= self._deadline

    def _drop(self, reason: str, lines: int) -> None:
        if lines:
            with self._lock:
                self.stats.dropped[reason] += lines

    def _tell_wrong_url(self, status: int) -> None:
        """Log once that loki_url is no push endpoint: every line is refused until it is fixed, and the counters alone do not say why."""
        if self._told_wrong_url:
            return
        self._told_wrong_url = True
        url = self._pusher.url
        with contextlib.suppress(Exception):  # the worker keeps shipping and counting even if logging fails
            _log.error(
                "quantwatch cannot ship logs: %s is not a Loki push endpoint (the server answered %d); every line is counted as rejected. Fix loki_url: %s",
                url,
                status,
                LOKI_URL_FORMS,
                extra={FIELDS_ATTR: {"loki_url": url, "status": status}},
            )

    def _lost_in_spool(self, lines: int) -> None:
        self._drop("spool", lines)


def _read_secret(path: str) -> str:
    """A secret from a file such as ``/run/secrets/loki_password``, without its trailing newline."""
    try:
        return Path(path).read_text().rstrip("\n")
    except OSError as exc:
        raise ConfigError(f"loki_password_file {path!r}: {exc.strerror}") from None
