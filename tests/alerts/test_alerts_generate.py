"""The generator: committed files are current, one spec edit reaches every file, profiles, errors with lines."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from alert_helpers import REPO, alert_rules, alertmanager_config, edited_spec, load_yaml, render_to, spec_alert, threshold_edit

from alerts.generate import ALERTMANAGER_FILE, ALERTS_MD, RULES_DIR, RUNBOOK_MD, THRESHOLDS_PY, main, render
from alerts.rules import ALERTS_FILE, TESTS_FILE
from alerts.spec import SPEC, load
from alerts.text import SpecError, format_value, number

ERROR_ALERT = "QuantwatchErrorRateHigh"


def changed(files: dict[Path, str]) -> set[Path]:
    """The rendered files that differ from the committed ones."""
    return {path for path, text in files.items() if (REPO / path).read_text() != text}


def test_committed_files_are_what_the_spec_renders() -> None:
    """alerts/spec.yaml rendered now gives the committed rules, tests, routes and docs byte for byte."""
    assert changed(render()) == set()


def test_one_threshold_edit_reaches_rule_tests_docs_and_the_health_score(tmp_path: Path) -> None:
    """Raising the error-rate threshold changes the rule, its promtool cases, the docs and the health score's copy; nothing else is edited."""
    alert = spec_alert(ERROR_ALERT)
    edit, new = threshold_edit(ERROR_ALERT, 1.2)
    files = render_to(tmp_path / "out", edited_spec(tmp_path, *edit))
    assert changed(files) == {RULES_DIR / ALERTS_FILE, RULES_DIR / TESTS_FILE, ALERTS_MD, RUNBOOK_MD, THRESHOLDS_PY}
    rule = alert_rules(tmp_path / "out")[ERROR_ALERT]
    assert rule["expr"] == alert.expr.removesuffix(number(alert.threshold or 0)) + number(new)
    assert f"(threshold {format_value(alert.unit, new)})" in rule["annotations"]["description"]
    cases = [t for t in load_yaml(tmp_path / "out" / RULES_DIR / TESTS_FILE)["tests"] if t["name"].startswith(f"{ERROR_ALERT}:")]
    margin = load().test_margin
    assert [c["input_series"][0]["values"].split("x")[0] for c in cases] == [f"0+{number(new * (1 + margin))}", f"0+{number(new * (1 - margin))}"]
    assert f"| {alert.op} {format_value(alert.unit, new)} |" in files[ALERTS_MD]
    assert f"ERROR_RATE_HIGH = {new!r}" in files[THRESHOLDS_PY]


def test_one_cooldown_edit_reaches_the_route_and_docs(tmp_path: Path) -> None:
    """Moving the health-score alert to the 5m cooldown class changes its route and the docs only."""
    spec = edited_spec(tmp_path, "QuantwatchHealthScoreLow", "cooldown", "1m", "5m")
    files = render_to(tmp_path / "out", spec)
    assert changed(files) == {ALERTMANAGER_FILE, ALERTS_MD, RUNBOOK_MD}
    routes = alertmanager_config(tmp_path / "out")["route"]["routes"]
    serving = [r for r in routes if "QuantwatchHealthScoreLow" in r["matchers"][0]]
    assert [(r["receiver"], r["repeat_interval"]) for r in serving] == [("slack", "5m"), ("email", "5m"), ("webhook", "5m")]


