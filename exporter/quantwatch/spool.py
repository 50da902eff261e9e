"""A bounded disk spool: batches parked during a Loki outage, replayed oldest first.

Each batch is one gzip'd JSON-lines segment named ``<seq>-<lines>.jsonl.gz``,
written to a temporary name, fsynced and renamed, so a crash leaves whole
segments only. Segments left by an earlier run are replayed first: that is how
lines queued at shutdown during an outage survive a restart. Only the
shipper's worker thread touches a spool.
"""

from __future__ import annotations

import gzip
import json
import os
import re
import zlib
from collections import deque
from collections.abc import Callable, Sequence
from pathlib import Path

from .push import Entry

_SEGMENT = re.compile(r"^(\d{16})-(\d+)\.jsonl\.gz$")


class Spool:
    """At most ``max_bytes`` of compressed segments in ``directory``.

    For example::

        spool = Spool("/var/lib/bot/loki-spool", 256 << 20, on_lost=print)
        spool.put([(1700000000000000000, "info", '{"message":"hi"}')])  # True: parked
    """

    def __init__(self, directory: str | Path, max_bytes: int, on_lost: Callable[[int], None]) -> None:
        self._dir = Path(directory)
        self._dir.mkdir(parents=True, exist_ok=True)
        self._max_bytes = max_bytes
        self._on_lost = on_lost
        self._segments: deque[tuple[Path, int, int]] = deque()
        for leftover in self._dir.glob("*.tmp"):
            leftover.unlink(missing_ok=True)
        last = -1
        for path in sorted(self._dir.iterdir()):
            match = _SEGMENT.match(path.name)
            if match:
                last = int(match.group(1))
                self._segments.append((path, int(match.group(2)), path.stat().st_size))
        self._next = last + 1
        #: Lines and bytes on disk now, read by flush() and the metrics collector.
        self.lines = sum(lines for _, lines, _ in self._segments)
        self.bytes = sum(size for _, _, size in self._segments)

    def put(self, entries: Sequence[Entry]) -> bool:
        """Park a batch after those already here; False when it does not fit or cannot be written."""
        data = gzip.compress("\n".join(json.dumps(entry, ensure_ascii=False) for entry in entries).encode("utf-8", "replace"), 1)
        if self.bytes + len(data) > self._max_bytes:
            return False
        path = self._dir / f"{self._next:016d}-{len(entries)}.jsonl.gz"
        tmp = path.with_suffix(".tmp")
        try:
            with open(tmp, "wb") as out:
                out.write(data)
                out.flush()
                os.fsync(out.fileno())
            os.replace(tmp, path)
        except OSError:
            tmp.unlink(missing_ok=True)
            return False
        self._next += 1
        self._segments.append((path, len(entries), len(data)))
        self.lines += len(entries)
        self.bytes += len(data)
        return True

    def head(self) -> list[Entry] | None:
        """The oldest batch, or None when the spool is empty; unreadable segments are removed and reported lost."""
        while self._segments:
            path, lines, _ = self._segments[0]
            try:
                text = gzip.decompress(path.read_bytes()).decode("utf-8")
                return [(int(ts), str(level), str(line)) for ts, level, line in map(json.loads, text.split("\n"))]
            except (OSError, EOFError, zlib.error, ValueError, TypeError):
                self.pop()
                self._on_lost(lines)
        return None

    def pop(self) -> None:
        """Forget the oldest batch: it reached Loki or was dropped and counted."""
        path, lines, size = self._segments.popleft()
        path.unlink(missing_ok=True)
        self.lines -= lines
        self.bytes -= size
