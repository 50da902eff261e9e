"""Measuring the alert pipeline: from a bot event to the first notification at each receiver.

Importable on its own (``from testbed.e2e.pipeline import measure``) for benchmarks: it needs a
test bed (its SMTP and webhook stand-ins stamp each arrival), a Prometheus API and the alert as the
spec renders it. For one alert :func:`measure` records

- event → condition: until Prometheus first answers the alert's expression (scrape, range windows);
- event → notice: until the receiver got the first firing notification;
- waits: what the config makes the pipeline wait on purpose, the alert's ``for`` plus its route's
  ``group_wait``;
- overhead: condition → notice minus the waits: rule evaluation cadence, Prometheus → Alertmanager,
  dispatch and delivery. The target is at most 3 s.
"""

from __future__ import annotations

import json
import re
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from alerts.spec import Alert
from testbed.api import PrometheusAPI
from testbed.poll import wait_until
from testbed.servers import TestBed

#: The webhook receiver's path per Alertmanager receiver (the test bed's ``*_url`` secrets).
PATHS = {"/slack_webhook_url": "slack", "/alert_webhook_url": "webhook", "/heartbeat_url": "heartbeat"}
_HEADLINE = re.compile(r"\[(FIRING:\d+|RESOLVED)\] (?:WARNING|CRITICAL|MIXED) (\w+)")
OVERHEAD_TARGET = 3.0


@dataclass(frozen=True)
class Notice:
    """One notification as a receiver got it."""

    receiver: str
    alertname: str
    status: str  # "firing" or "resolved"
    #: What a person reads: Slack's attachment text, the email's plain body, the webhook's JSON.
    text: str
    received: float
    #: False when the receiver refused it (the stand-in answered an error).
    delivered: bool = True


def _headline(receiver: str, title: str, text: str, received: float, delivered: bool = True) -> Notice | None:
    match = _HEADLINE.search(title)
    if match is None:
        return None
    status = "resolved" if match.group(1) == "RESOLVED" else "firing"
    return Notice(receiver, match.group(2), status, text, received, delivered)


def notices(bed: TestBed) -> list[Notice]:
    """Every notification the bed's SMTP and webhook stand-ins received, oldest first."""
    out: list[Notice] = []
    for post in bed.slack.items():
        receiver = PATHS.get(post.path, post.path)
        body = post.json()
        delivered = post.status < 300
        if receiver == "slack":
            attachment = body["attachments"][0]
            notice = _headline(receiver, attachment.get("title", ""), attachment.get("text", ""), post.received, delivered)
        else:
            notice = Notice(receiver, body["commonLabels"].get("alertname", ""), body["status"], json.dumps(body), post.received, delivered)
        if notice:
            out.append(notice)
    for mail in bed.smtp.items():
        notice = _headline("email", mail.subject, mail.body(), mail.received)
        if notice:
            out.append(notice)
    return sorted(out, key=lambda n: n.received)


def received(bed: TestBed, alertname: str, since: float, status: str = "firing", *, delivered: bool = True) -> list[Notice]:
    """Notices of ``alertname`` with ``status`` received since ``since`` (only those delivered, by default)."""
    return [n for n in notices(bed) if n.alertname == alertname and n.status == status and n.received >= since and (n.delivered or not delivered)]


def first_at_each(bed: TestBed, alertname: str, receivers: Iterable[str], *, since: float, timeout: float, status: str = "firing") -> dict[str, Notice]:
    """Wait until each receiver got a delivered ``status`` notice of ``alertname`` since ``since``; the first one of each."""
    wanted = set(receivers)

    def firsts() -> dict[str, Notice] | None:
        found: dict[str, Notice] = {}
        for notice in received(bed, alertname, since, status):
            if notice.receiver in wanted:
                found.setdefault(notice.receiver, notice)
        return found if wanted <= set(found) else None

    return wait_until(firsts, timeout, f"a {status} {alertname} notice at each of {sorted(wanted)}", interval=0.05)


class ConditionClock:
    """Polls Prometheus from a background thread and records when ``expr`` first returns a sample."""

    def __init__(self, prom: PrometheusAPI, expr: str, interval: float = 0.05) -> None:
        self.at: float | None = None
        self._prom, self._expr, self._interval = prom, expr, interval
        self._done = threading.Event()
        self._thread = threading.Thread(target=self._run, name="condition-clock", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while not self._done.is_set():
            try:
                if self._prom.query(self._expr):
                    self.at = time.time()
                    return
            except OSError:
                pass  # Prometheus restarting: keep polling
            self._done.wait(self._interval)

    def stop(self) -> None:
        self._done.set()
        self._thread.join(timeout=5)


@dataclass(frozen=True)
class Latency:
    """Event → first notification at one receiver, split as the module docstring says (seconds)."""

    scenario: str
    alertname: str
    receiver: str
    to_condition: float
    to_notice: float
    waits: float

    @property
    def overhead(self) -> float:
        return self.to_notice - self.to_condition - self.waits


#: Every measurement of this session, for the closing table.
LATENCIES: list[Latency] = []


def waits(alert: Alert) -> float:
    """What the config makes a new alert wait before its first notification: ``for`` plus the route's group_wait."""
    return float(alert.for_seconds + alert.cooldown.group_wait)


def measure(
    bed: TestBed, prom: PrometheusAPI, scenario: str, alert: Alert, *, trigger: Callable[[], float], receivers: Iterable[str], timeout: float = 60.0
) -> dict[str, Notice]:
    """Run ``trigger`` (it returns the event's wall-clock time), wait for the first firing notice at each receiver, record the latencies."""
    since = time.time()
    clock = ConditionClock(prom, alert.expr)
    try:
        event_at = trigger()
        firsts = first_at_each(bed, alert.name, receivers, since=since, timeout=timeout)
    finally:
        clock.stop()
    condition_at = clock.at if clock.at is not None else event_at
    for receiver, notice in sorted(firsts.items()):
        LATENCIES.append(Latency(scenario, alert.name, receiver, condition_at - event_at, notice.received - event_at, waits(alert)))
    return firsts


def table(latencies: Iterable[Latency] = LATENCIES) -> list[str]:
    """The latencies as text lines, one per scenario and receiver, and the worst overhead against the target."""
    rows = list(latencies)
    lines = [f"{'scenario':<28}{'alert':<36}{'receiver':<10}{'event→cond':>11}{'event→notice':>13}{'waits':>7}{'overhead':>10}"]
    lines += [
        f"{r.scenario:<28}{r.alertname:<36}{r.receiver:<10}{r.to_condition:>10.2f}s{r.to_notice:>12.2f}s{r.waits:>6.0f}s{r.overhead:>9.2f}s" for r in rows
    ]
    if rows:
        worst = max(rows, key=lambda r: r.overhead)
        verdict = "within" if worst.overhead <= OVERHEAD_TARGET else "OVER"
        lines.append(f"worst pipeline overhead {worst.overhead:.2f} s ({worst.scenario}, {worst.receiver}): {verdict} the {OVERHEAD_TARGET:g} s target")
    return lines
