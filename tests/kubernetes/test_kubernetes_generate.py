"""The Kubernetes tree: committed as rendered, the same rules and routes as the compose stack's, settings and spec edits reach it."""

from __future__ import annotations

import datetime as dt
import json
import re
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
import yaml

from alerts.generate import ALERTMANAGER_FILE, REPO, RULES_DIR, TEMPLATES_DIR
from alerts.rules import ALERTS_FILE, RECORDING_FILE
from alerts.spec import SPEC, load
from dashboards.generate import BOARDS
from deploy import market_hours
from deploy.generate import main
from deploy.operator import alertmanager_yml, matcher_text
from deploy.render import (
    ALERTMANAGER_CONFIG,
    BOT_DEPLOYMENT,
    DASHBOARDS_DIR,
    DATA_DIR,
    ENV_LABEL,
    KUSTOMIZATION,
    POD_MONITOR,
    PROMETHEUS_FILE,
    PROMETHEUS_RULE,
    SECRET_FIELDS,
    STACK_VALUES,
    TREE,
    render,
)
from deploy.settings import SETTINGS, SettingsError
from deploy.settings import load as load_settings
from quantwatch.config import Config

SETTINGS_DATA = yaml.safe_load(SETTINGS.read_text())


def document(files: dict[Path, str], path: Path) -> Any:
    return yaml.safe_load(files[path])


def committed(path: Path) -> Any:
    return yaml.safe_load((REPO / path).read_text())


def settings_file(tmp_path: Path, **changes: Any) -> Path:
    """A copy of deploy/settings.yaml with top-level keys (or ``grafana``/``bot`` sections, merged) changed."""
    data = json.loads(json.dumps(SETTINGS_DATA))
    for key, value in changes.items():
        data[key] = data[key] | value if isinstance(value, dict) and key in ("grafana", "bot") else value
    path = tmp_path / "settings.yaml"
    path.write_text(yaml.safe_dump(data))
    return path


