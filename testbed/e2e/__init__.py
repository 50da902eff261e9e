"""End-to-end scenarios: bot events through the exporter, Prometheus, Alertmanager and Loki to email and Slack."""
