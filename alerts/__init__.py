"""Alerting as code: one spec (alerts/spec.yaml) renders Prometheus rules, their promtool tests,
the Alertmanager routes and the alert docs. Run ``python -m alerts.generate``."""
