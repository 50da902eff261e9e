"""The Alertmanager configuration the Prometheus Operator generates from an AlertmanagerConfig, for amtool.

Mirrors the operator's ConfigBuilder (pkg/alertmanager/amcfg.go of v0.85.0, AddAlertmanagerConfigs
and the convert* functions) for the fields the tree uses, under the default matcher strategy
(OnNamespace) and kube-prometheus-stack's default base configuration (:data:`STACK_CONFIG`):

- the resource's route becomes the first child of the base's root route, with the matcher
  ``namespace="NS"`` added and ``continue: true`` forced, so other resources' routes still see the alert;
- receivers and time intervals are named ``NS/NAME/<name>``, and every reference to them likewise;
- inhibit rules get the namespace matcher on both sides;
- time intervals go to ``mute_time_intervals``;
- Secret keys are read and their values inlined: here a placeholder URL naming the Secret and key
  (the operator rejects a Secret value that is not a URL where a URL is expected, so it must be one).
"""

from __future__ import annotations

from typing import Any

from .render import SECRET_FIELDS, snake

#: kube-prometheus-stack's default ``alertmanager.config`` (chart 88.5.3, operator v0.93.1); its
#: ``templates`` entry, which loads ``alertmanager.templateFiles``, is given by the caller.
STACK_CONFIG: dict[str, Any] = {
    "global": {"resolve_timeout": "5m"},
    "inhibit_rules": [
        {"source_matchers": ["severity = critical"], "target_matchers": ["severity =~ warning|info"], "equal": ["namespace", "alertname"]},
        {"source_matchers": ["severity = warning"], "target_matchers": ["severity = info"], "equal": ["namespace", "alertname"]},
        {"source_matchers": ["alertname = InfoInhibitor"], "target_matchers": ["severity = info"], "equal": ["namespace"]},
        {"target_matchers": ["alertname = InfoInhibitor"]},
    ],
    "route": {
        "group_by": ["namespace"],
        "group_wait": "30s",
        "group_interval": "5m",
        "repeat_interval": "12h",
        "receiver": "null",
        "routes": [{"receiver": "null", "matchers": ['alertname = "Watchdog"']}],
    },
    "receivers": [{"name": "null"}],
}
_SECRETS = {field: name for name, field in SECRET_FIELDS.items()}


def matcher_text(matcher: dict[str, str]) -> str:
    """A v1alpha1 Matcher as the operator writes it (Matcher.String: name, type, quoted and escaped value)."""
    value = matcher["value"].replace("\\", "\\\\").replace("\n", "\\n").replace('"', '\\"')
    return f'{matcher["name"]}{matcher.get("matchType", "=")}"{value}"'


class _Resource:
    """One AlertmanagerConfig as the operator converts it."""

    def __init__(self, resource: dict[str, Any]) -> None:
        self.namespace, self.name = resource["metadata"]["namespace"], resource["metadata"]["name"]
        self.spec = resource["spec"]
        self.namespace_matcher = matcher_text({"name": "namespace", "matchType": "=", "value": self.namespace})

    def named(self, name: str) -> str:
        """makeNamespacedString: NS/NAME/name."""
        return f"{self.namespace}/{self.name}/{name}"

    def route(self, route: dict[str, Any]) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for key, value in route.items():
            if key == "receiver":
                out[key] = self.named(value)
            elif key == "matchers":
                out[key] = [matcher_text(m) for m in value]
            elif key in ("muteTimeIntervals", "activeTimeIntervals"):
                out[snake(key)] = [self.named(name) for name in value]
            elif key == "routes":
                out[key] = [self.route(child) for child in value]
            else:
                out[snake(key)] = value
        return out

    def integration(self, config: dict[str, Any]) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for key, value in config.items():
            if key in _SECRETS:
                out[_SECRETS[key]] = f"https://secret.invalid/{value['name']}/{value['key']}"
            elif key == "headers":
                out[key] = {item["key"]: item["value"] for item in value}
            else:
                out[snake(key)] = value
        return out

    def receiver(self, receiver: dict[str, Any]) -> dict[str, Any]:
        configs = {snake(kind): [self.integration(item) for item in items] for kind, items in receiver.items() if kind != "name"}
        return {"name": self.named(receiver["name"])} | configs

    def inhibit_rule(self, rule: dict[str, Any]) -> dict[str, Any]:
        out: dict[str, Any] = {snake(key): [matcher_text(m) for m in value] if key.endswith("Match") else value for key, value in rule.items()}
        for side in ("source_matchers", "target_matchers"):
            out[side] = [*out.get(side, []), self.namespace_matcher]
        return out

    def time_interval(self, interval: dict[str, Any]) -> dict[str, Any]:
        def when(item: dict[str, Any]) -> dict[str, Any]:
            out: dict[str, Any] = {}
            for key, value in item.items():
                if key == "times":
                    out[key] = [{"start_time": t["startTime"], "end_time": t["endTime"]} for t in value]
                elif key == "daysOfMonth":
                    out["days_of_month"] = [str(d["start"]) if d["start"] == d["end"] else f"{d['start']}:{d['end']}" for d in value]
                else:
                    out[key] = value
            return out

        return {"name": self.named(interval["name"]), "time_intervals": [when(item) for item in interval["timeIntervals"]]}

    def top_route(self) -> dict[str, Any]:
        route = self.route(self.spec["route"])
        route["matchers"] = [*route.get("matchers", []), self.namespace_matcher]
        route["continue"] = True
        return route


def alertmanager_yml(resource: dict[str, Any], templates: list[str]) -> dict[str, Any]:
    """The configuration the operator generates for the stack's Alertmanager once ``resource`` is selected."""
    config = _Resource(resource)
    base = STACK_CONFIG["route"]
    return STACK_CONFIG | {
        "route": base | {"routes": [config.top_route(), *base["routes"]]},
        "receivers": [*STACK_CONFIG["receivers"], *(config.receiver(r) for r in config.spec.get("receivers", []))],
        "inhibit_rules": [*STACK_CONFIG["inhibit_rules"], *(config.inhibit_rule(r) for r in config.spec.get("inhibitRules", []))],
        "mute_time_intervals": [config.time_interval(i) for i in config.spec.get("muteTimeIntervals", [])],
        "templates": templates,
    }
