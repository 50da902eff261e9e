"""The disk spool: an outage parks batches on disk in order, a restart replays them, the bound is kept."""

from __future__ import annotations

import os
import time
from pathlib import Path

from loki_helpers import PushStandIn, Reply, closed_port_url, config
from testbed.poll import wait_until

from quantwatch.shipper import Shipper
from quantwatch.spool import Spool


def test_outage_parks_lines_on_disk_and_replays_them_in_order(push_standin: PushStandIn, shippers: list[Shipper], tmp_path: Path) -> None:
    """While pushes fail, queued lines move to the spool (memory drains); once Loki answers every line arrives, in order."""
    push_standin.script = [Reply(503)] * 3
    shipper = Shipper(config(push_standin.url, loki_spool_dir=str(tmp_path / "spool")))
    shippers.append(shipper)
    start = time.time_ns()
    lines = [f"line {i}" for i in range(300)]
    for i, line in enumerate(lines[:100]):
        assert shipper.offer(start + i, "info", line)
    spool = shipper.spool
    assert spool is not None
    wait_until(lambda: spool.lines > 0 and shipper.held_lines == 0, 10, "first batch parked on disk")
    for i, line in enumerate(lines[100:], 100):
        assert shipper.offer(start + i, "info", line)
    assert shipper.flush(timeout=20)
    received = [entry for push in push_standin.pushes[3:] for entry in push.entries]
    assert [line for _, _, line in received] == lines
    assert [ts for _, ts, _ in received] == sorted(ts for _, ts, _ in received)
    assert (spool.lines, spool.bytes, sum(shipper.stats.dropped.values())) == (0, 0, 0)
    assert not list((tmp_path / "spool").iterdir())


def test_lines_spooled_at_shutdown_are_replayed_by_the_next_run(push_standin: PushStandIn, shippers: list[Shipper], tmp_path: Path) -> None:
    """Closing during an outage keeps the queue on disk, not dropped; the next shipper on that spool delivers it."""
    folder = str(tmp_path / "spool")
    down = Shipper(config(closed_port_url(), loki_spool_dir=folder, loki_batch_seconds=60))
    shippers.append(down)
    for i in range(40):
        assert down.offer(time.time_ns(), "info", f"kept {i}")
    assert down.close(timeout=0.5) is True
    assert down.stats.dropped["shutdown"] == 0
    up = Shipper(config(push_standin.url, loki_spool_dir=folder))
    shippers.append(up)
    assert up.flush(timeout=10)
    assert push_standin.lines() == [f"kept {i}" for i in range(40)]


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


def test_replay_drops_lines_that_grew_too_old_on_disk(push_standin: PushStandIn, shippers: list[Shipper], tmp_path: Path) -> None:
    """Spooled lines now older than loki_max_age_seconds are counted too_old on replay, never sent for Loki to refuse; the rest arrive in order."""
    folder = tmp_path / "spool"
    now = time.time_ns()
    spool = Spool(folder, 10**6, lambda lines: None)
    assert spool.put([(now - 120 * 10**9, "info", "stale 0"), (now - 119 * 10**9, "info", "stale 1"), (now, "info", "fresh 0")])
    assert spool.put([(now + i, "info", f"fresh {i}") for i in range(1, 3)])
    shipper = Shipper(config(push_standin.url, loki_spool_dir=str(folder), loki_max_age_seconds=60))
    shippers.append(shipper)
    assert shipper.flush(timeout=10)
    assert push_standin.lines() == ["fresh 0", "fresh 1", "fresh 2"]
    assert (shipper.stats.dropped["too_old"], shipper.stats.sent) == (2, 3)
