"""Write every board to ``dashboards/json/FOLDER/UID.json``: ``python -m dashboards.generate``.

The output is deterministic (sorted keys, two-space indent, trailing newline) so that `make
check-generated` can compare it with what is committed; JSON files of boards that no longer exist
are removed. Grafana names a folder after its directory (provider ``foldersFromFilesStructure``).
"""

from __future__ import annotations

import json
import sys
from collections.abc import Sequence
from pathlib import Path
from types import ModuleType

from grafana_foundation_sdk.cog.encoder import JSONEncoder
from grafana_foundation_sdk.models.dashboard import Dashboard

from . import alerts_logs, execution, options_risk, system_health, trading_overview

BOARDS: tuple[ModuleType, ...] = (trading_overview, options_risk, execution, system_health, alerts_logs)
OUT = Path(__file__).resolve().parent / "json"


def render(model: Dashboard) -> str:
    """The board as the JSON text committed to the repository."""
    plain = json.loads(JSONEncoder().encode(model))
    return json.dumps(plain, indent=2, sort_keys=True, ensure_ascii=False) + "\n"


def path_of(board: ModuleType, out: Path = OUT) -> Path:
    """Where a board module's JSON goes."""
    return out / str(board.FOLDER) / f"{board.UID}.json"


def write_all(out: Path = OUT) -> list[Path]:
    """Render every board into ``out`` and delete the JSON of boards that are gone."""
    written = []
    for board in BOARDS:
        path = path_of(board, out)
        path.parent.mkdir(parents=True, exist_ok=True)
        text = render(board.dashboard())
        if not path.exists() or path.read_text(encoding="utf-8") != text:
            path.write_text(text, encoding="utf-8")
        written.append(path)
    for stale in set(out.glob("*/*.json")) - set(written):
        stale.unlink()
    for folder in out.iterdir():
        if folder.is_dir() and not any(folder.iterdir()):
            folder.rmdir()
    return written


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point; an optional argument names another output directory."""
    args = list(sys.argv[1:] if argv is None else argv)
    out = Path(args[0]) if args else OUT
    for path in write_all(out):
        print(path)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
