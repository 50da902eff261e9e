"""The settings of the Kubernetes tree (deploy/settings.yaml), read strictly into typed objects.

Every key is required and no other is accepted, so a typo fails the rendering instead of leaving a
default in place; errors name the file and the key.
"""

from __future__ import annotations

import dataclasses
import typing
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

import yaml

SETTINGS = Path(__file__).with_name("settings.yaml")
T = TypeVar("T")


class SettingsError(ValueError):
    """A settings file that cannot be used, named with the key at fault."""


@dataclass(frozen=True)
class Grafana:
    folder_annotation: str
    prometheus_uid: str
    loki_uid: str

    @property
    def uids(self) -> dict[str, str]:
        """Datasource type to the cluster Grafana's uid for it."""
        return {"prometheus": self.prometheus_uid, "loki": self.loki_uid}


@dataclass(frozen=True)
class Bot:
    app: str
    image: str
    env: str
    loki_url: str
    data_size: str


@dataclass(frozen=True)
class Settings:
    namespace: str
    name: str
    selector_labels: dict[str, str]
    #: Target name of the spec to the scrape job it has in the cluster.
    jobs: dict[str, str]
    secret: str
    grafana: Grafana
    bot: Bot


def _read(cls: type[T], data: Any, where: str) -> T:
    """``data`` as a ``cls``: exactly its fields, each a string, a mapping of strings, or a nested section."""
    if not isinstance(data, dict):
        raise SettingsError(f"{where}: must be a mapping")
    hints = typing.get_type_hints(cls)
    names = [field.name for field in dataclasses.fields(cls)]  # type: ignore[arg-type]
    if unknown := sorted(set(data) - set(names)):
        raise SettingsError(f"{where}: unknown key {unknown[0]!r} (known: {', '.join(names)})")
    if missing := [name for name in names if name not in data]:
        raise SettingsError(f"{where}: {missing[0]!r} is required")
    values: dict[str, Any] = {}
    for name in names:
        kind, value, at = hints[name], data[name], f"{where}: {name}"
        if isinstance(kind, type) and dataclasses.is_dataclass(kind):
            values[name] = _read(kind, value, at)
        elif kind is str:
            if not isinstance(value, str) or not value:
                raise SettingsError(f"{at}: must be a non-empty string")
            values[name] = value
        else:
            if not isinstance(value, dict) or not all(isinstance(k, str) and isinstance(v, str) for k, v in value.items()):
                raise SettingsError(f"{at}: must be a mapping of strings to strings")
            values[name] = dict(value)
    return cls(**values)


def load(path: Path = SETTINGS) -> Settings:
    """The settings in ``path``, checked."""
    return _read(Settings, yaml.safe_load(path.read_text(encoding="utf-8")), "deploy/settings.yaml" if path == SETTINGS else str(path))
