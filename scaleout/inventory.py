"""The bot inventory rendered into Prometheus file_sd targets: ``python -m scaleout.inventory``.

scaleout/inventory.yaml lists each bot once (name, host, env, labels); this writes
scaleout/prometheus/targets/bots.json, which the profile's Prometheus replicas watch through
``file_sd_configs`` and re-read on change, without a restart. The JSON is generated, committed, and
proven current by ``make check-generated``. A bad entry is ``inventory.yaml: bots[N]: problem``.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

HERE = Path(__file__).resolve().parent
INVENTORY = HERE / "inventory.yaml"
TARGETS = HERE / "prometheus" / "targets" / "bots.json"
LABEL_NAME = re.compile(r"^[a-zA-Z_][a-zA-Z0-9_]*$")
HOST_PORT = re.compile(r"^[A-Za-z0-9.-]+:\d{1,5}$")
#: Labels the inventory's own fields or Prometheus set; an entry's ``labels`` may not name them.
RESERVED = frozenset({"job", "instance", "service", "env"})


class InventoryError(ValueError):
    """An inventory entry that cannot be a scrape target."""


@dataclass(frozen=True)
class Bot:
    """One bot process: where its /metrics is and how its series are labelled."""

    name: str
    host: str
    env: str
    labels: dict[str, str] = field(default_factory=dict)


def parse(document: Any) -> list[Bot]:
    """The bots of a parsed inventory, each checked; InventoryError names the first bad entry."""
    entries = document.get("bots") if isinstance(document, dict) else None
    if not isinstance(entries, list):
        raise InventoryError("expected a mapping with a list `bots`")
    bots: list[Bot] = []
    for index, entry in enumerate(entries):
        where = f"bots[{index}]"
        if not isinstance(entry, dict) or set(entry) - {"name", "host", "env", "labels"}:
            raise InventoryError(f"{where}: expected name, host, env and optional labels, got {entry!r}")
        name, host, env = (str(entry.get(key, "")) for key in ("name", "host", "env"))
        labels = {str(k): str(v) for k, v in (entry.get("labels") or {}).items()}
        problems = [f"{key} is empty" for key, value in (("name", name), ("env", env)) if not value.strip()]
        problems += [] if HOST_PORT.match(host) else [f"host {host!r} is not host:port"]
        problems += [f"label {k!r} is not a Prometheus label name" for k in labels if not LABEL_NAME.match(k) or k.startswith("__")]
        problems += [f"label {k!r} is set by the inventory or Prometheus" for k in labels if k in RESERVED]
        problems += [f"host {host} is already bot {b.name}" for b in bots if b.host == host]
        problems += [f"name {name} is already used (host {b.host})" for b in bots if b.name == name and b.env == env]
        if problems:
            raise InventoryError(f"{where}: {'; '.join(problems)}")
        bots.append(Bot(name, host, env, labels))
    return bots


def load(path: Path = INVENTORY) -> list[Bot]:
    """The bots of an inventory file."""
    try:
        return parse(yaml.safe_load(path.read_text()))
    except InventoryError as exc:
        raise InventoryError(f"{path.name}: {exc}") from None


def render(bots: list[Bot]) -> str:
    """file_sd JSON: one target group per bot, sorted, with a trailing newline (the same bots give the same bytes)."""
    groups = [{"targets": [bot.host], "labels": {**bot.labels, "service": bot.name, "env": bot.env}} for bot in sorted(bots, key=lambda b: b.host)]
    return json.dumps(groups, indent=2, sort_keys=True) + "\n"


def write(bots: list[Bot], path: Path) -> None:
    """Replace ``path`` in one rename, so Prometheus never reads a half-written file."""
    path.parent.mkdir(parents=True, exist_ok=True)
    text = render(bots)
    if path.is_file() and path.read_text() == text:
        return
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_text(text)
    tmp.replace(path)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m scaleout.inventory", description=__doc__.splitlines()[0])
    parser.add_argument("--inventory", type=Path, default=INVENTORY)
    parser.add_argument("--out", type=Path, default=TARGETS)
    args = parser.parse_args(argv)
    try:
        write(load(args.inventory), args.out)
    except InventoryError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
