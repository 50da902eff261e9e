"""Registers the event-driven families of the catalogue and caches their label children.

``Metric.labels()`` takes a lock and checks its arguments on every call; the
bot emits the same few label sets over and over, so a dict lookup of ready
children is the hot path instead (measured in ``make bench``).

prometheus_client adds a ``_created`` sample to every counter and histogram
child. No rule or dashboard reads them, and they would double the exposition,
so :class:`EventFamilies` leaves them out of quantwatch's families only;
``prometheus_client.disable_created_metrics()`` would do it for the whole
process, the bot's own metrics included, which is the bot's choice to make.

:mod:`quantwatch.exposition` serves these families from rendered text kept
between scrapes; it finds them in a registry as the :class:`EventFamilies` collector.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import Any

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

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
    families = {spec.name: Family(_create(spec)) for spec in CATALOGUE if not spec.scraped}
    registry.register(EventFamilies([family.metric for family in families.values()]))
    return families


def _create(spec: MetricSpec) -> Any:
    if spec.kind is Kind.COUNTER:
        return Counter(spec.name, spec.help, spec.labels, registry=None)
    if spec.kind is Kind.GAUGE:
        return Gauge(spec.name, spec.help, spec.labels, registry=None)
    return Histogram(spec.name, spec.help, spec.labels, registry=None, buckets=spec.buckets)


class EventFamilies(Collector):
    """The event-driven families as a registry sees them, less their ``_created`` samples (see the module docstring)."""

    def __init__(self, metrics: Iterable[Any]) -> None:
        #: The prometheus_client metrics, in registration order.
        self.metrics = tuple(metrics)

    def collect(self) -> Iterator[Metric]:
        for metric in self.metrics:
            for family in metric.collect():
                created = family.name + "_created"
                family.samples = [sample for sample in family.samples if sample.name != created]
                yield family

    def describe(self) -> Iterator[Metric]:
        for metric in self.metrics:
            yield from metric.describe()


def scraped_family(name: str) -> CounterMetricFamily | GaugeMetricFamily:
    """An empty family for a scrape-time collector, with the catalogue's help and labels."""
    spec = BY_NAME[name]
    if spec.kind is Kind.COUNTER:
        return CounterMetricFamily(spec.name, spec.help, labels=spec.labels)
    if spec.kind is Kind.GAUGE:
        return GaugeMetricFamily(spec.name, spec.help, labels=spec.labels)
    raise ValueError(f"{name} is a {spec.kind.value}; scrape-time collectors build only counters and gauges")
