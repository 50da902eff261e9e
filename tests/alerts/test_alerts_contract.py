"""Contracts of the generated rules and routes: catalogue metrics only, complete annotations, safe secrets."""

from __future__ import annotations

import re
from typing import Any

import pytest
from alert_helpers import REPO, alert_rules, alertmanager_config, load_yaml, rules, spec_alert

from alerts.spec import load
from alerts.text import number
from dashboards.metrics import TARGET_LABELS, labels_of
from dashboards.promql import parse
from quantwatch.catalogue import BY_NAME

#: Server self-metrics the meta-monitoring rules may read, with their labels (``up`` is known to dashboards.metrics).
SELF_METRICS = {
    "prometheus_rule_evaluation_failures_total": frozenset({"rule_group"}),
    "prometheus_notifications_alertmanagers_discovered": frozenset(),
    "alertmanager_notifications_total": frozenset({"integration", "receiver_name"}),
    "alertmanager_notifications_failed_total": frozenset({"integration", "receiver_name", "reason"}),
}
#: The stable uids of the boards (dashboards/).
DASHBOARD_UIDS = frozenset({"qw-trading-overview", "qw-options-risk", "qw-execution", "qw-system-health", "qw-alerts-logs"})
ANNOTATIONS = {"summary", "description", "value", "runbook_url", "dashboard_url"}
_TEMPLATE_LABEL = re.compile(r"\$labels\.([a-zA-Z_]\w*)")


def series_labels(name: str) -> frozenset[str] | None:
    """Labels a series may carry (catalogue family, recording rule, self-metric, plus target labels); None if unknown."""
    if name in SELF_METRICS:
        return SELF_METRICS[name] | TARGET_LABELS
    try:
        return labels_of(name)
    except KeyError:
        return None


def expression_problems(expr: str) -> tuple[list[str], frozenset[str]]:
    """What ``expr`` names that no source defines, and every label its series may carry."""
    query = parse(expr)
    problems, available = [], set(TARGET_LABELS)
    for selector in query.selectors:
        known = series_labels(selector.name)
        if known is None:
            problems.append(f"{selector.name} is neither in quantwatch.catalogue nor a whitelisted self-metric nor a recording rule")
            continue
        available |= known
        problems += [f"{selector.name} has no label {label}" for label, _, _ in selector.matchers if label not in known]
    problems += [f"grouping label {label} is on none of the series" for label in sorted(query.labels_named() - available)]
    return problems, frozenset(available)


def test_every_metric_and_label_a_rule_uses_is_in_the_catalogue() -> None:
    """Rules read only catalogue families, recording rules and whitelisted self-metrics, each with its own labels."""
    problems = []
    for rule in rules():
        found, labels = expression_problems(rule["expr"])
        name = rule.get("record") or rule["alert"]
        problems += [f"{name}: {problem}" for problem in found]
        if "alert" in rule:
            used = {label for text in rule["annotations"].values() for label in _TEMPLATE_LABEL.findall(text)}
            problems += [f"{name}: annotation uses $labels.{label}, which no series has" for label in sorted(used - labels - set(rule["labels"]))]
    assert problems == []


def test_contract_check_catches_unknown_metrics_and_labels() -> None:
    """The contract check itself refuses a made-up metric, a foreign label and a stray grouping label."""
    found, _ = expression_problems('sum by (strategy) (rate(trading_made_up_total[5m])) + trading_health_score{symbol="SPY"}')
    assert found == [
        "trading_made_up_total is neither in quantwatch.catalogue nor a whitelisted self-metric nor a recording rule",
        "trading_health_score has no label symbol",
        "grouping label strategy is on none of the series",
    ]


def test_recording_rules_are_named_level_metric_operations() -> None:
    """Recorded series are named level:metric:operations after a catalogue family."""
    for rule in rules():
        if "record" in rule:
            level, metric, operations = rule["record"].split(":")
            assert level
            assert operations
            assert any(name.startswith(metric) for name in BY_NAME), rule["record"]


def test_alerts_are_named_with_the_prefix_and_have_severity_and_kind() -> None:
    """Alert names are CamelCase with the common prefix; severity is warning or critical; every alert has a kind."""
    for name, rule in alert_rules().items():
        assert re.fullmatch(r"Quantwatch[A-Z][A-Za-z0-9]+", name)
        assert rule["labels"]["severity"] in ("warning", "critical")
        assert rule["labels"]["alertgroup"]


