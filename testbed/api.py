"""Thin clients for the servers' HTTP APIs, as tests use them (any backend, any bed).

>>> prom = PrometheusAPI(prometheus.url)  # doctest: +SKIP
>>> wait_until(lambda: prom.value('up{job="bot"}') == 1, timeout=30, what="bot scraped")  # doctest: +SKIP
"""

from __future__ import annotations

import calendar
import json
import re
import time
from typing import Any

import requests

TIMEOUT = 10.0


def _ok(resp: requests.Response) -> requests.Response:
    if not resp.ok:
        # The servers explain a 4xx in the body: keep it in the error.
        raise requests.HTTPError(f"{resp.status_code} from {resp.request.method} {resp.url}: {resp.text[:1000]}", response=resp)
    return resp


def _json(resp: requests.Response) -> Any:
    return _ok(resp).json() if resp.content else None


class PrometheusAPI:
    """Prometheus's /api/v1 (Thanos Query answers the same API)."""

    def __init__(self, url: str, session: requests.Session | None = None) -> None:
        """``session``: TLS and basic auth of a secured server (the HA profile's)."""
        self.url = url.rstrip("/")
        self.session = session or requests.Session()

    def get(self, path: str, **params: Any) -> Any:
        """The ``data`` of a GET on ``/api/v1/<path>``."""
        body = _json(self.session.get(f"{self.url}/api/v1/{path}", params=params, timeout=TIMEOUT))
        return body["data"]

    def query(self, expr: str, **params: Any) -> list[dict[str, Any]]:
        """Instant vector (or scalar) result of ``expr`` now; ``params`` add to the request (``time``, Thanos's ``dedup``)."""
        result: list[dict[str, Any]] = self.get("query", query=expr, **params)["result"]
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
        _json(self.session.post(f"{self.url}/-/reload", timeout=TIMEOUT))


