"""Dashboard lint: grafana/dashboard-linter's main rules plus the metric contract, in Python.

The Go linter cannot be had here (the module proxy refuses it), so this module re-implements the
rules that matter for these boards and names each after its dashboard-linter counterpart:

- ``panel-datasource``: every panel and target names a provisioned datasource by its fixed uid (or a
  template variable). Departure: dashboard-linter wants a ``$datasource`` variable; with one
  Prometheus and one Loki provisioned under fixed uids, a variable only adds a way to pick wrong.
- ``panel-title-description``, ``panel-units`` (every panel that shows numbers has a valid unit;
  logs and alert-list panels show no numeric field, so they have none), ``panel-no-targets``.
- ``target-rate-interval`` (rate/irate/increase over
  ``$__rate_interval``), ``target-counter-agg`` (counters only inside rate/increase, aggregated),
  ``target-logql-auto`` (LogQL ranges over ``$__auto``), ``template-on-time-change-reload``,
  ``template-label-promql`` (variables are ``label_values()`` over a selector),
  ``uneditable-dashboard``. Departure: no ``job``/``instance`` variables or matchers (the
  ``target-job``/``target-instance`` rules): one bot per env, chosen by ``$env``.
- Own rules: unique panel ids and refIds, stable uids, known variables, exemplars on the latency
  histograms whose samples carry a correlation_id, Loki stream labels limited to service/env/level.
- ``contract``: every metric and label a target names exists in ``quantwatch.catalogue`` or in a
  recording rule under provisioning/prometheus/rules (plus Prometheus' own ``up`` and ``ALERTS``).
- ``grammar`` (dashboard-linter's ``target-promql``, and LogQL too): every target and every variable's
  selector parses with the real grammar of its language (:mod:`dashboards.lezer`), all of them in one
  batch; a failure prints as ``FILE: panel "TITLE": error`` (``variable "NAME"`` for a variable).

Run ``python -m dashboards.lint [FILE...]``; it prints ``file:line: [rule] problem`` and exits 1.
Without files it lints every generated board and checks Grafana's provisioning
(:mod:`dashboards.provisioning`), as ``make check`` does.
"""

from __future__ import annotations

import json
import re
import sys
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from grafana_foundation_sdk.models import units

from . import lezer
from .common import LOG_RANGE, RATE, TAG
from .metrics import RULES_DIR, has_exemplars, is_counter, labels_of
from .promql import AGGREGATIONS, RATE_FUNCTIONS, PromQLError, parse
from .provisioning import BOARDS_DIR, FIXED_UIDS, Problem
from .provisioning import check as check_provisioning
from .targets import LABEL_VALUES, panels

#: Datasources a panel may use (the Alertmanager datasource feeds Grafana's alerting pages, no panel).
DATASOURCES = {uid: FIXED_UIDS[uid] for uid in ("prometheus", "loki")}
#: Loki stream labels the exporter's shipper sets; everything else is a field of the JSON line.
LOKI_STREAM_LABELS = frozenset({"service", "env", "level"})
BUILTIN_VARIABLES = frozenset(lezer.BUILTINS) | {"__all"}
NUMERIC_PANELS = frozenset({"timeseries", "stat", "gauge", "bargauge", "table", "heatmap", "barchart", "histogram", "piechart"})
PANELS_WITHOUT_TARGETS = frozenset({"row", "alertlist", "text", "dashlist", "news"})
CUSTOM_UNIT = re.compile(r"^(suffix|prefix|si|count|currency|time|bool):")
UNITS = frozenset(value for name, value in vars(units).items() if isinstance(value, str) and not name.startswith("_"))
UID = re.compile(r"^qw-[a-z0-9-]{1,37}$")


@dataclass(frozen=True)
class BoardQuery:
    """One query of a board for the grammar check: where it is (``panel "TITLE"``, ``variable "NAME"``) and its text."""

    path: Path
    where: str
    lang: lezer.Lang
    expr: str


