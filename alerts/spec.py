"""The alert spec (alerts/spec.yaml) read into checked, typed objects for one profile.

Every problem is a :class:`~alerts.text.SpecError` naming ``alerts/spec.yaml:LINE``, so a bad edit
fails ``make generate`` / ``make check`` where it was made. Loading for a profile applies its
time scale once, so every renderer sees the same durations.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Mapping
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import yaml

from .text import UNITS, SpecError, fill, format_duration, format_value, go_value, parse_duration

SPEC = Path(__file__).with_name("spec.yaml")
SEVERITIES = ("warning", "critical")
SHAPES = ("gauge", "ratio", "rate", "histogram")
_NAME = re.compile(r"[A-Z][a-zA-Z0-9]*")
_RECORD = re.compile(r"[a-z_]+:[a-z0-9_]+:[a-z0-9_]+")
_THRESHOLD_OP = re.compile(r"(==|!=|>=|<=|>|<)\s*\[\[\s*threshold\s*\]\]")
_RANGE = re.compile(r"\[((?:\d+[hms])+)\]")
_MISSING = object()


@dataclass(frozen=True)
class Target:
    """A scrape job the rules select; ``instance`` only names the unit tests' input series."""

    name: str
    job: str
    instance: str

    @property
    def selector(self) -> str:
        return f'job="{self.job}"'


@dataclass(frozen=True)
class Cooldown:
    """Alertmanager timings of one cooldown class, in seconds; the repeat interval is the cooldown."""

    name: str
    group_wait: int
    group_interval: int
    repeat_interval: int


@dataclass(frozen=True)
class Runbook:
    meaning: str
    check: str
    act: str


@dataclass(frozen=True)
class AlertTest:
    """How the promtool tests feed an alert: see the comment above ``alerts:`` in the spec."""

    shape: str
    series: dict[str, str] | str
    #: Range window of a ``rate`` shape; quantile of a ``histogram`` shape.
    window: int
    quantile: float
    #: Test points (None: the threshold moved by the margin); ``_`` means no sample at all.
    firing: float | str | None
    quiet: float | str | None
    labels: dict[str, str]


@dataclass(frozen=True)
class Alert:
    """One alert, with its placeholders filled: ``expr`` is PromQL, texts are Go templates."""

    name: str
    kind: str
    severity: str
    target: Target | None
    expr: str
    op: str
    threshold: float | None
    unit: str
    for_seconds: int
    cooldown: Cooldown
    channels: tuple[str, ...]
    market_hours_only: bool
    dashboard: str
    summary: str
    description: str
    runbook: Runbook
    test: AlertTest
    line: int

    @property
    def threshold_text(self) -> str:
        return "" if self.threshold is None else format_value(self.unit, self.threshold)


@dataclass(frozen=True)
class RecordingRule:
    record: str
    help: str
    expr: str


@dataclass(frozen=True)
class MarketHours:
    timezone: str
    weekdays: str
    start: str
    end: str
    holidays: dict[dt.date, str]
    early_closes: dict[dt.date, str]


@dataclass(frozen=True)
class Spec:
    """The whole spec as rendered for one profile."""

    profile: str
    time_scale: int
    prefix: str
    grafana_url: str
    runbook_url: str
    targets: dict[str, Target]
    evaluation_interval: int
    test_interval: int
    test_margin: float
    receivers: dict[str, Any]
    cooldowns: dict[str, Cooldown]
    default_receiver: str
    default_cooldown: Cooldown
    group_by: tuple[str, ...]
    same_kind_equal: tuple[str, ...]
    bot_down: tuple[str, ...]
    bot_down_equal: tuple[str, ...]
    market_hours: MarketHours
    recording_rules: tuple[RecordingRule, ...]
    alerts: tuple[Alert, ...]
    #: Range windows are divided by this (profile ``e2e``); 1 keeps the spec's own.
    window_scale: int = 1

    def runbook_anchor(self, alert: Alert) -> str:
        """The runbook section of ``alert``: GitHub's anchor of a ``## Name`` heading."""
        return f"{self.runbook_url}#{alert.name.lower()}"

    def dashboard_url(self, alert: Alert) -> str:
        return f"{self.grafana_url}/d/{alert.dashboard}"


