"""The demo bot exercises every metric family of the catalogue."""

from __future__ import annotations

import json
import random
import subprocess
import sys
import urllib.request
from pathlib import Path

import pytest
from prometheus_client import generate_latest
from prometheus_client.parser import text_string_to_metric_families

from quantwatch.catalogue import CATALOGUE
from quantwatch.demo import PHASES, DemoBot
from quantwatch.testing import capture

EXPORTER = Path(__file__).resolve().parents[2] / "exporter"


def exposed_families(body: bytes) -> set[str]:
    families = text_string_to_metric_families(body.decode())
    return {f.name + "_total" if f.type == "counter" else f.name for f in families if f.samples}


def test_all_phases_cover_every_family(tmp_path: Path) -> None:
    """Stepping through each phase with simulated time, shipping on, leaves a sample in every catalogue family."""
    # Port 9 (discard) refuses: the shipping families are exposed whether or not Loki answers.
    with capture(loki_url="http://127.0.0.1:9", loki_close_seconds=0.2, audit_path=str(tmp_path / "audit.jsonl")) as cap:
        bot = DemoBot(cap.monitor, random.Random(7))
        now = 0.0
        for phase in PHASES:
            bot.phase = phase
            for _ in range(120):
                now += 0.5
                bot.step(now)
        got = exposed_families(generate_latest(cap.monitor.registry))
    assert {spec.name for spec in CATALOGUE} - got == set()


def test_module_runs_and_serves_metrics() -> None:
    """`python -m quantwatch.demo --port 0` announces its port and serves /metrics until stopped."""
    proc = subprocess.Popen(
        [sys.executable, "-m", "quantwatch.demo", "--port", "0", "--tick", "0.05", "--seed", "3"],
        env={"PYTHONPATH": str(EXPORTER), "PATH": "/usr/bin:/bin"},
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert proc.stderr is not None
        announced = json.loads(proc.stderr.readline())
        assert announced["message"] == "demo bot serving metrics"
        with urllib.request.urlopen(f"http://127.0.0.1:{announced['port']}/metrics", timeout=5) as response:
            assert "trading_health_score" in exposed_families(response.read())
    finally:
        proc.terminate()
        assert proc.wait(timeout=10) == 0


@pytest.mark.parametrize(
    ("args", "env", "named"),
    [
        (["--port", "70000"], {}, "metrics_port 70000 (argument metrics_port) is not a TCP port"),
        ([], {"QUANTWATCH_LABEL_CAP": "-5"}, "label_cap -5 (environment variable QUANTWATCH_LABEL_CAP) must be at least 1"),
        ([], {"QUANTWATCH_DISK_PATH": "/nonexistent"}, "disk_path '/nonexistent' (environment variable QUANTWATCH_DISK_PATH) cannot be read"),
    ],
    ids=["option", "variable", "missing-path"],
)
def test_bad_setting_is_one_line_and_exit_status_2(args: list[str], env: dict[str, str], named: str) -> None:
    """The demo bot reports a bad setting in one line naming it and where it came from, exits 2, and prints no traceback."""
    done = subprocess.run(
        [sys.executable, "-m", "quantwatch.demo", *args],
        env={"PYTHONPATH": str(EXPORTER), "PATH": "/usr/bin:/bin", **env},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 2
    [line] = done.stderr.splitlines()
    assert line.startswith(f"python -m quantwatch.demo: error: {named}"), line
