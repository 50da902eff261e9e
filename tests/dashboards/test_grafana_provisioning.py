"""Grafana provisioning: datasources with fixed uids, links that survive Grafana's $-expansion, offline settings.

Grafana itself cannot be built here, so these pin what Grafana reads, statically: the
checker ``make check`` runs (dashboards.provisioning) passes and catches each fault it names, and
the links Grafana would build lead where they should.
"""

from __future__ import annotations

import json
import logging
import re
import shutil
from pathlib import Path

import pytest
import yaml

from dashboards import lint, provisioning
from dashboards.targets import board_targets
from quantwatch.logs import JsonFormatter

REPO = Path(__file__).resolve().parents[2]
BOARDS = REPO / "dashboards" / "json"
COMPOSE = yaml.safe_load((REPO / "compose" / "compose.yaml").read_text())


def expand(text: str) -> str:
    """What Grafana makes of a provisioning value: $$ is a literal $, $VAR and ${VAR} come from its (empty) environment."""
    return re.sub(r"\$\$|\$\{[^}]*\}|\$\w+", lambda m: "$" if m.group() == "$$" else "", text)


def _correlated_line(correlation_id: str) -> str:
    record = logging.makeLogRecord({"msg": "order filled", "levelno": 35, "levelname": "AUDIT", "name": "bot", "correlation_id": correlation_id})
    return JsonFormatter("trading-bot", "prod").format(record)


def test_committed_provisioning_passes(capsys: pytest.CaptureFixture[str]) -> None:
    """The provisioning checker finds nothing, and `python -m dashboards.lint` (make check) runs it."""
    assert [str(p) for p in provisioning.check()] == []
    assert lint.main([]) == 0
    assert "Grafana's provisioning, 0 problems" in capsys.readouterr().out


# (file under provisioning/grafana, text, replacement, rule, what the finding says)
FAULTS = [
    ("datasources/datasources.yaml", "uid: loki\n", "uid: logs\n", "datasources", "'loki'"),
    ("datasources/datasources.yaml", "$${__value.raw}&from", "${__value.raw}&from", "datasources", "$${...}"),
    ("datasources/datasources.yaml", "timeInterval: 2s", "timeInterval: 15s", "datasources", "scrape interval"),
    ("dashboards/dashboards.yaml", "path: /etc/grafana/dashboards", "path: /var/lib/grafana/dashboards", "provider", "/var/lib/grafana/dashboards"),
    ("dashboards/dashboards.yaml", "foldersFromFilesStructure: true", "foldersFromFilesStructure: false", "provider", "foldersFromFilesStructure"),
    ("dashboards/dashboards.yaml", "allowUiUpdates: false", "allowUiUpdates: true", "provider", "allowUiUpdates"),
    ("grafana.ini", "min_refresh_interval = 1s", "min_refresh_interval = 5s", "grafana-ini", "min_refresh_interval must be '1s'"),
    ("grafana.ini", "default_theme = dark", "default_theme = light", "grafana-ini", "default_theme"),
    ("grafana.ini", "allow_sign_up = false", "allow_sign_up = true", "grafana-ini", "allow_sign_up"),
    ("grafana.ini", "[auth.anonymous]\nenabled = false", "[auth.anonymous]\nenabled = true", "grafana-ini", "[auth.anonymous] enabled"),
    ("grafana.ini", "preinstall_disabled = true", "preinstall_disabled = false", "grafana-ini", "preinstall_disabled"),
    ("grafana.ini", "admin_user = admin\n", "admin_user = admin\nadmin_password = admin\n", "grafana-ini", "admin_password is a secret"),
    ("grafana.ini", "qw-trading-overview.json", "qw-gone.json", "grafana-ini", "home board"),
]


