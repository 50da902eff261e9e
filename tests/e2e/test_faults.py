"""Faults on the way from a bot event to a person: a receiver down, the mail server down, the log server down, Prometheus restarted.

The critical drawdown alert (Slack, email and webhook; cooldown 10 s in the e2e rendering) carries
each scenario; the module runs its own bed, so the faults never reach the other scenarios.
"""

from __future__ import annotations

import time
import uuid

import pytest

from testbed.e2e.bot import Trouble
from testbed.e2e.pipeline import first_at_each, measure, received
from testbed.e2e.stack import Stack
from testbed.poll import wait_until

pytestmark = pytest.mark.servers

ALERT = "QuantwatchDrawdownHigh"
DRAWDOWN = Trouble(drawdown=0.15)


def test_slack_failing_email_at_once_slack_after_recovery(stack: Stack) -> None:
    """While the Slack endpoint answers 500, the email goes out at once; Alertmanager retries and Slack gets the alert after it recovers."""
    alert = stack.rendered.alert(ALERT)
    with stack.episode(alert, resolved_at=["slack", "email"]) as since:
        outage = alert.for_seconds + alert.cooldown.group_wait + 6.0
        stack.bed.slack.fail_for(outage)
        recovered = time.time() + outage
        [email] = measure(stack.bed, stack.prom, "Slack answering 500", alert, trigger=lambda: stack.bot.set(DRAWDOWN), receivers=["email"]).values()
        assert email.received < recovered, "the email waited for Slack"
        [slack] = first_at_each(stack.bed, alert.name, ["slack"], since=since, timeout=outage + alert.cooldown.group_interval + 30).values()
        assert [n for n in received(stack.bed, alert.name, since, delivered=False) if n.receiver == "slack" and not n.delivered], "Slack never tried"
        assert slack.received >= recovered


def test_smtp_down_slack_unaffected(stack: Stack) -> None:
    """With the mail server down, Slack and the webhook get the critical alert on time; the email follows once SMTP is back."""
    alert = stack.rendered.alert(ALERT)
    with stack.episode(alert, resolved_at=["slack", "email"]) as since:
        stack.bed.smtp.stop()
        try:
            measure(stack.bed, stack.prom, "SMTP down", alert, trigger=lambda: stack.bot.set(DRAWDOWN), receivers=["slack", "webhook"])
            assert not [n for n in received(stack.bed, alert.name, since) if n.receiver == "email"]
        finally:
            stack.bed.smtp.start()
        first_at_each(stack.bed, alert.name, ["email"], since=since, timeout=alert.cooldown.repeat_interval + 30)


def test_prometheus_restart_mid_alert_keeps_it(stack: Stack) -> None:
    """Prometheus restarted while the alert fires: it fires again, Alertmanager never resolves it, and it keeps being sent per cooldown."""
    alert = stack.rendered.alert(ALERT)
    with stack.episode(alert, resolved_at=["slack"]) as since:
        measure(stack.bed, stack.prom, "before Prometheus restart", alert, trigger=lambda: stack.bot.set(DRAWDOWN), receivers=["slack"])
        restarted = time.time()
        stack.prometheus.restart()

        def firing_again() -> bool:
            return any(a["labels"]["alertname"] == alert.name and a["state"] == "firing" for a in stack.prom.alerts())

        wait_until(firing_again, alert.for_seconds + 30, f"{alert.name} firing after the restart")
        first_at_each(stack.bed, alert.name, ["slack"], since=restarted, timeout=alert.cooldown.repeat_interval + alert.cooldown.group_interval + 15)
        assert not received(stack.bed, alert.name, since, status="resolved"), "the alert was resolved by the restart"


def test_log_server_down_bot_undisturbed_logs_arrive_later(stack: Stack) -> None:
    """With the log server stopped, events return with their lines queued and metrics are scraped; the lines arrive once it is back, none dropped."""
    marker, count = uuid.uuid4().hex, 50
    loki = stack.monitor.log_outputs.loki
    assert loki is not None
    stack.log_server.stop()
    try:
        for step in range(count):
            with stack.monitor.operation("reconcile", correlation_id=marker, step=step):
                pass
        # Every event returned while its line could not be delivered: the line waits in the queue, not the bot.
        assert loki.shipper.held_lines >= count
        scraped = 'sum(trading_operation_duration_seconds_count{job="bot", operation="reconcile"})'
        wait_until(lambda: stack.prom.value(scraped) == count, 15, f"{scraped} == {count} while the log server is down")
    finally:
        stack.log_server.start()
    wait_until(lambda: len(stack.operation_lines(marker)) == count, 60, f"{count} log lines of operation {marker}")
    dropped = stack.prom.value('sum(quantwatch_log_lines_dropped_total{job="bot"})')
    assert dropped == 0, f"{dropped} lines dropped"
