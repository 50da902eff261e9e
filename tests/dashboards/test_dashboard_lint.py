"""The dashboard lint: the committed boards pass, and each rule catches the fault it is named after."""

from __future__ import annotations

import copy
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from dashboards import lint

Board = dict[str, Any]
EXECUTION = lint.BOARDS_DIR / "Trading" / "qw-execution.json"
LOGS = lint.BOARDS_DIR / "Operations" / "qw-alerts-logs.json"


def _panel(board: Board, title: str) -> dict[str, Any]:
    return next(p for p in board["panels"] if p.get("title") == title)


def _expr(title: str, expr: str) -> Callable[[Board], None]:
    def mutate(board: Board) -> None:
        _panel(board, title)["targets"][0]["expr"] = expr

    return mutate


def _set(title: str, *keys: str, value: Any) -> Callable[[Board], None]:
    def mutate(board: Board) -> None:
        node = _panel(board, title) if title else board
        for key in keys[:-1]:
            node = node[key]
        node[keys[-1]] = value

    return mutate


def _duplicate_id(board: Board) -> None:
    board["panels"][2]["id"] = board["panels"][1]["id"]


def _bad_variable_refresh(board: Board) -> None:
    board["templating"]["list"][1]["refresh"] = 1


def _variable_query(query: str) -> Callable[[Board], None]:
    def mutate(board: Board) -> None:
        board["templating"]["list"][2]["query"] = query

    return mutate


API = "API requests by endpoint"
P50 = "Order latency p50 and p99"
# (board, mutation, rule it must trip, text the finding contains)
FAULTS = [
    (EXECUTION, _set(API, "description", value=""), "panel-title-description", API),
    (EXECUTION, _set(API, "fieldConfig", "defaults", "unit", value="furlongs"), "panel-units", "furlongs"),
    (EXECUTION, _set(API, "fieldConfig", "defaults", "unit", value=None), "panel-units", "None"),
    (EXECUTION, _set(API, "datasource", value={"type": "prometheus", "uid": "P1809F7CD0C75ACF3"}), "panel-datasource", "P1809F7CD0C75ACF3"),
    (EXECUTION, _set(API, "targets", value=[]), "panel-no-targets", API),
    (EXECUTION, _expr(API, "sum by (api) (rate(trading_api_requests_total[5m]))"), "target-rate-interval", "[5m]"),
    (EXECUTION, _expr(API, "trading_api_requests_total"), "target-counter-agg", "trading_api_requests_total"),
    (EXECUTION, _expr(API, "rate(trading_api_requests_total[$__rate_interval])"), "target-counter-agg", "aggregated"),
    (EXECUTION, _expr(API, "sum(rate(trading_api_requests_total[$__rate_interval]) "), "grammar", f'panel "{API}": PromQL syntax error at character 56'),
    (EXECUTION, _expr(API, "sum(ratez(trading_api_requests_total[$__rate_interval]))"), "grammar", "unexpected '('"),
    (EXECUTION, _expr(API, "sum(rate(trading_api_calls_total[$__rate_interval]))"), "contract", "trading_api_calls_total"),
    (EXECUTION, _expr(API, 'sum(rate(trading_api_requests_total{venue="x"}[$__rate_interval]))'), "contract", "venue"),
    (EXECUTION, _expr(API, "sum by (venue) (rate(trading_api_requests_total[$__rate_interval]))"), "contract", "venue"),
    (EXECUTION, _expr(API, 'sum(rate(trading_api_requests_total{env=~"$venue"}[$__rate_interval]))'), "template-variables", "$venue"),
    (EXECUTION, _set(P50, "targets", 1, "exemplar", value=False), "exemplars", "exemplar"),
    (EXECUTION, _duplicate_id, "panel-ids", "used twice"),
    (EXECUTION, _set("", "editable", value=True), "uneditable-dashboard", "read-only"),
    (EXECUTION, _set("", "uid", value="execution"), "stable-uid", "execution"),
    (EXECUTION, _set("", "tags", value=[]), "tags", "tag"),
    (EXECUTION, _set("", "timepicker", "refresh_intervals", value=["5s", "1m"]), "refresh", "1s"),
    (EXECUTION, _bad_variable_refresh, "template-on-time-change-reload", "$strategy"),
    (EXECUTION, _variable_query("query_result(up)"), "template-label-promql", "$symbol"),
    (EXECUTION, _variable_query('label_values(trading_market_data_age_seconds{env=~"$env", symbol)'), "grammar", 'variable "symbol": PromQL syntax error'),
    (EXECUTION, _variable_query("label_values(trading_quotes_total, symbol)"), "contract", "$symbol: 'trading_quotes_total'"),
    (LOGS, _expr("All log lines", '{service=~".+", symbol="SPY"} | json'), "contract", "symbol"),
    (LOGS, _expr("Log volume by level", 'sum by (level) (rate({service=~".+"} [5m]))'), "target-logql-auto", "[5m]"),
    (LOGS, _expr("All log lines", '{service=~".+", env=~"$env" | json'), "grammar", 'panel "All log lines": LogQL syntax error'),
]


@pytest.mark.parametrize("path", lint.board_files(), ids=lambda p: p.stem)
def test_committed_boards_pass(path: Path) -> None:
    """Every generated board is free of findings."""
    assert [str(p) for p in lint.lint([path])] == []


@pytest.mark.parametrize(("path", "mutate", "rule", "text"), FAULTS, ids=[f"{rule}-{i}" for i, (_, _, rule, _) in enumerate(FAULTS)])
def test_each_rule_catches_its_fault(tmp_path: Path, path: Path, mutate: Callable[[Board], None], rule: str, text: str) -> None:
    """A board with one seeded fault fails with that rule, naming the culprit and a line in the file (the panel or variable for a query)."""
    board = copy.deepcopy(json.loads(path.read_text()))
    mutate(board)
    broken = tmp_path / path.name
    broken.write_text(json.dumps(board, indent=2, sort_keys=True) + "\n")
    found = lint.lint([broken])
    assert any(p.rule == rule and text in p.message for p in found), [str(p) for p in found]
    assert all(str(p).startswith(f"{broken}:") and (p.line is None or p.line >= 1) for p in found)


def test_uid_used_twice_across_boards(tmp_path: Path) -> None:
    """Two boards with one uid are reported even when each is fine on its own."""
    board = json.loads(EXECUTION.read_text())
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    for folder in ("a", "b"):
        (tmp_path / folder / EXECUTION.name).write_text(json.dumps(board))
    found = lint.lint(sorted(tmp_path.glob("*/*.json")))
    assert [p.rule for p in found] == ["stable-uid"]


def test_main_exits_non_zero_and_names_the_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """`python -m dashboards.lint FILE` prints file:line: [rule], or file: panel "TITLE": for a query that does not parse, and exits 1."""
    board = json.loads(EXECUTION.read_text())
    _panel(board, API)["description"] = ""
    broken = tmp_path / EXECUTION.name
    broken.write_text(json.dumps(board, indent=2))
    assert lint.main([str(broken)]) == 1
    err = capsys.readouterr().err
    assert f"{broken}:" in err
    assert "[panel-title-description]" in err
    _panel(board, API)["targets"][0]["expr"] = 'sum(rate(trading_api_requests_total{env=~"$env"[$__rate_interval]))'
    broken.write_text(json.dumps(board, indent=2))
    assert lint.main([str(broken)]) == 1
    err = capsys.readouterr().err
    assert f"{broken}: panel \"{API}\": PromQL syntax error at character 48: something is missing before '[$__rate_interval]))' in " in err
    assert lint.main([str(EXECUTION)]) == 0
