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

#: What Grafana puts for its built-in variables, for a 30-minute board at 2 s scrapes.
BUILTINS = {"__rate_interval": "1m", "__auto": "1m", "__interval": "15s", "__range": "30m"}
#: Board variables meaning "All" (multi-value variables with allValue ``.*``, an empty text box).
ALL = {"env": ".*", "strategy": ".*", "symbol": ".*", "correlation_id": ""}
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


def _panels(board: Mapping[str, Any]) -> Iterator[Mapping[str, Any]]:
    for panel in board.get("panels", []):
        yield panel
        yield from panel.get("panels", [])


def board_targets(boards_dir: Path = BOARDS_DIR) -> list[Target]:
    """Every target of every generated board, in board and panel order."""
    found = []
    for path in sorted(boards_dir.glob("*/*.json")):
        board = json.loads(path.read_text(encoding="utf-8"))
        for panel in _panels(board):
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
