"""Every PromQL and LogQL target of every generated board, run against the real Prometheus and Loki.

The demo bot runs through all its phases (calm, errors, outage, drawdown, stale data) in seconds and
ships its logs to Loki; Prometheus scrapes it with the repository's config and recording rules.
Each target must answer without error, with "All" and with concrete variable values, and return
data unless the demo cannot produce any in a short run (listed below, with the reason).
"""

from __future__ import annotations

import json
import re
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import requests
import yaml
from testbed.api import LokiAPI, PrometheusAPI
from testbed.poll import wait_until
from testbed.servers import TestBed

from dashboards.targets import ALL, BOARDS_DIR, Target, board_targets, substitute

pytestmark = pytest.mark.servers

DATASOURCES = Path(__file__).resolve().parents[2] / "provisioning" / "grafana" / "datasources" / "datasources.yaml"
#: Concrete variable values the demo bot produces (its strategies and underlyings).
CONCRETE = {"env": ".*", "strategy": "iron_condor", "symbol": "SPY", "correlation_id": ""}
#: (board, panel, refId) the demo leaves empty in a short run, and why.
MAY_BE_EMPTY = {
    ("qw-alerts-logs", "Firing alerts", "A"): "alerts fire only after their `for` (1 to 5 minutes)",
    ("qw-alerts-logs", "Firing alerts over time", "A"): "alerts fire only after their `for` (1 to 5 minutes)",
    ("qw-system-health", "Log lines sent and dropped", "B"): "Loki is up: the exporter drops nothing",
    ("qw-system-health", "Loki push requests", "B"): "Loki is up: no push is retried",
    ("qw-system-health", "Exporter input problems", "B"): "the demo's labels are allow-listed: nothing overflows the cap",
    ("qw-system-health", "Exporter input problems", "C"): "no scrape-time collector fails",
}
WARM_UP = 150.0
STEP = "2s"


@dataclass
class Live:
    prometheus: PrometheusAPI
    loki: LokiAPI


@pytest.fixture(scope="module")
def live(testbed_factory: Any) -> Live:
    """Prometheus and Loki of their own bed, the demo bot cycling through a phase every 3 s and shipping logs."""
    bed: TestBed = testbed_factory("dashboards")
    loki = bed.start_loki()
    prometheus = bed.start_prometheus()
    bed.start_bot("--seed", "11", "--tick", "0.1", "--phase-seconds", "3", "--loki-url", bed.url("loki:3100"))
    return Live(PrometheusAPI(prometheus.url), LokiAPI(loki.url))


def _prometheus(api: PrometheusAPI, target: Target, expr: str) -> list[dict[str, Any]]:
    now = time.time()
    if target.instant:
        result: list[dict[str, Any]] = api.get("query", query=expr)["result"]
    else:
        result = api.get("query_range", query=expr, start=now - 300, end=now, step=STEP)["result"]
    return result


def _loki(api: LokiAPI, expr: str) -> list[dict[str, Any]]:
    return api.query_range(expr, since=300, limit=100)


def run(live: Live, target: Target, values: dict[str, str]) -> list[dict[str, Any]]:
    """The target's result with ``values`` for the board variables; HTTPError if the server refuses it."""
    expr = substitute(target.expr, values)
    return _loki(live.loki, expr) if target.kind == "loki" else _prometheus(live.prometheus, target, expr)


def _with_data(result: list[dict[str, Any]]) -> bool:
    """True when a result holds at least one sample or line (a NaN-only series counts as empty)."""
    for series in result:
        points = series.get("values") or ([series["value"]] if "value" in series else [])
        if any(str(point[1]) not in {"NaN", "+Inf", "-Inf"} for point in points):
            return True
    return False


def _empty_targets(live: Live) -> list[str]:
    empty = []
    for target in board_targets():
        if (target.board, target.panel, target.ref) not in MAY_BE_EMPTY and not _with_data(run(live, target, ALL)):
            empty.append(str(target))
    return empty


