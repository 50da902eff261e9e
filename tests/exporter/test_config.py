"""Settings come from arguments, then QUANTWATCH_* variables, then defaults; a bad one fails at start, naming field, value and source."""

from __future__ import annotations

import dataclasses
import logging
from pathlib import Path
from typing import Any

import pytest

from quantwatch import Config, ConfigError, Monitor
from quantwatch.config_checks import CHECKS

MISSING = "/nonexistent/quantwatch"
#: Per field, values no source may give it, as written in code; a variable holds the same as text (items joined by commas).
BAD: dict[str, list[Any]] = {
    "service": ["", " "],
    "env": [""],
    "metrics_addr": ["", "local host", "http://127.0.0.1"],
    "metrics_port": [-1, 70000, 8000.5, "http"],
    "metrics_tls_cert_file": [MISSING + "/bot.crt", "/"],
    "metrics_tls_key_file": [MISSING + "/bot.key", "/"],
    "metrics_username": ["prometheus:1", "prometheus"],
    "metrics_password_file": [MISSING + "/password", "/"],
    "label_cap": [0, -5, "many"],
    "strategies": [("x" * 65,)],
    "symbols": [("SPY\udc80",), ("y" * 65,)],
    "disk_path": [MISSING, ""],
    "log_level": ["LOUD", ""],
    "health_window_seconds": [0, -1.0, float("nan"), float("inf"), "soon"],
    "stale_after_seconds": [0.0, -5, float("inf")],
    "loki_url": ["loki:3100", "http://loki:3100/ready", "http://bot:s3cret@loki:3100"],
    "loki_tenant": ["team a", "a|b", "..", "x" * 151],
    "loki_username": ["bot:1", "bot"],
    "loki_password_file": [MISSING + "/password", "/"],
    "loki_queue_lines": [0, -1, 1.5],
    "loki_queue_bytes": [0, 1000],
    "loki_batch_bytes": [0, 4 * 1024 * 1024],
    "loki_batch_seconds": [0, float("nan")],
    "loki_timeout_seconds": [-1.0, 0],
    "loki_retry_seconds": [0, float("inf")],
    "loki_max_line_bytes": [0, -10],
    "loki_max_age_seconds": [0, -1],
    "loki_close_seconds": [0, float("nan")],
    "loki_spool_dir": [MISSING + "/spool", "/dev/null"],
    "loki_spool_bytes": [0, -1],
    "audit_path": [MISSING + "/audit.jsonl", "/"],
    "audit_max_bytes": [0, -1],
    "audit_backups": [-1, 0.5],
}
#: Values that only code can give: of the wrong type, where a variable's text would be parsed.
WRONG_TYPE: dict[str, list[Any]] = {"service": [5], "env": [["prod"]], "metrics_port": [True], "strategies": [(7,), 7], "log_level": [20]}
ARGUMENT_ROWS = [(name, value) for table in (BAD, WRONG_TYPE) for name, values in table.items() for value in values]
VARIABLE_ROWS = [(name, ",".join(value) if isinstance(value, tuple) else str(value)) for name, values in BAD.items() for value in values]


def test_every_field_has_a_check_and_bad_values() -> None:
    """Each Config field has its check in config_checks and a row in this table, so no setting goes unchecked."""
    names = [field.name for field in dataclasses.fields(Config)]
    assert list(CHECKS) == names
    assert list(BAD) == names


@pytest.mark.parametrize(("name", "value"), ARGUMENT_ROWS, ids=[f"{name}={value!r}"[:60] for name, value in ARGUMENT_ROWS])
def test_bad_argument_names_field_value_and_argument(name: str, value: Any) -> None:
    """Monitor(<field>=bad) raises ConfigError at start-up naming the field and 'argument <field>'; Config(<field>=bad) names the Config argument."""
    with pytest.raises(ConfigError) as refused:
        Monitor(**{name: value})
    assert str(refused.value).startswith(f"{name} ")
    assert f"(argument {name})" in str(refused.value)
    with pytest.raises(ConfigError, match=rf"^{name} .*\(Config argument {name}\)"):
        Config(**{name: value})