def grammar_problems(queries: Sequence[BoardQuery]) -> list[Problem]:
    """A ``grammar`` finding for every query its language's grammar refuses; one batch through the parser."""
    parsed = lezer.parse([(query.lang, query.expr) for query in queries])
    return [Problem(query.path, None, "grammar", f"{query.where}: {result.error}") for query, result in zip(queries, parsed, strict=True) if result.error]


class BoardLinter:
    """Checks one board's JSON; :meth:`problems` yields what is wrong with it."""

    def __init__(self, path: Path, rules_dir: Path = RULES_DIR) -> None:
        self.path = path
        self.text = path.read_text(encoding="utf-8")
        self.board: dict[str, Any] = json.loads(self.text)
        self.rules_dir = rules_dir
        self.variables = {variable["name"] for variable in self.board.get("templating", {}).get("list", [])}

    def _line(self, needle: str) -> int:
        index = self.text.find(needle)
        return self.text.count("\n", 0, index) + 1 if index >= 0 else 1

    def _problem(self, rule: str, message: str, panel: dict[str, Any] | None = None) -> Problem:
        if panel is None:
            return Problem(self.path, 1, rule, message)
        title = panel.get("title", "")
        return Problem(self.path, self._line(f'"title": {json.dumps(title, ensure_ascii=False)}'), rule, f"panel {panel.get('id')} {title!r}: {message}")

    def queries(self) -> Iterator[BoardQuery]:
        """Every target, and the selector of every ``label_values()`` variable, in its datasource's language."""
        for panel in panels(self.board):
            for target in panel.get("targets", []):
                yield BoardQuery(self.path, f'panel "{panel.get("title", "")}"', _lang(target.get("datasource")), str(target.get("expr", "")))
        for variable in self.board.get("templating", {}).get("list", []):
            if variable.get("type") == "query" and (match := LABEL_VALUES.fullmatch(str(variable.get("query", "")))):
                yield BoardQuery(self.path, f'variable "{variable["name"]}"', _lang(variable.get("datasource")), match[1])

    def problems(self) -> Iterator[Problem]:
        """Every finding but the grammar's (:func:`lint` batches those), board-level first, then panel by panel."""
        yield from self._board_rules()
        seen_ids: set[int] = set()
        for panel in panels(self.board):
            if panel.get("id") in seen_ids or not isinstance(panel.get("id"), int):
                yield self._problem("panel-ids", f"panel id {panel.get('id')!r} missing or used twice", panel)
            seen_ids.add(panel.get("id", -1))
            if panel.get("type") != "row":
                yield from self._panel_rules(panel)

    def _board_rules(self) -> Iterator[Problem]:
        board = self.board
        if not UID.match(str(board.get("uid", ""))) or self.path.stem != board.get("uid"):
            yield self._problem("stable-uid", f"uid {board.get('uid')!r} must match {UID.pattern} and the file name")
        if board.get("editable", True):
            yield self._problem("uneditable-dashboard", "provisioned boards are read-only: set editable false")
        if TAG not in board.get("tags", []):
            yield self._problem("tags", f"the board must carry the {TAG!r} tag the dashboard links list")
        if not any(link.get("type") == "dashboards" and TAG in link.get("tags", []) for link in board.get("links", [])):
            yield self._problem("links", f"the board must link to the other {TAG!r} boards")
        if "1s" not in board.get("timepicker", {}).get("refresh_intervals", []):
            yield self._problem("refresh", "the refresh picker must offer 1s")
        for name in ("env", "strategy", "symbol"):
            if name not in self.variables:
                yield self._problem("template-variables", f"variable ${name} is missing")
        for variable in board.get("templating", {}).get("list", []):
            if variable.get("type") == "query":
                if variable.get("refresh") != 2:
                    yield self._problem("template-on-time-change-reload", f"variable ${variable['name']} must refresh on time range change (2)")
                yield from self._datasource(variable.get("datasource"), f"variable ${variable['name']}", None)
                yield from self._label_values(str(variable.get("query", "")), variable["name"])

    def _label_values(self, query: str, name: str) -> Iterator[Problem]:
        line = self._line(f'"query": {json.dumps(query, ensure_ascii=False)}')
        match = LABEL_VALUES.fullmatch(query)
        if not match:
            yield Problem(self.path, line, "template-label-promql", f"variable ${name}: expected label_values(SELECTOR, LABEL), got {query!r}")
            return
        selector, label = match.groups()
        for problem in self._promql(selector, None, listed=label):
            yield Problem(self.path, line, problem.rule, f"variable ${name}: {problem.message}")

    def _datasource(self, ref: Any, what: str, panel: dict[str, Any] | None) -> Iterator[Problem]:
        if not isinstance(ref, dict):
            yield self._problem("panel-datasource", f"{what} has no datasource", panel)
            return
        uid = str(ref.get("uid", ""))
        if variable := lezer.VARIABLE.fullmatch(uid):
            if lezer.variable_name(variable) not in self.variables:
                yield self._problem("panel-datasource", f"{what} uses undefined datasource variable {uid}", panel)
        elif DATASOURCES.get(uid) != ref.get("type"):
            yield self._problem("panel-datasource", f"{what} datasource {ref} is not a provisioned uid ({', '.join(sorted(DATASOURCES))})", panel)

    def _panel_rules(self, panel: dict[str, Any]) -> Iterator[Problem]:
        kind = panel.get("type", "")
        if not panel.get("title") or not panel.get("description"):
            yield self._problem("panel-title-description", "needs a title and a description", panel)
        if kind in NUMERIC_PANELS:
            unit = panel.get("fieldConfig", {}).get("defaults", {}).get("unit")
            units_used = [unit] + [
                prop.get("value") for o in panel.get("fieldConfig", {}).get("overrides", []) for prop in o.get("properties", []) if prop.get("id") == "unit"
            ]
            if kind == "heatmap":
                units_used.append(panel.get("options", {}).get("yAxis", {}).get("unit"))
            for used in units_used:
                if not isinstance(used, str) or not (used in UNITS or CUSTOM_UNIT.match(used)):
                    yield self._problem("panel-units", f"unit {used!r} is missing or not a Grafana unit", panel)
        yield from self._datasource(panel.get("datasource"), "panel", panel)
        targets = panel.get("targets", [])
        if not targets and kind not in PANELS_WITHOUT_TARGETS:
            yield self._problem("panel-no-targets", "has no targets", panel)
        refs = [target.get("refId") for target in targets]
        if len(set(refs)) != len(refs) or not all(refs):
            yield self._problem("target-refid", f"refIds {refs} must be set and unique", panel)
        for target in targets:
            yield from self._datasource(target.get("datasource"), f"target {target.get('refId')}", panel)
            if target.get("datasource", {}).get("type") != panel.get("datasource", {}).get("type"):
                yield self._problem("panel-datasource", f"target {target.get('refId')} and panel use different datasources", panel)
            expr = str(target.get("expr", ""))
            yield from self._variables_known(expr, panel)
            if target.get("datasource", {}).get("type") == "loki":
                yield from self._logql(expr, panel)
            else:
                yield from self._promql(expr, panel, exemplar=bool(target.get("exemplar")))

    def _variables_known(self, expr: str, panel: dict[str, Any]) -> Iterator[Problem]:
        for match in lezer.VARIABLE.finditer(expr):
            name = lezer.variable_name(match)
            if name not in self.variables and name not in BUILTIN_VARIABLES:
                yield self._problem("template-variables", f"${name} is not a variable of this board", panel)

    def _promql(self, expr: str, panel: dict[str, Any] | None, *, exemplar: bool = False, listed: str = "") -> Iterator[Problem]:
        """The rules for one PromQL query; ``listed`` is the label a ``label_values()`` variable lists from it."""
        try:
            query = parse(expr)
        except PromQLError:
            return  # the grammar check reports it
        for function, window in query.windows:
            if function in RATE_FUNCTIONS and window != RATE:
                yield self._problem("target-rate-interval", f"{function}() over [{window}] must use [{RATE}]", panel)
        kept: set[str] = {"le"}
        for selector in query.selectors:
            try:
                labels = labels_of(selector.name, self.rules_dir)
            except KeyError:
                yield self._problem("contract", f"{selector.name!r} is neither in quantwatch.catalogue nor a recording rule", panel)
                continue
            kept |= labels
            for label, _, _ in selector.matchers:
                if label not in labels:
                    yield self._problem("contract", f"{selector.name} has no label {label!r}", panel)
            if is_counter(selector.name) and not listed:  # listing a label's values reads no sample
                rate_at = [i for i, call in enumerate(selector.enclosing) if call in RATE_FUNCTIONS]
                if not rate_at or not any(call in AGGREGATIONS for call in selector.enclosing[: rate_at[-1]]):
                    yield self._problem("target-counter-agg", f"counter {selector.name} must be rate()d and aggregated (sum by ...)", panel)
            if has_exemplars(selector.name) and "histogram_quantile" in selector.enclosing and not exemplar:
                yield self._problem("exemplars", f"{selector.name} carries correlation_id exemplars: set exemplar true", panel)
        for label in sorted(query.labels_named() - kept | ({listed} - kept if listed else set())):
            yield self._problem("contract", f"label {label!r} is grouped by or listed but on none of the query's series", panel)

    def _logql(self, expr: str, panel: dict[str, Any]) -> Iterator[Problem]:
        [parsed] = lezer.parse([("logql", expr)])
        if parsed.error:
            return  # the grammar check reports it
        streams = list(parsed.tree.find("Selector"))
        if not streams:
            yield self._problem("target-logql", "no stream selector", panel)
        for stream in streams:
            for matcher in stream.find("Matcher"):
                label = matcher.child("Identifier")
                if label and label.text not in LOKI_STREAM_LABELS:
                    yield self._problem("contract", f"Loki stream label {label.text!r} is not one of {sorted(LOKI_STREAM_LABELS)} (use | json)", panel)
        for window in parsed.tree.find("Range"):
            duration = window.child("Duration")
            if duration is None or duration.text != LOG_RANGE:
                yield self._problem("target-logql-auto", f"LogQL range {window.text} must be [{LOG_RANGE}]", panel)


