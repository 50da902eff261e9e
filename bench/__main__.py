"""``python -m bench [--smoke] [NAME ...]``: run every benchmark of this package, or the named ones."""

from __future__ import annotations

import argparse
import importlib
import pkgutil
import sys

import bench


def main(argv: list[str] | None = None) -> int:
    names = sorted(m.name for m in pkgutil.iter_modules(bench.__path__) if not m.name.startswith("_"))
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    parser.add_argument("--smoke", action="store_true", help="a few seconds per benchmark, for CI: proves it runs, not its figures")
    parser.add_argument("names", nargs="*", metavar="NAME", help=f"benchmarks to run (default: all of {', '.join(names)})")
    args = parser.parse_args(argv)
    unknown = sorted(set(args.names) - set(names))
    if unknown:
        parser.error(f"no benchmark named {', '.join(unknown)}; there are: {', '.join(names)}")
    for name in args.names or names:
        module = importlib.import_module(f"bench.{name}")
        print(f"\n## {name}: {(module.__doc__ or '').strip().splitlines()[0]}\n", flush=True)
        module.run(smoke=args.smoke)
    return 0


if __name__ == "__main__":
    sys.exit(main())
