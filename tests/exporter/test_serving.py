"""/metrics over HTTP from the monitor's own server, and as WSGI and ASGI apps."""

from __future__ import annotations

import asyncio
import urllib.request
from typing import Any

from prometheus_client.parser import text_string_to_metric_families

from quantwatch.testing import capture


def family_names(body: bytes) -> set[str]:
    return {family.name for family in text_string_to_metric_families(body.decode())}


def test_serve_binds_loopback_on_a_chosen_port() -> None:
    """serve(port=0) picks a free port on 127.0.0.1 and answers /metrics; close() stops it."""
    with capture() as cap:
        cap.monitor.trade_closed("ic", "SPY", "sell", 1.0)
        port = cap.monitor.serve(port=0)
        assert cap.monitor._server.server_address[0] == "127.0.0.1"
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=5) as response:
            body = response.read()
        assert {"trading_trades", "trading_health_score", "trading_host_cpu_seconds"} <= family_names(body)
        cap.monitor.close()
        try:
            urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=2)
        except OSError:
            pass
        else:
            raise AssertionError("server still answering after close()")


def test_wsgi_app_serves_the_same_registry() -> None:
    """The WSGI app answers 200 with this monitor's families."""
    with capture() as cap:
        cap.monitor.error("risk", error_type="LimitBreach")
        status: list[str] = []
        body = b"".join(cap.monitor.wsgi_app()({"REQUEST_METHOD": "GET", "PATH_INFO": "/metrics", "QUERY_STRING": ""}, lambda s, h: status.append(s)))
    assert status == ["200 OK"]
    assert "trading_errors" in family_names(body)


def test_asgi_app_serves_the_same_registry() -> None:
    """The ASGI app answers 200 with this monitor's families."""
    sent: list[dict[str, Any]] = []

    async def receive() -> dict[str, Any]:
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    with capture() as cap:
        cap.monitor.portfolio_snapshot(1000.0, 10.0)
        scope = {"type": "http", "method": "GET", "path": "/metrics", "query_string": b"", "headers": []}
        asyncio.run(cap.monitor.asgi_app()(scope, receive, send))
    assert sent[0]["status"] == 200
    assert "trading_portfolio_value_usd" in family_names(b"".join(m.get("body", b"") for m in sent))
