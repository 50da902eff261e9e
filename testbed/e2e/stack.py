"""The stack under test: the alert spec rendered with its ``e2e`` profile, real servers, the bot in this process.

The configs are the repository's, rendered the ways the project renders them and nothing more:
``python -m alerts.generate --profile e2e`` (every wait and range window divided by the
profile's scale), provisioning/prometheus/prometheus.yml with its scrape and evaluation
intervals divided by the same scale, and the test bed's host/port/path mapping. The market-hours
interval is made to include now, or to exclude it (today made an exchange holiday), so a test
controls the clock of Alertmanager's time intervals without waiting for it.
"""

from __future__ import annotations

import datetime as dt
import logging
import re
import time
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
import requests
import yaml
from prometheus_client import CollectorRegistry

from alerts.generate import ALERTMANAGER_FILE, RULES_DIR, render, write
from alerts.spec import SPEC, Alert, Spec, load
from alerts.text import format_duration, parse_duration
from quantwatch import Monitor, collectors
from testbed.api import AlertmanagerAPI, LogsAPI, PrometheusAPI
from testbed.poll import wait_until
from testbed.servers import CONFIGS, TestBed

from .bot import FakeHost, ScriptedBot, Trouble
from .pipeline import first_at_each

PROFILE = "e2e"
SERVICE = "e2e-bot"
_INTERVAL = re.compile(r"^(\s*(?:scrape_interval|scrape_timeout|evaluation_interval):\s*)(\S+)", re.MULTILINE)


def spec_variant(dest: Path, *, market_open: bool, now: dt.datetime | None = None) -> Path:
    """alerts/spec.yaml with market hours that include ``now`` (open every day, all day) or exclude it (today a holiday)."""
    doc = yaml.safe_load(SPEC.read_text())
    hours = doc["market_hours"]
    today = (now or dt.datetime.now(dt.UTC)).astimezone(ZoneInfo(hours["timezone"])).date()
    if market_open:
        hours.update(weekdays="sunday:saturday", start="00:00", end="24:00", holidays={}, early_closes={})
    else:  # tomorrow too, so a run across midnight in New York stays closed
        hours["holidays"] = {today: "e2e: closed today", today + dt.timedelta(days=1): "e2e: closed tomorrow"}
        hours["early_closes"] = {}
    dest.write_text(yaml.safe_dump(doc, sort_keys=False))
    return dest


def scaled_prometheus_config(time_scale: int) -> str:
    """provisioning/prometheus/prometheus.yml with scrape and evaluation intervals divided by ``time_scale`` (at least 1s)."""

    def scaled(match: re.Match[str]) -> str:
        return match.group(1) + format_duration(max(1, round(parse_duration(match.group(2)) / time_scale)))

    return _INTERVAL.sub(scaled, CONFIGS["prometheus"].read_text())


@dataclass(frozen=True)
class Rendered:
    """The e2e rendering of one spec variant: where its files are, and the spec as loaded."""

    root: Path
    spec: Spec

    @property
    def rules_dir(self) -> Path:
        return self.root / RULES_DIR

    @property
    def alertmanager(self) -> Path:
        return self.root / ALERTMANAGER_FILE

    @property
    def prometheus(self) -> Path:
        return self.root / "prometheus.yml"

    def alert(self, name: str) -> Alert:
        return next(a for a in self.spec.alerts if a.name == name)


def render_stack(root: Path, *, market_open: bool = True) -> Rendered:
    """Render rules, routes and prometheus.yml for the e2e profile into ``root``."""
    root.mkdir(parents=True, exist_ok=True)
    spec_path = spec_variant(root / "spec.yaml", market_open=market_open)
    write(render(spec_path, PROFILE), root)
    spec = load(spec_path, PROFILE)
    (root / "prometheus.yml").write_text(scaled_prometheus_config(spec.time_scale))
    return Rendered(root, spec)


