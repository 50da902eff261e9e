"""Grafana provisioning: datasources with fixed uids, links that survive Grafana's $-expansion, offline settings.

Grafana itself cannot be built here (issue 7), so these pin what Grafana reads, statically.
"""

from __future__ import annotations

import configparser
import json
import logging
import re
from pathlib import Path
from typing import Any

import pytest
import yaml

from dashboards.targets import board_targets
from quantwatch.logs import JsonFormatter

REPO = Path(__file__).resolve().parents[2]
GRAFANA = REPO / "provisioning" / "grafana"
BOARDS = REPO / "dashboards" / "json"
COMPOSE = yaml.safe_load((REPO / "compose" / "compose.yaml").read_text())
MOUNTS = {
    target: REPO / "compose" / source for source, target, *_ in (v.split(":") for v in COMPOSE["services"]["grafana"]["volumes"]) if source.startswith("..")
}


def expand(text: str) -> str:
    """What Grafana makes of a provisioning value: $$ is a literal $, $VAR and ${VAR} come from its (empty) environment."""
    return re.sub(r"\$\$|\$\{[^}]*\}|\$\w+", lambda m: "$" if m.group() == "$$" else "", text)


def _datasources() -> dict[str, dict[str, Any]]:
    document = yaml.safe_load((GRAFANA / "datasources" / "datasources.yaml").read_text())
    return {source["uid"]: source for source in document["datasources"]}


def _host_path(container_path: str) -> Path:
    """The repository file Grafana sees at ``container_path`` through compose's read-only mounts."""
    for target, source in MOUNTS.items():
        if container_path == target or container_path.startswith(target + "/"):
            return (source / container_path.removeprefix(target).lstrip("/")).resolve()
    raise AssertionError(f"{container_path} is not mounted into the grafana service")


def _correlated_line(correlation_id: str) -> str:
    record = logging.makeLogRecord({"msg": "order filled", "levelno": 35, "levelname": "AUDIT", "name": "bot", "correlation_id": correlation_id})
    return JsonFormatter("trading-bot", "prod").format(record)


def test_datasources_have_fixed_uids_and_compose_urls() -> None:
    """Prometheus, Loki and Alertmanager are provisioned under the uids the boards use, at their compose addresses."""
    sources = _datasources()
    assert {uid: (s["type"], s["url"]) for uid, s in sources.items()} == {
        "prometheus": ("prometheus", "http://prometheus:9090"),
        "loki": ("loki", "http://loki:3100"),
        "alertmanager": ("alertmanager", "http://alertmanager:9093"),
    }
    assert all(s["editable"] is False for s in sources.values())
    assert {(t.kind, t.kind) for t in board_targets()} <= {(uid, s["type"]) for uid, s in sources.items()}


def test_boards_name_provisioned_datasources() -> None:
    """Where Grafana wants a datasource name, not a uid (alert list's rule source, the Alertmanager alerting link), the board uses a provisioned name."""
    board = json.loads(next(BOARDS.glob("*/qw-alerts-logs.json")).read_text())
    names = {source["uid"]: source["name"] for source in _datasources().values()}
    [alert_list] = [panel for panel in board["panels"] if panel["type"] == "alertlist"]
    assert alert_list["options"]["datasource"] == names["prometheus"]
    [link] = [link for link in board["links"] if link["type"] == "link"]
    assert link["url"] == f"/alerting/groups?alertmanager={names['alertmanager']}"


def test_rate_interval_follows_the_bot_scrape_interval() -> None:
    """The Prometheus datasource's timeInterval is the bot job's scrape interval, so $__rate_interval spans four scrapes."""
    prometheus = yaml.safe_load((REPO / "provisioning" / "prometheus" / "prometheus.yml").read_text())
    bot = next(job for job in prometheus["scrape_configs"] if job["job_name"] == "bot")
    assert _datasources()["prometheus"]["jsonData"]["timeInterval"] == bot["scrape_interval"]


