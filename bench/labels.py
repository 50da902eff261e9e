"""Metric updates: quantwatch's cached label children beside prometheus_client's ``.labels(...)`` lookup per update.

Method. One process, timeit: each way updates the same counter (4 labels) or
histogram (2 labels, 14 buckets) 200,000 times per run, 7 runs (smoke mode:
5,000 times, 2 runs) after one warm-up run, the ways interleaved per run;
figures are ns per update, median and (min–max) over runs. A child held by the
caller is the floor: no lookup at all.
"""

from __future__ import annotations

import timeit
from collections.abc import Callable

from prometheus_client import CollectorRegistry

from bench._report import Figure, spread, table
from quantwatch.metrics import register

LABELS = ("iron_condor", "SPY", "sell", "limit")


def _ways() -> dict[str, tuple[Callable[[], None], Callable[[], None]]]:
    """Per way of updating: (counter inc, histogram observe)."""
    fam = register(CollectorRegistry())
    orders, latency = fam["trading_orders_submitted_total"], fam["trading_order_latency_seconds"]
    held_counter, held_histogram = orders.child(*LABELS), latency.child("iron_condor", "filled")
    return {
        "quantwatch Family.child(...) (cached)": (lambda: orders.child(*LABELS).inc(), lambda: latency.child("iron_condor", "filled").observe(0.012)),
        "prometheus_client .labels(...) positional": (
            lambda: orders.metric.labels(*LABELS).inc(),
            lambda: latency.metric.labels("iron_condor", "filled").observe(0.012),
        ),
        "prometheus_client .labels(...) by keyword": (
            lambda: orders.metric.labels(strategy="iron_condor", symbol="SPY", side="sell", order_type="limit").inc(),
            lambda: latency.metric.labels(strategy="iron_condor", outcome="filled").observe(0.012),
        ),
        "child held by the caller (floor)": (held_counter.inc, lambda: held_histogram.observe(0.012)),
    }


def _rounds(updates: dict[str, Callable[[], None]], number: int, runs: int) -> dict[str, list[float]]:
    """ns per update of each way, the ways interleaved per run so a noisy moment hits them all."""
    for update in updates.values():
        timeit.timeit(update, number=number)
    result: dict[str, list[float]] = {name: [] for name in updates}
    for _ in range(runs):
        for name, update in updates.items():
            result[name].append(timeit.timeit(update, number=number) / number * 1e9)
    return result


def run(*, smoke: bool) -> list[Figure]:
    number, runs = (5_000, 2) if smoke else (200_000, 7)
    print(f"{number:,} updates per run, {runs} runs after 1 warm-up; ns per update, median (min–max).\n")
    ways = _ways()
    incs = _rounds({name: inc for name, (inc, _) in ways.items()}, number, runs)
    observes = _rounds({name: observe for name, (_, observe) in ways.items()}, number, runs)
    measured = {name: (incs[name], observes[name]) for name in ways}
    print(table(["way", "counter inc ns", "histogram observe ns"], [[name, spread(c, 0), spread(h, 0)] for name, (c, h) in measured.items()]))
    cached, looked_up = measured["quantwatch Family.child(...) (cached)"], measured["prometheus_client .labels(...) positional"]
    return [
        Figure("counter update, cached child", "ns", cached[0], looked_up[0], ".labels(...)", digits=0),
        Figure("histogram observe, cached child", "ns", cached[1], looked_up[1], ".labels(...)", digits=0),
    ]
