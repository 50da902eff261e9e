"""The Slack and email notification templates, rendered by amtool with alerts as Prometheus sends them."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from alert_helpers import REPO, alert_rules, alertmanager_config, amtool

from alerts.generate import TEMPLATES_DIR
from alerts.spec import load
from alerts.text import expand

pytestmark = pytest.mark.servers  # amtool comes from the test bed's Alertmanager build

ALERTS = {alert.name: alert for alert in load().alerts}
#: One firing alert with a symbol, one resolved alert with a strategy, and the values they carry.
FIRING, RESOLVED = ("QuantwatchMarketDataStale", 42.0), ("QuantwatchOrderRejectionRatioHigh", 0.25)


def _alert(name: str, value: float, status: str) -> dict[str, Any]:
    """An alert as Alertmanager holds it: labels of the rule and the test, annotations expanded as Prometheus does."""
    rule, spec = alert_rules()[name], ALERTS[name]
    labels = {"alertname": name} | spec.test.labels | rule["labels"]
    notes = {key: expand(text, spec.unit, value, labels) for key, text in rule["annotations"].items()}
    ends = "2026-11-25T14:05:00Z" if status == "resolved" else "0001-01-01T00:00:00Z"
    return {
        "status": status,
        "labels": labels,
        "annotations": notes,
        "startsAt": "2026-11-25T14:00:00Z",
        "endsAt": ends,
        "generatorURL": "http://prometheus:9090/graph",
    }


def write_data(path: Path, alerts: list[dict[str, Any]]) -> Path:
    """A notification's template data (Alertmanager's template.Data) as JSON; common labels are those all alerts share."""
    common = {key: value for key, value in alerts[0]["labels"].items() if all(a["labels"].get(key) == value for a in alerts)}
    status = "firing" if any(a["status"] == "firing" for a in alerts) else "resolved"
    body = {"receiver": "slack", "status": status, "alerts": alerts, "groupLabels": {}, "commonLabels": common, "commonAnnotations": {}, "externalURL": ""}
    path.write_text(json.dumps(body))
    return path


@pytest.fixture(scope="module")
def data(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, list[dict[str, Any]]]:
    """A notification of one firing alert with a symbol and one resolved alert with a strategy."""
    alerts = [_alert(*FIRING, "firing"), _alert(*RESOLVED, "resolved")]
    return write_data(tmp_path_factory.mktemp("template") / "data.json", alerts), alerts


def render(template: str, data: Path, kind: str = "text") -> str:
    result = amtool(
        "template", "render", f"--template.glob={REPO / TEMPLATES_DIR}/*.tmpl", f"--template.data={data}", f"--template.type={kind}",
        f'--template.text={{{{ template "{template}" . }}}}',
    )  # fmt: skip
    assert result.returncode == 0, result.stdout + result.stderr
    return result.stdout


@pytest.mark.parametrize(("template", "kind"), [("qw.slack.text", "text"), ("qw.email.text", "text"), ("qw.email.html", "html")])
def test_a_notification_shows_what_an_operator_acts_on(data: tuple[Path, list[dict[str, Any]]], template: str, kind: str) -> None:
    """Severity, summary, value, strategy/symbol, runbook and dashboard links of each alert, and the resolved one marked RESOLVED."""
    path, alerts = data
    text = render(template, path, kind)
    for alert in alerts:
        notes = alert["annotations"]
        for shown in (alert["labels"]["severity"].upper(), notes["summary"], notes["value"], notes["runbook_url"], notes["dashboard_url"]):
            assert shown in text, (alert["labels"]["alertname"], shown)
    assert "symbol=SPY" in text
    assert "strategy=iron_condor" in text
    firing, resolved = text.index(alerts[0]["annotations"]["summary"]), text.index(alerts[1]["annotations"]["summary"])
    assert "RESOLVED" not in text[:firing]
    assert "RESOLVED" in text[firing:resolved]


def test_titles_carry_status_severity_and_alert(tmp_path: Path) -> None:
    """The Slack title and the email subject read [FIRING:n] SEVERITY alertname, and [RESOLVED] once it has resolved."""
    firing = write_data(tmp_path / "firing.json", [_alert(*FIRING, "firing")])
    resolved = write_data(tmp_path / "resolved.json", [_alert(*FIRING, "resolved")])
    assert render("qw.slack.title", firing) == render("qw.email.subject", firing) == f"[FIRING:1] WARNING {FIRING[0]}"
    assert render("qw.email.subject", resolved) == f"[RESOLVED] WARNING {FIRING[0]}"


def test_every_person_facing_receiver_sends_resolved() -> None:
    """Slack, email and the webhook send a resolved notice; only the heartbeat, which never resolves, does not."""
    sends = {
        r["name"]: [c.get("send_resolved") for key, configs in r.items() if key.endswith("_configs") for c in configs]
        for r in alertmanager_config()["receivers"]
    }
    assert sends == {"email": [True], "slack": [True], "webhook": [True], "heartbeat": [False]}
