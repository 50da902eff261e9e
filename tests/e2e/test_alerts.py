"""From bot events to email and Slack: the original five alerts, inhibition, market hours, correlation.

Each scenario is a row: given this trouble in the bot, expect this PromQL to hold, these receivers
to get the alert (with value, runbook and dashboard link), once per cooldown, and a resolved
notice when the bot is calm again. Timings are the spec's ``e2e`` profile (stack.py).
"""

from __future__ import annotations

import itertools
import time
from dataclasses import dataclass
from functools import partial
from pathlib import Path

import pytest

from alerts.text import number
from testbed.e2e.bot import Trouble
from testbed.e2e.checks import check_message, never_within
from testbed.e2e.pipeline import first_at_each, measure, received
from testbed.e2e.stack import Stack, render_stack
from testbed.poll import wait_until

pytestmark = pytest.mark.servers

SLACK_ONLY = frozenset({"slack"})
#: Critical goes to Slack and email, and to the generic webhook (pager, automation).
CRITICAL = frozenset({"slack", "email", "webhook"})
#: Slack allowance for rounding: Alertmanager measures a cooldown from when the previous send finished.
CLOCK_SLACK = 0.3


@dataclass(frozen=True)
class Scenario:
    """Given ``trouble``, ``promql`` holds and ``alert`` reaches exactly ``receivers``."""

    name: str
    alert: str
    trouble: Trouble
    #: The original design's condition, written here independently of the spec but for its threshold, which follows.
    promql: str
    receivers: frozenset[str]
    #: Also trace the failing operations behind the alert by correlation_id (exemplar and log lines).
    trace: bool = False


SCENARIOS = [
    Scenario("error burst", "QuantwatchErrorRateHigh", Trouble(errors_per_second=1.0), 'instance:trading_errors:rate5m{job="bot"} * 60 >', SLACK_ONLY),
    Scenario(
        "errors and broker down",
        "QuantwatchHealthScoreLow",
        Trouble(errors_per_second=1.0, broker_failure_ratio=1.0),
        'trading_health_score{job="bot"} <',
        CRITICAL,
    ),
    Scenario("host CPU busy", "QuantwatchHostCpuHigh", Trouble(cpu_busy=0.95), 'instance:trading_host_cpu:busy_ratio_rate5m{job="bot"} >', SLACK_ONLY),
    Scenario(
        "broker API failing",
        "QuantwatchBrokerApiSuccessLow",
        Trouble(broker_failure_ratio=0.8),
        'api:trading_api_requests:success_ratio_rate5m{job="bot", api="broker"} <',
        CRITICAL,
        trace=True,
    ),
    Scenario("drawdown 15%", "QuantwatchDrawdownHigh", Trouble(drawdown=0.15), 'trading_drawdown_ratio{job="bot"} >', CRITICAL),
]


@pytest.mark.parametrize("scenario", SCENARIOS, ids=[s.alert for s in SCENARIOS])
def test_alert_reaches_its_receivers_once_per_cooldown_then_resolves(stack: Stack, scenario: Scenario) -> None:
    """Bot trouble fires the alert at exactly its receivers with value, runbook and dashboard; repeats once per cooldown; resolves when calm."""
    alert = stack.rendered.alert(scenario.alert)
    with stack.episode(alert, resolved_at=scenario.receivers) as since:
        trigger = partial(stack.bot.set, scenario.trouble)
        firsts = measure(stack.bed, stack.prom, scenario.name, alert, trigger=trigger, receivers=scenario.receivers, timeout=stack.window + 30)
        promql = f"{scenario.promql} {number(alert.threshold or 0)}"
        assert stack.prom.query(promql), f"{promql} is empty while {alert.name} fires"
        for notice in firsts.values():
            check_message(stack.spec, alert, notice)
        if scenario.trace:
            trace_failing_operation(stack, since)
        repeat = alert.cooldown.repeat_interval
        wait_until(lambda: len(received(stack.bed, alert.name, since)) > len(firsts), repeat + alert.cooldown.group_interval + 10, f"{alert.name} sent again")
        for receiver in scenario.receivers:
            times = [n.received for n in received(stack.bed, alert.name, since) if n.receiver == receiver]
            gaps = [later - earlier for earlier, later in itertools.pairwise(times)]
            assert all(gap >= repeat - CLOCK_SLACK for gap in gaps), f"{receiver} got {alert.name} {gaps} s apart; the cooldown is {repeat} s"
        assert {n.receiver for n in received(stack.bed, alert.name, since)} == scenario.receivers