def test_every_target_returns_data(live: Live) -> None:
    """With every variable on All, each target answers, and with data unless listed in MAY_BE_EMPTY."""
    wait_until(lambda: not _empty_targets(live), timeout=WARM_UP, interval=3.0, what="every board target returns data", retry_on=(requests.HTTPError,))
    assert len(board_targets()) > 60


def test_every_target_answers_with_concrete_values(live: Live) -> None:
    """With one strategy, one underlying and a correlation id prefix chosen, no target is refused."""
    values = CONCRETE | {"correlation_id": "0"}
    errors = []
    for target in board_targets():
        try:
            run(live, target, values)
        except requests.HTTPError as error:
            errors.append(f"{target}: {error}")
    assert errors == []


def test_may_be_empty_names_real_targets() -> None:
    """Every exemption names a target that exists, so the list cannot hide a renamed panel."""
    known = {(t.board, t.panel, t.ref) for t in board_targets()}
    assert set(MAY_BE_EMPTY) <= known


@pytest.mark.parametrize(
    ("variable", "expected"), [("strategy", {"iron_condor", "bull_put_spread", "bear_call_spread"}), ("symbol", {"SPY", "QQQ", "IWM", "AAPL"})]
)
def test_variables_list_the_demo_values(live: Live, variable: str, expected: set[str]) -> None:
    """The $strategy and $symbol variables' label_values queries list what the bot trades."""
    board = json.loads(next(BOARDS_DIR.glob("*/qw-execution.json")).read_text())
    query = next(v["query"] for v in board["templating"]["list"] if v["name"] == variable)
    selector, label = re.fullmatch(r"label_values\((.+),\s*(\w+)\)", query).groups()  # type: ignore[union-attr]
    assert label == variable

    def values() -> set[str] | None:
        found = set(live.prometheus.get(f"label/{label}/values", **{"match[]": substitute(selector)}))
        return found if expected <= found else None

    wait_until(values, timeout=WARM_UP, interval=2.0, what=f"label_values for ${variable}")


def test_derived_field_query_finds_the_operation(live: Live) -> None:
    """The Loki derived field's query, filled with a correlation_id from a real line, returns that operation's lines."""
    logs = next(t for t in board_targets() if t.panel == "All log lines")

    def correlated() -> str | None:
        for stream in run(live, logs, ALL):
            for _, line in stream["values"]:
                cid = json.loads(line).get("correlation_id")
                if cid:
                    return str(cid)
        return None

    cid = wait_until(correlated, timeout=WARM_UP, interval=2.0, what="a log line with a correlation_id")
    sources = yaml.safe_load(DATASOURCES.read_text())["datasources"]
    [field] = next(s for s in sources if s["uid"] == "loki")["jsonData"]["derivedFields"]
    query = field["url"].replace("$${__value.raw}", cid)
    lines = live.loki.lines(query, since=300)
    assert lines
    assert all(json.loads(line)["correlation_id"] == cid for line in lines)


def test_latency_exemplars_carry_a_correlation_id_found_in_loki(live: Live) -> None:
    """An exemplar of a latency panel names a correlation_id whose log lines Loki has (exemplar → logs link)."""
    flags = live.prometheus.get("status/flags")
    if "exemplar-storage" not in flags.get("enable-feature", ""):
        pytest.skip("the test bed's Prometheus runs without --enable-feature=exemplar-storage, which compose passes")
    target = next(t for t in board_targets() if t.exemplar and "order_latency" in t.expr)

    def exemplar_ids() -> list[str] | None:
        now = time.time()
        data = live.prometheus.get("query_exemplars", query=substitute(target.expr), start=now - 300, end=now)
        ids = [e["labels"]["correlation_id"] for series in data for e in series["exemplars"] if "correlation_id" in e["labels"]]
        return ids or None

    cid = wait_until(exemplar_ids, timeout=WARM_UP, interval=2.0, what="latency exemplars with a correlation_id")[-1]
    lines = wait_until(lambda: live.loki.lines(f'{{service=~".+"}} |= "{cid}" | json | correlation_id="{cid}"'), timeout=30, what=f"log lines of {cid}")
    assert lines