def alert_rules(groups: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [rule for group in groups for rule in group["rules"] if "alert" in rule]


def test_committed_tree_is_what_the_sources_render() -> None:
    """The spec, the boards' JSON and deploy/settings.yaml rendered now give deploy/kubernetes/ byte for byte, and nothing else lies there."""
    files = render()
    assert {path: (REPO / path).read_text() for path in files} == files
    assert {p.relative_to(REPO) for p in (REPO / TREE).rglob("*") if p.is_file()} == set(files)


def test_rule_groups_are_the_rules_files_groups() -> None:
    """The PrometheusRule holds the rules files' groups rule for rule; only the stack's own jobs and each alert's namespace label differ."""
    settings, spec = load_settings(), load()
    groups = committed(PROMETHEUS_RULE)["spec"]["groups"]
    for rule in alert_rules(groups):
        assert rule["labels"].pop("namespace") == settings.namespace
    text = json.dumps(groups)
    for target, job in settings.jobs.items():
        assert f'job=\\"{job}\\"' in text
        text = text.replace(f'job=\\"{job}\\"', f'job=\\"{spec.targets[target].job}\\"')
    files = [group for name in (RECORDING_FILE, ALERTS_FILE) for group in committed(RULES_DIR / name)["groups"]]
    assert json.loads(text) == files


def _named(route: dict[str, Any], prefix: str) -> dict[str, Any]:
    """An alertmanager.yml route with its receiver and time intervals named as the operator names the resource's."""
    out = route | {"receiver": prefix + route["receiver"]}
    for key in ("active_time_intervals", "mute_time_intervals"):
        if key in route:
            out[key] = [prefix + name for name in route[key]]
    if "routes" in route:
        out["routes"] = [_named(child, prefix) for child in route["routes"]]
    return out


def _inlined(receiver: dict[str, Any], prefix: str, secret: str) -> dict[str, Any]:
    """An alertmanager.yml receiver named as the operator names it, each ``*_file`` replaced by the value read from the Secret key of that name."""

    def integration(config: dict[str, Any]) -> dict[str, Any]:
        out = {k: v for k, v in config.items() if not k.endswith("_file")}
        return out | {k.removesuffix("_file"): f"https://secret.invalid/{secret}/{Path(v).name}" for k, v in config.items() if k.endswith("_file")}

    return {"name": prefix + receiver["name"]} | {kind: [integration(c) for c in configs] for kind, configs in receiver.items() if kind != "name"}


def test_the_operator_generates_alertmanager_yml_routes_receivers_and_inhibitions() -> None:
    """The operator makes of the AlertmanagerConfig alertmanager.yml's routing under a namespace matcher, names prefixed, secrets read."""
    settings = load_settings()
    original = committed(ALERTMANAGER_FILE)
    config = alertmanager_yml(committed(ALERTMANAGER_CONFIG), [])
    prefix = f"{settings.namespace}/{settings.name}/"
    own = matcher_text({"name": "namespace", "matchType": "=", "value": settings.namespace})
    top = _named(original["route"], prefix) | {"matchers": [own], "continue": True}
    assert config["route"]["routes"][0] == top
    assert config["receivers"][1:] == [_inlined(r, prefix, settings.secret) for r in original["receivers"]]
    inhibit = [{k: v for k, v in rule.items() if k != "name"} for rule in original["inhibit_rules"]]
    for rule in inhibit:
        rule["source_matchers"] = [*rule["source_matchers"], own]
        rule["target_matchers"] = [*rule["target_matchers"], own]
    assert config["inhibit_rules"][-len(inhibit) :] == inhibit
    assert [i["name"] for i in config["mute_time_intervals"]] == [prefix + i["name"] for i in original["time_intervals"]]


def test_secrets_are_secret_key_references_named_after_the_spec_files() -> None:
    """Every credential is a key of the one Secret named in the settings, the key named as the spec's secret file; none is inlined."""
    receivers = committed(ALERTMANAGER_CONFIG)["spec"]["receivers"]
    assert "/run/secrets" not in (REPO / ALERTMANAGER_CONFIG).read_text()
    assert "://" not in json.dumps(receivers), "a URL (webhook, Slack) is inlined"
    references = [
        value
        for receiver in receivers
        for key, items in receiver.items()
        if key != "name"
        for item in items
        for field, value in item.items()
        if field in SECRET_FIELDS.values()
    ]
    files = re.findall(r"_file: /run/secrets/(\w+)", SPEC.read_text())
    assert sorted(ref["key"] for ref in references) == sorted(files)
    assert {ref["name"] for ref in references} == {SETTINGS_DATA["secret"]}


_WEEKDAYS = ["monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday"]
_MONTHS = ["january", "february", "march", "april", "may", "june", "july", "august", "september", "october", "november", "december"]


def _ranged(values: list[str], names: list[str], actual: str) -> bool:
    """Whether ``actual`` lies in one of the inclusive ranges ``first:last`` (or single names) of ``values``."""
    for value in values:
        first, _, last = value.partition(":")
        if names.index(first) <= names.index(actual) <= names.index(last or first):
            return True
    return False


def _on(interval: dict[str, Any], day: dt.date) -> bool:
    """Whether a v1alpha1 TimeInterval's date fields hold on the UTC date ``day``."""
    return all(
        [
            "weekdays" not in interval or _ranged(interval["weekdays"], _WEEKDAYS, _WEEKDAYS[day.weekday()]),
            "months" not in interval or _ranged(interval["months"], _MONTHS, _MONTHS[day.month - 1]),
            "daysOfMonth" not in interval or any(d["start"] <= day.day <= d["end"] for d in interval["daysOfMonth"]),
            "years" not in interval or str(day.year) in interval["years"],
        ]
    )


def _at(interval: dict[str, Any], clock: str) -> bool:
    """Whether the UTC clock time HH:MM is in the interval's times (start inclusive, end exclusive)."""
    return "times" not in interval or any(t["startTime"] <= clock < t["endTime"] for t in interval["times"])


def test_utc_market_hours_notify_exactly_in_the_exchange_session() -> None:
    """Every half hour of the covered years, the UTC intervals let a market-hours alert through exactly when the spec's session is open in New York."""
    hours = load().market_hours
    zone = ZoneInfo(hours.timezone)
    session, closed = market_hours.session(hours), market_hours.closed(hours)
    years = market_hours.years(hours)
    assert years == sorted({d.year for d in hours.holidays})
    day, opened = dt.date(years[0], 1, 1), 0
    while day.year <= years[-1]:
        open_today, closed_today = [i for i in session if _on(i, day)], [i for i in closed if _on(i, day)]
        for slot in range(48):  # every boundary of the spec (09:30, 16:00, 13:00) is a half hour
            when = dt.datetime.combine(day, dt.time(slot // 2, 30 * (slot % 2)), dt.UTC)
            local, clock = when.astimezone(zone), when.strftime("%H:%M")
            expected = (
                local.weekday() < 5
                and hours.start <= local.strftime("%H:%M") < hours.end
                and local.date() not in hours.holidays
                and not (local.date() in hours.early_closes and local.strftime("%H:%M") >= hours.early_closes[local.date()])
            )
            notified = any(_at(i, clock) for i in open_today) and not any(_at(i, clock) for i in closed_today)
            assert notified == expected, f"{when} UTC ({local} in {hours.timezone})"
            opened += expected
        day += dt.timedelta(days=1)
    assert opened > 0
    assert not any(_on(i, dt.date(years[-1] + 1, 3, 2)) for i in session), "no session outside the covered years"


def test_one_spec_edit_reaches_the_rule_and_the_route(tmp_path: Path) -> None:
    """A threshold edit changes only the PrometheusRule's expression; a cooldown edit only the AlertmanagerConfig's repeat interval."""
    text = SPEC.read_text()
    threshold = text.replace("    threshold: 10\n    unit: per_minute\n", "    threshold: 12\n    unit: per_minute\n", 1)
    cooldown = re.sub(r"(- name: QuantwatchHealthScoreLow\n(?:    .*\n)*?    cooldown: )1m", r"\g<1>5m", text, count=1)
    base = render()
    for name, edited, path in (("threshold", threshold, PROMETHEUS_RULE), ("cooldown", cooldown, ALERTMANAGER_CONFIG)):
        assert edited != text, name
        spec = tmp_path / f"{name}.yaml"
        spec.write_text(edited)
        files = render(spec_path=spec)
        assert {p for p in files if files[p] != base[p]} == {path}, name
    groups = document(render(spec_path=tmp_path / "threshold.yaml"), PROMETHEUS_RULE)["spec"]["groups"]
    rule = next(r for r in alert_rules(groups) if r["alert"] == "QuantwatchErrorRateHigh")
    assert rule["expr"].endswith("> 12")
    routes = document(render(spec_path=tmp_path / "cooldown.yaml"), ALERTMANAGER_CONFIG)["spec"]["route"]["routes"]
    assert {r["repeatInterval"] for r in routes if "QuantwatchHealthScoreLow" in r["matchers"][0]["value"]} == {"5m"}


def test_settings_reach_every_resource(tmp_path: Path) -> None:
    """Another namespace, selector labels, stack jobs and datasource uids land in every resource, rule label and board."""
    path = settings_file(
        tmp_path,
        namespace="risk-desk",
        selector_labels={"release": "prom"},
        jobs={"prometheus": "prom-kube-prometheus-prometheus", "alertmanager": "prom-kube-prometheus-alertmanager"},
        grafana={"loki_uid": "cluster-loki"},
    )
    files = render(path)
    docs = {p: document(files, p) for p in files if p not in (STACK_VALUES, KUSTOMIZATION)}
    assert {d["metadata"]["namespace"] for d in docs.values()} == {"risk-desk"}
    for p in (PROMETHEUS_RULE, ALERTMANAGER_CONFIG, POD_MONITOR):
        assert docs[p]["metadata"]["labels"]["release"] == "prom"
    rules = alert_rules(docs[PROMETHEUS_RULE]["spec"]["groups"])
    assert {r["labels"]["namespace"] for r in rules} == {"risk-desk"}
    assert any('job="prom-kube-prometheus-prometheus"' in r["expr"] for r in rules)
    uids: dict[str, set[str]] = {}
    for p in files:
        if p.parent == DASHBOARDS_DIR:
            for text in docs[p]["data"].values():
                for kind, uid in re.findall(r'"type": "(\w+)",\s*"uid": "([^"]+)"', text):
                    uids.setdefault(kind, set()).add(uid)
    assert uids["loki"] == {"cluster-loki"}
    assert uids["prometheus"] == {"prometheus"}
    assert document(files, STACK_VALUES)["grafana"]["additionalDataSources"][0]["uid"] == "cluster-loki"


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"namespce": "x"}, "deploy/settings.yaml: unknown key 'namespce'"),
        ({"bot": {"image": ""}}, "bot: image: must be a non-empty string"),
        ({"selector_labels": ["release"]}, "selector_labels: must be a mapping of strings to strings"),
    ],
)
def test_a_bad_settings_file_is_refused_naming_the_key(tmp_path: Path, changes: dict[str, Any], message: str, capsys: pytest.CaptureFixture[str]) -> None:
    """A typo, an empty value or a wrong type fails the rendering with the key at fault, and nothing is written."""
    path = settings_file(tmp_path, **changes)
    with pytest.raises(SettingsError) as raised:
        load_settings(path)
    assert message.removeprefix("deploy/settings.yaml: ") in str(raised.value)
    assert main(["--settings", str(path), "--out", str(tmp_path / "out")]) == 1
    assert "error: " in capsys.readouterr().err
    assert not (tmp_path / "out").exists()


