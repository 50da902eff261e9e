"""No sample is lost when Thanos Receive loses a node, or all of it, for 60 s: every scrape the bots answered is in Thanos.

Each scenario has its own bots (:class:`~testbed.ha.LightBots`), which count the scrapes they
answered. After the fault, the bots leave the inventory, both replicas stop scraping them, and
their remote-write backlog drains; then Thanos Query must hold, for each bot, as many samples of
``quantwatch_build_info`` (one per scrape) as the bot answered scrapes. Samples are counted per
Prometheus replica, taking the receiver holding the most of them (``dedup=false``): with
replication factor 2 every series lives on two receivers, and one complete copy means nothing
was lost; the two replicas' counts add up to the bot's.
"""

from __future__ import annotations

import time
from collections.abc import Iterator

import pytest

from testbed.ha import HABed, LightBots, figure, list_bots
from testbed.poll import wait_until

pytestmark = pytest.mark.servers

OUTAGE = 60.0
REPLICAS = ("prometheus-a", "prometheus-b")
METRIC = "quantwatch_build_info"


def stored(ha: HABed, service: str, window: float) -> int:
    """Samples of the bot's series in Thanos over the last ``window`` seconds: per replica, the fullest receiver's copy."""
    expr = f'sum(max by (replica) (count_over_time({METRIC}{{service="{service}"}}[{int(window) + 1}s])))'
    result = ha.query.query(expr, dedup="false")
    return int(float(result[0]["value"][1])) if result else 0


def _scraped(ha: HABed, fleet: LightBots, up: bool) -> bool:
    """Both replicas have every bot of the fleet as a target (``up``) or none of them."""
    for replica in REPLICAS:
        active = {t["labels"].get("service") for t in ha.prometheus(replica).get("targets", state="active")["activeTargets"]}
        healthy = {t["labels"].get("service") for t in ha.prometheus(replica).get("targets", state="active")["activeTargets"] if t["health"] == "up"}
        names = {bot.name for bot in fleet}
        if (up and not names <= healthy) or (not up and names & active):
            return False
    return True


def _lag(ha: HABed) -> float:
    """The longest remote-write lag of the two replicas: newest sample appended minus newest sample sent (seconds)."""
    expr = "max(prometheus_remote_storage_highest_timestamp_in_seconds) - max(prometheus_remote_storage_queue_highest_sent_timestamp_seconds)"
    return max(ha.prometheus(replica).value(expr) or 0.0 for replica in REPLICAS)


@pytest.fixture
def fleet(request: pytest.FixtureRequest, ha: HABed) -> Iterator[LightBots]:
    bots = LightBots(ha, 2, prefix=request.node.name.removeprefix("test_").split("_")[0], populated=False)
    yield bots
    bots.close()


def _outage(ha: HABed, fleet: LightBots, down: tuple[str, ...], scenario: str) -> None:
    """Scrape the fleet, crash ``down`` (SIGKILL) for OUTAGE seconds, start them again, drain; every answered scrape must be in Thanos.

    A crash, not a stop: Thanos Receive writes its head to a block when it shuts down cleanly and
    then refuses older samples (409 "out of bounds"), so Prometheus drops the few seconds of
    backlog it had not sent yet; after a crash the receiver replays its WAL and takes them.
    """
    began = time.monotonic()
    list_bots(ha, fleet)
    wait_until(lambda: _scraped(ha, fleet, up=True), 30, "both replicas scrape the fleet", interval=0.5)
    for name in down:
        ha.servers[name].kill()
    stopped = time.monotonic()
    failed_before = {r: ha.prometheus(r).value("sum(prometheus_remote_storage_samples_failed_total)") or 0.0 for r in REPLICAS}

    def held() -> bool:
        assert all(not ha.servers[name].running for name in down)
        assert _scraped(ha, fleet, up=True), "a replica stopped scraping during the outage"
        return time.monotonic() - stopped >= OUTAGE

    wait_until(held, OUTAGE + 30, f"{', '.join(down)} down for {OUTAGE:g} s", interval=1.0)
    ha.start(*down)
    restarted = time.monotonic()
    wait_until(lambda: _lag(ha) < 5.0, 120, "the replicas' remote-write backlog drained", interval=0.5)
    drained = time.monotonic() - restarted
    list_bots(ha)
    wait_until(lambda: _scraped(ha, fleet, up=False), 30, "both replicas stopped scraping the fleet", interval=0.5)
    window = time.monotonic() - began + 5
    expected = {bot.name: bot.scrapes for bot in fleet}
    counted: dict[str, int] = {}

    def all_in_thanos() -> bool:
        counted.update({name: stored(ha, name, window) for name in expected})
        return counted == expected

    try:
        wait_until(all_in_thanos, 60, "every answered scrape stored in Thanos", interval=1.0)
    except TimeoutError:
        copies = ha.query.query(f'count_over_time({METRIC}{{service=~"{"|".join(expected)}"}}[{int(window) + 1}s])', dedup="false")
        held = {(c["metric"]["service"], c["metric"]["replica"], c["metric"]["receive_replica"]): c["value"][1] for c in copies}
        raise AssertionError(f"answered {expected}, stored {counted}; per copy {held}") from None
    finally:
        lost = sum(expected.values()) - sum(counted.values())
        failed = {r: int((ha.prometheus(r).value("sum(prometheus_remote_storage_samples_failed_total)") or 0.0) - failed_before[r]) for r in REPLICAS}
        figure(
            scenario,
            f"{' + '.join(down)} down {OUTAGE:.0f} s: scrapes answered {sum(expected.values())}, samples in Thanos {sum(counted.values())}, "
            f"lost {lost}; backlog drained {drained:.1f} s after the restart; samples failed in remote write: {failed}",
        )
    assert counted == expected
    assert not any(failed.values()), f"samples dropped by remote write (non-recoverable): {failed}"


def test_receive_node_loss(ha: HABed, fleet: LightBots) -> None:
    """One receiver of three down for 60 s at replication factor 2: the write quorum holds and no sample is lost."""
    _outage(ha, fleet, ("thanos-receive-2",), "receive node loss")


def test_remote_write_outage(ha: HABed, fleet: LightBots) -> None:
    """The remote-write target, the router both replicas write to, down for 60 s: the replicas replay their WAL afterwards and the counts match."""
    _outage(ha, fleet, ("thanos-router",), "remote write outage")
