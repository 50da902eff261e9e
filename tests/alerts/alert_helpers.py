"""Helpers of the alerting tests: the generated files, renders of edited specs, the CLI tools."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path
from typing import Any

import yaml

from alerts.generate import ALERTMANAGER_FILE, RULES_DIR, render, write
from alerts.rules import ALERTS_FILE, RECORDING_FILE, TESTS_FILE
from alerts.spec import SPEC, Alert, load
from alerts.text import number
from testbed.binaries import binary

REPO = Path(__file__).resolve().parents[2]


def load_yaml(path: Path) -> Any:
    return yaml.safe_load(path.read_text())


def rules(root: Path = REPO) -> list[dict[str, Any]]:
    """Every recording and alerting rule of the rule files under ``root``."""
    return [rule for name in (RECORDING_FILE, ALERTS_FILE) for group in load_yaml(root / RULES_DIR / name)["groups"] for rule in group["rules"]]


def alert_rules(root: Path = REPO) -> dict[str, dict[str, Any]]:
    return {rule["alert"]: rule for rule in rules(root) if "alert" in rule}


def alertmanager_config(root: Path = REPO) -> dict[str, Any]:
    config: dict[str, Any] = load_yaml(root / ALERTMANAGER_FILE)
    return config


def edited_spec(tmp_path: Path, alert: str, key: str, old: str, new: str) -> Path:
    """A copy of the spec with ``key: old`` changed to ``key: new`` inside one alert's entry."""
    text = SPEC.read_text()
    start = text.index(f"- name: {alert}\n")
    end = text.find("\n  - name: ", start + 1)
    end = len(text) if end < 0 else end
    entry, count = re.subn(rf"(\n    {key}: ){re.escape(old)}\n", rf"\g<1>{new}\n", text[start:end])
    assert count == 1, f"{alert} has no `{key}: {old}` line"
    path = tmp_path / "spec.yaml"
    path.write_text(text[:start] + entry + text[end:])
    return path


def spec_alert(name: str) -> Alert:
    """The alert ``name`` as the committed spec defines it."""
    (alert,) = [alert for alert in load().alerts if alert.name == name]
    return alert


def threshold_edit(alert: str, factor: float) -> tuple[tuple[str, str, str, str], float]:
    """:func:`edited_spec`'s arguments that multiply ``alert``'s threshold in the spec by ``factor``, and the new threshold."""
    old = spec_alert(alert).threshold
    assert old is not None, f"{alert} has no threshold"
    return (alert, "threshold", number(old), number(old * factor)), old * factor


def render_to(out: Path, spec: Path = SPEC, profile: str = "production") -> dict[Path, str]:
    """Render ``spec`` for ``profile`` into ``out`` (templates included) and return the files."""
    files = render(spec, profile)
    write(files, out)
    return files


def promtool(*args: str | Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([str(binary("prometheus", "promtool")), *map(str, args)], capture_output=True, text=True, timeout=120, check=False)


def amtool(*args: str | Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([str(binary("alertmanager", "amtool")), *map(str, args)], capture_output=True, text=True, timeout=60, check=False)


def promtool_test_rules(root: Path) -> subprocess.CompletedProcess[str]:
    return promtool("test", "rules", root / RULES_DIR / TESTS_FILE)
