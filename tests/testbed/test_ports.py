"""Ports handed out together are distinct, and never one handed out before."""

from __future__ import annotations

from testbed.ports import free_ports


def test_ports_picked_together_are_distinct_and_skip_the_taken_ones() -> None:
    first = free_ports(40)
    assert len(set(first)) == 40
    second = free_ports(40, taken=set(first))
    assert len(set(second)) == 40
    assert not set(first) & set(second)
