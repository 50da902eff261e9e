"""What Grafana reads besides the boards (provisioning/grafana), checked statically by ``python -m dashboards.lint``.

Grafana cannot run here (it cannot be built), so its inputs are checked against the boards and the compose
stack instead, each finding as ``FILE:LINE: [rule] problem``:

- ``datasources``: Prometheus, Loki and Alertmanager under the fixed uids the boards name; every
  data-link variable written ``$${...}`` (Grafana expands ``$VAR`` and ``${VAR}`` in provisioning
  files, so a bare ``${__value.raw}`` would arrive empty); the Prometheus ``timeInterval`` equal to
  the bot's scrape interval, so that ``$__rate_interval`` spans four scrapes.
- ``provider``: the dashboards provider reads the folder compose mounts ``dashboards/json`` at, one
  Grafana folder per directory, and the UI cannot save over the generated boards.
- ``grafana-ini``: the settings in :data:`INI_SETTINGS`; no admin password or secret key (compose
  hands them over as ``__FILE`` secrets); the home board is a generated board.
"""

from __future__ import annotations

import configparser
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from .common import REFRESH_INTERVALS

ROOT = Path(__file__).resolve().parent.parent
GRAFANA_DIR = ROOT / "provisioning" / "grafana"
BOARDS_DIR = ROOT / "dashboards" / "json"
COMPOSE_FILE = ROOT / "compose" / "compose.yaml"
PROMETHEUS_FILE = ROOT / "provisioning" / "prometheus" / "prometheus.yml"
#: uid → type of every datasource the boards, links and tests may name.
FIXED_UIDS = {"prometheus": "prometheus", "loki": "loki", "alertmanager": "alertmanager"}
#: grafana.ini values the stack relies on.
INI_SETTINGS = {
    # The boards offer a refresh down to their shortest interval; Grafana's default floor is 5 s.
    ("dashboards", "min_refresh_interval"): REFRESH_INTERVALS[0],
    ("users", "default_theme"): "dark",
    ("users", "allow_sign_up"): "false",
    ("auth.anonymous", "enabled"): "false",
    # Offline: no plugin downloads at start, no calls home.
    ("plugins", "preinstall_disabled"): "true",
    ("analytics", "reporting_enabled"): "false",
    ("analytics", "check_for_updates"): "false",
    ("analytics", "check_for_plugin_updates"): "false",
}
#: Secrets that must come from files (GF_SECURITY_*__FILE in compose), never from grafana.ini.
INI_SECRETS = (("security", "admin_password"), ("security", "secret_key"))
_UNESCAPED_LINK_VARIABLE = re.compile(r"(?<!\$)\$\{__")


@dataclass(frozen=True)
class Problem:
    """One finding: where it is and which rule it breaks."""

    path: Path
    line: int | None  # None for a finding about a query, printed as FILE: WHERE: error
    rule: str
    message: str

    def __str__(self) -> str:
        try:
            shown = self.path.relative_to(ROOT)
        except ValueError:
            shown = self.path
        if self.line is None:
            return f"{shown}: {self.message}"
        return f"{shown}:{self.line}: [{self.rule}] {self.message}"


def _line(text: str, needle: str) -> int:
    index = text.find(needle)
    return text.count("\n", 0, index) + 1 if index >= 0 else 1


def datasources(grafana_dir: Path = GRAFANA_DIR) -> dict[str, dict[str, Any]]:
    """The provisioned datasources by uid."""
    document = yaml.safe_load((grafana_dir / "datasources" / "datasources.yaml").read_text(encoding="utf-8"))
    return {str(source.get("uid")): source for source in document.get("datasources", [])}


def grafana_mounts(compose_file: Path = COMPOSE_FILE) -> dict[str, Path]:
    """Container path → repository path of every bind mount of compose's grafana service."""
    service = yaml.safe_load(compose_file.read_text(encoding="utf-8"))["services"]["grafana"]
    mounts = {}
    for volume in service.get("volumes", []):
        source, target, *_ = str(volume).split(":")
        if source.startswith("."):
            mounts[target] = (compose_file.parent / source).resolve()
    return mounts


