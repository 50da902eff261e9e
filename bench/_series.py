"""A bot's full default metric set: Monitor events over a grid of strategies, symbols, APIs and checks,
and the same series rebuilt in plain prometheus_client for the baselines."""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram

if TYPE_CHECKING:  # the plain baseline process imports this module and must not load quantwatch
    from quantwatch import Monitor

STRATEGIES = ("iron_condor", "bull_put_spread", "bear_call_spread")

APIS = {"broker": ("place_order", "cancel_order", "positions", "account", "order_status"), "market_data": ("quotes", "chains", "greeks", "bars")}
CHECKS = ("max_position", "max_loss", "margin", "concentration", "greeks_limit")
COMPONENTS = {"broker": ("TimeoutError", "ConnectionError"), "strategy": ("ValueError", "KeyError"), "market_data": ("StaleData",)}
OPERATIONS = ("rebalance", "roll_position", "open_condor", "close_condor")
#: Symbols in the grid: with the families' other labels, about 2,000 series (count printed by the benchmarks).
SYMBOLS = 28


def populate(mon: Monitor, symbols: int = SYMBOLS) -> None:
    """Every event kind over strategies × symbols × sides, the APIs, risk checks, errors and operations."""
    for strategy in STRATEGIES:
        for n in range(symbols):
            symbol = f"SYM{n:02d}"
            for side in ("buy", "sell"):
                oid = f"{strategy}-{symbol}-{side}"
                for suffix, kind in (("f", "limit"), ("r", "market"), ("c", "stop")):
                    mon.order_submitted(oid + suffix, strategy, symbol, side, 1, price=1.25, order_type=kind)
                mon.order_filled(oid + "f", fill_price=1.2)
                mon.order_rejected(oid + "r", "insufficient_margin")
                mon.order_cancelled(oid + "c")
                mon.trade_closed(strategy, symbol, side, 12.5)
                mon.trade_closed(strategy, symbol, side, -7.5)
            mon.position_opened(
                f"p-{strategy}-{symbol}", strategy, symbol, 1, unrealized_pnl=5.0, greeks={"delta": 1.0, "gamma": 0.1, "vega": 2.0, "theta": -1.0}
            )
            mon.market_data_tick(symbol, age_seconds=0.2)
    for api, endpoints in APIS.items():
        for endpoint in endpoints:
            for outcome in ("success", "error", "timeout"):
                mon.api_call_finished(api, endpoint, 0.05, outcome)
    for check in CHECKS:
        mon.risk_check(check, True)
        mon.risk_check(check, False)
    for component, types in COMPONENTS.items():
        for error_type in types:
            mon.error(component, error_type=error_type)
    for name in OPERATIONS:
        with mon.operation(name):
            pass
    mon.portfolio_snapshot(100_000.0, 40_000.0)


def count(registry: CollectorRegistry) -> int:
    """Series in one scrape: every sample, each histogram bucket included."""
    return sum(len(metric.samples) for metric in registry.collect())


def describe(registry: CollectorRegistry) -> list[dict[str, Any]]:
    """The registry's families as JSON-ready dicts: name, type, help, label names, buckets and each child's labels."""
    families = []
    for metric in registry.collect():
        names: tuple[str, ...] = ()
        children: dict[tuple[str, ...], None] = {}
        buckets: dict[float, None] = {}
        for sample in metric.samples:
            labels = {k: v for k, v in sample.labels.items() if k != "le"}
            names = tuple(labels)
            children[tuple(labels.values())] = None
            if "le" in sample.labels and sample.labels["le"] != "+Inf":
                buckets[float(sample.labels["le"])] = None
        families.append(
            {"name": metric.name, "type": metric.type, "help": metric.documentation, "labels": names, "buckets": list(buckets), "children": list(children)}
        )
    return families


def rebuild(families: Iterable[dict[str, Any]], registry: CollectorRegistry) -> None:
    """The described families as plain prometheus_client metrics, each child given a value."""
    for family in families:
        name, doc, labels = family["name"], family["help"], family["labels"]
        if family["type"] == "histogram":
            metric: Any = Histogram(name, doc, labels, registry=registry, buckets=family["buckets"])
        elif family["type"] == "counter":
            metric = Counter(name, doc, labels, registry=registry)
        else:
            metric = Gauge(name, doc, labels, registry=registry)
        for values in family["children"]:
            child = metric.labels(*values) if labels else metric
            if family["type"] == "histogram":
                child.observe(0.05)
            elif family["type"] == "counter":
                child.inc()
            else:
                child.set(1.0)
