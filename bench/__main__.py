"""``python -m bench [--smoke] [NAME ...]``: run every benchmark of this package, or the named ones.

Each benchmark prints its tables and returns its figures; the summary table of
all of them comes last. A full run of every benchmark also writes the whole
output, with the machine's details, to docs/benchmarks.md. A benchmark that
fails is named at the end, the others still run, and the exit status is 1.
"""

from __future__ import annotations

import argparse
import contextlib
import importlib
import io
import os
import pkgutil
import sys
import traceback
from typing import TextIO

import bench
from bench._machine import REPO, details
from bench._report import Figure, summary, table

DOC = REPO / "docs" / "benchmarks.md"
PREAMBLE = """# Benchmarks

Written by `make bench` (`python -m bench`); do not edit by hand. Every figure is measured beside a baseline
run in the same process or the same run, so the ratio holds on a noisy machine; each section below states
its method (runs, warm-up, median and spread); the targets are the README's. The log server is VictoriaLogs
v1.52.2 speaking Loki's push protocol: Loki's Go module is AGPL and is not built here.
"""


class _Tee(io.TextIOBase):
    """Writes to the terminal and keeps a copy for the document."""

    def __init__(self, out: TextIO) -> None:
        self.out, self.copy = out, io.StringIO()

    def write(self, text: str) -> int:
        self.copy.write(text)
        return self.out.write(text)

    def flush(self) -> None:
        self.out.flush()


def main(argv: list[str] | None = None) -> int:
    names = sorted(m.name for m in pkgutil.iter_modules(bench.__path__) if not m.name.startswith("_"))
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__.splitlines()[0])
    parser.add_argument("--smoke", action="store_true", help="a few seconds per benchmark, for CI: proves it runs, not its figures")
    parser.add_argument("names", nargs="*", metavar="NAME", help=f"benchmarks to run (default: all of {', '.join(names)})")
    args = parser.parse_args(argv)
    unknown = sorted(set(args.names) - set(names))
    if unknown:
        parser.error(f"no benchmark named {', '.join(unknown)}; there are: {', '.join(names)}")
    load = os.getloadavg()
    tee = _Tee(sys.stdout)
    figures: list[Figure] = []
    failed: list[str] = []
    with contextlib.redirect_stdout(tee):
        for name in args.names or names:
            module = importlib.import_module(f"bench.{name}")
            headline, _, method = (module.__doc__ or "").strip().partition("\n")
            print(f"\n## {name}: {headline}\n\n{method.strip()}\n", flush=True)
            try:
                figures.extend(module.run(smoke=args.smoke) or ())
            except Exception as exc:  # noqa: BLE001 - one broken benchmark must not hide the others' figures
                traceback.print_exc()
                failed.append(f"{name}: {type(exc).__name__}: {str(exc).splitlines()[0] if str(exc) else ''}")
    machine = table(["machine", ""], details(load))
    kind = "smoke run: proves the benchmarks work; its figures mean nothing" if args.smoke else "summary"
    errors = "\n" + "".join(f"\n- FAILED, no figures: {line}" for line in failed) if failed else ""
    print(f"\n## {kind}\n\n{summary(figures)}{errors}\n\n{machine}")
    if not args.smoke and not args.names:
        DOC.write_text(f"{PREAMBLE}\n## Summary\n\n{summary(figures)}{errors}\n\n{machine}\n{tee.copy.getvalue()}".rstrip() + "\n")
        print(f"\nwritten to {DOC.relative_to(REPO)}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
