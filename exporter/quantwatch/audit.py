"""AUDIT lines in a local JSONL file, so compliance records survive any Loki outage.

Each line is one ``write`` to a file opened for appending, done before the log
call returns: a crash of the bot loses nothing already logged. A small thread
fsyncs at most once a second, which bounds what a power cut can take to that
second without putting a disk flush on the trading path. The file rotates by
size to ``<path>.<UTC time>``, a name that never changes afterwards, so
archiving tools can pick rotated files up; ``backups`` of them are kept (0 = all).
"""

from __future__ import annotations

import logging
import os
import re
import threading
import time
from collections.abc import Callable
from pathlib import Path

from .logs import AUDIT
from .loki import format_record

_ROTATED = re.compile(r"\.\d{8}T\d{6}\.\d{6}Z$")


class AuditLog:
    """An append-only JSONL file rotated at ``max_bytes``.

    For example::

        audit = AuditLog("/var/lib/bot/audit.jsonl", max_bytes=64 << 20)
        audit.write('{"level":"audit","message":"order submitted"}')
    """

    def __init__(self, path: str | Path, max_bytes: int, backups: int = 0, sync_seconds: float = 1.0) -> None:
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._max_bytes, self._backups = max_bytes, backups
        self._lock = threading.Lock()
        self._fd = self._open()
        self._size = os.fstat(self._fd).st_size
        self._dirty = False
        self._closed = threading.Event()
        self._syncer = threading.Thread(target=self._sync_every, args=(sync_seconds,), name="quantwatch-audit-sync", daemon=True)
        self._syncer.start()

    def write(self, line: str) -> None:
        """Append one line (a newline is added); raises OSError when the disk refuses."""
        data = (line + "\n").encode("utf-8", "replace")
        with self._lock:
            if self._closed.is_set():
                raise OSError(f"audit log {self.path} is closed")
            if self._size and self._size + len(data) > self._max_bytes:
                self._rotate()
            view = memoryview(data)
            while view:
                view = view[os.write(self._fd, view) :]
            self._size += len(data)
            self._dirty = True

    def sync(self) -> None:
        """Force what was written onto the disk."""
        with self._lock:
            if not self._dirty or self._closed.is_set():
                return
            self._dirty = False
            fd = self._fd
        # Outside the lock: a disk flush takes milliseconds and writers must not wait for it.
        # A rotation meanwhile has already fsynced and closed fd, so an error here loses nothing.
        try:
            os.fsync(fd)
        except OSError:
            self._dirty = True

    def close(self) -> None:
        """Sync and close; later writes raise OSError."""
        with self._lock:
            if self._closed.is_set():
                return
            self._closed.set()
            os.fsync(self._fd)
            os.close(self._fd)

    def _open(self) -> int:
        return os.open(self.path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o640)

    def _rotate(self) -> None:
        os.fsync(self._fd)
        os.close(self._fd)
        micros = time.time_ns() // 1000
        while (target := self._rotated_name(micros)).exists():  # two rotations within a microsecond: take the next one
            micros += 1
        os.replace(self.path, target)
        self._fd = self._open()
        self._size = 0
        if self._backups:
            rotated = sorted(p for p in self.path.parent.glob(self.path.name + ".*") if _ROTATED.search(p.name))
            for old in rotated[: -self._backups]:
                old.unlink(missing_ok=True)

    def _rotated_name(self, micros: int) -> Path:
        seconds, fraction = divmod(micros, 1_000_000)
        return self.path.with_name(f"{self.path.name}.{time.strftime('%Y%m%dT%H%M%S', time.gmtime(seconds))}.{fraction:06d}Z")

    def _sync_every(self, seconds: float) -> None:
        while not self._closed.wait(seconds):
            self.sync()


class AuditHandler(logging.Handler):
    """Writes each AUDIT record (level 35 exactly) to an :class:`AuditLog`; a failed write is counted, never raised.

    For example::

        handler = AuditHandler(AuditLog("audit.jsonl", 64 << 20), JsonFormatter("condor-bot", "prod"), on_error=errors.inc)
        logging.getLogger().addHandler(handler)
    """

    def __init__(self, audit: AuditLog, formatter: logging.Formatter, on_error: Callable[[], None]) -> None:
        super().__init__(AUDIT)
        self.audit = audit
        self.setFormatter(formatter)
        self._on_error = on_error

    def emit(self, record: logging.LogRecord) -> None:
        if record.levelno != AUDIT:
            return
        try:
            self.audit.write(format_record(self.format, record))
        except OSError:
            self._on_error()

    def flush(self) -> None:
        self.audit.sync()

    def close(self) -> None:
        self.audit.close()
        super().close()
