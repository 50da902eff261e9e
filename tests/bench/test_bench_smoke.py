"""CI runs the benchmarks only in smoke mode: this keeps every one of them working (their figures are not checked)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
DOC = REPO / "docs" / "benchmarks.md"
#: A figure of each benchmark, as its summary row starts.
FIGURES = (
    "caller p99 per event, paced",
    "all monitoring CPU at 1,000 events/s",
    "counter update, cached child",
    "memory added: imports",
    "scrape CPU",
    "caller p99 while the log server is down",
    "caller p99 while the backlog replays",
    "alert pipeline",
)


@pytest.mark.servers
def test_every_benchmark_runs_in_smoke_mode() -> None:
    """`python -m bench --smoke` exits 0, every benchmark's figure is in its summary, and docs/benchmarks.md is left alone."""
    before = DOC.read_bytes() if DOC.exists() else None
    # Smoke mode takes about a minute; the timeout only stops a benchmark that hangs or ignores smoke mode.
    done = subprocess.run([sys.executable, "-m", "bench", "--smoke"], cwd=REPO, capture_output=True, text=True, timeout=300, check=False)
    assert done.returncode == 0, done.stderr[-4000:]
    summary = done.stdout.rpartition("## smoke run")[2]
    missing = [figure for figure in FIGURES if figure not in summary]
    assert not missing, f"no summary row for {missing}:\n{summary}"
    assert (DOC.read_bytes() if DOC.exists() else None) == before