class _Node:
    """A mapping of the spec at ``path``: typed reads, unknown keys refused, errors with the line."""

    def __init__(self, doc: _Doc, data: Any, path: tuple[str, ...]) -> None:
        if not isinstance(data, dict):
            raise doc.error(path, "must be a mapping")
        self.doc, self.data, self.path = doc, data, path

    def error(self, key: str | None, message: str) -> SpecError:
        return self.doc.error((*self.path, key) if key else self.path, message)

    def only(self, *keys: str) -> None:
        for key in self.data:
            if key not in keys:
                raise self.error(str(key), f"unknown key {key!r} (known: {', '.join(keys)})")

    def get(self, key: str, kind: type | tuple[type, ...], default: Any = _MISSING) -> Any:
        if key not in self.data:
            if default is _MISSING:
                raise self.error(None, f"{key!r} is required")
            return default
        value = self.data[key]
        if not isinstance(value, kind) or (isinstance(value, bool) and kind is not bool):
            raise self.error(key, f"{key!r} has the wrong type ({type(value).__name__})")
        return value

    def child(self, key: str) -> _Node:
        return _Node(self.doc, self.get(key, dict), (*self.path, key))

    def duration(self, key: str, default: Any = _MISSING) -> int:
        try:
            return parse_duration(str(self.get(key, str, default)))
        except SpecError as exc:
            raise self.error(key, str(exc)) from None


class _Doc:
    """The YAML text with the line of every key, for error messages."""

    def __init__(self, path: Path) -> None:
        self.name = f"alerts/{path.name}" if path == SPEC else str(path)
        text = path.read_text()
        try:
            self.data = yaml.safe_load(text)
            root = yaml.compose(text, Loader=yaml.SafeLoader)
            if root is None:
                raise SpecError(f"{self.name}: the spec is empty")
        except yaml.MarkedYAMLError as exc:
            line = exc.problem_mark.line + 1 if exc.problem_mark else 0
            raise SpecError(f"{self.name}:{line}: {exc.problem}") from None
        self.lines: dict[tuple[str, ...], int] = {}
        self._walk(root, ())

    def _walk(self, node: yaml.Node, path: tuple[str, ...]) -> None:
        self.lines.setdefault(path, node.start_mark.line + 1)
        if isinstance(node, yaml.MappingNode):
            for key, value in node.value:
                self.lines[(*path, str(key.value))] = key.start_mark.line + 1
                self._walk(value, (*path, str(key.value)))
        elif isinstance(node, yaml.SequenceNode):
            for index, item in enumerate(node.value):
                self._walk(item, (*path, str(index)))

    def error(self, path: tuple[str, ...], message: str) -> SpecError:
        for end in range(len(path), -1, -1):
            if path[:end] in self.lines:
                return SpecError(f"{self.name}:{self.lines[path[:end]]}: {message}")
        return SpecError(f"{self.name}: {message}")


