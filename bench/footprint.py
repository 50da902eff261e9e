"""A bot process with ~2,000 series: resident memory the exporter adds, and the CPU and body of one scrape, beside plain prometheus_client.

Method. Each side runs in a fresh process (bench/_child.py) that reads its
resident memory (/proc/self/statm) before importing anything of the exporter,
after the imports, after the full default metric set (every event kind over
3 strategies × 28 symbols, APIs, checks, errors, operations: bench/_series.py)
with /metrics served, and, for quantwatch, after its log queue is full (no log
server listening at its ``loki_url``: the lines a bot holds while VictoriaLogs
v1.52.2, or Loki, is unreachable; ~330-byte order-fill lines until the first
``queue_full`` drop; default limits). The baseline process builds the same
families and series in plain prometheus_client (``_created`` off, as
quantwatch has it; values static, so no scrape-time reads) and serves them the
same way; quantwatch serves its own families from rendered bytes kept
between scrapes (quantwatch.exposition), and here they are all unchanged
between scrapes, as most are between two scrapes of a running bot.
Memory: one process per side per round. Scrape: the parent GETs /metrics
with Prometheus 3's headers (OpenMetrics first, gzip), then in the 0.0.4
text format; *CPU per scrape* is the serving process's CPU time (all threads)
over the scrapes, after warm-up scrapes; the sides alternate. Figures: median
and (min–max) over rounds.
"""

from __future__ import annotations

import gzip
import http.client
import json
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import psutil

from bench._machine import REPO
from bench._report import Figure, spread, table
from testbed.ports import LOCAL_HOST, free_port  # a port nothing listens on: the log server is down

MiB = 1024 * 1024
#: Prometheus 3's default scrape_protocols, as it sends them (tests/bench/test_scrape_headers.py captures the
#: real one): with its default metric_name_escaping_scheme it asks for allow-utf-8, which spares
#: prometheus_client its per-character name escaping.
OPENMETRICS = ",".join(
    (
        "application/openmetrics-text;version=1.0.0;escaping=allow-utf-8;q=0.7",
        "application/openmetrics-text;version=0.0.1;q=0.6",
        "text/plain;version=1.0.0;escaping=allow-utf-8;q=0.5",
        "text/plain;version=0.0.4;q=0.4",
        "*/*;q=0.3",
    )
)
TEXT = "text/plain;version=0.0.4"
FORMATS = {"OpenMetrics + gzip (Prometheus 3)": (OPENMETRICS, "gzip"), "text 0.0.4, no gzip": (TEXT, "identity")}


class Child:
    """One bot process of bench/_child.py, serving /metrics until closed."""

    def __init__(self, mode: str, spec: Path, smoke: bool) -> None:
        args = [sys.executable, "-m", "bench._child", mode, str(spec), f"http://{LOCAL_HOST}:{free_port()}"]
        env = {"PYTHONPATH": f"{REPO}:{REPO / 'exporter'}", "PATH": "/usr/bin:/bin"}
        if smoke:  # a small queue fills in a blink; the figure means nothing in smoke mode anyway
            env["QUANTWATCH_LOKI_QUEUE_LINES"] = "5000"
        self.process = subprocess.Popen(args, cwd=REPO, env=env, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)  # noqa: S603 - our own child
        assert self.process.stdin is not None
        assert self.process.stdout is not None
        self.report: dict[str, Any] = json.loads(self.process.stdout.readline())
        self.process.stdin.write("quiet\n")
        self.process.stdin.flush()
        self.process.stdout.readline()
        self.ps = psutil.Process(self.process.pid)

    def added(self, step: str) -> float:
        """MiB of resident memory from the process's start to ``step``."""
        rss: dict[str, int] = self.report["rss"]
        return (rss[step] - rss["start"]) / MiB

    def scrape(self, accept: str, encoding: str) -> tuple[int, int]:
        """One GET /metrics: bytes on the wire and bytes of exposition."""
        conn = http.client.HTTPConnection(LOCAL_HOST, self.report["port"], timeout=30)
        conn.request("GET", "/metrics", headers={"Accept": accept, "Accept-Encoding": encoding})
        response = conn.getresponse()
        body = response.read()
        conn.close()
        assert response.status == 200, response.status
        return len(body), len(gzip.decompress(body) if response.getheader("Content-Encoding") == "gzip" else body)

    def cpu_ms_per_scrape(self, accept: str, encoding: str, scrapes: int) -> float:
        for _ in range(3):
            self.scrape(accept, encoding)
        before = self.ps.cpu_times()
        for _ in range(scrapes):
            self.scrape(accept, encoding)
        after = self.ps.cpu_times()
        return (after.user + after.system - before.user - before.system) / scrapes * 1e3

    def close(self) -> None:
        assert self.process.stdin is not None
        self.process.stdin.close()
        self.process.wait(timeout=30)


