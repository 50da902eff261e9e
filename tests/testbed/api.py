"""Thin clients for the servers' HTTP APIs, as tests use them (any backend, any bed).

>>> prom = PrometheusAPI(prometheus.url)  # doctest: +SKIP
>>> wait_until(lambda: prom.value('up{job="bot"}') == 1, timeout=30, what="bot scraped")  # doctest: +SKIP
"""

from __future__ import annotations

import time
from typing import Any

import requests

TIMEOUT = 10.0


def _json(resp: requests.Response) -> Any:
    if not resp.ok:
        # Loki and Prometheus explain a 4xx in the body: keep it in the error.
        raise requests.HTTPError(f"{resp.status_code} from {resp.request.method} {resp.url}: {resp.text[:1000]}", response=resp)
    return resp.json() if resp.content else None


class PrometheusAPI:
    """Prometheus's /api/v1."""

    def __init__(self, url: str) -> None:
        self.url = url.rstrip("/")

    def get(self, path: str, **params: Any) -> Any:
        """The ``data`` of a GET on ``/api/v1/<path>``."""
        body = _json(requests.get(f"{self.url}/api/v1/{path}", params=params, timeout=TIMEOUT))
        return body["data"]

    def query(self, expr: str) -> list[dict[str, Any]]:
        """Instant vector (or scalar) result of ``expr`` now."""
        result: list[dict[str, Any]] = self.get("query", query=expr)["result"]
        return result

    def value(self, expr: str) -> float | None:
        """The value of the only sample ``expr`` returns, or None when it returns none."""
        result = self.query(expr)
        if not result:
            return None
        if len(result) > 1:
            raise ValueError(f"{expr} returned {len(result)} series: {result}")
        return float(result[0]["value"][1])

    def rule_groups(self) -> list[dict[str, Any]]:
        groups: list[dict[str, Any]] = self.get("rules")["groups"]
        return groups

    def alerts(self) -> list[dict[str, Any]]:
        alerts: list[dict[str, Any]] = self.get("alerts")["alerts"]
        return alerts

    def buildinfo(self) -> dict[str, Any]:
        info: dict[str, Any] = self.get("status/buildinfo")
        return info

    def reload(self) -> None:
        """Re-read the config and rules (POST /-/reload; the test bed enables it)."""
        _json(requests.post(f"{self.url}/-/reload", timeout=TIMEOUT))


class LokiAPI:
    """Loki's push and query APIs (single tenant: auth is off)."""

    def __init__(self, url: str) -> None:
        self.url = url.rstrip("/")

    def push(self, labels: dict[str, str], *lines: str, metadata: dict[str, str] | None = None) -> None:
        """Push ``lines`` as one stream, stamped now (one nanosecond apart, in order)."""
        now = time.time_ns()
        values: list[list[Any]] = [[str(now + i), line] + ([metadata] if metadata else []) for i, line in enumerate(lines)]
        body: dict[str, Any] = {"streams": [{"stream": labels, "values": values}]}
        _json(requests.post(f"{self.url}/loki/api/v1/push", json=body, timeout=TIMEOUT))

    def query_range(self, query: str, since: float = 300.0, limit: int = 1000) -> list[dict[str, Any]]:
        """The ``result`` of a LogQL range query over the last ``since`` seconds, newest first."""
        end = time.time_ns()
        params: dict[str, str | int] = {"query": query, "start": end - int(since * 1e9), "end": end + 1, "limit": limit, "direction": "backward"}
        body = _json(requests.get(f"{self.url}/loki/api/v1/query_range", params=params, timeout=TIMEOUT))
        result: list[dict[str, Any]] = body["data"]["result"]
        return result

    def lines(self, query: str, since: float = 300.0) -> list[str]:
        """Every log line a LogQL log query returns over the last ``since`` seconds."""
        return [value[1] for stream in self.query_range(query, since) for value in stream["values"]]

    def buildinfo(self) -> dict[str, Any]:
        info: dict[str, Any] = _json(requests.get(f"{self.url}/loki/api/v1/status/buildinfo", timeout=TIMEOUT))
        return info


class AlertmanagerAPI:
    """Alertmanager's /api/v2."""

    def __init__(self, url: str) -> None:
        self.url = url.rstrip("/")

    def get(self, path: str, **params: Any) -> Any:
        return _json(requests.get(f"{self.url}/api/v2/{path}", params=params, timeout=TIMEOUT))

    def status(self) -> dict[str, Any]:
        status: dict[str, Any] = self.get("status")
        return status

    def alerts(self, **filters: Any) -> list[dict[str, Any]]:
        """Alerts Alertmanager holds (``filter=['alertname="X"']``, ``active=True``, ...)."""
        alerts: list[dict[str, Any]] = self.get("alerts", **filters)
        return alerts
