"""Just enough PromQL reading to name what a query uses: series, label matchers, grouping labels, calls.

The lint and the contract test need to know which metrics and labels a target names and where its
counters and range windows sit. A lexer with a stack of open calls answers that without a full
parser; the real Prometheus parses every target in the server test.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

AGGREGATIONS = frozenset(
    {"sum", "min", "max", "avg", "group", "stddev", "stdvar", "count", "count_values", "bottomk", "topk", "quantile", "limitk", "limit_ratio"}
)
FUNCTIONS = frozenset(
    {
        "abs", "absent", "absent_over_time", "acos", "acosh", "asin", "asinh", "atan", "atanh", "avg_over_time", "ceil", "changes", "clamp",
        "clamp_max", "clamp_min", "cos", "cosh", "count_over_time", "day_of_month", "day_of_week", "day_of_year", "days_in_month", "deg",
        "delta", "deriv", "exp", "floor", "histogram_avg", "histogram_count", "histogram_fraction", "histogram_quantile", "histogram_stddev",
        "histogram_stdvar", "histogram_sum", "hour", "idelta", "increase", "irate", "label_join", "label_replace", "last_over_time", "ln",
        "log10", "log2", "mad_over_time", "max_over_time", "min_over_time", "minute", "month", "pi", "predict_linear", "present_over_time",
        "quantile_over_time", "rad", "rate", "resets", "round", "scalar", "sgn", "sin", "sinh", "sort", "sort_by_label", "sort_by_label_desc",
        "sort_desc", "sqrt", "stddev_over_time", "stdvar_over_time", "sum_over_time", "tan", "tanh", "time", "timestamp", "vector", "year",
    }
)  # fmt: skip
#: Functions whose range argument is a counter window: these want ``$__rate_interval``.
RATE_FUNCTIONS = frozenset({"rate", "irate", "increase"})
GROUPING = frozenset({"by", "without", "on", "ignoring", "group_left", "group_right"})
KEYWORDS = GROUPING | {"bool", "and", "or", "unless", "offset", "atan2", "start", "end", "inf", "nan"}

_TOKEN = re.compile(
    r"""
    (?P<space>\s+)
  | (?P<string>"(?:\\.|[^"\\])*"|'(?:\\.|[^'\\])*'|`[^`]*`)
  | (?P<range>\[[^\]]*\])
  | (?P<number>(?:0x[0-9a-fA-F]+|\d+(?:\.\d*)?(?:[eE][+-]?\d+)?|\.\d+)(?:ms|[smhdwy])?)
  | (?P<ident>[a-zA-Z_:][a-zA-Z0-9_:]*)
  | (?P<op>=~|!~|!=|==|<=|>=|[-+*/%^<>=,(){}@])
    """,
    re.VERBOSE,
)


class PromQLError(ValueError):
    """The text is not PromQL this reader understands."""


@dataclass
class Selector:
    """One vector selector: the series name, its matchers, and the calls it sits in (innermost last)."""

    name: str
    matchers: list[tuple[str, str, str]] = field(default_factory=list)
    window: str = ""
    enclosing: tuple[str, ...] = ()


@dataclass
class Query:
    """What one PromQL expression names."""

    selectors: list[Selector] = field(default_factory=list)
    #: Labels after each grouping keyword: by, without, on, ignoring, group_left, group_right.
    grouping: dict[str, set[str]] = field(default_factory=dict)
    calls: list[str] = field(default_factory=list)
    #: (function, its range window) for every range given to a function.
    windows: list[tuple[str, str]] = field(default_factory=list)

    def labels_named(self) -> set[str]:
        """Every label the grouping clauses name."""
        return set().union(*self.grouping.values())

    def add_grouping(self, keyword: str, labels: list[str]) -> None:
        self.grouping.setdefault(keyword, set()).update(labels)


def tokens(expr: str) -> list[tuple[str, str]]:
    """(kind, text) pairs without whitespace; PromQLError on a character PromQL has no use for."""
    out, pos = [], 0
    while pos < len(expr):
        match = _TOKEN.match(expr, pos)
        if not match or match.lastgroup is None:
            raise PromQLError(f"unexpected {expr[pos : pos + 10]!r} at {pos} in {expr!r}")
        if match.lastgroup != "space":
            out.append((match.lastgroup, match.group()))
        pos = match.end()
    return out


def _label_list(toks: list[tuple[str, str]], i: int, expr: str) -> tuple[list[str], int]:
    """Labels in ``( a, b )`` starting at toks[i] == '('; returns them and the index after ')'."""
    if i >= len(toks) or toks[i][1] != "(":
        raise PromQLError(f"expected '(' after a grouping keyword in {expr!r}")
    labels, i = [], i + 1
    while i < len(toks) and toks[i][1] != ")":
        if toks[i][0] == "ident":
            labels.append(toks[i][1])
        i += 1
    return labels, i + 1


def _matchers(toks: list[tuple[str, str]], i: int, expr: str) -> tuple[list[tuple[str, str, str]], int]:
    """Matchers in ``{ a="x", b=~"y" }`` starting at toks[i] == '{'; returns them and the index after '}'."""
    found, i = [], i + 1
    while i < len(toks) and toks[i][1] != "}":
        if toks[i][1] == ",":
            i += 1
            continue
        if i + 2 >= len(toks) or toks[i][0] not in ("ident", "string") or toks[i + 2][0] != "string":
            raise PromQLError(f"bad label matcher near {toks[i][1]!r} in {expr!r}")
        found.append((toks[i][1].strip("\"'"), toks[i + 1][1], toks[i + 2][1][1:-1]))
        i += 3
    if i >= len(toks):
        raise PromQLError(f"unclosed '{{' in {expr!r}")
    return found, i + 1


class _Reader:
    """Walks the tokens once, keeping the stack of open calls ("" for plain parentheses)."""

    def __init__(self, expr: str) -> None:
        self.expr = expr
        self.toks = tokens(expr)
        self.query = Query()
        self.stack: list[str] = []

    def read(self) -> Query:
        i = 0
        while i < len(self.toks):
            kind, text = self.toks[i]
            nxt = self.toks[i + 1][1] if i + 1 < len(self.toks) else ""
            if kind == "ident" and text in GROUPING:
                labels, i = _label_list(self.toks, i + 1, self.expr)
                self.query.add_grouping(text, labels)
            elif kind == "ident" and text.lower() in KEYWORDS:
                i += 1
            elif kind == "ident" and (nxt == "(" or (text in AGGREGATIONS and nxt in GROUPING)):
                i = self._call(i, text, nxt)
            elif kind == "ident" or text == "{":
                i = self._selector(i)
            else:
                self._other(kind, text)
                i += 1
        if self.stack:
            raise PromQLError(f"unclosed '(' in {self.expr!r}")
        return self.query

    def _call(self, i: int, name: str, nxt: str) -> int:
        if name not in FUNCTIONS and name not in AGGREGATIONS:
            raise PromQLError(f"unknown function {name!r} in {self.expr!r}")
        self.query.calls.append(name)
        if nxt in GROUPING:  # sum by (x) (...): the grouping comes before the argument
            labels, after = _label_list(self.toks, i + 2, self.expr)
            self.query.add_grouping(nxt, labels)
            self.toks = [*self.toks[: i + 1], *self.toks[after:]]
        self.stack.append(name)
        return i + 2

    def _selector(self, i: int) -> int:
        kind, text = self.toks[i]
        selector = Selector(name=text if kind == "ident" else "", enclosing=tuple(self.stack))
        i += 1 if kind == "ident" else 0
        if i < len(self.toks) and self.toks[i][1] == "{":
            selector.matchers, i = _matchers(self.toks, i, self.expr)
        if i < len(self.toks) and self.toks[i][0] == "range":
            selector.window = self.toks[i][1][1:-1]
            self.query.windows.append((self.stack[-1] if self.stack else "", selector.window))
            i += 1
        self.query.selectors.append(selector)
        return i

    def _other(self, kind: str, text: str) -> None:
        if text == "(":
            self.stack.append("")
        elif text == ")":
            if not self.stack:
                raise PromQLError(f"unbalanced ')' in {self.expr!r}")
            self.stack.pop()
        elif kind == "range":
            self.query.windows.append((self.stack[-1] if self.stack else "", text[1:-1]))


def parse(expr: str) -> Query:
    """Read ``expr``; PromQLError when brackets do not balance or a call is not a PromQL function."""
    return _Reader(expr).read()
