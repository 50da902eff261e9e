"""Every query of the generated boards, ready to send to Prometheus or Loki without Grafana.

Tests run them against the real servers; :func:`substitute` stands in for Grafana's variable
interpolation (``$strategy`` → a value or ``.*``, ``$__rate_interval`` → a range).

>>> [t.expr for t in board_targets() if t.panel == "Drawdown" and t.kind == "prometheus"][:1]  # doctest: +SKIP
['max(trading_drawdown_ratio{env=~"$env"})']
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

BOARDS_DIR = Path(__file__).resolve().parent / "json"

#: What Grafana puts for its built-in variables on a live 5-minute board: the step is the bot's
#: 2 s scrape interval (the Prometheus datasource's timeInterval), so ``$__rate_interval`` is
#: max(step + scrape, 4 × scrape) = 8 s, the shortest window Grafana ever asks for.
BUILTINS = {"__rate_interval": "8s", "__auto": "2s", "__interval": "2s", "__range": "5m"}
#: Board variables meaning "All" (multi-value variables with allValue ``.*``, an empty text box).
ALL = {"env": ".*", "strategy": ".*", "symbol": ".*", "correlation_id": ""}
#: The only query a board variable may run: Grafana's ``label_values(SELECTOR, LABEL)``.
LABEL_VALUES = re.compile(r"label_values\((.+),\s*(\w+)\)")
_VARIABLE = re.compile(r"\$(?:\{(\w+)(?::\w+)?\}|(\w+))")


@dataclass(frozen=True)
class Target:
    """One query of one panel."""

    board: str
    panel: str
    ref: str
    kind: str  # "prometheus" or "loki"
    expr: str
    instant: bool
    exemplar: bool

    def __str__(self) -> str:
        return f"{self.board} / {self.panel} / {self.ref}"


@dataclass(frozen=True)
class Variable:
    """One query variable of one board: the values of ``label`` on the series ``selector`` matches."""

    board: str
    name: str
    selector: str
    label: str

    def __str__(self) -> str:
        return f"{self.board} / ${self.name}"


def panels(board: Mapping[str, Any]) -> Iterator[dict[str, Any]]:
    """Every panel of a board, those inside collapsed rows included."""
    for panel in board.get("panels", []):
        yield panel
        yield from panel.get("panels", [])


def _boards(boards_dir: Path) -> Iterator[dict[str, Any]]:
    for path in sorted(boards_dir.glob("*/*.json")):
        yield json.loads(path.read_text(encoding="utf-8"))


def board_targets(boards_dir: Path = BOARDS_DIR) -> list[Target]:
    """Every target of every generated board, in board and panel order."""
    found = []
    for board in _boards(boards_dir):
        for panel in panels(board):
            for target in panel.get("targets", []):
                found.append(
                    Target(
                        board=board["uid"],
                        panel=panel["title"],
                        ref=target["refId"],
                        kind=target["datasource"]["type"],
                        expr=target["expr"],
                        instant=bool(target.get("instant")) and not target.get("range"),
                        exemplar=bool(target.get("exemplar")),
                    )
                )
    return found


def board_variables(boards_dir: Path = BOARDS_DIR) -> list[Variable]:
    """Every query variable of every generated board, in board order; ValueError if one is not label_values()."""
    found = []
    for board in _boards(boards_dir):
        for variable in board.get("templating", {}).get("list", []):
            if variable.get("type") != "query":
                continue
            match = LABEL_VALUES.fullmatch(str(variable.get("query", "")))
            if not match:
                raise ValueError(f"{board['uid']} / ${variable['name']}: not label_values(SELECTOR, LABEL): {variable.get('query')!r}")
            found.append(Variable(board["uid"], variable["name"], *match.groups()))
    return found


def substitute(expr: str, values: Mapping[str, str] = ALL) -> str:
    """``expr`` with board variables from ``values`` and Grafana's built-ins filled in."""

    def fill(match: re.Match[str]) -> str:
        name = match.group(1) or match.group(2)
        if name in BUILTINS:
            return BUILTINS[name]
        if name in values:
            return values[name]
        raise KeyError(f"no value for ${name} in {expr!r}")

    return _VARIABLE.sub(fill, expr)
