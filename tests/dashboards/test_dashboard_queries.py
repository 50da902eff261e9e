"""Every PromQL target and variable query of the generated boards, run against the real Prometheus; the log lines they lead to, in the real log server.

The demo bot runs through all its phases (calm, errors, outage, drawdown, stale data) in seconds and
ships its logs with Loki's push protocol to the bed's log server, VictoriaLogs; Prometheus scrapes
it with the repository's config and recording rules. Variables are filled as Grafana fills them:
All, one value, several values (a regex alternation), and the built-ins of a live 5-minute board
(``dashboards.targets.BUILTINS``). Each PromQL target must answer without error and return data,
unless the demo cannot produce any in a short run (listed below, with the reason).

The LogQL targets (the log panels, and $correlation_id narrowing them) do not run here: VictoriaLogs
answers LogsQL, not LogQL, and Loki, whose Go module is AGPL, is not built here. ``dashboards.lint``
(``make check``) parses them with LogQL's real grammar, @grafana/lezer-logql, and Loki runs them
only in the compose stack. What they lead to is still checked live: an exemplar's correlation_id
and the Loki datasource's derived field (its regex applied to a real line) find the operation's
lines in VictoriaLogs, through LogsQL.
"""

from __future__ import annotations

import json
import re
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import yaml

from alerts.spec import load
from dashboards.targets import ALL, Target, Variable, board_targets, board_variables, substitute
from testbed.api import LogsAPI, PrometheusAPI
from testbed.poll import wait_until
from testbed.servers import TestBed

pytestmark = pytest.mark.servers

REPO = Path(__file__).resolve().parents[2]
DATASOURCES = REPO / "provisioning" / "grafana" / "datasources" / "datasources.yaml"
#: The env compose gives the demo bot: its log stream label, and the env label Prometheus puts on its target.
DEMO_ENV = yaml.safe_load((REPO / "compose" / "compose.yaml").read_text())["services"]["bot"]["environment"]["QUANTWATCH_ENV"]
#: LogsQL for the demo bot's log lines.
BOT_LINES = f'_stream:{{env="{DEMO_ENV}"}}'
#: What each board variable must list while the demo bot runs (its strategies and underlyings).
DEMO_VALUES = {
    "env": {DEMO_ENV},
    "strategy": {"iron_condor", "bull_put_spread", "bear_call_spread"},
    "symbol": {"SPY", "QQQ", "IWM", "AAPL"},
}
#: How a user fills the variables: All, one value each, several (Grafana writes a multi-value as ``(a|b)``).
CHOICES = {
    "all": ALL,
    "one": {"env": DEMO_ENV, "strategy": "iron_condor", "symbol": "SPY", "correlation_id": ""},
    "several": {"env": DEMO_ENV, "strategy": "(iron_condor|bull_put_spread)", "symbol": "(SPY|QQQ)", "correlation_id": ""},
}
#: (board, panel, refId) the demo leaves empty in a short run, and why.
MAY_BE_EMPTY = {
    ("qw-alerts-logs", "Firing alerts", "A"): "alerts fire only after their `for` (1 to 5 minutes)",
    ("qw-alerts-logs", "Firing alerts over time", "A"): "alerts fire only after their `for` (1 to 5 minutes)",
    ("qw-system-health", "Log lines sent and dropped", "B"): "the log server is up: the exporter drops nothing",
    ("qw-system-health", "Loki push requests", "B"): "the log server is up: no push is retried",
    ("qw-system-health", "Exporter input problems", "B"): "the demo's labels are allow-listed: nothing overflows the cap",
    ("qw-system-health", "Exporter input problems", "C"): "no scrape-time collector fails",
}
#: Also empty at times once one strategy or underlying is chosen.
MAY_BE_EMPTY_FILTERED = {
    ("qw-execution", "Orders per minute by outcome", "D"): "the demo cancels 4 % of orders: one strategy on one underlying may have none yet",
}
WARM_UP = 150.0
STEP = "2s"
WINDOW = 300.0