def test_every_alert_has_summary_description_value_runbook_and_dashboard() -> None:
    """Each alert carries the five annotations; the description shows $value; the links point at the runbook and a board."""
    headings = set(re.findall(r"^## (\S+)$", (REPO / "docs" / "runbook.md").read_text(), re.MULTILINE))
    for name, rule in alert_rules().items():
        notes = rule["annotations"]
        assert set(notes) == ANNOTATIONS, name
        assert "$value" in notes["description"], name
        assert "$value" in notes["value"]
        path, anchor = notes["runbook_url"].split("#")
        assert path.endswith("/docs/runbook.md")
        assert anchor == name.lower()
        assert name in headings
        assert notes["dashboard_url"].rsplit("/d/", 1)[1] in DASHBOARD_UIDS


@pytest.mark.parametrize(
    ("name", "op", "severity", "cooldown"),
    [
        ("QuantwatchErrorRateHigh", ">", "warning", "5m"),
        ("QuantwatchHealthScoreLow", "<", "critical", "1m"),
        ("QuantwatchHostCpuHigh", ">", "warning", "5m"),
        ("QuantwatchBrokerApiSuccessLow", "<", "critical", "1m"),
        ("QuantwatchDrawdownHigh", ">", "critical", "5m"),
    ],
)
def test_the_original_five_compare_with_the_spec_threshold(name: str, op: str, severity: str, cooldown: str) -> None:
    """The original five alerts (errors, health, CPU, broker API, drawdown) keep severity and cooldown; each rule compares with its spec threshold."""
    alert = spec_alert(name)
    assert alert.threshold is not None
    assert (alert.op, alert.severity, alert.cooldown.name) == (op, severity, cooldown)
    assert alert_rules()[name]["expr"].endswith(f"{op} {number(alert.threshold)}")


def test_operator_alerts_and_meta_monitoring_exist() -> None:
    """Bot down/absent, stale data (market hours only), orders, latency, risk, log drops and the meta alerts all exist."""
    alerts = {a.name: a for a in load().alerts}
    required = {
        "QuantwatchBotDown": "up{",
        "QuantwatchBotAbsent": "absent(up{",
        "QuantwatchMarketDataStale": "trading_market_data_age_seconds",
        "QuantwatchOrderRejectionRatioHigh": "trading_orders_rejected",
        "QuantwatchOrderLatencyHigh": "trading_order_latency_seconds",
        "QuantwatchRiskLimitViolated": "trading_risk_violations_total",
        "QuantwatchLogLinesDropped": "quantwatch_log_lines_dropped_total",
        "QuantwatchWatchdog": "vector(1)",
        "QuantwatchPrometheusRuleFailures": "prometheus_rule_evaluation_failures_total",
        "QuantwatchPrometheusNotConnectedToAlertmanager": "prometheus_notifications_alertmanagers_discovered",
        "QuantwatchAlertmanagerNotificationsFailing": "alertmanager_notifications_failed_total",
    }
    for name, fragment in required.items():
        assert fragment in alerts[name].expr, name
    assert [a.name for a in alerts.values() if a.market_hours_only] == ["QuantwatchMarketDataStale"]
    assert alerts["QuantwatchWatchdog"].channels == ("heartbeat",)


def test_spec_targets_are_jobs_prometheus_scrapes() -> None:
    """Every job the rules select is a scrape job of provisioning/prometheus/prometheus.yml."""
    jobs = {job["job_name"] for job in load_yaml(REPO / "provisioning" / "prometheus" / "prometheus.yml")["scrape_configs"]}
    assert {target.job for target in load().targets.values()} <= jobs


def _walk(node: Any, path: str = "") -> list[tuple[str, Any]]:
    if isinstance(node, dict):
        return [item for key, value in node.items() for item in _walk(value, f"{path}.{key}")]
    if isinstance(node, list):
        return [item for i, value in enumerate(node) for item in _walk(value, f"{path}[{i}]")]
    return [(path, node)]


def test_alertmanager_secrets_are_read_from_files() -> None:
    """No receiver holds a secret inline: webhook URLs and the SMTP password come from /run/secrets files."""
    leaves = _walk(alertmanager_config()["receivers"])
    assert not [path for path, _ in leaves if re.search(r"\.(api_url|url|auth_password|auth_secret|app_token)$", path)]
    files = [value for path, value in leaves if path.endswith("_file")]
    assert files
    assert all(value.startswith("/run/secrets/") for value in files)
    kinds = {path.rsplit(".", 1)[1] for path, _ in leaves if path.endswith("_file")}
    assert kinds == {"api_url_file", "auth_password_file", "url_file"}
