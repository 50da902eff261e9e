"""Where the pinned server versions and the binaries built by ``make testbed`` are."""

from __future__ import annotations

import os
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
VERSIONS_FILE = REPO / "compose" / "versions.env"


class MissingBinary(RuntimeError):
    """A server binary is not built: a test bed failure, never a skip."""


def pins(path: Path = VERSIONS_FILE) -> dict[str, str]:
    """Server name to pinned version, from ``NAME_VERSION=X`` lines (``prometheus`` -> ``3.16.0``)."""
    found = {}
    for line in path.read_text().splitlines():
        key, sep, value = line.partition("=")
        if sep and key.endswith("_VERSION") and not key.lstrip().startswith("#"):
            found[key.removesuffix("_VERSION").strip().lower()] = value.strip()
    return found


def cache_dir() -> Path:
    """The build cache of testbed/build.sh (``QUANTWATCH_CACHE``, default ~/.cache/quantwatch)."""
    return Path(os.environ.get("QUANTWATCH_CACHE") or Path.home() / ".cache" / "quantwatch")


def bin_dir(server: str) -> Path:
    """``NAME_BIN_DIR`` if set (as build.sh prints it), else the cache's ``bin/NAME-VERSION``."""
    override = os.environ.get(f"{server.upper()}_BIN_DIR")
    return Path(override) if override else cache_dir() / "bin" / f"{server}-{pins()[server]}"


def binary(server: str, program: str | None = None) -> Path:
    """The executable ``program`` (default: the server itself) of ``server``, or MissingBinary saying how to build it."""
    path = bin_dir(server) / (program or server)
    if not (path.is_file() and os.access(path, os.X_OK)):
        raise MissingBinary(f"{path} is missing: {server} {pins()[server]} is not built. Run `make testbed` (or testbed/build.sh {server}) to build it.")
    return path
