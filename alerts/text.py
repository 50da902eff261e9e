"""Small languages of the spec: durations, units, ``[[placeholders]]`` and test-point arithmetic.

Values are formatted here twice on purpose: as the Go template Prometheus expands (``go_value``)
and as Python text equal to that expansion (``format_value``), so the promtool tests can expect
the exact annotation an alert will carry.
"""

from __future__ import annotations

import ast
import operator
import re
from collections.abc import Callable, Mapping

_DURATION = re.compile(r"(\d+)(h|m|s)")
_SECONDS = {"h": 3600, "m": 60, "s": 1}
_PLACEHOLDER = re.compile(r"\[\[(.*?)\]\]", re.DOTALL)
_LABEL = re.compile(r"\{\{ \$labels\.([a-zA-Z_][a-zA-Z0-9_]*) \}\}")

#: Units of a threshold and of an alert's value; each is formatted the same way in Go and Python.
UNITS = ("count", "per_minute", "ratio", "score", "seconds")
_SUFFIX = {"count": "", "per_minute": "/min", "score": "", "seconds": "s"}


class SpecError(ValueError):
    """A problem in the alert spec, with the file and line it comes from when known."""


def parse_duration(text: str) -> int:
    """Seconds in a Prometheus-style duration made of h, m and s parts (``1h30m``, ``0s``)."""
    parts = _DURATION.findall(text)
    if not parts or "".join(n + u for n, u in parts) != text:
        raise SpecError(f"{text!r} is not a duration like 90s, 5m or 1h30m")
    return sum(int(n) * _SECONDS[u] for n, u in parts)


def format_duration(seconds: int) -> str:
    """The shortest duration text for whole seconds: 90 -> 1m30s, 0 -> 0s."""
    if seconds == 0:
        return "0s"
    out = ""
    for unit, size in _SECONDS.items():
        count, seconds = divmod(seconds, size)
        out += f"{count}{unit}" if count else ""
    return out


def go_value(unit: str) -> str:
    """The Go template that formats ``$value`` for ``unit`` in an annotation."""
    if unit == "ratio":
        return "{{ $value | humanizePercentage }}"
    return '{{ printf "%.4g" $value }}' + _SUFFIX[unit]


def format_value(unit: str, value: float) -> str:
    """What :func:`go_value` expands to for ``value`` (Go's %.4g and humanizePercentage)."""
    if unit == "ratio":
        return f"{value * 100:.4g}%"
    return f"{value:.4g}{_SUFFIX[unit]}"


def expand(template: str, unit: str, value: float, labels: Mapping[str, str]) -> str:
    """An annotation as Prometheus renders it, for the Go templates the generator writes."""
    text = template.replace(go_value(unit), format_value(unit, value))
    text = _LABEL.sub(lambda m: labels[m.group(1)], text)
    if "{{" in text:
        raise SpecError(f"{template!r}: only {{{{ $labels.NAME }}}} and [[value]] may be templated")
    return text


def labels_as_placeholders(template: str) -> str:
    """A templated text for docs: ``{{ $labels.symbol }}`` becomes ``<symbol>``."""
    return _LABEL.sub(lambda m: f"<{m.group(1)}>", template)


def fill(text: str, values: Mapping[str, str]) -> str:
    """Replace each ``[[name]]`` by ``values[name]``; SpecError names an unknown placeholder."""

    def one(match: re.Match[str]) -> str:
        name = match.group(1).strip()
        if name not in values:
            raise SpecError(f"unknown placeholder [[{name}]] (known here: {', '.join(sorted(values))})")
        return values[name]

    return _PLACEHOLDER.sub(one, text)


_OPERATORS: dict[type[ast.operator], Callable[[float, float], float]] = {
    ast.Add: operator.add,
    ast.Sub: operator.sub,
    ast.Mult: operator.mul,
    ast.Div: operator.truediv,
}


def evaluate(expression: str, names: Mapping[str, float]) -> float:
    """Arithmetic (+ - * / and parentheses) on numbers and ``names``; nothing else is accepted."""

    def walk(node: ast.AST) -> float:
        if isinstance(node, ast.Constant) and isinstance(node.value, int | float) and not isinstance(node.value, bool):
            return float(node.value)
        if isinstance(node, ast.Name) and node.id in names:
            return names[node.id]
        if isinstance(node, ast.BinOp) and type(node.op) in _OPERATORS:
            return _OPERATORS[type(node.op)](walk(node.left), walk(node.right))
        if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub):
            return -walk(node.operand)
        raise SpecError(f"[[{expression}]]: only numbers, {', '.join(sorted(names))}, + - * / and parentheses are allowed")

    try:
        tree = ast.parse(expression.strip(), mode="eval")
    except SyntaxError as exc:
        raise SpecError(f"[[{expression}]] is not arithmetic: {exc.msg}") from exc
    return walk(tree.body)


def number(value: float) -> str:
    """A float as promtool series text: integers without a point, others with 12 significant digits."""
    return str(int(value)) if value == int(value) else f"{value:.12g}"


def fill_numbers(text: str, names: Mapping[str, float]) -> str:
    """Replace each ``[[arithmetic]]`` by its value as series text."""
    return _PLACEHOLDER.sub(lambda m: number(evaluate(m.group(1), names)), text)