#: The targets run here: every PromQL one (see the module docstring for the LogQL ones).
PROMQL = [t for t in board_targets() if t.kind == "prometheus"]


@dataclass
class Live:
    prometheus: PrometheusAPI
    logs: LogsAPI


@pytest.fixture(scope="module")
def live(testbed_factory: Any) -> Live:
    """Prometheus and VictoriaLogs of their own bed, the demo bot cycling through a phase every 3 s and shipping logs."""
    bed: TestBed = testbed_factory("dashboards")
    logs = bed.start_victorialogs()
    prometheus = bed.start_prometheus()
    bed.start_bot("--seed", "11", "--tick", "0.1", "--phase-seconds", "3")
    return Live(PrometheusAPI(prometheus.url), LogsAPI(logs.url))


def run(live: Live, target: Target, values: dict[str, str]) -> list[dict[str, Any]]:
    """The PromQL target's result over the last 5 minutes with ``values`` for the board variables; HTTPError if Prometheus refuses it."""
    expr = substitute(target.expr, values)
    if target.instant:
        result: list[dict[str, Any]] = live.prometheus.get("query", query=expr)["result"]
        return result
    now = time.time()
    result = live.prometheus.get("query_range", query=expr, start=now - WINDOW, end=now, step=STEP)["result"]
    return result


def _with_data(result: list[dict[str, Any]]) -> bool:
    """True when a result holds at least one sample (a NaN-only series counts as empty)."""
    for series in result:
        points = series.get("values") or ([series["value"]] if "value" in series else [])
        if any(str(point[1]) not in {"NaN", "+Inf", "-Inf"} for point in points):
            return True
    return False


def _wait_for_data(live: Live, targets: list[Target], values: dict[str, str]) -> None:
    """Poll until every target returns data; a refused query fails at once, with the server's reason."""
    empty: list[str] = []

    def all_have_data() -> bool:
        empty[:] = [str(target) for target in targets if not _with_data(run(live, target, values))]
        return not empty

    try:
        wait_until(all_have_data, timeout=WARM_UP, interval=3.0, what="every target returns data")
    except TimeoutError:
        pytest.fail(f"no data after {WARM_UP:g} s with {values}: {empty}")


def _listed(live: Live, variable: Variable, values: dict[str, str]) -> set[str]:
    """What Grafana lists for a label_values() variable (Prometheus' label values API, as Grafana calls it)."""
    return set(live.prometheus.get(f"label/{variable.label}/values", **{"match[]": substitute(variable.selector, values)}))


def test_targets_and_variables_are_found() -> None:
    """The extraction sees every board's targets and its env, strategy and symbol variables (a silent empty list would pass the rest)."""
    targets = board_targets()
    assert len(targets) > 60
    assert {t.kind for t in targets} == {"prometheus", "loki"}, "a target of another datasource would be run nowhere"
    assert len(PROMQL) > 60
    assert {t.board for t in PROMQL} == {v.board for v in board_variables()}
    assert sorted(v.name for v in board_variables()) == sorted(["env", "strategy", "symbol"] * 5)


def test_may_be_empty_names_real_targets() -> None:
    """Every exemption names a target that exists, so the list cannot hide a renamed panel."""
    known = {(t.board, t.panel, t.ref) for t in board_targets()}
    assert set(MAY_BE_EMPTY) | set(MAY_BE_EMPTY_FILTERED) <= known


@pytest.mark.parametrize("variable", board_variables(), ids=str)
def test_every_variable_lists_what_the_bot_runs(live: Live, variable: Variable) -> None:
    """Each board's $env, $strategy and $symbol query, with the variables before it chosen, lists the demo's env, strategies and underlyings."""
    values = CHOICES["one"] | {variable.name: ".*"}
    expected = DEMO_VALUES[variable.name]
    wait_until(lambda: expected <= _listed(live, variable, values), timeout=WARM_UP, interval=2.0, what=f"{variable} lists {sorted(expected)}")
    assert _listed(live, variable, values) <= expected | {"other"}


