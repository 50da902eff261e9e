"""Alert pipeline: a bot event to the first notification at the Slack and SMTP stand-ins, minus the waits the config sets on purpose.

Method. The end-to-end stack (testbed/e2e: real Prometheus and Alertmanager,
the bot's logs pushed to VictoriaLogs v1.52.2 over Loki's push protocol, the
alert spec rendered with its ``e2e`` profile, whose scrape and evaluation
intervals, ``for`` and ``group_wait`` are divided by 30, at least 1 s; the
bot's Monitor serving bot:8000 from this process), measured with its
importable ``testbed.e2e.pipeline.measure``. A critical alert goes to Slack and
email: the risk check fails once (QuantwatchRiskLimitViolated, ``for`` 0 s),
or the equity drops 30 % (QuantwatchDrawdownHigh, ``for`` 1 m → 2 s). Per run:
*event → notice* at each receiver (the stand-in stamps the arrival) minus the
*waits* (``for`` + the route's ``group_wait``); what is left is scrape and
evaluation cadence (up to 1 s each here), Prometheus → Alertmanager, dispatch
and delivery. Between runs the condition clears and the stack goes quiet.
Figures: median and (min–max) over runs; the baseline column is the waits.
"""

from __future__ import annotations

import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from bench._report import Figure, spread, table
from testbed.e2e.pipeline import LATENCIES, Latency, measure  # the same code the end-to-end tests report with
from testbed.e2e.stack import Stack, render_stack
from testbed.poll import wait_until
from testbed.servers import TestBed

RECEIVERS = ("slack", "email")


def _scenarios(stack: Stack) -> dict[str, Callable[[], float]]:
    """Alert name → a trigger returning the event's wall-clock time."""

    def risk() -> float:
        at = time.time()
        stack.monitor.risk_check("max_loss", False, value=1.2, limit=1.0)
        return at

    return {"QuantwatchRiskLimitViolated": risk, "QuantwatchDrawdownHigh": lambda: stack.bot.set(drawdown=0.3)}


def run(*, smoke: bool) -> list[Figure]:
    runs = 1 if smoke else 3
    names = ["QuantwatchRiskLimitViolated"] if smoke else ["QuantwatchRiskLimitViolated", "QuantwatchDrawdownHigh"]
    print(f"{runs} run(s) per alert; receivers {', '.join(RECEIVERS)}; seconds.\n")
    results: dict[tuple[str, str], list[Latency]] = {}
    with tempfile.TemporaryDirectory(prefix="quantwatch-bench-") as tmp:
        stack = Stack(TestBed(Path(tmp) / "bed", name="bench-pipeline"), render_stack(Path(tmp) / "rendered"))
        try:
            triggers = _scenarios(stack)
            # A bot's checks pass long before one fails: the passing check exposes the violations series at 0,
            # without which increase() could not see the first violation (it ignores a series' first sample).
            stack.monitor.risk_check("max_loss", True)
            wait_until(lambda: stack.prom.query('trading_risk_violations_total{check="max_loss"}'), 30, "the violations series scraped")
            for name in names:
                alert = stack.rendered.alert(name)
                for _ in range(runs):
                    stack.wait_quiet()
                    first = len(LATENCIES)
                    measure(stack.bed, stack.prom, "bench", alert, trigger=triggers[name], receivers=RECEIVERS)
                    for latency in (r for r in LATENCIES[first:] if r.receiver in RECEIVERS):
                        results.setdefault((name, latency.receiver), []).append(latency)
                    stack.bot.set(drawdown=0.0)
        finally:
            stack.close()
    rows = [
        [
            name,
            receiver,
            spread([r.to_condition for r in rs], 2),
            spread([r.to_notice for r in rs], 2),
            f"{rs[0].waits:g}",
            spread([r.to_notice - r.waits for r in rs], 2),
            spread([r.overhead for r in rs], 2),
        ]
        for (name, receiver), rs in results.items()
    ]
    print(table(["alert", "receiver", "event → condition", "event → notice", "waits", "event → notice − waits", "condition → notice − waits"], rows))
    every = [r for rs in results.values() for r in rs]
    return [
        Figure(
            "alert pipeline: event → notice − waits (Slack, email)",
            "s",
            [r.to_notice - r.waits for r in every],
            [r.waits for r in every],
            "the configured waits",
            most=3,
            digits=2,
        )
    ]
