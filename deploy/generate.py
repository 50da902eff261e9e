"""Render the Kubernetes tree: ``python -m deploy.generate [--settings FILE] [--out DIR]``.

The committed deploy/kubernetes/ is deploy/settings.yaml rendered into the repository (``make
generate``, after the rules and the boards it is made from). A user installing other than the
committed settings say renders their own copy: ``--settings my.yaml --out my-tree`` writes the same
layout under my-tree/.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from alerts.generate import REPO
from alerts.text import SpecError

from .render import TREE, render
from .settings import SETTINGS, SettingsError


def write(files: dict[Path, str], out: Path) -> None:
    """Write ``files`` (paths under deploy/kubernetes/) into ``out`` and delete the tree's files no longer rendered."""
    for relative, text in files.items():
        path = out / relative.relative_to(TREE)
        path.parent.mkdir(parents=True, exist_ok=True)
        if not path.exists() or path.read_text(encoding="utf-8") != text:
            path.write_text(text, encoding="utf-8")
    wanted = {out / relative.relative_to(TREE) for relative in files}
    for stale in set(out.rglob("*.yaml")) - wanted:
        stale.unlink()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m deploy.generate", description=__doc__.splitlines()[0])
    parser.add_argument("--settings", type=Path, default=SETTINGS, help="the settings file (default: deploy/settings.yaml)")
    parser.add_argument("--out", type=Path, default=REPO / TREE, help="the folder to write the tree into (default: deploy/kubernetes)")
    args = parser.parse_args(argv)
    try:
        files = render(args.settings)
    except (SpecError, SettingsError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    write(files, args.out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
