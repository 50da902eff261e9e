"""Alerts and logs: what is firing now, and the bot's log lines filtered by strategy, symbol, correlation_id.

Grafana's Alertmanager datasource feeds its Alerting pages (alert groups, silences), not panels, so
the firing alerts come from the Prometheus rules and ``ALERTS`` series, and a link opens the alert
groups Alertmanager holds (grouped, silenced, inhibited) through that datasource.
"""

from __future__ import annotations

from grafana_foundation_sdk.builders import dashboard as builders
from grafana_foundation_sdk.models.dashboard import Dashboard, DashboardLinkType, DataTransformerConfig

from .common import LOG_RANGE, PROMETHEUS, Row, board, correlation_variable, log_query, logs_panel, loki, prom, table_panel, timeseries_panel

UID = "qw-alerts-logs"
FOLDER = "Operations"
FIRING = 'ALERTS{alertstate="firing"}'
#: The name (not uid) of the provisioned Alertmanager datasource, as Grafana's alerting pages want it.
ALERTMANAGER_NAME = "Alertmanager"


def _alert_list() -> builders.Panel:
    """Grafana's alert list over the Prometheus rules: firing and pending, newest first."""
    options = {
        "viewMode": "list",
        "groupMode": "default",
        "groupBy": [],
        "maxItems": 50,
        "sortOrder": 1,
        "dashboardAlerts": False,
        "alertName": "",
        "alertInstanceLabelFilter": "",
        "datasource": "Prometheus",
        "showInstances": True,
        "stateFilter": {"firing": True, "pending": True, "noData": False, "normal": False, "error": True},
    }
    return (
        builders.Panel()
        .type("alertlist")
        .title("Firing and pending alerts")
        .description("Prometheus alert rules that are firing or pending now, with their labels; the spec's runbook is in each alert's annotations.")
        .datasource(PROMETHEUS)
        .options(options)
        .span(12)
        .height(9)
    )


def dashboard() -> Dashboard:
    """The board model."""
    alerts = Row(
        "Alerts",
        [
            _alert_list(),
            table_panel(
                "Firing alerts",
                "Every firing alert instance with its labels (Prometheus ALERTS series). Alertmanager's grouped view is under the Alertmanager link.",
                "none",
                prom(FIRING, instant=True, fmt="table"),
                transformations=[
                    DataTransformerConfig(
                        id_val="organize",
                        options={
                            "excludeByName": {"Time": True, "Value": True, "__name__": True, "alertstate": True},
                            "indexByName": {"alertname": 0, "severity": 1},
                        },
                    ),
                ],
                h=9,
            ),
            timeseries_panel(
                "Firing alerts over time",
                "Number of firing alert instances per severity.",
                "short",
                prom(f"count by (severity) ({FIRING})", "{{severity}}"),
                stack=True,
                w=24,
                h=6,
            ),
        ],
    )
    logs = Row(
        "Logs",
        [
            timeseries_panel(
                "Log volume by level",
                "Log lines per second by level, for the selected strategy, underlying and correlation_id.",
                "suffix: lines/s",
                loki(f"sum by (level) (rate({log_query()} [{LOG_RANGE}]))", "{{level}}"),
                stack=True,
                w=24,
                h=6,
            ),
            logs_panel(
                "Errors and audit trail",
                "Error, critical and audit lines (order and risk decisions). Click a line for its fields; correlation_id links to the whole operation.",
                loki(log_query(levels="error|critical|audit"), max_lines=500),
                h=10,
            ),
            logs_panel(
                "All log lines",
                "Every JSON log line of the selected bots, newest first, filtered by strategy, underlying and correlation_id.",
                loki(log_query(), max_lines=1000),
            ),
        ],
    )
    alertmanager = (
        builders.DashboardLink("Alertmanager: alert groups and silences")
        .type(DashboardLinkType.LINK)
        .url(f"/alerting/groups?alertmanager={ALERTMANAGER_NAME}")
        .icon("bell")
        .tooltip("Alerts as Alertmanager holds them (grouped, silenced, inhibited), via the Alertmanager datasource")
    )
    return board(
        UID,
        "Alerts and logs",
        "Firing alerts, and the bot's JSON log lines filtered by strategy, underlying and correlation_id.",
        [alerts, logs],
        extra_variables=[correlation_variable()],
        extra_links=[alertmanager],
    )