class LogsAPI:
    """VictoriaLogs, the bed's log server: Loki's push protocol under ``/insert`` in, LogsQL out.

    >>> logs = LogsAPI(victorialogs.url)  # doctest: +SKIP
    >>> logs.lines('_stream:{service="condor-bot"} "ord-1"')  # doctest: +SKIP
    """

    def __init__(self, url: str, *, tenant: str = "", auth: tuple[str, str] | None = None) -> None:
        """``tenant``: the numeric account every call pushes to and reads (``AccountID``); ``auth``: basic auth (``-httpAuth.*``)."""
        self.url = url.rstrip("/")
        self._session = requests.Session()
        self._session.auth = auth
        if tenant:
            self._session.headers["AccountID"] = tenant

    def push(self, labels: dict[str, str], *lines: str) -> None:
        """Push ``lines`` as one stream in Loki's JSON format, stamped now (one nanosecond apart, in order)."""
        now = time.time_ns()
        body = {"streams": [{"stream": labels, "values": [[str(now + i), line] for i, line in enumerate(lines)]}]}
        _json(self._session.post(f"{self.url}/insert/loki/api/v1/push", json=body, timeout=TIMEOUT))

    def flush(self) -> None:
        """Make every row answered 204 so far searchable now (``/internal/force_flush``), instead of within the flush interval."""
        _ok(self._session.get(f"{self.url}/internal/force_flush", timeout=TIMEOUT))

    def rows(self, query: str, since: float = 300.0, limit: int = 0) -> list[dict[str, str]]:
        """Every row a LogsQL query returns over the last ``since`` seconds (``limit`` 0: all), oldest first."""
        params: dict[str, str | int] = {"query": query, "start": f"{time.time() - since:.3f}"}
        if limit:
            params["limit"] = limit
        # UTF-8 as JSON is: the answer names no charset, and requests' guess can be another encoding (cp932 for "é").
        text = _ok(self._session.post(f"{self.url}/select/logsql/query", data=params, timeout=TIMEOUT)).content.decode()
        rows = [json.loads(line) for line in text.split("\n") if line]  # not splitlines(): it also splits at U+2028 and the like
        # By the instant, not the text: VictoriaLogs drops trailing zeros, so ".4351471Z" is later than ".435147012Z".
        return sorted(rows, key=lambda row: rfc3339_ns(row["_time"]) if "_time" in row else 0)

    def lines(self, query: str, since: float = 300.0) -> list[str]:
        """The log line (``_msg``) of every row ``query`` returns over the last ``since`` seconds, oldest first."""
        return [row["_msg"] for row in self.rows(query, since)]

    def json_lines(self, query: str, since: float = 300.0, **fields: object) -> list[dict[str, Any]]:
        """The JSON lines ``query`` returns, parsed, oldest first: those whose ``fields`` hold these values.

        A LogsQL phrase filter (``"abc123"``) matches words anywhere in the line; ``fields`` keep what
        LogQL's ``| json | correlation_id="abc123"`` would, lines whose own field has the value.
        """
        parsed = [json.loads(line) for line in self.lines(query, since)]
        return [line for line in parsed if all(line.get(key) == value for key, value in fields.items())]

    def entries(self, query: str, since: float = 300.0) -> list[tuple[dict[str, str], int, str]]:
        """(stream labels, timestamp in ns, line) of every row, oldest first: exact accounting of what was shipped."""
        entries = [(stream_labels(row["_stream"]), rfc3339_ns(row["_time"]), row["_msg"]) for row in self.rows(query, since)]
        return sorted(entries, key=lambda entry: entry[1:])  # labels are dicts, which do not order

    def count(self, query: str, since: float = 300.0) -> int:
        """How many rows ``query`` matches over the last ``since`` seconds, counted by the server."""
        [row] = self.rows(f"{query} | stats count() rows", since)
        return int(row["rows"])

    def version(self) -> str:
        """The version /metrics reports (``vm_app_version``), without its ``victoria-logs-v`` prefix."""
        match = re.search(r'^vm_app_version\{[^}]*version="victoria-logs-v([^"]+)"', self._metrics(), re.MULTILINE)
        return match.group(1) if match else ""

    def metric(self, series: str) -> float:
        """The value of one series of the server's own /metrics, written as it prints it, e.g.
        ``vl_rows_dropped_total{reason="too_small_timestamp"}``; 0 when it is not there (yet)."""
        prefix = series + " "
        return next((float(line[len(prefix) :]) for line in self._metrics().splitlines() if line.startswith(prefix)), 0.0)

    def _metrics(self) -> str:
        return _ok(self._session.get(f"{self.url}/metrics", timeout=TIMEOUT)).text


def stream_labels(stream: str) -> dict[str, str]:
    """``{a="1",b="2"}`` as VictoriaLogs prints ``_stream``, as a dict."""
    return {key: json.loads(value) for key, value in re.findall(r'(\w+)=("(?:\\.|[^"\\])*")', stream)}


def rfc3339_ns(stamp: str) -> int:
    """Nanoseconds since the epoch of an RFC 3339 time with up to nine fractional digits (``_time``)."""
    head, _, frac = stamp.removesuffix("Z").partition(".")
    seconds = calendar.timegm(time.strptime(head, "%Y-%m-%dT%H:%M:%S"))
    return seconds * 1_000_000_000 + int(frac.ljust(9, "0") or 0)


class AlertmanagerAPI:
    """Alertmanager's /api/v2."""

    def __init__(self, url: str, session: requests.Session | None = None) -> None:
        """``session``: TLS and basic auth of a secured server (the HA profile's)."""
        self.url = url.rstrip("/")
        self.session = session or requests.Session()

    def get(self, path: str, **params: Any) -> Any:
        return _json(self.session.get(f"{self.url}/api/v2/{path}", params=params, timeout=TIMEOUT))

    def status(self) -> dict[str, Any]:
        status: dict[str, Any] = self.get("status")
        return status

    def alerts(self, **filters: Any) -> list[dict[str, Any]]:
        """Alerts Alertmanager holds (``filter=['alertname="X"']``, ``active=True``, ...)."""
        alerts: list[dict[str, Any]] = self.get("alerts", **filters)
        return alerts