def load(path: Path = SPEC, profile: str = "production", jobs: Mapping[str, str] | None = None) -> Spec:
    """Read and check the spec, with every waited-for duration divided by the profile's time scale.

    ``jobs`` renames targets' scrape jobs (target name to job) for a deployment whose jobs are named
    otherwise, e.g. the Prometheus Operator's, where a job is named after its Service.
    """
    doc = _Doc(path)
    root = _Node(doc, doc.data, ())
    root.only(
        "prefix", "links", "targets", "evaluation_interval", "profiles", "tests", "receivers", "channels", "cooldowns", "default_route",
        "group_by", "inhibit", "market_hours", "recording_rules", "alerts",
    )  # fmt: skip
    profiles = root.child("profiles")
    if profile not in profiles.data:
        raise profiles.error(None, f"no profile {profile!r} (known: {', '.join(profiles.data)})")
    chosen = profiles.child(profile)
    chosen.only("time_scale", "window_scale")
    scale = int(chosen.get("time_scale", int))
    window_scale = int(chosen.get("window_scale", int, 1))

    def scaled(seconds: int) -> int:
        return 0 if seconds == 0 else max(1, round(seconds / scale))

    links = root.child("links")
    links.only("grafana", "runbook")
    targets = {}
    renamed = dict(jobs or {})
    for name in root.child("targets").data:
        node = root.child("targets").child(name)
        node.only("job", "instance")
        targets[name] = Target(name, renamed.pop(name, "") or node.get("job", str), node.get("instance", str))
    if renamed:
        raise root.error("targets", f"jobs given for unknown targets {', '.join(sorted(renamed))} (known: {', '.join(targets)})")
    tests = root.child("tests")
    tests.only("interval", "margin")
    receivers = root.get("receivers", dict)
    cooldowns = _cooldowns(root.child("cooldowns"), scaled)
    default = root.child("default_route")
    default.only("receiver", "cooldown")
    inhibit = root.child("inhibit")
    inhibit.only("same_kind_equal", "bot_down", "bot_down_equal")
    channels = root.child("channels")
    channels.only(*SEVERITIES)
    context = _Context(
        prefix=root.get("prefix", str), targets=targets, cooldowns=cooldowns, receivers=tuple(receivers), scaled=scaled,
        channels={severity: tuple(channels.get(severity, list)) for severity in SEVERITIES},
    )  # fmt: skip
    alerts = tuple(_alert(_Node(doc, data, ("alerts", str(i))), context) for i, data in enumerate(root.get("alerts", list)))
    spec = Spec(
        profile=profile,
        time_scale=scale,
        prefix=context.prefix,
        grafana_url=links.get("grafana", str).rstrip("/"),
        runbook_url=links.get("runbook", str),
        targets=targets,
        evaluation_interval=scaled(root.duration("evaluation_interval")),
        test_interval=tests.duration("interval"),
        test_margin=float(tests.get("margin", (int, float))),
        receivers=receivers,
        cooldowns=cooldowns,
        default_receiver=default.get("receiver", str),
        default_cooldown=_pick(cooldowns, default, "cooldown"),
        group_by=tuple(root.get("group_by", list)),
        same_kind_equal=tuple(inhibit.get("same_kind_equal", list)),
        bot_down=tuple(inhibit.get("bot_down", list)),
        bot_down_equal=tuple(inhibit.get("bot_down_equal", list)),
        market_hours=_market_hours(root.child("market_hours")),
        recording_rules=tuple(_recording(_Node(doc, data, ("recording_rules", str(i))), targets) for i, data in enumerate(root.get("recording_rules", list))),
        alerts=alerts,
    )
    _check_whole(spec, root)
    if window_scale < 1:
        raise chosen.error("window_scale", "window_scale must be at least 1")
    return spec if window_scale == 1 else _scale_windows(spec, window_scale)


def _scale_windows(spec: Spec, scale: int) -> Spec:
    """Range windows ([5m]) divided by ``scale``: rates over seconds, for end-to-end tests.

    The promtool cases are written for the spec's own windows (series per test interval), so a
    window-scaled rendering has none (see generate.render).
    """

    def seconds(value: int) -> int:
        return max(1, round(value / scale))

    def expr(text: str) -> str:
        return _RANGE.sub(lambda m: f"[{format_duration(seconds(parse_duration(m.group(1))))}]", text)

    alerts = tuple(replace(a, expr=expr(a.expr)) for a in spec.alerts)
    recording = tuple(replace(r, expr=expr(r.expr)) for r in spec.recording_rules)
    return replace(spec, alerts=alerts, recording_rules=recording, window_scale=scale)