def test_jobs_for_an_unknown_target_are_refused(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """Renaming the job of a target the spec does not have fails at the spec's targets line."""
    path = settings_file(tmp_path, jobs={"grafana": "kube-prometheus-stack-grafana"})
    assert main(["--settings", str(path), "--out", str(tmp_path / "out")]) == 1
    assert "alerts/spec.yaml:" in capsys.readouterr().err


def test_dashboards_are_sidecar_configmaps_in_their_folders() -> None:
    """One ConfigMap per board, labelled grafana_dashboard "1", annotated with the board's folder, holding the committed board."""
    annotation = SETTINGS_DATA["grafana"]["folder_annotation"]
    for board in BOARDS:
        configmap = committed(DASHBOARDS_DIR / f"{board.UID}.yaml")
        assert configmap["metadata"]["labels"]["grafana_dashboard"] == "1"
        assert configmap["metadata"]["annotations"] == {annotation: board.FOLDER}
        [(name, text)] = configmap["data"].items()
        assert name == f"{board.UID}.json"
        assert json.loads(text) == json.loads((REPO / "dashboards" / "json" / board.FOLDER / name).read_text())


def test_kustomization_lists_the_resources_and_leaves_out_the_bot_and_the_values() -> None:
    """`kubectl apply -k deploy/kubernetes` applies every resource of the tree, not the bot's Deployment nor the stack's values."""
    listed = {TREE / name for name in committed(KUSTOMIZATION)["resources"]}
    present = {p.relative_to(REPO) for p in (REPO / TREE).rglob("*.yaml")}
    assert listed == present - {KUSTOMIZATION, BOT_DEPLOYMENT, STACK_VALUES}


def test_the_bot_deployment_configures_a_bot_that_starts(tmp_path: Path) -> None:
    """Its QUANTWATCH_* variables are Config fields a bot accepts, its env comes from the pod label the PodMonitor relabels, its port is scraped."""
    deployment, monitor = committed(BOT_DEPLOYMENT), committed(POD_MONITOR)
    pod = deployment["spec"]["template"]
    [container] = pod["spec"]["containers"]
    environ = {}
    for var in container["env"]:
        value = var.get("value") or pod["metadata"]["labels"][re.search(r"labels\['(.+)'\]", var["valueFrom"]["fieldRef"]["fieldPath"])[1]]  # type: ignore[index]
        environ[var["name"]] = value.replace(DATA_DIR, str(tmp_path))
    config = Config.load(environ)
    assert (config.env, config.metrics_addr, config.loki_spool_dir) == (SETTINGS_DATA["bot"]["env"], "0.0.0.0", f"{tmp_path}/spool")
    [endpoint] = monitor["spec"]["podMetricsEndpoints"]
    assert endpoint["port"] in {p["name"] for p in container["ports"]}
    assert monitor["spec"]["selector"]["matchLabels"].items() <= pod["metadata"]["labels"].items()
    assert ENV_LABEL in pod["metadata"]["labels"]
    assert {v["name"] for v in pod["spec"]["volumes"]} == {m["name"] for m in container["volumeMounts"]}


def test_pod_monitor_scrapes_as_the_spec_bot_job_at_the_stack_interval() -> None:
    """The bot's series get the job the rules select and are scraped as often as in the compose stack."""
    [endpoint] = committed(POD_MONITOR)["spec"]["podMetricsEndpoints"]
    job = next(j for j in committed(PROMETHEUS_FILE)["scrape_configs"] if j["job_name"] == load().targets["bot"].job)
    assert (endpoint["interval"], endpoint["scrapeTimeout"]) == (job["scrape_interval"], job["scrape_timeout"])
    relabel = {r["targetLabel"]: r for r in endpoint["relabelings"]}
    assert relabel["job"]["replacement"] == load().targets["bot"].job
    assert relabel["env"]["sourceLabels"] == ["__meta_kubernetes_pod_label_" + re.sub(r"\W", "_", ENV_LABEL)]


def test_stack_values_carry_the_templates_and_the_loki_datasource() -> None:
    """The values give the stack's Alertmanager the notification templates the receivers name, and Grafana the sidecar folders and Loki."""
    values = committed(STACK_VALUES)
    assert values["alertmanager"]["templateFiles"] == {p.name: p.read_text() for p in (REPO / TEMPLATES_DIR).glob("*.tmpl")}
    assert values["grafana"]["sidecar"]["dashboards"]["folderAnnotation"] == SETTINGS_DATA["grafana"]["folder_annotation"]
    [loki] = values["grafana"]["additionalDataSources"]
    assert (loki["type"], loki["uid"], loki["url"]) == ("loki", SETTINGS_DATA["grafana"]["loki_uid"], SETTINGS_DATA["bot"]["loki_url"])


def test_every_kind_of_the_tree_has_a_committed_schema() -> None:
    """kubeconform finds a schema for each kind under the name it derives (kind, group, version), so no resource goes unvalidated."""
    files = [p for p in render() if p not in (KUSTOMIZATION, STACK_VALUES)]
    for path in files:
        doc = committed(path)
        group, _, version = doc["apiVersion"].rpartition("/")
        suffix = f"-{group.split('.')[0]}-{version}" if group else f"-{version}"
        assert (REPO / "deploy" / "schemas" / f"{doc['kind'].lower()}{suffix}.json").is_file(), path
