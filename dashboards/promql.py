"""What a PromQL expression names, read from the tree of Prometheus' own lezer grammar (:mod:`dashboards.lezer`).

The lint, the metric contract and the alert thresholds need the series a query names, their label
matchers and range windows, the calls around each series and the grouping labels. All of it comes
from the grammar the Prometheus UI parses with; an expression it refuses raises :class:`PromQLError`.
The real Prometheus also runs every target, in the server test.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

from . import lezer

AGGREGATIONS = frozenset(
    {"sum", "min", "max", "avg", "group", "stddev", "stdvar", "count", "count_values", "bottomk", "topk", "quantile", "limitk", "limit_ratio"}
)
#: Functions whose range argument is a counter window: these want ``$__rate_interval``.
RATE_FUNCTIONS = frozenset({"rate", "irate", "increase"})
#: The grammar's grouping keywords, by the name PromQL spells them with.
_GROUPING = {"By": "by", "Without": "without", "On": "on", "Ignoring": "ignoring", "GroupLeft": "group_left", "GroupRight": "group_right"}


class PromQLError(ValueError):
    """Prometheus' grammar refuses the expression."""


@dataclass(frozen=True)
class Selector:
    """One vector selector: the series name, its matchers (values as written) and the calls around it (innermost last)."""

    name: str
    matchers: tuple[tuple[str, str, str], ...]
    enclosing: tuple[str, ...]


@dataclass(frozen=True)
class Query:
    """What one PromQL expression names."""

    selectors: tuple[Selector, ...]
    #: Labels after each grouping keyword: by, without, on, ignoring, group_left, group_right.
    grouping: Mapping[str, frozenset[str]]
    #: Functions and aggregations, in text order.
    calls: tuple[str, ...]
    #: (innermost function, its range window) for every range and subquery.
    windows: tuple[tuple[str, str], ...]

    def labels_named(self) -> set[str]:
        """Every label the grouping clauses name."""
        return set().union(*self.grouping.values())


def _unquote(literal: str) -> str:
    return literal[1:-1]


def _label(node: lezer.Node) -> str:
    return _unquote(node.text) if node.name == "QuotedLabelName" else node.text


def _selector(node: lezer.Node, enclosing: tuple[str, ...]) -> Selector:
    name = node.child("Identifier")
    matchers = []
    listed = node.child("LabelMatchers")
    for matcher in listed.children if listed else ():
        label, op, value = (matcher.child(*names) for names in (("LabelName", "QuotedLabelName"), ("MatchOp",), ("StringLiteral",)))
        if matcher.name == "QuotedLabelName":  # {"utf8.series", ...}: the series name, quoted
            name = matcher
        elif label and op and value:
            matchers.append((_label(label), op.text, _unquote(value.text)))
    return Selector(_label(name) if name else "", tuple(matchers), enclosing)


class _Reader:
    """Walks the tree once, keeping the calls around the current node."""

    def __init__(self) -> None:
        self.selectors: list[Selector] = []
        self.grouping: dict[str, set[str]] = {}
        self.calls: list[str] = []
        self.windows: list[tuple[str, str]] = []

    def walk(self, node: lezer.Node, enclosing: tuple[str, ...] = ()) -> None:
        """Record ``node`` and what lies below it."""
        if node.name == "VectorSelector":
            self.selectors.append(_selector(node, enclosing))
            return
        call = None
        if node.name == "FunctionCall" and (identifier := node.child("FunctionIdentifier")):
            call = identifier.text
        elif node.name == "AggregateExpr" and (op := node.child("AggregateOp")):
            call = op.text.lower()  # PromQL's keywords ignore case
        if call:
            self.calls.append(call)
            enclosing += (call,)
        if node.name in ("MatrixSelector", "SubqueryExpr") and (duration := node.child("DurationExpr")):
            self.windows.append((enclosing[-1] if enclosing else "", duration.text))
        if node.name in ("AggregateModifier", "MatchingModifierClause"):
            self._grouping(node.children)
        for child in node.children:
            self.walk(child, enclosing)

    def _grouping(self, children: Iterable[lezer.Node]) -> None:
        """``by (a, b)``, ``on (c) group_left (d)``: each keyword, then its labels."""
        keyword = ""
        for child in children:
            if child.name in _GROUPING:
                keyword = _GROUPING[child.name]
                self.grouping.setdefault(keyword, set())
            elif child.name == "GroupingLabels" and keyword:
                self.grouping[keyword].update(_label(label) for label in child.children if label.name in ("LabelName", "QuotedLabelName"))

    def query(self) -> Query:
        return Query(tuple(self.selectors), {k: frozenset(v) for k, v in self.grouping.items()}, tuple(self.calls), tuple(self.windows))


def parse_all(exprs: Sequence[str]) -> list[Query]:
    """Read every expression, in one batch through the grammar; PromQLError for the first it refuses."""
    queries = []
    for parsed in lezer.parse([("promql", expr) for expr in exprs]):
        if parsed.error:
            raise PromQLError(parsed.error)
        reader = _Reader()
        reader.walk(parsed.tree)
        queries.append(reader.query())
    return queries


def parse(expr: str) -> Query:
    """Read ``expr`` (Grafana variables allowed); PromQLError when Prometheus' grammar refuses it."""
    [query] = parse_all([expr])
    return query