def test_derived_field_turns_a_correlation_id_into_a_query() -> None:
    """The Loki derived field finds correlation_id in a real exporter line and links to a LogQL query for it."""
    [field] = _datasources()["loki"]["jsonData"]["derivedFields"]
    line = _correlated_line("c0ffee1234")
    match = re.search(field["matcherRegex"], line)
    assert match is not None, line
    assert match.group(1) == "c0ffee1234"
    assert field["datasourceUid"] == "loki"
    query = expand(field["url"]).replace("${__value.raw}", match.group(1))
    assert query == '{service=~".+"} |= "c0ffee1234" | json | correlation_id="c0ffee1234"'


def test_exemplars_link_to_the_logs_board_of_the_operation() -> None:
    """A latency exemplar opens the Alerts and logs board filtered by its correlation_id variable."""
    [destination] = _datasources()["prometheus"]["jsonData"]["exemplarTraceIdDestinations"]
    assert destination["name"] == "correlation_id"
    url = expand(destination["url"])
    uid, variable = re.fullmatch(r"/d/([\w-]+)\?var-(\w+)=\$\{__value\.raw\}&from=now-1h&to=now", url).groups()  # type: ignore[union-attr]
    board = json.loads(next(BOARDS.glob(f"*/{uid}.json")).read_text())
    assert variable in {v["name"] for v in board["templating"]["list"]}


def _strings(node: Any) -> list[str]:
    if isinstance(node, dict):
        return [s for value in node.values() for s in _strings(value)]
    if isinstance(node, list):
        return [s for value in node for s in _strings(value)]
    return [node] if isinstance(node, str) else []


def test_data_link_variables_are_escaped_for_provisioning() -> None:
    """Every ${__value.raw} in a datasource value is written $${...}, or Grafana's env expansion would blank it."""
    values = _strings(yaml.safe_load((GRAFANA / "datasources" / "datasources.yaml").read_text()))
    linked = [value for value in values if "__value.raw" in value]
    assert len(linked) == 2
    assert all(expand(value).count("${__value.raw}") == value.count("__value.raw") for value in linked)


def test_dashboard_provider_reads_the_mounted_boards_into_folders() -> None:
    """The file provider reads the generated JSON where compose mounts it, one folder per directory, read-only."""
    [provider] = yaml.safe_load((GRAFANA / "dashboards" / "dashboards.yaml").read_text())["providers"]
    assert _host_path(provider["options"]["path"]) == BOARDS.resolve()
    assert provider["options"]["foldersFromFilesStructure"] is True
    assert provider["allowUiUpdates"] is False


@pytest.fixture(scope="module")
def ini() -> configparser.ConfigParser:
    parser = configparser.ConfigParser(interpolation=None)
    parser.read(GRAFANA / "grafana.ini")
    return parser


@pytest.mark.parametrize(
    ("section", "key", "value"),
    [
        ("dashboards", "min_refresh_interval", "1s"),
        ("users", "default_theme", "dark"),
        ("users", "allow_sign_up", "false"),
        ("auth.anonymous", "enabled", "false"),
        ("plugins", "preinstall_disabled", "true"),
        ("analytics", "reporting_enabled", "false"),
        ("analytics", "check_for_updates", "false"),
        ("analytics", "check_for_plugin_updates", "false"),
    ],
)
def test_grafana_ini_settings(ini: configparser.ConfigParser, section: str, key: str, value: str) -> None:
    """Live refresh down to 1 s, dark, closed to strangers, and offline (no plugin downloads or update checks)."""
    assert ini.get(section, key) == value


def test_home_dashboard_is_the_trading_overview(ini: configparser.ConfigParser) -> None:
    """The home dashboard path resolves, through the compose mounts, to the generated trading overview."""
    home = _host_path(ini.get("dashboards", "default_home_dashboard_path"))
    assert home.is_file()
    assert json.loads(home.read_text())["uid"] == "qw-trading-overview"


def test_no_credentials_in_grafana_ini(ini: configparser.ConfigParser) -> None:
    """The admin password and secret key are not in the file: compose hands them over as secret files."""
    assert not ini.has_option("security", "admin_password")
    assert not ini.has_option("security", "secret_key")
    environment = COMPOSE["services"]["grafana"]["environment"]
    assert environment["GF_SECURITY_ADMIN_PASSWORD__FILE"] == "/run/secrets/grafana_admin_password"  # noqa: S105 - a path, not a password
    assert environment["GF_SECURITY_SECRET_KEY__FILE"] == "/run/secrets/grafana_secret_key"  # noqa: S105 - a path, not a key
