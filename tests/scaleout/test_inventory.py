"""Bots come from the inventory: rendered to file_sd, picked up by both replicas without a restart, checked before it is written."""

from __future__ import annotations

import time
from collections.abc import Iterator

import pytest
import yaml

from scaleout.inventory import INVENTORY, TARGETS, InventoryError, load, parse, render
from testbed.ha import HABed, LightBots, figure, list_bots
from testbed.poll import wait_until

REPLICAS = ("prometheus-a", "prometheus-b")


def test_committed_targets_are_the_rendered_inventory() -> None:
    """bots.json is what the inventory renders (make check-generated proves it in CI too)."""
    assert TARGETS.read_text() == render(load(INVENTORY))


def test_each_bot_becomes_one_target_group_with_its_labels() -> None:
    """Name, env and extra labels become target labels; the host is the target."""
    bots = parse({"bots": [{"name": "b", "host": "h2:8000", "env": "prod", "labels": {"desk": "x"}}, {"name": "a", "host": "h1:8000", "env": "prod"}]})
    assert yaml.safe_load(render(bots)) == [
        {"targets": ["h1:8000"], "labels": {"service": "a", "env": "prod"}},
        {"targets": ["h2:8000"], "labels": {"service": "b", "env": "prod", "desk": "x"}},
    ]


@pytest.mark.parametrize(
    ("entry", "problem"),
    [
        ({"name": "a", "host": "h1", "env": "prod"}, "not host:port"),
        ({"name": "a", "host": "h1:1", "env": ""}, "env is empty"),
        ({"name": "a", "host": "h1:1", "env": "p", "labels": {"job": "x"}}, "set by the inventory or Prometheus"),
        ({"name": "a", "host": "h1:1", "env": "p", "labels": {"bad-name": "x"}}, "not a Prometheus label name"),
        ({"name": "a", "host": "h1:1", "env": "p", "port": 1}, "expected name, host, env"),
        ({"name": "b", "host": "h0:1", "env": "p"}, "already bot a"),
    ],
)
def test_bad_entries_are_named(entry: dict[str, object], problem: str) -> None:
    """A bad entry is refused with its index and what is wrong, before Prometheus sees it."""
    with pytest.raises(InventoryError, match=rf"bots\[1\]: .*{problem}"):
        parse({"bots": [{"name": "a", "host": "h0:1", "env": "p"}, entry]})


@pytest.fixture
def fleets(ha: HABed) -> Iterator[tuple[LightBots, LightBots]]:
    first, added = LightBots(ha, 2, prefix="first", populated=False), LightBots(ha, 1, prefix="added", populated=False)
    yield first, added
    first.close()
    added.close()


@pytest.mark.servers
def test_a_bot_added_to_the_inventory_is_scraped_without_a_restart(ha: HABed, fleets: tuple[LightBots, LightBots]) -> None:
    """Both replicas scrape a bot once it is in bots.json, and stop once it is gone; neither restarts (same PID)."""
    first, added = fleets
    pids = {name: ha.servers[name].pid for name in REPLICAS}
    list_bots(ha, first)
    for name in REPLICAS:
        wait_until(lambda name=name: len(ha.prometheus(name).query('up{job="bot"} == 1')) == 2, 30, f"{name} scrapes the first bots")
    written = time.monotonic()
    list_bots(ha, first, added)
    pickup = {}
    for name in REPLICAS:
        wait_until(lambda name=name: ha.prometheus(name).value('up{job="bot", service="added-00", env="ha", fleet="testbed"}') == 1, 30, f"{name} scrapes it")
        pickup[name] = time.monotonic() - written
    list_bots(ha, first)
    for name in REPLICAS:
        wait_until(lambda name=name: not ha.prometheus(name).query('up{service="added-00"}'), 30, f"{name} drops it")
    assert {name: ha.servers[name].pid for name in REPLICAS} == pids
    figure("inventory", f"a bot added to bots.json scraped by both replicas {max(pickup.values()):.1f} s later, no restart")
