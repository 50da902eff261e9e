"""The disk spool's bounds with no server to reach: a full spool drops and counts, an unreadable segment is skipped and counted."""

from __future__ import annotations

import os
import time
from pathlib import Path

from logs_helpers import closed_port_url, config

from quantwatch.shipper import Shipper
from quantwatch.spool import Spool


def test_full_spool_drops_and_counts(shippers: list[Shipper], tmp_path: Path) -> None:
    """A batch that does not fit in loki_spool_bytes is dropped and counted as spool; what fits stays."""
    shipper = Shipper(config(closed_port_url(), loki_spool_dir=str(tmp_path / "spool"), loki_spool_bytes=400, loki_batch_seconds=60))
    shippers.append(shipper)
    for text in ("small", os.urandom(200).hex(), os.urandom(200).hex()):
        for j in range(20):
            assert shipper.offer(time.time_ns(), "info", f"{j} {text}")
        shipper.flush(timeout=0.5)
    shipper.close(timeout=0.2)
    spool = shipper.spool
    assert spool is not None
    assert spool.bytes <= 400
    assert (spool.lines, shipper.stats.dropped["spool"]) == (20, 40)


def test_unreadable_segment_is_removed_and_counted(tmp_path: Path) -> None:
    """A corrupt segment (e.g. a disk error) is skipped and its lines, known from its name, counted as lost."""
    lost: list[int] = []
    spool = Spool(tmp_path, 10**6, lost.append)
    assert spool.put([(1, "info", "a"), (2, "info", "b")])
    assert spool.put([(3, "info", "c")])
    first = sorted(tmp_path.iterdir())[0]
    first.write_bytes(b"not gzip")
    assert spool.head() == [(3, "info", "c")]
    assert lost == [2]
    assert spool.lines == 1