@dataclass(frozen=True)
class _Context:
    prefix: str
    targets: dict[str, Target]
    cooldowns: dict[str, Cooldown]
    receivers: tuple[str, ...]
    channels: dict[str, tuple[str, ...]]
    scaled: Any


def _cooldowns(node: _Node, scaled: Any) -> dict[str, Cooldown]:
    out = {}
    for name in node.data:
        item = node.child(name)
        item.only("group_wait", "group_interval")
        cooldown = Cooldown(name, scaled(item.duration("group_wait")), scaled(item.duration("group_interval")), scaled(parse_duration(name)))
        if cooldown.group_interval > cooldown.repeat_interval:
            raise item.error("group_interval", "group_interval longer than the cooldown would delay every repeat")
        out[name] = cooldown
    return out


def _pick(cooldowns: dict[str, Cooldown], node: _Node, key: str) -> Cooldown:
    name = node.get(key, str)
    if name not in cooldowns:
        raise node.error(key, f"cooldown {name!r} is not a class under `cooldowns` ({', '.join(cooldowns)})")
    return cooldowns[name]


def _selectors(targets: dict[str, Target]) -> dict[str, str]:
    return {name: target.selector for name, target in targets.items()}


def _recording(node: _Node, targets: dict[str, Target]) -> RecordingRule:
    node.only("record", "help", "expr")
    record = node.get("record", str)
    if not _RECORD.fullmatch(record):
        raise node.error("record", f"{record!r} is not named level:metric:operations")
    try:
        expr = fill(node.get("expr", str).strip(), _selectors(targets))
    except SpecError as exc:
        raise node.error("expr", str(exc)) from None
    return RecordingRule(record, node.get("help", str), expr)


def _alert(node: _Node, ctx: _Context) -> Alert:
    node.only(
        "name", "kind", "severity", "target", "expr", "threshold", "unit", "for", "cooldown", "channels", "market_hours_only",
        "dashboard", "summary", "description", "runbook", "test",
    )  # fmt: skip
    name = node.get("name", str)
    if not (_NAME.fullmatch(name) and name.startswith(ctx.prefix)):
        raise node.error("name", f"{name!r}: alert names are CamelCase and start with {ctx.prefix!r}")
    severity = node.get("severity", str)
    if severity not in SEVERITIES:
        raise node.error("severity", f"severity must be one of {', '.join(SEVERITIES)}")
    target_name = node.get("target", str)
    if target_name != "none" and target_name not in ctx.targets:
        raise node.error("target", f"unknown target {target_name!r} (known: none, {', '.join(ctx.targets)})")
    target = ctx.targets.get(target_name)
    threshold = node.get("threshold", (int, float), None)
    unit = node.get("unit", str, "count")
    if unit not in UNITS:
        raise node.error("unit", f"unit must be one of {', '.join(UNITS)}")
    raw_expr = node.get("expr", str).strip()
    op_match = _THRESHOLD_OP.search(raw_expr)
    if (threshold is None) != (op_match is None):
        raise node.error("expr", "an alert with a threshold compares against [[threshold]] in its expr, and only then")
    values = _selectors(ctx.targets) | ({"threshold": repr(float(threshold))} if threshold is not None else {})
    if threshold is not None and float(threshold).is_integer():
        values["threshold"] = str(int(threshold))
    try:
        expr = fill(raw_expr, values)
    except SpecError as exc:
        raise node.error("expr", str(exc)) from None
    for_seconds = ctx.scaled(node.duration("for"))
    cooldown = _pick(ctx.cooldowns, node, "cooldown")
    channels = tuple(node.get("channels", list, list(ctx.channels[severity])))
    for channel in channels:
        if channel not in ctx.receivers:
            raise node.error("channels", f"channel {channel!r} is not a receiver ({', '.join(ctx.receivers)})")
    text = {
        "threshold": format_value(unit, float(threshold)) if threshold is not None else "",
        "for": format_duration(for_seconds),
        "cooldown": format_duration(cooldown.repeat_interval),
    }

    def texts(key: str, parent: _Node, *, value: bool) -> str:
        try:
            return fill(parent.get(key, str).strip(), text | ({"value": go_value(unit)} if value else {}))
        except SpecError as exc:
            raise parent.error(key, str(exc)) from None

    book = node.child("runbook")
    book.only("meaning", "check", "act")
    return Alert(
        name=name,
        kind=node.get("kind", str),
        severity=severity,
        target=target,
        expr=expr,
        op=op_match.group(1) if op_match else "",
        threshold=None if threshold is None else float(threshold),
        unit=unit,
        for_seconds=for_seconds,
        cooldown=cooldown,
        channels=channels,
        market_hours_only=node.get("market_hours_only", bool, False),
        dashboard=node.get("dashboard", str),
        summary=texts("summary", node, value=True),
        description=texts("description", node, value=True),
        runbook=Runbook(*(texts(key, book, value=False) for key in ("meaning", "check", "act"))),
        test=_alert_test(node.child("test"), target, threshold is None),
        line=node.doc.lines.get(node.path, 0),
    )