def trace_failing_operation(stack: Stack, since: float) -> None:
    """A failing operation's correlation_id is on the latency exemplar, and finds that operation's log lines in the log server."""
    query = 'trading_operation_duration_seconds_bucket{job="bot", operation="place_order", outcome="error"}'

    def exemplar_ids() -> list[str]:
        series = stack.prom.get("query_exemplars", query=query, start=since, end=time.time() + 1)
        return [e["labels"]["correlation_id"] for s in series for e in sorted(s["exemplars"], key=lambda e: e["timestamp"])]

    ids = wait_until(exemplar_ids, 20, f"exemplars of {query}")
    assert set(ids) <= set(stack.bot.failed_operations), "an error exemplar names an operation that did not fail"
    correlation_id = ids[-1]

    def operation_lines() -> dict[str, dict[str, object]] | None:
        lines = {line["message"]: line for line in stack.operation_lines(correlation_id, since=120)}
        return lines if {"api call", "place_order finished"} <= set(lines) else None

    lines = wait_until(operation_lines, 20, f"the log lines of operation {correlation_id}")
    assert (lines["api call"]["api"], lines["api call"]["outcome"]) == ("broker", "error")
    assert lines["place_order finished"]["outcome"] == "error"


def test_critical_mutes_its_warning_twin(stack: Stack) -> None:
    """While QuantwatchDrawdownHigh fires, QuantwatchDrawdownElevated reaches Alertmanager inhibited and is not sent; alone, it is."""
    high, elevated = stack.rendered.alert("QuantwatchDrawdownHigh"), stack.rendered.alert("QuantwatchDrawdownElevated")
    with stack.episode(elevated, resolved_at=["slack"]) as since:
        stack.bot.set(Trouble(drawdown=0.15))
        first_at_each(stack.bed, high.name, ["slack"], since=since, timeout=stack.window + 30)

        def inhibited() -> list[object]:
            return [a for a in stack.am.alerts(filter=[f'alertname="{elevated.name}"']) if a["status"]["inhibitedBy"]]

        wait_until(inhibited, elevated.for_seconds + 20, f"{elevated.name} inhibited in Alertmanager")
        never_within(lambda: received(stack.bed, elevated.name, since), elevated.cooldown.group_wait + 3, f"{elevated.name} sent while inhibited")
        alone = stack.bot.set(Trouble(drawdown=0.07))
        first_at_each(stack.bed, elevated.name, ["slack"], since=alone, timeout=elevated.cooldown.group_interval + 20)


def test_market_hours_alert_is_sent_inside_trading_hours(stack: Stack) -> None:
    """A market-hours-only alert (stale SPY quotes) reaches Slack while the rendered trading session includes now."""
    stale = stack.rendered.alert("QuantwatchMarketDataStale")
    with stack.episode(stale, resolved_at=["slack"]):
        trigger = partial(stack.bot.set, data_age_seconds=120.0)
        [notice] = measure(stack.bed, stack.prom, "stale quotes, market open", stale, trigger=trigger, receivers=["slack"]).values()
        check_message(stack.spec, stale, notice)


def test_market_hours_alert_is_muted_outside_trading_hours(stack: Stack, tmp_path: Path) -> None:
    """With today an exchange holiday, the stale-quotes alert fires and reaches Alertmanager, which mutes it: no notice."""
    stale = stack.rendered.alert("QuantwatchMarketDataStale")
    stack.wait_quiet()
    stack.load_alertmanager_config(render_stack(tmp_path, market_open=False))
    since = time.time()
    try:
        stack.bot.set(data_age_seconds=120.0)

        def muted() -> list[object]:
            groups = stack.am.get("alerts/groups", filter=[f'alertname="{stale.name}"'])
            return [a for g in groups for a in g["alerts"] if a["status"]["mutedBy"]]

        wait_until(muted, stale.for_seconds + 30, f"{stale.name} muted by a time interval in Alertmanager")
        never_within(lambda: received(stack.bed, stale.name, since), stale.cooldown.group_interval + 1, f"{stale.name} sent outside market hours")
    finally:
        stack.bot.set(Trouble())
        stack.wait_quiet()
        stack.load_alertmanager_config(stack.rendered)