def test_test_profile_shortens_waits_but_not_windows(tmp_path: Path) -> None:
    """--profile test divides for, evaluation and Alertmanager timings by the time scale; range windows stay."""
    assert main(["--profile", "test", "--out", str(tmp_path)]) == 0
    production, test = alert_rules(), alert_rules(tmp_path)
    assert (production["QuantwatchErrorRateHigh"]["for"], test["QuantwatchErrorRateHigh"]["for"]) == ("2m", "4s")
    assert test["QuantwatchHostCpuHigh"]["for"] == "10s"
    assert test["QuantwatchWatchdog"]["for"] == "0s"
    assert all(production[name]["expr"] == rule["expr"] for name, rule in test.items())
    groups = load_yaml(tmp_path / RULES_DIR / ALERTS_FILE)["groups"]
    assert {group["interval"] for group in groups} == {"1s"}
    routes = alertmanager_config(tmp_path)["route"]["routes"]
    heartbeat = next(r for r in routes if r["receiver"] == "heartbeat")
    assert (heartbeat["group_wait"], heartbeat["group_interval"], heartbeat["repeat_interval"]) == ("1s", "1s", "2s")
    assert (tmp_path / "alertmanager" / "templates" / "quantwatch.tmpl").read_text() == (REPO / "alertmanager/templates/quantwatch.tmpl").read_text()


_ERROR_ALERT = "    target: bot\n    expr: instance:trading_errors:rate5m * 60 > [[threshold]]\n"
_ERROR_TIMING = "    for: 2m\n    cooldown: 5m\n    dashboard: qw-system-health\n    summary: The bot reports"


@pytest.mark.parametrize(
    ("old", "new", "message"),
    [
        ("    severity: warning\n" + _ERROR_ALERT, "    severity: page\n" + _ERROR_ALERT, "severity must be"),
        (_ERROR_TIMING, _ERROR_TIMING.replace("cooldown: 5m", "cooldown: 7m"), "cooldown '7m'"),
        (_ERROR_TIMING, _ERROR_TIMING.replace("for: 2m", "for: 2 minutes"), "not a duration"),
        (_ERROR_ALERT.split("\n")[1], _ERROR_ALERT.split("\n")[1].replace("[[threshold]]", "[[treshold]]"), "an alert with a threshold"),
        ("    description: 'The bot reports errors at", "    descripton: 'The bot reports errors at", "unknown key 'descripton'"),
    ],
)
def test_a_bad_spec_fails_with_file_and_line(tmp_path: Path, old: str, new: str, message: str) -> None:
    """A mistake in the spec fails loading with the spec file, the line of the mistake and what is wrong."""
    text = SPEC.read_text()
    assert text.count(old) == 1
    bad = tmp_path / "spec.yaml"
    bad.write_text(text.replace(old, new))
    with pytest.raises(SpecError, match=re.escape(message)) as caught:
        load(bad)
    edited = next(i for i, (before, after) in enumerate(zip(old.split("\n"), new.split("\n"), strict=True)) if before != after)
    line = text[: text.index(old)].count("\n") + 1 + edited
    assert str(caught.value).startswith(f"{bad}:{line}: ")


def test_generate_exits_non_zero_on_a_bad_spec(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """python -m alerts.generate prints the spec error and exits 1, writing nothing."""
    bad = tmp_path / "spec.yaml"
    bad.write_text(SPEC.read_text().replace("prefix: Quantwatch", "prefix: Quantwatch\nprefx: typo"))
    assert main(["--spec", str(bad), "--out", str(tmp_path / "out")]) == 1
    assert "unknown key 'prefx'" in capsys.readouterr().err
    assert not (tmp_path / "out").exists()


def test_every_alert_renders_three_boundary_checks_and_a_quiet_case() -> None:
    """Each alert with a threshold has a firing case (pending, firing at for, still firing) and a quiet case."""
    tests = load_yaml(REPO / RULES_DIR / TESTS_FILE)["tests"]
    for alert in load().alerts:
        cases = [t for t in tests if t["name"].startswith(alert.name + ":")]
        firing = cases[0]["alert_rule_test"]
        assert firing[-2]["exp_alerts"], alert.name
        assert firing[-1]["exp_alerts"], alert.name
        assert "runbook_url" in firing[-2]["exp_alerts"][0]["exp_annotations"]
        if alert.for_seconds or alert.test.shape != "gauge":
            assert firing[0]["exp_alerts"] == [], alert.name
        if alert.name != "QuantwatchWatchdog":
            assert len(cases) == 2, alert.name
            assert all(check["exp_alerts"] == [] for check in cases[1]["alert_rule_test"]), alert.name
