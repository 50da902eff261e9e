"""Smoke test: the real servers load the repository's configs and reach each other."""

from __future__ import annotations

import json
import time
import uuid
from pathlib import Path
from typing import Any

import pytest
import yaml

from testbed.api import AlertmanagerAPI, LogsAPI, PrometheusAPI
from testbed.binaries import pins
from testbed.poll import wait_until
from testbed.servers import CONFIGS, Server

pytestmark = pytest.mark.servers

RULES_DIR = CONFIGS["prometheus"].parent / "rules"
NEVER = "0001-01-01T00:00:00Z"  # lastEvaluation of a rule not evaluated yet


def test_bot_is_scraped(prometheus: Server, bot: Server) -> None:
    """Prometheus scrapes the demo bot through the rendered bot:8000 target: up{job="bot"} == 1."""
    api = PrometheusAPI(prometheus.url)
    wait_until(lambda: api.value('up{job="bot"}') == 1, timeout=30, what='up{job="bot"} == 1')
    assert api.query('up{job="bot"}')[0]["metric"]["instance"] == f"127.0.0.1:{bot.port}"


def test_every_rule_group_is_healthy(prometheus: Server) -> None:
    """Prometheus loads every group of provisioning/prometheus/rules/*.yml and each rule evaluates with health ok."""
    expected = sorted((path.name, group["name"]) for path in RULES_DIR.glob("*.yml") for group in yaml.safe_load(path.read_text())["groups"])
    api = PrometheusAPI(prometheus.url)

    def all_evaluated() -> list[dict[str, Any]] | None:
        groups = api.rule_groups()
        return groups if all(r["lastEvaluation"] != NEVER for g in groups for r in g["rules"]) else None

    groups = wait_until(all_evaluated, timeout=30, what="every rule evaluated once") if expected else api.rule_groups()
    assert sorted((Path(str(g["file"])).name, g["name"]) for g in groups) == expected
    unhealthy = [(g["name"], r["name"], r.get("lastError")) for g in groups for r in g["rules"] if r["health"] != "ok"]
    assert unhealthy == []


def test_victorialogs_keeps_a_pushed_json_line_whole(victorialogs: Server) -> None:
    """A JSON line pushed to Loki's push path under /insert comes back whole from LogsQL, with its stream labels and nanosecond timestamp."""
    api = LogsAPI(victorialogs.url)
    marker = uuid.uuid4().hex
    line = json.dumps({"level": "info", "message": "test bed smoke", "marker": marker})
    before = time.time_ns()
    api.push({"service": "testbed-smoke", "env": "test"}, line)
    [(labels, stamp, text)] = wait_until(lambda: api.entries(f'_stream:{{service="testbed-smoke"}} "{marker}"'), timeout=30, what="the pushed line")
    assert (labels, text) == ({"service": "testbed-smoke", "env": "test"}, line)
    assert before <= stamp <= time.time_ns()


def test_alertmanager_answers_v2_status(alertmanager: Server) -> None:
    """Alertmanager answers /api/v2/status with the repository's receivers loaded and gossip off."""
    status = AlertmanagerAPI(alertmanager.url).status()
    assert status["cluster"]["status"] == "disabled"
    loaded = yaml.safe_load(status["config"]["original"])
    committed = yaml.safe_load(CONFIGS["alertmanager"].read_text())
    assert sorted(r["name"] for r in loaded["receivers"]) == sorted(r["name"] for r in committed["receivers"])


@pytest.mark.parametrize("server", ["prometheus", "alertmanager", "victorialogs"])
def test_servers_run_the_pinned_versions(server: str, request: pytest.FixtureRequest) -> None:
    """Each running server reports the version compose/versions.env pins."""
    url = request.getfixturevalue(server).url
    versions = {
        "prometheus": lambda: PrometheusAPI(url).buildinfo()["version"],
        "alertmanager": lambda: AlertmanagerAPI(url).status()["versionInfo"]["version"],
        "victorialogs": lambda: LogsAPI(url).version(),
    }
    assert versions[server]() == pins()[server]
