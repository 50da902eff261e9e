"""Alerting survives losing a node: an Alertmanager peer killed while a critical alert fires, then a Prometheus replica.

The rules and routes are the alert spec's, rendered with its ``e2e`` profile (waits and windows
divided by 30: QuantwatchDrawdownHigh fires 2 s after its condition and repeats every 10 s). Each
test has its own bot, a :class:`~testbed.ha.LightBot` whose equity the test sets: its alert shares
no Alertmanager state with the previous test's. A resolved alert stays in its group while
Prometheus resends it (15 minutes), and a peer that flushed the group before the alert fired again
sends that stale resolved notice after its position wait (up to twice the peer timeout), after the
new firing one; the e2e profile's 1 s group wait is far below that wait. Alertmanager promises
at-least-once delivery: a peer that dies between sending and gossiping its notification log lets
another peer send again. A duplicate is a notice of the same status reaching a receiver sooner
than the route's repeat interval after the previous one (only a missing log entry allows that).
"""

from __future__ import annotations

import itertools
import time
from collections.abc import Iterator

import pytest

from testbed.e2e.pipeline import Notice, first_at_each, received
from testbed.ha import HABed, LightBots, figure, list_bots
from testbed.poll import wait_until

pytestmark = pytest.mark.servers

PROFILE = "e2e"
ALERT = "QuantwatchDrawdownHigh"
RECEIVERS = ("email", "slack", "webhook")
#: The e2e rendering of the alert's cooldown: notices of a still-firing alert repeat this often.
REPEAT = 10.0
EQUITY = 250_000.0
#: How long a replica stays down, and the query resolution that finds a gap in the deduplicated series.
REPLICA_OUTAGE = 20.0
LOOKBACK = "5s"
BEFORE = 10
#: Alertmanager's --cluster.peer-timeout (default): a peer waits its position times this for the ones before it.
PEER_TIMEOUT = 15.0


@pytest.fixture
def bot(ha: HABed, request: pytest.FixtureRequest) -> Iterator[LightBots]:
    """This test's bot, the only one in the inventory."""
    fleet = LightBots(ha, 1, prefix=request.node.name.removeprefix("test_").replace("_", "-"), populated=False)
    fleet.monitor.portfolio_snapshot(EQUITY, EQUITY)
    list_bots(ha, fleet)
    up = f'up{{job="bot", service="{fleet.bots[0].name}"}} == 1'
    wait_until(lambda: ha.query.value(f"count({up})") == 1, 30, "the bot scraped, seen through Thanos Query", retry_on=(OSError,))
    yield fleet
    fleet.close()


def _drawdown(bot: LightBots, share: float) -> float:
    bot.monitor.portfolio_snapshot(EQUITY * (1 - share), EQUITY * 0.4)
    return time.time()


def duplicates(notices: list[Notice]) -> int:
    """Notices that follow the previous one of the same receiver and status sooner than the repeat interval allows."""
    extra = 0
    for receiver in {n.receiver for n in notices}:
        for status in ("firing", "resolved"):
            times = sorted(n.received for n in notices if n.receiver == receiver and n.status == status)
            extra += sum(1 for earlier, later in itertools.pairwise(times) if later - earlier < REPEAT - 1.0)
    return extra


def _first_peer(ha: HABed) -> str:
    """The peer that notifies first: Alertmanager orders peers by name, and each waits its position times the peer timeout."""
    peers = sorted(ha.alertmanager("alertmanager-1").status()["cluster"]["peers"], key=lambda peer: peer["name"])
    address = peers[0]["address"]
    return next(endpoint.split(":")[0] for endpoint in ha.ports if endpoint.endswith(":9094") and ha.address(endpoint) == address)


def _quiet(ha: HABed, seconds: float, timeout: float) -> None:
    """Wait until no notice of the alert has arrived for ``seconds``: a late duplicate comes within a peer's position wait."""

    def quiet() -> bool:
        last = max((n.received for n in received(ha.bed, ALERT, 0.0) + received(ha.bed, ALERT, 0.0, "resolved")), default=0.0)
        return time.time() - last >= seconds

    wait_until(quiet, timeout, f"no {ALERT} notice for {seconds:g} s", interval=0.5)


