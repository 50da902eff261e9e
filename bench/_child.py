"""A bot process for the memory and scrape benchmarks: ``python -m bench._child quantwatch|plain SPEC_FILE [LOKI_URL]``.

It reads its resident memory before importing anything of the exporter, then
after each step, and prints them as one JSON line with the port it serves
/metrics on; it exits when its stdin closes. ``quantwatch``: a Monitor with the
full default metric set, its log queue filled until it drops (no log server
at LOKI_URL); it writes its families to SPEC_FILE. ``plain``: prometheus_client
with the families of SPEC_FILE, the same series. A line on stdin stops the
shipping worker before the scrapes.
"""

# ruff: noqa: PLC0415  # imports come late on purpose: memory is read before and after them

import json
import os
import sys

PAGE = os.sysconf("SC_PAGE_SIZE")


def rss() -> int:
    with open("/proc/self/statm") as statm:
        return int(statm.read().split()[1]) * PAGE


def main() -> None:
    mode, spec_file = sys.argv[1], sys.argv[2]
    steps = {"start": rss()}
    if mode == "quantwatch":
        import logging

        from prometheus_client import CollectorRegistry

        from quantwatch import Monitor
        from quantwatch.logs import FIELDS_ATTR

        steps["imported"] = rss()
        mon = Monitor(service="bench-memory", env="bench", registry=CollectorRegistry(), loki_url=sys.argv[3])
        logging.getLogger().setLevel(logging.INFO)
        from bench._series import count, describe, populate

        populate(mon)
        port = mon.serve(port=0)
        steps["series"] = rss()
        shipper = mon.log_outputs.loki.shipper if mon.log_outputs.loki is not None else None
        assert shipper is not None
        log, n = logging.getLogger("bot"), 0
        while not shipper.stats.dropped["queue_full"]:
            fields = {"order_id": f"o-{n:07d}-{n * 7919 % 100_000:05d}", "side": "sell", "quantity": 1 + n % 5, "fill_price": 1.25, "latency_ms": n / 100}
            log.info("order filled", extra={FIELDS_ATTR: fields})
            n += 1
        steps["queue_full"] = rss()
        info = {"queued_lines": shipper.held_lines, "queued_chars": shipper.held_bytes}
        with open(spec_file, "w") as out:
            json.dump(describe(mon.registry), out)
    else:
        from prometheus_client import CollectorRegistry, disable_created_metrics, start_http_server

        steps["imported"] = rss()
        disable_created_metrics()  # type: ignore[no-untyped-call]  # as quantwatch does: the same series, no _created twins
        registry = CollectorRegistry()
        from bench._series import count, rebuild

        with open(spec_file) as spec:
            rebuild(json.load(spec), registry)
        server, _ = start_http_server(0, "127.0.0.1", registry=registry)
        port = server.server_port
        steps["series"] = rss()
        info = {}
    print(json.dumps({"rss": steps, "port": port, "series": count(registry if mode == "plain" else mon.registry), **info}), flush=True)
    sys.stdin.readline()  # then stop the shipping worker's retries, which would blur the scrape's CPU figure
    if mode == "quantwatch":
        mon.log_outputs.close(timeout=0.1)
    print("quiet", flush=True)
    sys.stdin.read()


if __name__ == "__main__":
    main()