@pytest.mark.parametrize(("name", "text"), VARIABLE_ROWS, ids=[f"{name}={text!r}"[:60] for name, text in VARIABLE_ROWS])
def test_bad_variable_names_field_value_and_variable(name: str, text: str) -> None:
    """QUANTWATCH_<FIELD>=bad raises ConfigError naming the field and the variable."""
    variable = f"QUANTWATCH_{name.upper()}"
    with pytest.raises(ConfigError) as refused:
        Config.load({variable: text})
    assert str(refused.value).startswith(f"{name} ")
    assert f"(environment variable {variable})" in str(refused.value)


def test_label_cap_from_the_environment_names_the_variable() -> None:
    """QUANTWATCH_LABEL_CAP=-5 says which variable, its value and what is wrong."""
    with pytest.raises(ConfigError) as refused:
        Config.load({"QUANTWATCH_LABEL_CAP": "-5"})
    assert str(refused.value) == "label_cap -5 (environment variable QUANTWATCH_LABEL_CAP) must be at least 1"


def test_a_pair_that_does_not_fit_names_both_sources() -> None:
    """loki_queue_bytes below loki_max_line_bytes names both settings and where each came from."""
    with pytest.raises(ConfigError) as refused:
        Config.load({"QUANTWATCH_LOKI_MAX_LINE_BYTES": "4096"}, loki_queue_bytes=1000)
    assert str(refused.value) == (
        "loki_queue_bytes 1000 (argument loki_queue_bytes) cannot hold one line of "
        "loki_max_line_bytes 4096 (environment variable QUANTWATCH_LOKI_MAX_LINE_BYTES)"
    )


def test_arguments_override_environment_over_defaults() -> None:
    """An argument beats its variable; a variable beats the default; lists split on commas; log levels take any case."""
    env = {"QUANTWATCH_ENV": "prod", "QUANTWATCH_METRICS_PORT": "9100", "QUANTWATCH_SYMBOLS": "SPY, QQQ,", "QUANTWATCH_LOG_LEVEL": "business"}
    config = Config.load(env, env="staging")
    assert (config.env, config.metrics_port, config.symbols, config.log_level) == ("staging", 9100, ("SPY", "QQQ"), "business")
    assert (config.service, config.metrics_addr) == ("trading-bot", "127.0.0.1")


def test_good_paths_are_accepted(tmp_path: Path) -> None:
    """An existing filesystem, a readable password file, a spool folder to create and an audit file in an existing folder all pass."""
    secret = tmp_path / "password"
    secret.write_text("s3cret\n")
    config = Config(
        disk_path=str(tmp_path),
        loki_username="bot",
        loki_password_file=str(secret),
        loki_spool_dir=str(tmp_path / "spool"),
        audit_path=str(tmp_path / "audit.jsonl"),
    )
    assert config.loki_spool_dir == str(tmp_path / "spool")


def test_unknown_option_is_refused() -> None:
    """A misspelt keyword option is refused by name."""
    with pytest.raises(ConfigError, match=r"unknown Monitor option\(s\): servce"):
        Monitor(servce="typo")


def test_typed_config_is_a_way_in(monkeypatch: pytest.MonkeyPatch) -> None:
    """Monitor(config=Config(...)) uses those settings and ignores QUANTWATCH_* variables; with keyword settings too it is refused."""
    monkeypatch.setenv("QUANTWATCH_SERVICE", "from-the-environment")
    mon = Monitor(config=Config(service="condor-bot", label_cap=3), logger=logging.getLogger("test.config"))
    try:
        assert (mon.config.service, mon.config.label_cap) == ("condor-bot", 3)
    finally:
        mon.close()
    with pytest.raises(ConfigError, match=r"config= or keyword settings, not both \(got config and env, label_cap\)"):
        Monitor(config=Config(), env="prod", label_cap=5)