@pytest.mark.parametrize("choice", CHOICES)
def test_every_target_answers_with_data(live: Live, choice: str) -> None:
    """With every variable on All, on one value, and on several, each PromQL target answers, with data unless exempt (MAY_BE_EMPTY, MAY_BE_EMPTY_FILTERED)."""
    exempt = set(MAY_BE_EMPTY) | (set(MAY_BE_EMPTY_FILTERED) if choice != "all" else set())
    targets = [t for t in PROMQL if (t.board, t.panel, t.ref) not in exempt]
    _wait_for_data(live, targets, CHOICES[choice])
    for target in PROMQL:
        run(live, target, CHOICES[choice])  # the exempt ones too: empty is allowed, an error is not


def _a_correlated_line(live: Live) -> str:
    """A line the bot shipped that carries a correlation_id, as the log server holds it."""

    def found() -> str | None:
        return next((line for line in live.logs.lines(f'{BOT_LINES} "correlation_id"', since=WINDOW) if json.loads(line).get("correlation_id")), None)

    return wait_until(found, timeout=WARM_UP, interval=2.0, what="a log line with a correlation_id")


def test_derived_field_finds_the_operation(live: Live) -> None:
    """The Loki derived field's regex takes the correlation_id out of a real line; its query's stream selector and that id find the operation's lines."""
    line = _a_correlated_line(live)
    sources = yaml.safe_load(DATASOURCES.read_text())["datasources"]
    [field] = next(s for s in sources if s["uid"] == "loki")["jsonData"]["derivedFields"]
    match = re.search(field["matcherRegex"], line)
    assert match, f"{field['matcherRegex']} finds nothing in {line}"
    cid = match.group(1)
    assert cid == json.loads(line)["correlation_id"]
    # The query is LogQL (its grammar is checked by dashboards.lint); its stream selector is LogsQL's too.
    query = re.fullmatch(r"(\{[^}]*\})(.*)", field["url"])
    assert query, f"the derived field's query has no stream selector: {field['url']}"
    selector, filters = query.groups()
    assert "$${__value.raw}" in filters, f"the derived field's query does not filter on the id: {field['url']}"
    lines = live.logs.json_lines(f'_stream:{selector} "{cid}"', since=WINDOW, correlation_id=cid)
    assert json.loads(line) in lines


def test_latency_exemplars_carry_a_correlation_id_found_in_the_logs(live: Live) -> None:
    """An exemplar of a latency panel names a correlation_id whose log lines the log server has (exemplar → logs link)."""
    flags = live.prometheus.get("status/flags")
    assert "exemplar-storage" in flags.get("enable-feature", ""), "compose runs Prometheus with --enable-feature=exemplar-storage; the bed must too"
    target = next(t for t in board_targets() if t.exemplar and "order_latency" in t.expr)

    def exemplar_ids() -> list[str] | None:
        now = time.time()
        data = live.prometheus.get("query_exemplars", query=substitute(target.expr), start=now - WINDOW, end=now)
        ids = [e["labels"]["correlation_id"] for series in data for e in series["exemplars"] if "correlation_id" in e["labels"]]
        return ids or None

    cid = wait_until(exemplar_ids, timeout=WARM_UP, interval=2.0, what="latency exemplars with a correlation_id")[-1]
    wait_until(lambda: live.logs.json_lines(f'{BOT_LINES} "{cid}"', since=WINDOW, correlation_id=cid), timeout=30, what=f"log lines of {cid}")


def test_alert_list_source_lists_the_spec_alerts(live: Live) -> None:
    """The alert-list panel reads Prometheus' rules API (it has no targets): Prometheus serves the generated alert rules there."""
    rules = {rule["name"] for group in live.prometheus.rule_groups() for rule in group["rules"] if rule["type"] == "alerting"}
    assert {alert.name for alert in load().alerts} <= rules