def _alert_test(node: _Node, target: Target | None, no_threshold: bool) -> AlertTest:
    node.only("shape", "series", "window", "quantile", "firing", "quiet", "labels")
    shape = node.get("shape", str)
    if shape not in SHAPES:
        raise node.error("shape", f"shape must be one of {', '.join(SHAPES)}")
    series = node.get("series", str if shape == "histogram" else dict)
    labels = {"job": target.job, "instance": target.instance} if target else {}
    for key, value in node.get("labels", dict, {}).items():
        if value is None:
            labels.pop(key, None)
        else:
            labels[key] = str(value)
    points = []
    for key in ("firing", "quiet"):
        point = node.get(key, (int, float, str), None)
        if isinstance(point, str) and point != "_":
            raise node.error(key, f"{key} is a number or _ (no sample)")
        points.append(float(point) if isinstance(point, int | float) else point)
    if no_threshold and series and None in points:
        raise node.error(None, "an alert without a threshold names its firing and quiet test points")
    if not no_threshold and points != [None, None]:
        raise node.error(None, "the test points of an alert with a threshold follow from it: drop firing and quiet")
    window, quantile = node.duration("window", "5m"), float(node.get("quantile", float, 0.99))
    return AlertTest(shape, series, window, quantile, points[0], points[1], labels)


def _market_hours(node: _Node) -> MarketHours:
    node.only("timezone", "weekdays", "start", "end", "holidays", "early_closes")

    def dates(key: str) -> dict[dt.date, str]:
        found = node.get(key, dict, {})
        for day in found:
            if not isinstance(day, dt.date):
                raise node.error(key, f"{day!r} is not a date (YYYY-MM-DD)")
        return {day: str(found[day]) for day in sorted(found)}

    return MarketHours(
        node.get("timezone", str), node.get("weekdays", str), node.get("start", str), node.get("end", str), dates("holidays"), dates("early_closes")
    )


def _check_whole(spec: Spec, root: _Node) -> None:
    """Rules that span several entries: unique names, known sources, a warning/critical pair per kind."""
    seen: dict[str, Alert] = {}
    for alert in spec.alerts:
        if alert.name in seen:
            raise root.doc.error(("alerts",), f"alert {alert.name} is defined twice (lines {seen[alert.name].line} and {alert.line})")
        seen[alert.name] = alert
    for name in spec.bot_down:
        if name not in seen:
            raise root.doc.error(("inhibit", "bot_down"), f"{name} is not an alert of this spec")
    if spec.default_receiver not in spec.receivers:
        raise root.doc.error(("default_route", "receiver"), f"{spec.default_receiver!r} is not a receiver")
    if spec.time_scale < 1:
        raise root.doc.error(("profiles",), "time_scale must be at least 1")
