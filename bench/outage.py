"""Logs through a log server outage (VictoriaLogs v1.52.2, Loki's push protocol) and its replay: caller cost beside the minutes before; every line delivered.

Method. One process, the test bed's log server: VictoriaLogs v1.52.2 speaking
Loki's push protocol (Loki's Go module is AGPL and is not built here), which
the Monitor pushes to as it would to Loki. The Monitor's event mix
(bench/_bots.py) runs at 1,000 events/s: one phase with the server up, then it
is stopped (SIGTERM: pushes are refused) for a phase of the same length, then
started again for a third phase, which begins while the lines held during the
outage are pushed (the replay), and the Monitor flushed; *in the log server*
counts the lines it holds afterwards for this run's service (LogsQL ``stats
count()``). Two configurations (smoke mode: compose's only): the default
(lines wait in memory) and compose's (``loki_spool_dir``: failed batches and
later lines park on disk). Each run uses a fresh Monitor and service label; one warm-up phase
precedes each run; figures are the median and (min–max) over runs of each
phase's caller p50 and p99.
"""

from __future__ import annotations

import logging
import sys
import tempfile
import uuid
from pathlib import Path

from prometheus_client import CollectorRegistry

from bench._bots import monitor_events
from bench._report import Figure, spread, table
from bench.events import Run, paced
from bench.shipping import log_count
from quantwatch import Monitor
from testbed.api import LogsAPI
from testbed.servers import Server, TestBed  # the test bed starts the same real log server the tests use


def _outage(server: Server, loki_url: str, spool: Path | None, count: int) -> tuple[Run, Run, Run, int]:
    """Phases before, during and after one outage of ``server`` (pushed to at ``loki_url``), and the lines it holds then."""
    service = f"bench-{uuid.uuid4().hex[:8]}"
    spool_dir = str(spool / service) if spool else None  # None: the default, no spool
    mon = Monitor(service=service, env="bench", loki_url=loki_url, registry=CollectorRegistry(), loki_spool_dir=spool_dir)
    logging.getLogger().setLevel(logging.INFO)
    event = monitor_events(mon)
    try:
        paced(event, count // 5, lambda: None)
        before = paced(event, count, lambda: None, first=count // 5)
        server.stop()
        during = paced(event, count, lambda: None, first=count // 5 + count)
        server.start()
        replay = paced(event, count, lambda: None, first=count // 5 + 2 * count)
        mon.flush(120)
    finally:
        mon.close()
        if not server.running:
            server.start()
    return before, during, replay, log_count(LogsAPI(server.url), service, count // 5 + 3 * count)


def run(*, smoke: bool) -> list[Figure]:
    runs, count = (1, 250) if smoke else (5, 5_000)
    print(f"{count:,} events per phase at 1,000 events/s, {runs} run(s) per configuration after a warm-up phase of {count // 5:,}.\n")
    rows, figures = [], []
    with tempfile.TemporaryDirectory(prefix="quantwatch-bench-") as tmp:
        bed = TestBed(Path(tmp), name="bench-outage")
        try:
            server = bed.start_victorialogs()
            spool_root = Path(tmp) / "spool"
            spool_root.mkdir()  # the Monitor creates its own spool folder, never the missing parents above it
            configs = {"in memory (default)": None, "disk spool (compose)": spool_root}
            for name, spool in list(configs.items())[-1:] if smoke else configs.items():
                results = [_outage(server, bed.loki_url, spool, count) for _ in range(runs)]
                before, during, replay = ([r[i] for r in results] for i in range(3))
                total = count // 5 + 3 * count
                p50s = [[r.p(0.5) for r in phase] for phase in (before, during, replay)]
                p99_before, p99_during, p99_replay = ([r.p(0.99) for r in phase] for phase in (before, during, replay))
                spreads = [spread(values) for values in (*p50s, p99_before, p99_during, p99_replay)]
                rows.append([name, *spreads, f"{min(r[3] for r in results):,} of {total:,}"])
                for when, p99 in (("while the log server is down", p99_during), ("while the backlog replays after it", p99_replay)):
                    figures.append(Figure(f"caller p99 {when}, {name}", "µs", p99, p99_before, "p99 before it", most_ratio=1.5))
                print(f"  done: {name}", file=sys.stderr, flush=True)
        finally:
            bed.close()
    phases = ("before", "during", "replay after")
    print(table(["queue", *(f"p50 {p} µs" for p in phases), *(f"p99 {p} µs" for p in phases), "in the log server after (worst run)"], rows))
    return figures
