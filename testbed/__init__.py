"""The native test bed: real Prometheus, Alertmanager and Loki on 127.0.0.1, plus SMTP and webhook stand-ins.

Fixtures live in tests/conftest.py; this package holds the logic (see README.md, "Test bed").
"""
