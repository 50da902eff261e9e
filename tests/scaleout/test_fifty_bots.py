"""Fifty bots on both replicas: scrape duration, rule evaluation time, and Thanos Query latency of the dashboards' heaviest queries.

The bots are :class:`~testbed.ha.LightBots` serving the real catalogue (every event kind over four
underlyings: about 730 series a bot, over TLS with basic auth), each its own target of the
inventory. Figures are reported, not asserted against a speed: what is asserted is that every
scrape succeeds, no rule evaluation fails, every dashboard query answers through Thanos Query with
one deduplicated series per bot, and the board variables list the fleet's env.
"""

from __future__ import annotations

import statistics
import time
from collections.abc import Iterator

import pytest

from dashboards.targets import ALL, board_targets, board_variables, substitute
from testbed.ha import HABed, LightBots, figure, list_bots
from testbed.poll import wait_until

pytestmark = pytest.mark.servers

BOTS = 50
REPLICAS = ("prometheus-a", "prometheus-b")
#: Scrapes of each bot before measuring, so rate() windows and the figures have data.
SCRAPES = 10
#: The dashboards' time range (a live 5-minute board) and resolution.
WINDOW = 300.0
STEP = "2s"
#: Runs of each of the slowest queries, for a median.
RUNS = 3


@pytest.fixture(scope="module")
def fleet(ha: HABed) -> Iterator[LightBots]:
    bots = LightBots(ha, BOTS, prefix="fleet")
    list_bots(ha, bots)
    yield bots
    bots.close()


def _timed(ha: HABed, expr: str, instant: bool) -> tuple[float, int]:
    """Seconds Thanos Query took to answer, and how many series it returned; HTTPError if it refused."""
    began = time.monotonic()
    if instant:
        result = ha.query.get("query", query=expr)["result"]
    else:
        now = time.time()
        result = ha.query.get("query_range", query=expr, start=now - WINDOW, end=now, step=STEP)["result"]
    return time.monotonic() - began, len(result)


def test_fifty_bots(ha: HABed, fleet: LightBots) -> None:
    """Every bot scraped by both replicas and seen once through Thanos Query; the figures of scraping, rules and queries."""
    for replica in REPLICAS:
        prom = ha.prometheus(replica)
        wait_until(lambda prom=prom: prom.value('count(up{job="bot"} == 1)') == BOTS, 60, f"{replica} scrapes all {BOTS} bots", interval=1.0)
    wait_until(lambda: min(bot.scrapes for bot in fleet) >= 2 * SCRAPES, 120, f"{SCRAPES} scrapes of every bot by each replica", interval=1.0)
    series = ha.query.query('up{job="bot"}')
    assert len(series) == BOTS, "Thanos Query: one deduplicated series per bot"
    assert all(s["value"][1] == "1" for s in series)
    assert len(ha.query.query('up{job="bot"}', dedup="false")) > BOTS

    window = f"{2 * SCRAPES}s"
    for replica in REPLICAS:
        prom = ha.prometheus(replica)
        assert prom.value(f'min(min_over_time(up{{job="bot"}}[{window}]))') == 1, f"{replica}: a scrape failed"
        assert prom.value("sum(prometheus_rule_evaluation_failures_total)") == 0, f"{replica}: a rule evaluation failed"
        duration = prom.value(f'avg(avg_over_time(scrape_duration_seconds{{job="bot"}}[{window}]))') or 0.0
        slowest = prom.value(f'max(max_over_time(scrape_duration_seconds{{job="bot"}}[{window}]))') or 0.0
        samples = prom.value('sum(scrape_samples_scraped{job="bot"})') or 0.0
        rules = prom.value("sum(prometheus_rule_group_last_duration_seconds)") or 0.0
        figure(
            "fifty bots",
            f"{replica}: {samples:,.0f} samples per round of scrapes; scrape {duration * 1000:.0f} ms mean, {slowest * 1000:.0f} ms slowest; "
            f"all rule groups evaluated in {rules * 1000:.0f} ms",
        )

    targets = [t for t in board_targets() if t.kind == "prometheus"]
    latency: dict[str, float] = {}
    for target in targets:
        seconds, _ = _timed(ha, substitute(target.expr, ALL), target.instant)
        latency[str(target)] = seconds
    by_name = {str(t): t for t in targets}
    heaviest = sorted(latency, key=latency.__getitem__, reverse=True)[:3]
    for name in heaviest:
        target = by_name[name]
        runs = [_timed(ha, substitute(target.expr, ALL), target.instant)[0] for _ in range(RUNS)]
        figure("fifty bots", f"Query {statistics.median(runs) * 1000:.0f} ms (median of {RUNS}, 5 min at {STEP}): {name}")
    figure("fifty bots", f"all {len(targets)} dashboard PromQL targets through Thanos Query: {sum(latency.values()):.1f} s in total, none refused")

    for variable in board_variables():
        listed = set(ha.query.get(f"label/{variable.label}/values", **{"match[]": substitute(variable.selector, ALL)}))
        assert listed, f"{variable.board} ${variable.name} lists nothing"
        if variable.name == "env":
            assert fleet.env in listed
