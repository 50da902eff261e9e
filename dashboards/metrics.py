"""What a board may query, and the labels each series carries.

Three sources, nothing else: the exporter's catalogue (``quantwatch.catalogue``), the recording
rules Prometheus loads (generated from alerts/spec.yaml into provisioning/prometheus/rules), and
the series Prometheus makes itself (``up``, ``ALERTS``). Every series also carries the labels of
its scrape target.
"""

from __future__ import annotations

import functools
from pathlib import Path

import yaml

from quantwatch.catalogue import BY_NAME, Kind, MetricSpec

from .promql import AGGREGATIONS, Query, parse, parse_all

RULES_DIR = Path(__file__).resolve().parent.parent / "provisioning" / "prometheus" / "rules"
#: Labels Prometheus puts on every series of a target (env comes from the scrape config).
TARGET_LABELS = frozenset({"job", "instance", "env"})
#: Series Prometheus makes itself, with the labels a board may use on them.
BUILTIN_SERIES = {"up": frozenset(), "ALERTS": frozenset({"alertname", "alertstate", "severity"})}
_HISTOGRAM_SUFFIXES = ("_bucket", "_sum", "_count")


def family(series: str) -> MetricSpec:
    """The catalogue family of a series (``x_bucket`` → histogram ``x``); KeyError if none."""
    if series in BY_NAME:
        return BY_NAME[series]
    for suffix in _HISTOGRAM_SUFFIXES:
        base = series.removesuffix(suffix)
        if base != series and base in BY_NAME and BY_NAME[base].kind is Kind.HISTOGRAM:
            return BY_NAME[base]
    raise KeyError(f"{series} is in neither quantwatch.catalogue nor a recording rule")


def _family_labels(series: str) -> frozenset[str]:
    return frozenset(family(series).labels) | ({"le"} if series.endswith("_bucket") else frozenset())


def kept_labels(expr: str) -> frozenset[str]:
    """Labels the result of a rule expression keeps, besides its target's."""
    return _kept(parse(expr))


def _kept(query: Query) -> frozenset[str]:
    inputs = frozenset().union(*(_family_labels(selector.name) for selector in query.selectors))
    if "by" in query.grouping:
        kept = frozenset(query.grouping["by"])
    elif "without" in query.grouping:
        kept = inputs - query.grouping["without"]
    elif any(call in AGGREGATIONS for call in query.calls):
        kept = frozenset()
    else:
        kept = inputs
    return kept - ({"le"} if "histogram_quantile" in query.calls else frozenset())


@functools.cache
def recorded(rules_dir: Path = RULES_DIR) -> dict[str, frozenset[str]]:
    """Every series the rule files record, with the labels it keeps (their expressions parsed in one batch)."""
    rules = []
    for path in sorted(rules_dir.glob("*.y*ml")):
        document = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        rules += [rule for group in document.get("groups", []) for rule in group.get("rules", []) if "record" in rule]
    queries = parse_all([str(rule["expr"]) for rule in rules])
    return {rule["record"]: _kept(query) | frozenset(rule.get("labels", {})) for rule, query in zip(rules, queries, strict=True)}


def labels_of(series: str, rules_dir: Path = RULES_DIR) -> frozenset[str]:
    """Every label ``series`` may carry; KeyError when no source defines it."""
    rules = recorded(rules_dir)
    if series in rules:
        return rules[series] | TARGET_LABELS
    if series in BUILTIN_SERIES:
        return BUILTIN_SERIES[series] | TARGET_LABELS
    return _family_labels(series) | TARGET_LABELS


def is_counter(series: str) -> bool:
    """True for a catalogue counter and for a histogram's _bucket/_sum/_count series."""
    try:
        spec = family(series)
    except KeyError:
        return False
    return spec.kind is Kind.COUNTER or (spec.kind is Kind.HISTOGRAM and series != spec.name)


def has_exemplars(series: str) -> bool:
    """True for histograms whose samples carry a correlation_id exemplar (the catalogue says so)."""
    try:
        spec = family(series)
    except KeyError:
        return False
    return spec.kind is Kind.HISTOGRAM and "exemplar" in spec.help
