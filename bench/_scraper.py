"""``python -m bench._scraper URL``: one scrape of URL per line read from stdin, as Prometheus 3 asks for it.

A process of its own, so the benchmarked process pays for serving a scrape and
not for making one; it answers each scrape with the body's size on stdout.
"""

from __future__ import annotations

import sys
import urllib.request

from bench.footprint import OPENMETRICS


def main() -> None:
    request = urllib.request.Request(sys.argv[1], headers={"Accept": OPENMETRICS, "Accept-Encoding": "gzip"})  # noqa: S310 - a URL of the bench's own
    for _ in sys.stdin:
        with urllib.request.urlopen(request, timeout=30) as response:  # noqa: S310 - a URL of the bench's own
            print(len(response.read()), flush=True)


if __name__ == "__main__":
    main()
