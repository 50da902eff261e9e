"""Settings come from arguments, then QUANTWATCH_* variables, then defaults; bad ones fail at start."""

from __future__ import annotations

import pytest

from quantwatch import Config, ConfigError


def test_arguments_override_environment_over_defaults() -> None:
    """An argument beats its variable; a variable beats the default; lists split on commas."""
    env = {"QUANTWATCH_ENV": "prod", "QUANTWATCH_METRICS_PORT": "9100", "QUANTWATCH_SYMBOLS": "SPY, QQQ,"}
    config = Config.load(env, env="staging")
    assert (config.env, config.metrics_port, config.symbols) == ("staging", 9100, ("SPY", "QQQ"))
    assert (config.service, config.metrics_addr) == ("trading-bot", "127.0.0.1")


@pytest.mark.parametrize(
    ("env", "overrides", "message"),
    [
        ({"QUANTWATCH_METRICS_PORT": "http"}, {}, "QUANTWATCH_METRICS_PORT: cannot use 'http' as int"),
        ({}, {"metrics_port": 70000}, "not a TCP port"),
        ({}, {"label_cap": 0}, "label_cap must be at least 1"),
        ({"QUANTWATCH_STALE_AFTER_SECONDS": "-1"}, {}, "must be positive"),
        ({}, {"metrics_port": 8000.5}, "argument metrics_port: cannot use 8000.5 as int"),
        ({}, {"servce": "typo"}, "unknown Monitor option(s): servce"),
        ({"QUANTWATCH_SERVICE": ""}, {}, "must not be empty"),
    ],
)
def test_bad_setting_names_its_source(env: dict[str, str], overrides: dict[str, object], message: str) -> None:
    """A bad value raises ConfigError saying which argument or variable it came from."""
    with pytest.raises(ConfigError, match=message.replace("(", r"\(").replace(")", r"\)")):
        Config.load(env, **overrides)
