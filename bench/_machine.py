"""What the figures were measured on: CPU, cores, load, Python, package and server versions."""

from __future__ import annotations

import datetime
import importlib.metadata
import os
import platform
import subprocess
from pathlib import Path

from testbed.binaries import pins

REPO = Path(__file__).resolve().parents[1]
PACKAGES = ("quantwatch", "prometheus-client", "python-json-logger", "python-logging-loki", "psutil", "requests")


def _cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.partition(":")[2].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


#: The test bed's servers the benchmarks run, by their names in compose/versions.env.
SERVERS = {"prometheus": "Prometheus {}", "alertmanager": "Alertmanager {}", "victorialogs": "VictoriaLogs {} (Loki's push protocol)"}


def _servers() -> str:
    versions = pins()
    return ", ".join(text.format(versions[name]) for name, text in SERVERS.items())


def _commit() -> str:
    done = subprocess.run(["git", "-C", str(REPO), "rev-parse", "--short", "HEAD"], capture_output=True, text=True, check=False)  # noqa: S603, S607 - fixed arguments
    return done.stdout.strip() or "unknown"


def details(load_before: tuple[float, float, float]) -> list[tuple[str, str]]:
    """Name and value of each machine detail; ``load_before`` is the load average when the run began."""
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    versions = ", ".join(f"{name} {importlib.metadata.version(name)}" for name in PACKAGES)
    return [
        ("date (UTC)", datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%d %H:%M")),
        ("commit", _commit()),
        ("CPU", _cpu_model()),
        ("cores usable / logical", f"{cores} / {os.cpu_count()}"),
        ("load average at start / end (1, 5, 15 min)", f"{' '.join(f'{x:.2f}' for x in load_before)} / {' '.join(f'{x:.2f}' for x in os.getloadavg())}"),
        ("OS", f"{platform.system()} {platform.release()}"),
        ("Python", f"{platform.python_implementation()} {platform.python_version()}"),
        ("packages", versions),
        ("servers", _servers()),
    ]