@pytest.mark.parametrize("fault", FAULTS, ids=[f"{rule}-{i}" for i, (*_, rule, _) in enumerate(FAULTS)])
def test_each_fault_is_found(tmp_path: Path, fault: tuple[str, str, str, str, str]) -> None:
    """A copy of provisioning/grafana with one seeded fault fails with that rule, at a line of that file."""
    name, text, replacement, rule, says = fault
    grafana = tmp_path / "grafana"
    shutil.copytree(provisioning.GRAFANA_DIR, grafana)
    original = (grafana / name).read_text()
    assert text in original
    (grafana / name).write_text(original.replace(text, replacement, 1))
    found = provisioning.check(grafana)
    assert any(p.rule == rule and says in p.message for p in found), [str(p) for p in found]
    assert all(p.path == grafana / name and 1 <= p.line <= len(original.splitlines()) + 1 for p in found)


def test_datasources_have_fixed_uids_and_compose_urls() -> None:
    """Prometheus, Loki and Alertmanager are provisioned under the uids the boards use, at their compose addresses."""
    sources = provisioning.datasources()
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
    names = {uid: source["name"] for uid, source in provisioning.datasources().items()}
    [alert_list] = [panel for panel in board["panels"] if panel["type"] == "alertlist"]
    assert alert_list["options"]["datasource"] == names["prometheus"]
    [link] = [link for link in board["links"] if link["type"] == "link"]
    assert link["url"] == f"/alerting/groups?alertmanager={names['alertmanager']}"


def test_derived_field_turns_a_correlation_id_into_a_query() -> None:
    """The Loki derived field finds correlation_id in a real exporter line and links to a LogQL query for it."""
    [field] = provisioning.datasources()["loki"]["jsonData"]["derivedFields"]
    line = _correlated_line("c0ffee1234")
    match = re.search(field["matcherRegex"], line)
    assert match is not None, line
    assert match.group(1) == "c0ffee1234"
    assert field["datasourceUid"] == "loki"
    query = expand(field["url"]).replace("${__value.raw}", match.group(1))
    assert query == '{service=~".+"} |= "c0ffee1234" | json | correlation_id="c0ffee1234"'


def test_exemplars_link_to_the_logs_board_of_the_operation() -> None:
    """A latency exemplar opens the Alerts and logs board filtered by its correlation_id variable."""
    [destination] = provisioning.datasources()["prometheus"]["jsonData"]["exemplarTraceIdDestinations"]
    assert destination["name"] == "correlation_id"
    url = expand(destination["url"])
    uid, variable = re.fullmatch(r"/d/([\w-]+)\?var-(\w+)=\$\{__value\.raw\}&from=now-1h&to=now", url).groups()  # type: ignore[union-attr]
    board = json.loads(next(BOARDS.glob(f"*/{uid}.json")).read_text())
    assert variable in {v["name"] for v in board["templating"]["list"]}


def test_home_dashboard_is_the_trading_overview() -> None:
    """The home dashboard path resolves, through the compose mounts, to the generated trading overview."""
    ini = (provisioning.GRAFANA_DIR / "grafana.ini").read_text()
    [home] = re.findall(r"^default_home_dashboard_path = (.+)$", ini, flags=re.MULTILINE)
    path = provisioning.host_path(home)
    assert path is not None
    assert json.loads(path.read_text())["uid"] == "qw-trading-overview"


def test_secrets_reach_grafana_as_files() -> None:
    """The admin password and secret key come from compose secrets through Grafana's __FILE variables."""
    grafana = COMPOSE["services"]["grafana"]
    assert grafana["environment"]["GF_SECURITY_ADMIN_PASSWORD__FILE"] == "/run/secrets/grafana_admin_password"  # noqa: S105 - a path, not a password
    assert grafana["environment"]["GF_SECURITY_SECRET_KEY__FILE"] == "/run/secrets/grafana_secret_key"  # noqa: S105 - a path, not a key
    assert set(grafana["secrets"]) == {"grafana_admin_password", "grafana_secret_key"}