def run(*, smoke: bool) -> list[Figure]:
    rounds, scrapes = (1, 5) if smoke else (5, 40)
    print(f"{rounds} round(s); per round one fresh process per side and {scrapes} timed scrapes per format after 3 warm-up scrapes.\n")
    memory: dict[str, dict[str, list[float]]] = {"quantwatch": {}, "plain": {}}
    cpu: dict[tuple[str, str], list[float]] = {}
    sizes: dict[tuple[str, str], tuple[int, int]] = {}
    series: dict[str, int] = {}
    with tempfile.TemporaryDirectory(prefix="quantwatch-bench-") as tmp:
        spec = Path(tmp) / "series.json"
        for _ in range(rounds):
            for mode in ("quantwatch", "plain"):  # quantwatch first: it writes the series the baseline rebuilds
                child = Child(mode, spec, smoke)
                try:
                    series[mode] = child.report["series"]
                    for step in child.report["rss"]:
                        if step != "start":
                            memory[mode].setdefault(step, []).append(child.added(step))
                    for name, (accept, encoding) in FORMATS.items():
                        cpu.setdefault((mode, name), []).append(child.cpu_ms_per_scrape(accept, encoding, scrapes))
                        sizes[mode, name] = child.scrape(accept, encoding)
                    if mode == "quantwatch":
                        queued = child.report["queued_lines"], child.report["queued_chars"]
                finally:
                    child.close()
            time.sleep(0.2)
    labels = {"imported": "after the imports", "series": "+ metric set, /metrics served", "queue_full": "+ log queue full"}
    rows = [[labels[step], spread(memory["quantwatch"][step]), spread(memory["plain"][step]) if step in memory["plain"] else "–"] for step in labels]
    print(f"Resident memory added since the process started (MiB); quantwatch {series['quantwatch']:,} series, plain {series['plain']:,}.")
    per_line = (statistics.median(memory["quantwatch"]["queue_full"]) - statistics.median(memory["quantwatch"]["series"])) * MiB / queued[0]
    print(f"Full queue: {queued[0]:,} lines, {queued[1] / MiB:.1f} MiB of line text (default limits; smoke: 5,000 lines): {per_line:,.0f} bytes a line.\n")
    print(table(["step", "quantwatch MiB", "plain prometheus_client MiB"], rows) + "\n")
    rows = []
    for mode in ("quantwatch", "plain"):
        for name in FORMATS:
            wire, body = sizes[mode, name]
            rows.append([mode, name, spread(cpu[mode, name], 2), f"{body / 1024:,.0f}", f"{wire / 1024:,.0f}"])
    print(table(["exporter", "format", "CPU ms per scrape", "body KiB", "on the wire KiB"], rows))
    om = next(iter(FORMATS))
    ours_body, plain_body = sizes["quantwatch", om][1] / 1024, sizes["plain", om][1] / 1024
    return [
        Figure(
            "memory added: imports + 2,000 series + full log queue",
            "MiB",
            memory["quantwatch"]["queue_full"],
            memory["plain"]["series"],
            "plain prometheus_client, same series",
            most=35,
        ),
        Figure("memory added without the log queue", "MiB", memory["quantwatch"]["series"], memory["plain"]["series"], "plain prometheus_client"),
        Figure(
            "scrape CPU, full default metric set (OpenMetrics+gzip)",
            "ms",
            cpu["quantwatch", om],
            cpu["plain", om],
            "plain prometheus_client",
            most_ratio=0.33,
            digits=2,
        ),
        Figure("scrape body (OpenMetrics, uncompressed)", "KiB", [ours_body], [plain_body], "plain prometheus_client", digits=0),
    ]
