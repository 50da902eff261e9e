"""End-to-end scenarios: bot events through the exporter, Prometheus and Alertmanager to email and Slack, and its logs to VictoriaLogs."""