def host_path(container_path: str, compose_file: Path = COMPOSE_FILE) -> Path | None:
    """The repository file Grafana sees at ``container_path``, or None when nothing is mounted there."""
    for target, source in grafana_mounts(compose_file).items():
        if container_path == target or container_path.startswith(target + "/"):
            return source / container_path.removeprefix(target).lstrip("/")
    return None


def _strings(node: Any) -> Iterator[str]:
    if isinstance(node, dict):
        for value in node.values():
            yield from _strings(value)
    elif isinstance(node, list):
        for value in node:
            yield from _strings(value)
    elif isinstance(node, str):
        yield node


def _bot_scrape_interval() -> str:
    config = yaml.safe_load(PROMETHEUS_FILE.read_text(encoding="utf-8"))
    return str(next(job for job in config["scrape_configs"] if job["job_name"] == "bot").get("scrape_interval"))


def _datasource_problems(grafana_dir: Path) -> Iterator[Problem]:
    path = grafana_dir / "datasources" / "datasources.yaml"
    text = path.read_text(encoding="utf-8")
    sources = datasources(grafana_dir)
    for uid, kind in FIXED_UIDS.items():
        if sources.get(uid, {}).get("type") != kind:
            yield Problem(path, _line(text, f"type: {kind}"), "datasources", f"no {kind} datasource with the fixed uid {uid!r}")
    for value in _strings(yaml.safe_load(text)):
        if _UNESCAPED_LINK_VARIABLE.search(value):
            yield Problem(path, _line(text, value[:40]), "datasources", f"write data-link variables as $${{...}}: Grafana expands ${{...}} away: {value!r}")
    interval, scrape = sources.get("prometheus", {}).get("jsonData", {}).get("timeInterval"), _bot_scrape_interval()
    if interval != scrape:
        yield Problem(path, _line(text, "timeInterval"), "datasources", f"Prometheus timeInterval {interval!r} is not the bot's scrape interval {scrape!r}")


def _provider_problems(grafana_dir: Path, boards_dir: Path) -> Iterator[Problem]:
    path = grafana_dir / "dashboards" / "dashboards.yaml"
    text = path.read_text(encoding="utf-8")
    for provider in yaml.safe_load(text).get("providers", []):
        options = provider.get("options", {})
        mounted = host_path(str(options.get("path", "")))
        if mounted is None or mounted.resolve() != boards_dir.resolve():
            yield Problem(path, _line(text, "path:"), "provider", f"path {options.get('path')!r} is not where compose mounts {boards_dir.relative_to(ROOT)}")
        if options.get("foldersFromFilesStructure") is not True:
            yield Problem(path, _line(text, "options:"), "provider", "foldersFromFilesStructure must be true: one Grafana folder per directory")
        if provider.get("allowUiUpdates") is not False:
            yield Problem(path, _line(text, "allowUiUpdates"), "provider", "allowUiUpdates must be false: the boards are generated")


def _ini_problems(grafana_dir: Path, boards_dir: Path) -> Iterator[Problem]:
    path = grafana_dir / "grafana.ini"
    text = path.read_text(encoding="utf-8")
    ini = configparser.ConfigParser(interpolation=None)
    ini.read_string(text)
    for (section, key), wanted in INI_SETTINGS.items():
        found = ini.get(section, key, fallback=None)
        if found != wanted:
            yield Problem(path, _line(text, f"[{section}]"), "grafana-ini", f"[{section}] {key} must be {wanted!r}, not {found!r}")
    for section, key in INI_SECRETS:
        if ini.has_option(section, key):
            yield Problem(path, _line(text, key), "grafana-ini", f"[{section}] {key} is a secret: compose passes it as a file (GF_SECURITY_*__FILE)")
    home = ini.get("dashboards", "default_home_dashboard_path", fallback="")
    mounted = host_path(home)
    if mounted is None or not mounted.is_file() or mounted.resolve().parent.parent != boards_dir.resolve():
        yield Problem(path, _line(text, "default_home_dashboard_path"), "grafana-ini", f"home board {home!r} is not a generated board mounted into Grafana")


def check(grafana_dir: Path = GRAFANA_DIR, boards_dir: Path = BOARDS_DIR) -> list[Problem]:
    """Every finding in Grafana's provisioning."""
    return [*_datasource_problems(grafana_dir), *_provider_problems(grafana_dir, boards_dir), *_ini_problems(grafana_dir, boards_dir)]