class Stack:
    """VictoriaLogs, Alertmanager and Prometheus of one bed, and the scripted bot serving bot:8000 from this process.

    The bot's Monitor ships its logs with Loki's push protocol to the bed's log server, VictoriaLogs
    (its handler sits on the root logger, so one stack runs at a time), and reads the host's CPU
    from a :class:`FakeHost`.
    """

    def __init__(self, bed: TestBed, rendered: Rendered) -> None:
        self.bed = bed
        self.rendered = rendered
        self.spec = rendered.spec
        self.host = FakeHost()
        self.log_server = bed.start_victorialogs()
        self.alertmanager = bed.start_alertmanager(config=rendered.alertmanager)
        logger = logging.getLogger(f"e2e.{bed.name}")
        logger.setLevel(logging.INFO)
        # The bot's health windows are scaled like the rules' range windows (300 s in production).
        self.monitor = Monitor(
            service=SERVICE, env="e2e", registry=CollectorRegistry(), logger=logger,
            loki_url=bed.loki_url, loki_batch_seconds=0.2, health_window_seconds=300.0 / rendered.spec.window_scale,
        )  # fmt: skip
        self._patch = pytest.MonkeyPatch()
        self._patch.setattr(collectors, "psutil", self.host)
        self.bot = ScriptedBot(self.monitor, self.host)
        try:
            self.monitor.serve(port=bed.mapping.ports["bot:8000"], addr="127.0.0.1")
            self.bot.start()
            self.prometheus = bed.start_prometheus(config=rendered.prometheus, rules_dir=rendered.rules_dir)
            self.prom = PrometheusAPI(self.prometheus.url)
            self.am = AlertmanagerAPI(self.alertmanager.url)
            self.logs = LogsAPI(self.log_server.url)
            wait_until(lambda: self.prom.value('up{job="bot"}') == 1, timeout=30, what="the bot scraped")
        except BaseException:
            self.close()
            raise

    def close(self) -> None:
        """Stop the bot, drain its logs, give psutil back, stop the bed's servers."""
        self.bot.stop()
        self.monitor.close()
        self._patch.undo()
        self.bed.close()

    def operation_lines(self, correlation_id: str, since: float = 300.0) -> list[dict[str, Any]]:
        """The bot's log lines of one operation (its ``correlation_id``), parsed, oldest first."""
        return self.logs.json_lines(f'_stream:{{service="{SERVICE}"}} "{correlation_id}"', since, correlation_id=correlation_id)

    def firing_bot_alerts(self) -> list[str]:
        """Names of the bot's alerts pending or firing in Prometheus, or active in Alertmanager."""
        names = {s["metric"]["alertname"] for s in self.prom.query('ALERTS{job="bot"}')}
        names |= {a["labels"]["alertname"] for a in self.am.alerts(filter=['job="bot"'])}
        return sorted(names)

    def wait_quiet(self, timeout: float = 60.0) -> None:
        """Wait until no bot alert is pending, firing or held by Alertmanager: the next scenario starts clean."""
        wait_until(lambda: not self.firing_bot_alerts(), timeout, "no bot alert active", interval=0.25)

    @property
    def window(self) -> float:
        """The rules' range window in seconds (5m scaled)."""
        return 300.0 / self.spec.window_scale

    @contextmanager
    def episode(self, alert: Alert, resolved_at: Iterable[str]) -> Iterator[float]:
        """A spell of trouble: starts with no bot alert active and yields its start; ends with the bot calm and ``alert`` resolved at ``resolved_at``."""
        self.wait_quiet()
        since = time.time()
        try:
            yield since
        finally:
            calm_at = self.bot.set(Trouble())
        timeout = self.window + alert.cooldown.group_interval + 20
        first_at_each(self.bed, alert.name, resolved_at, since=calm_at, timeout=timeout, status="resolved")

    def load_alertmanager_config(self, rendered: Rendered) -> None:
        """Swap Alertmanager's config for another rendering (rendered through the bed's mapping) and reload it."""
        target = self.bed.mapping.path("/etc/alertmanager") / "alertmanager.yml"
        text = self.bed.mapping.render(rendered.alertmanager.read_text())
        target.write_text(text)
        # Alertmanager answers the reload only when it is done: 200 means the new config is in force.
        requests.post(f"{self.alertmanager.url}/-/reload", timeout=10).raise_for_status()
