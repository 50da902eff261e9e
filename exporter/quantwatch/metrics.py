"""Registers the event-driven families of the catalogue and caches their label children.

``Metric.labels()`` takes a lock and checks its arguments on every call; the
bot emits the same few label sets over and over, so a dict lookup of ready
children is the hot path instead (measured in ``make bench``).
"""

from __future__ import annotations

from typing import Any

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily

from .catalogue import BY_NAME, CATALOGUE, Kind, MetricSpec


class Family:
    """One registered family with its children cached by label values."""

    __slots__ = ("_children", "metric")

    def __init__(self, metric: Any) -> None:
        self.metric = metric
        self._children: dict[tuple[str, ...], Any] = {}

    def child(self, *values: str) -> Any:
        """The child for these label values, in catalogue order."""
        try:
            return self._children[values]
        except KeyError:
            child = self.metric.labels(*values) if values else self.metric
            self._children[values] = child
            return child


def register(registry: CollectorRegistry) -> dict[str, Family]:
    """Create every non-scraped family of the catalogue in ``registry``."""
    families: dict[str, Family] = {}
    for spec in CATALOGUE:
        if spec.scraped:
            continue
        families[spec.name] = Family(_create(spec, registry))
    return families


def _create(spec: MetricSpec, registry: CollectorRegistry) -> Any:
    if spec.kind is Kind.COUNTER:
        return Counter(spec.name, spec.help, spec.labels, registry=registry)
    if spec.kind is Kind.GAUGE:
        return Gauge(spec.name, spec.help, spec.labels, registry=registry)
    return Histogram(spec.name, spec.help, spec.labels, registry=registry, buckets=spec.buckets)


def scraped_family(name: str) -> CounterMetricFamily | GaugeMetricFamily:
    """An empty family for a scrape-time collector, with the catalogue's help and labels."""
    spec = BY_NAME[name]
    if spec.kind is Kind.COUNTER:
        return CounterMetricFamily(spec.name, spec.help, labels=spec.labels)
    if spec.kind is Kind.GAUGE:
        return GaugeMetricFamily(spec.name, spec.help, labels=spec.labels)
    raise ValueError(f"{name} is a {spec.kind.value}; scrape-time collectors build only counters and gauges")
