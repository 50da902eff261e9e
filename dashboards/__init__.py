"""Grafana dashboards as typed code (grafana-foundation-sdk), one module per board.

``python -m dashboards.generate`` writes ``dashboards/json/FOLDER/UID.json``, which Grafana's file
provider loads (``provisioning/grafana/dashboards/``); ``python -m dashboards.lint`` checks them.
"""