def _lang(datasource: Any) -> lezer.Lang:
    return "logql" if isinstance(datasource, dict) and datasource.get("type") == "loki" else "promql"


def board_files(root: Path = BOARDS_DIR) -> list[Path]:
    """Every generated board."""
    return sorted(root.glob("*/*.json"))


def lint(paths: Iterable[Path], rules_dir: Path = RULES_DIR) -> list[Problem]:
    """Findings for the given boards, their queries' grammar first, plus uids used twice across them."""
    linters = [BoardLinter(path, rules_dir) for path in paths]
    found = grammar_problems([query for linter in linters for query in linter.queries()])
    uids: dict[str, Path] = {}
    for linter in linters:
        path = linter.path
        found.extend(linter.problems())
        uid = str(linter.board.get("uid"))
        if uid in uids:
            found.append(Problem(path, 1, "stable-uid", f"uid {uid!r} is also used by {uids[uid]}"))
        uids[uid] = path
    return found


def main(argv: Sequence[str] | None = None) -> int:
    """Lint the named boards (default: all generated ones, and Grafana's provisioning); exit 1 on any finding."""
    args = list(sys.argv[1:] if argv is None else argv)
    paths = [Path(arg) for arg in args] or board_files()
    if not paths:
        print("dashboards.lint: no boards found; run `make generate`", file=sys.stderr)
        return 1
    try:
        found = lint(paths) + ([] if args else check_provisioning())
    except lezer.GrammarUnavailable as error:
        print(f"dashboards.lint: {error}", file=sys.stderr)
        return 2
    for problem in found:
        print(problem, file=sys.stderr)
    checked = f"{len(paths)} boards" + ("" if args else " and Grafana's provisioning")
    print(f"dashboards.lint: {checked}, {len(found)} problems", file=sys.stderr if found else sys.stdout)
    return 1 if found else 0


if __name__ == "__main__":
    raise SystemExit(main())