def test_alertmanager_peer_loss(ha: HABed, bot: LightBots) -> None:
    """The first peer is killed while the alert fires: every receiver still gets the repeats and the resolved notice; duplicates stay bounded."""
    settled = ha.wait_gossip()
    figure("alertmanager peers", f"3 peers gossip over mutual TLS: settled within {settled:.1f} s of the last one's start")
    since = _drawdown(bot, 0.2)
    first_at_each(ha.bed, ALERT, RECEIVERS, since=since, timeout=60)
    victim = _first_peer(ha)
    ha.servers[victim].kill()
    killed_at = time.time()
    after_kill = first_at_each(ha.bed, ALERT, RECEIVERS, since=killed_at, timeout=90)
    late = max(n.received for n in after_kill.values()) - killed_at
    # Keep it firing for another repeat from the survivors, then calm.
    try:
        wait_until(lambda: len(received(ha.bed, ALERT, killed_at)) >= 2 * len(RECEIVERS), 90, "two notices at each receiver after the kill")
    except TimeoutError:
        raise AssertionError([(n.receiver, n.status, round(n.received - killed_at, 1)) for n in received(ha.bed, ALERT, since)]) from None
    calm_at = _drawdown(bot, 0.0)
    first_at_each(ha.bed, ALERT, RECEIVERS, since=calm_at, timeout=60, status="resolved")
    # The peer comes back with an empty notification log and Prometheus still resends the resolved
    # alert: the duplicates of a lost peer include those of its return.
    ha.start(victim)
    rejoined = ha.wait_gossip()
    _quiet(ha, 2 * PEER_TIMEOUT, timeout=120)
    notices = received(ha.bed, ALERT, since) + received(ha.bed, ALERT, since, "resolved")
    extra = duplicates(notices)
    per_receiver = {r: sum(1 for n in notices if n.receiver == r) for r in RECEIVERS}
    figure(
        "alertmanager peers",
        f"{victim} killed while firing: first notice after the kill {late:.1f} s later; back in the mesh {rejoined:.1f} s "
        f"after its restart; {sum(per_receiver.values())} notices {per_receiver}, {extra} duplicates",
    )
    assert {n.receiver for n in notices if n.status == "resolved"} == set(RECEIVERS)
    assert extra <= 2 * len(RECEIVERS), f"{extra} duplicates: more than one per receiver for the loss and one for the return"


def test_prometheus_replica_loss(ha: HABed, bot: LightBots) -> None:
    """Replica a killed mid-alert: the alert keeps firing without a resolved notice, and Thanos Query shows one series with no gap."""
    since = _drawdown(bot, 0.2)
    first_at_each(ha.bed, ALERT, RECEIVERS, since=since, timeout=60)
    selector = f'trading_drawdown_ratio{{service="{bot.bots[0].name}"}}'
    # The window checked for gaps starts BEFORE s before the kill, looking back LOOKBACK from there: Query must already hold that much.
    held = BEFORE + 5
    wait_until(lambda: (ha.query.value(f"count_over_time({selector}[{held}s])") or 0) >= held / 2 - 1, 30, f"{held} s of the series in Thanos")
    replica = ha.servers["prometheus-a"]
    replica.kill()
    killed_at = time.time()
    peers = [name for name in ha.servers if name.startswith("alertmanager")]

    def still_active() -> bool:
        for peer in peers:
            alerts = ha.alertmanager(peer).alerts(filter=[f'alertname="{ALERT}"'], active="true")
            assert [a["status"]["state"] for a in alerts] == ["active"], f"{peer}: {alerts}"
        assert not received(ha.bed, ALERT, since, "resolved"), [n.text[:1500] for n in received(ha.bed, ALERT, since, "resolved")]
        return time.time() - killed_at >= REPLICA_OUTAGE

    wait_until(still_active, REPLICA_OUTAGE + 30, f"{ALERT} active on every peer for {REPLICA_OUTAGE:g} s with replica a down", interval=1.0)
    ha.start("prometheus-a")
    wait_until(lambda: ha.prometheus("prometheus-a").query(f'ALERTS{{alertname="{ALERT}", alertstate="firing"}}'), 30, "replica a fires again")
    end = time.time()
    window = {"start": killed_at - BEFORE, "end": end, "step": 1, "lookback_delta": LOOKBACK}
    deduplicated = ha.query.get("query_range", query=selector, **window)["result"]
    raw = ha.query.get("query_range", query=selector, dedup="false", **window)["result"]
    assert len(deduplicated) == 1, deduplicated
    steps = int(end - (killed_at - BEFORE)) + 1
    points = len(deduplicated[0]["values"])
    by_replica = {s["metric"]["replica"]: len(s["values"]) for s in raw}
    have = {round(float(t) - killed_at) for t, _ in deduplicated[0]["values"]}
    missing = sorted(set(range(-BEFORE, int(end - killed_at) + 1)) - have)
    assert points >= steps - 1, f"{points} of {steps} one-second steps have a sample within {LOOKBACK}: a gap at {missing} s from the kill"
    assert by_replica["a"] < points, "replica a's own series should show its outage"
    calm_at = _drawdown(bot, 0.0)
    first_at_each(ha.bed, ALERT, RECEIVERS, since=calm_at, timeout=60, status="resolved")
    figure(
        "prometheus replicas",
        f"replica a killed for {REPLICA_OUTAGE:.0f} s mid-alert: 0 resolved notices while it held; Query: 1 series, {points}/{steps} steps "
        f"with data (replica a alone {by_replica['a']}, b {by_replica.get('b', 0)})",
    )
