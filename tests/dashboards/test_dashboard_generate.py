"""The generator: deterministic JSON, stable uids, one file per board, boards that fit the grid."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from alerts.spec import load
from dashboards import generate
from dashboards.common import REFRESH_INTERVALS, TAG
from dashboards.promql import parse
from dashboards.spec import watched
from dashboards.targets import panels

#: Alerts on the monitoring stack itself (Prometheus, Alertmanager): no board panel shows their series.
META_KINDS = {"prometheus", "alertmanager"}
UIDS = {"qw-trading-overview", "qw-options-risk", "qw-execution", "qw-system-health", "qw-alerts-logs"}


@pytest.fixture(scope="module")
def fresh(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A generation into an empty directory."""
    out = tmp_path_factory.mktemp("boards")
    generate.write_all(out)
    return out


def _boards(root: Path) -> dict[str, dict[str, Any]]:
    return {path.stem: json.loads(path.read_text()) for path in sorted(root.glob("*/*.json"))}


def test_committed_json_is_what_the_generator_writes(fresh: Path) -> None:
    """dashboards/json holds exactly the generator's output, byte for byte (else `make generate`)."""
    written = {p.relative_to(fresh): p.read_bytes() for p in fresh.glob("*/*.json")}
    committed = {p.relative_to(generate.OUT): p.read_bytes() for p in generate.OUT.glob("*/*.json")}
    assert written == committed


def test_generation_is_deterministic(fresh: Path, tmp_path: Path) -> None:
    """Two runs give the same bytes, with sorted keys and one trailing newline."""
    generate.write_all(tmp_path)
    for path in fresh.glob("*/*.json"):
        text = path.read_text()
        assert (tmp_path / path.relative_to(fresh)).read_text() == text
        assert text.endswith("}\n")
        assert not text.endswith("\n\n")
        assert text == json.dumps(json.loads(text), indent=2, sort_keys=True, ensure_ascii=False) + "\n"


def test_stale_boards_are_removed(tmp_path: Path) -> None:
    """A JSON file of a board that no longer exists is deleted, so Grafana stops showing it."""
    stale = tmp_path / "Trading" / "qw-gone.json"
    stale.parent.mkdir()
    stale.write_text("{}\n")
    generate.write_all(tmp_path)
    assert not stale.exists()


def test_uids_are_stable_and_files_are_named_after_them(fresh: Path) -> None:
    """The five boards keep their uids (links and alerts point at them) in Trading and Operations folders."""
    boards = _boards(fresh)
    assert set(boards) == UIDS
    assert {board["uid"] for board in boards.values()} == UIDS
    assert {p.parent.name for p in fresh.glob("*/*.json")} == {"Trading", "Operations"}


def test_every_alert_links_to_an_existing_board() -> None:
    """Each alert's dashboard link in alerts/spec.yaml names one of these boards."""
    linked = {alert.dashboard for alert in load().alerts if alert.dashboard}
    assert linked
    assert linked <= UIDS


def test_boards_are_live_dark_and_linked(fresh: Path) -> None:
    """Every board refreshes down to 1 s, carries the shared tag, links to the others and is read-only."""
    for board in _boards(fresh).values():
        assert board["timepicker"]["refresh_intervals"] == REFRESH_INTERVALS
        assert "1s" in board["timepicker"]["refresh_intervals"]
        assert board["tags"] == [TAG]
        assert any(link["type"] == "dashboards" and link["tags"] == [TAG] and link["includeVars"] for link in board["links"])
        assert board["editable"] is False
        assert [v["name"] for v in board["templating"]["list"]][:3] == ["env", "strategy", "symbol"]


def test_panels_fit_the_grid_without_overlap(fresh: Path) -> None:
    """No panel sticks out of Grafana's 24 columns or covers another one."""
    for uid, board in _boards(fresh).items():
        cells: dict[tuple[int, int], str] = {}
        for panel in board["panels"]:
            pos = panel["gridPos"]
            assert pos["x"] + pos["w"] <= 24, (uid, panel["title"])
            for x in range(pos["x"], pos["x"] + pos["w"]):
                for y in range(pos["y"], pos["y"] + pos["h"]):
                    assert (x, y) not in cells, f"{uid}: {panel['title']!r} overlaps {cells[(x, y)]!r}"
                    cells[(x, y)] = panel["title"]


def test_drawdown_thresholds_come_from_the_alert_spec(fresh: Path) -> None:
    """The drawdown panel's steps are the spec's drawdown alert thresholds (one source of truth)."""
    spec = {alert.name: alert for alert in load().alerts}
    board = _boards(fresh)["qw-trading-overview"]
    panel = next(p for p in board["panels"] if p["title"] == "Drawdown" and p["type"] == "timeseries")
    steps = [step["value"] for step in panel["fieldConfig"]["defaults"]["thresholds"]["steps"]]
    assert steps == [None, spec["QuantwatchDrawdownElevated"].threshold, spec["QuantwatchDrawdownHigh"].threshold]


def test_panels_of_an_alerts_series_draw_its_threshold(fresh: Path) -> None:
    """Every panel that queries the series an alert compares draws that alert's threshold from the spec (and some panel does)."""
    missing, shown = [], set()
    for alert in load().alerts:
        if alert.threshold is None:
            continue
        series = watched(alert.name)
        for uid, board in _boards(fresh).items():
            for panel in panels(board):
                if any(series in {s.name for s in parse(t["expr"]).selectors} for t in panel.get("targets", []) if t["datasource"]["type"] == "prometheus"):
                    shown.add(alert.name)
                    steps = [step["value"] for step in panel["fieldConfig"]["defaults"]["thresholds"]["steps"]]
                    if alert.threshold not in steps:
                        missing.append(f"{uid} / {panel['title']}: {alert.name} {alert.threshold}")
    assert missing == []
    assert shown == {alert.name for alert in load().alerts if alert.threshold is not None and alert.kind not in META_KINDS}
