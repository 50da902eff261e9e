"""Defaults every board shares: datasources, variables, PromQL helpers, panel factories, assembly.

:func:`sel` refuses a series that neither the exporter's catalogue nor a recording rule defines,
and adds the ``$strategy`` / ``$symbol`` filters only where the series carries those labels, so a
board cannot ask for a series the bot never exposes.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TypeVar

from grafana_foundation_sdk.builders import bargauge, dashboard, gauge, heatmap, logs, prometheus, stat, table, timeseries
from grafana_foundation_sdk.builders import common as common_builders
from grafana_foundation_sdk.builders import loki as loki_builders
from grafana_foundation_sdk.cog import builder as cog
from grafana_foundation_sdk.cog import variants
from grafana_foundation_sdk.models import common as common_models
from grafana_foundation_sdk.models import dashboard as models
from grafana_foundation_sdk.models import heatmap as heatmap_models
from grafana_foundation_sdk.models import prometheus as prometheus_models

from .metrics import labels_of

PROMETHEUS = models.DataSourceRef(type_val="prometheus", uid="prometheus")
LOKI = models.DataSourceRef(type_val="loki", uid="loki")

#: Every board carries this tag; the dashboard links list the boards by it.
TAG = "quantwatch"
#: 5 s keeps an idle browser light; the picker goes down to 1 s (grafana.ini min_refresh_interval).
REFRESH = "5s"
REFRESH_INTERVALS = ["1s", "2s", "5s", "10s", "30s", "1m", "5m", "15m"]
RATE = "$__rate_interval"
#: LogQL ranges follow the panel's resolution (Grafana's own advice for Loki).
LOG_RANGE = "$__auto"
#: The stream selector of every LogQL target: all bots of the chosen env. Stream labels are only
#: service, env and level; everything else is a field of the JSON line.
LOG_STREAM = '{service=~".+", env=~"$env"}'
LOG_FILTERS = '| json | strategy=~"$strategy" | symbol=~"$symbol" | correlation_id=~"$correlation_id.*"'

Panel = TypeVar("Panel", timeseries.Panel, stat.Panel, gauge.Panel, bargauge.Panel, table.Panel, heatmap.Panel, logs.Panel, dashboard.Panel)


def sel(series: str, *matchers: str) -> str:
    """``series{env=~"$env", ...}``, filtered by $strategy/$symbol where the series has those labels."""
    labels = labels_of(series)
    parts = ['env=~"$env"'] + [f'{label}=~"${label}"' for label in ("strategy", "symbol") if label in labels]
    return f"{series}{{{', '.join([*parts, *matchers])}}}"


def _by(labels: Sequence[str]) -> str:
    return f" by ({', '.join(labels)})" if labels else ""


def rate(series: str, *matchers: str, by: Sequence[str] = ()) -> str:
    """Per-second rate of a counter, summed (by ``by``)."""
    return f"sum{_by(by)} (rate({sel(series, *matchers)}[{RATE}]))"


def per_minute(series: str, *matchers: str, by: Sequence[str] = ()) -> str:
    """Events per minute of a counter, summed (by ``by``)."""
    return f"{rate(series, *matchers, by=by)} * 60"


def quantile(q: float, histogram: str, *matchers: str, by: Sequence[str] = ()) -> str:
    """The ``q`` quantile of a histogram family over the rate interval."""
    return f"histogram_quantile({q}, sum by ({', '.join(('le', *by))}) (rate({sel(histogram + '_bucket', *matchers)}[{RATE}])))"


def gauge_sum(series: str, *matchers: str, by: Sequence[str] = ()) -> str:
    """A gauge summed over instances (by ``by``)."""
    return f"sum{_by(by)} ({sel(series, *matchers)})"


def log_query(*, levels: str = "") -> str:
    """The bot's JSON lines, filtered by the board's variables (and by level when ``levels`` is a regex)."""
    stream = LOG_STREAM if not levels else LOG_STREAM.removesuffix("}") + f', level=~"{levels}"}}'
    return f"{stream} {LOG_FILTERS}"


def prom(expr: str, legend: str = "__auto", *, instant: bool = False, exemplar: bool = False, fmt: str = "") -> prometheus.Dataquery:
    """A Prometheus target; ``fmt`` is ``table`` or ``heatmap`` when the panel needs it."""
    query = prometheus.Dataquery().expr(expr).legend_format(legend).datasource(PROMETHEUS)
    query = query.instant() if instant else query.range()
    if exemplar:
        query = query.exemplar(True)
    if fmt:
        query = query.format(prometheus_models.PromQueryFormat(fmt))
    return query


def loki(expr: str, legend: str = "", *, max_lines: int = 0) -> loki_builders.Dataquery:
    """A Loki target."""
    query = loki_builders.Dataquery().expr(expr).datasource(LOKI)
    if legend:
        query = query.legend_format(legend)
    if max_lines:
        query = query.max_lines(max_lines)
    return query


@dataclass(frozen=True)
class Limit:
    """A threshold drawn on a panel: the value where it turns ``color`` (from the alert spec)."""

    value: float
    color: str = "red"
    #: True when low values are the bad ones (health score, success ratios).
    below: bool = False


def thresholds(*limits: Limit, base: str = "green") -> dashboard.ThresholdsConfig:
    """Absolute steps; a ``below`` limit colours everything under it instead of above."""
    if limits and all(limit.below for limit in limits):
        ordered = sorted(limits, key=lambda limit: limit.value)
        steps = [models.Threshold(value=None, color=ordered[0].color)]
        steps += [models.Threshold(value=low.value, color=high.color) for low, high in zip(ordered, [*ordered[1:], Limit(0, base)], strict=True)]
    else:
        steps = [models.Threshold(value=None, color=base)] + [
            models.Threshold(value=limit.value, color=limit.color) for limit in sorted(limits, key=lambda limit: limit.value)
        ]
    return dashboard.ThresholdsConfig().mode(models.ThresholdsMode.ABSOLUTE).steps(steps)


def _setup(
    builder: Panel, title: str, description: str, targets: Sequence[variants.Dataquery | prometheus.Dataquery | loki_builders.Dataquery], *, w: int, h: int
) -> Panel:
    uses_loki = any(isinstance(target, loki_builders.Dataquery) for target in targets)
    builder = builder.title(title).description(description).span(w).height(h).datasource(LOKI if uses_loki else PROMETHEUS)
    for ref, target in zip("ABCDEFGHIJ", targets, strict=False):
        builder = builder.with_target(target.ref_id(ref))  # type: ignore[union-attr]
    return builder


def timeseries_panel(
    title: str,
    description: str,
    unit: str,
    *targets: prometheus.Dataquery | loki_builders.Dataquery,
    limits: Sequence[Limit] = (),
    stack: bool = False,
    w: int = 12,
    h: int = 8,
) -> timeseries.Panel:
    """Lines over time; alert thresholds drawn as dashed lines."""
    panel = (
        timeseries.Panel()
        .unit(unit)
        .line_width(1)
        .fill_opacity(10)
        .show_points(common_models.VisibilityMode.NEVER)
        .legend(
            common_builders.VizLegendOptions()
            .show_legend(True)
            .display_mode(common_models.LegendDisplayMode.LIST)
            .placement(common_models.LegendPlacement.BOTTOM)
        )
        .tooltip(common_builders.VizTooltipOptions().mode(common_models.TooltipDisplayMode.MULTI).sort(common_models.SortOrder.DESCENDING))
    )
    if limits:
        panel = panel.thresholds(thresholds(*limits)).thresholds_style(
            common_builders.GraphThresholdsStyleConfig().mode(common_models.GraphThresholdsStyleMode.DASHED)
        )
    if stack:
        panel = panel.stacking(common_builders.StackingConfig().mode(common_models.StackingMode.NORMAL)).fill_opacity(40)
    return _setup(panel, title, description, targets, w=w, h=h)


def stat_panel(title: str, description: str, unit: str, *targets: prometheus.Dataquery, limits: Sequence[Limit] = (), w: int = 3, h: int = 5) -> stat.Panel:
    """A big current value with a sparkline, coloured by the alert thresholds."""
    panel = (
        stat.Panel()
        .unit(unit)
        .graph_mode(common_models.BigValueGraphMode.AREA)
        .color_mode(common_models.BigValueColorMode.VALUE)
        .reduce_options(common_builders.ReduceDataOptions().calcs(["lastNotNull"]).values(False))
        .thresholds(thresholds(*limits))
    )
    return _setup(panel, title, description, targets, w=w, h=h)


def gauge_panel(
    title: str, description: str, unit: str, target: prometheus.Dataquery, *, low: float, high: float, limits: Sequence[Limit], w: int = 6, h: int = 7
) -> gauge.Panel:
    """A dial between ``low`` and ``high`` with the alert thresholds on its rim."""
    panel = gauge.Panel().unit(unit).min(low).max(high).thresholds(thresholds(*limits)).show_threshold_markers(True)
    panel = panel.reduce_options(common_builders.ReduceDataOptions().calcs(["lastNotNull"]).values(False))
    return _setup(panel, title, description, [target], w=w, h=h)


def bargauge_panel(title: str, description: str, unit: str, target: prometheus.Dataquery, *, w: int = 8, h: int = 8) -> bargauge.Panel:
    """Current values side by side, one bar per series."""
    panel = bargauge.Panel().unit(unit).orientation(common_models.VizOrientation.HORIZONTAL).display_mode(common_models.BarGaugeDisplayMode.GRADIENT)
    panel = panel.reduce_options(common_builders.ReduceDataOptions().calcs(["lastNotNull"]).values(False)).thresholds(thresholds())
    return _setup(panel, title, description, [target], w=w, h=h)


def table_panel(
    title: str,
    description: str,
    unit: str,
    target: prometheus.Dataquery,
    *,
    transformations: Sequence[models.DataTransformerConfig] = (),
    column_units: dict[str, str] | None = None,
    w: int = 12,
    h: int = 8,
) -> table.Panel:
    """An instant query as a table; ``column_units`` overrides the unit of named columns."""
    panel = table.Panel().unit(unit).transformations(list(transformations))
    for column, column_unit in sorted((column_units or {}).items()):
        panel = panel.override_by_name(column, [models.DynamicConfigValue(id_val="unit", value=column_unit)])
    return _setup(panel, title, description, [target], w=w, h=h)


def heatmap_panel(title: str, description: str, target: prometheus.Dataquery, *, w: int = 12, h: int = 8) -> heatmap.Panel:
    """A Prometheus latency histogram as a heatmap of its buckets, exemplars on top."""
    panel = (
        heatmap.Panel()
        .unit("s")
        .calculate(False)
        .y_axis(heatmap.YAxisConfig().unit("s"))
        .cell_values(heatmap.CellValues().unit("ops"))
        .color(heatmap.HeatmapColorOptions().mode(heatmap_models.HeatmapColorMode.SCHEME).scheme("Oranges").steps(64))
        .exemplars_color("rgba(255,0,255,0.7)")
    )
    return _setup(panel, title, description, [target], w=w, h=h)


def logs_panel(title: str, description: str, target: loki_builders.Dataquery, *, w: int = 24, h: int = 14) -> logs.Panel:
    """Newest lines first, with details (and the correlation_id link) one click away."""
    panel = logs.Panel().show_time(True).wrap_log_message(True).enable_log_details(True).sort_order(common_models.LogsSortOrder.DESCENDING)
    return _setup(panel, title, description, [target], w=w, h=h)


def _query_variable(name: str, label: str, query: str, description: str) -> dashboard.QueryVariable:
    return (
        dashboard.QueryVariable(name)
        .label(label)
        .description(description)
        .datasource(PROMETHEUS)
        .query(query)
        .multi(True)
        .include_all(True)
        .all_value(".*")
        .current(models.VariableOption(selected=True, text="All", value="$__all"))
        .refresh(models.VariableRefresh.ON_TIME_RANGE_CHANGED)
        .sort(models.VariableSort.ALPHABETICAL_ASC)
    )


def variables() -> list[dashboard.QueryVariable]:
    """env, strategy and symbol, each narrowing the next; All means the regex ``.*``."""
    return [
        _query_variable("env", "Environment", "label_values(trading_health_score, env)", "Deployment environment (the env label Prometheus puts on each bot)"),
        _query_variable("strategy", "Strategy", 'label_values(trading_orders_submitted_total{env=~"$env"}, strategy)', "Trading strategy"),
        _query_variable("symbol", "Underlying", 'label_values(trading_market_data_age_seconds{env=~"$env"}, symbol)', "Underlying symbol"),
    ]


def correlation_variable() -> dashboard.TextBoxVariable:
    """A free-text correlation_id (or its prefix) for the log panels; empty shows every line."""
    return dashboard.TextBoxVariable("correlation_id").label("Correlation id").description("Show only the log lines of one operation (prefix match)")


@dataclass(frozen=True)
class Row:
    """A titled band of panels."""

    title: str
    panels: Sequence[cog.Builder[models.Panel]]


def board(
    uid: str,
    title: str,
    description: str,
    rows: Sequence[Row],
    *,
    extra_variables: Sequence[dashboard.TextBoxVariable] = (),
    extra_links: Sequence[dashboard.DashboardLink] = (),
) -> models.Dashboard:
    """Assemble a board with the shared defaults and number its panels in layout order."""
    builder = (
        dashboard.Dashboard(title)
        .uid(uid)
        .description(description)
        .tags([TAG])
        .readonly()
        .timezone("browser")
        .time("now-30m", "now")
        .refresh(REFRESH)
        .timepicker(dashboard.TimePicker().refresh_intervals(REFRESH_INTERVALS))
        .tooltip(models.DashboardCursorSync.CROSSHAIR)
        .annotation(
            dashboard.AnnotationQuery()
            .name("Annotations & Alerts")
            .datasource(models.DataSourceRef(type_val="grafana", uid="-- Grafana --"))
            .built_in(1)
            .enable(True)
            .hide(True)
            .icon_color("rgba(0, 211, 255, 1)")
            .type("dashboard")
        )
        .link(dashboard.DashboardLink("Quantwatch").type(models.DashboardLinkType.DASHBOARDS).tags([TAG]).as_dropdown(True).include_vars(True).keep_time(True))
    )
    for link in extra_links:
        builder = builder.link(link)
    for variable in [*variables(), *extra_variables]:
        builder = builder.with_variable(variable)
    for row in rows:
        builder = builder.with_row(dashboard.Row(row.title))
        for panel in row.panels:
            builder = builder.with_panel(panel)
    model = builder.build()
    for number, built in enumerate(model.panels or [], start=1):
        built.id_val = number
    return model
