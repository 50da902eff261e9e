"""Scrape-time collectors: process and host resources (psutil) and the runtime gauges.

They run in the scraping thread, so the bot pays nothing between scrapes and
no polling thread exists. A collector that fails is counted and skipped, so a
scrape never fails because of it.
"""

from __future__ import annotations

import os
import time
from collections.abc import Iterable, Mapping
from typing import Any

import psutil
from prometheus_client.core import Metric
from prometheus_client.registry import Collector

from .health import HealthInputs
from .metrics import Family, scraped_family
from .window import Window


class _Guarded(Collector):
    """Base for collectors whose failures are counted, never raised into a scrape."""

    name = "base"

    def __init__(self, errors: Family) -> None:
        self._errors = errors

    def collect(self) -> Iterable[Metric]:
        try:
            return list(self._collect())
        except Exception:  # noqa: BLE001 - a scrape must succeed whatever psutil or state does
            self._errors.child(self.name).inc()
            return []

    def _collect(self) -> Iterable[Metric]:
        raise NotImplementedError

    def describe(self) -> Iterable[Metric]:
        return []


def host_pressure() -> tuple[float, float]:
    """Host CPU use since the previous call and memory use, both 0-1."""
    return psutil.cpu_percent(interval=None) / 100.0, psutil.virtual_memory().percent / 100.0


class SystemCollector(_Guarded):
    """Process and host CPU, memory and disk, read when Prometheus scrapes."""

    name = "system"

    def __init__(self, errors: Family, disk_path: str) -> None:
        super().__init__(errors)
        self._process = psutil.Process(os.getpid())
        self._disk_path = disk_path

    def _collect(self) -> Iterable[Metric]:
        times = self._process.cpu_times()
        yield _single("trading_process_cpu_seconds_total", times.user + times.system)
        yield _single("trading_process_resident_memory_bytes", self._process.memory_info().rss)
        host = psutil.cpu_times()
        known = {"user": host.user, "system": host.system, "iowait": getattr(host, "iowait", 0.0), "idle": host.idle}
        cpu = scraped_family("trading_host_cpu_seconds_total")
        for mode, seconds in known.items():
            cpu.add_metric([mode], seconds)
        cpu.add_metric(["other"], max(0.0, sum(host) - sum(known.values())))
        yield cpu
        yield _single("trading_host_cpus", psutil.cpu_count() or 1)
        memory = psutil.virtual_memory()
        yield _single("trading_host_memory_total_bytes", memory.total)
        yield _single("trading_host_memory_available_bytes", memory.available)
        disk = psutil.disk_usage(self._disk_path)
        yield _single("trading_host_disk_total_bytes", disk.total, self._disk_path)
        yield _single("trading_host_disk_free_bytes", disk.free, self._disk_path)


class RuntimeCollector(_Guarded):
    """API success ratios, market-data age and the health score, computed from recent events."""

    name = "runtime"

    def __init__(
        self,
        errors: Family,
        *,
        error_window: Window,
        api_windows: Mapping[str, Window],
        ticks: Mapping[str, tuple[float, float]],
        stale_after_seconds: float,
    ) -> None:
        super().__init__(errors)
        self._error_window = error_window
        self._api_windows = api_windows
        self._ticks = ticks
        self._stale_after = stale_after_seconds

    def _collect(self) -> Iterable[Metric]:
        now = time.monotonic()
        ratios = scraped_family("trading_api_success_ratio")
        worst = 1.0
        for api, window in list(self._api_windows.items()):
            ratio = window.ratio_ok(now)
            if ratio is not None:
                ratios.add_metric([api], ratio)
                worst = min(worst, ratio)
        yield ratios
        ages = scraped_family("trading_market_data_age_seconds")
        oldest: float | None = None
        for symbol, (received, age_then) in list(self._ticks.items()):
            age = age_then + now - received
            ages.add_metric([symbol], age)
            oldest = age if oldest is None else max(oldest, age)
        yield ages
        cpu, memory = host_pressure()
        inputs = HealthInputs(
            errors_per_minute=self._error_window.per_minute(now),
            api_success_ratio=worst,
            max_data_age_seconds=oldest,
            stale_after_seconds=self._stale_after,
            cpu_ratio=cpu,
            memory_ratio=memory,
        )
        yield _single("trading_health_score", inputs.score())


def _single(name: str, value: float, *labels: str) -> Any:
    family = scraped_family(name)
    family.add_metric(list(labels), value)
    return family
