"""PromQL and LogQL read by their real grammars: the lezer parsers of Prometheus' and Grafana's query editors.

Those grammars exist only as npm packages (``@prometheus-io/lezer-promql``, ``@grafana/lezer-logql``),
so ``dashboards/grammar/parse.mjs`` runs them under Node (pinned by its package-lock.json, installed by
``make grammar``) and hands each tree back as JSON; :mod:`dashboards.promql` and the lint read the trees.

Why one Node process per Python process, fed batches, with every tree cached (CPU time measured on 2
cores): starting Node with both grammars costs about 180 ms, while one batch of every target and
variable selector of the five boards (82 queries, 65 distinct) costs about 100 ms in Node and 10 ms
in Python when Node's JIT is cold (240 ms wall, start included), and 50 ms wall when warm.
``make check`` and the unit tests ask for trees one query at a time from many places (spec thresholds,
recording rules, lint rules, contract tests: about 300 queries in 116 calls for the dashboard and
alert tests): a Node start per query would cost about a minute of CPU, one per call 20 s. So the
process starts on first use and lives until the interpreter exits (Node ends when its stdin closes);
each query reaches Node once, and :func:`parse` sends all of a caller's new queries in one line,
which is how the lint checks every board at once.

Grafana's variables are not PromQL or LogQL: :func:`substitute` replaces them before parsing with
what Grafana would send (durations for the built-in intervals, a plain word for the user's variables)
and keeps a map back, so every :class:`Node` still reads the text as written (``$__rate_interval``).
"""

from __future__ import annotations

import atexit
import json
import re
import shutil
import subprocess
import threading
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

GRAMMAR_DIR = Path(__file__).resolve().parent / "grammar"
Lang = Literal["promql", "logql"]
LANG_NAMES: dict[Lang, str] = {"promql": "PromQL", "logql": "LogQL"}
#: Grafana's built-in variables, as values the grammars accept.
BUILTINS = {"__rate_interval": "5m", "__auto": "5m", "__interval": "1m", "__range": "1h", "__interval_ms": "60000", "__range_s": "3600"}
#: What a user variable becomes: a word is a valid label value inside a string and a valid name outside one.
PLACEHOLDER = "placeholder"
#: A Grafana variable in any of its spellings: ``$x``, ``${x}``, ``${x:format}``, ``[[x]]`` (name: :func:`variable_name`).
VARIABLE = re.compile(r"\$\{(?P<braced>\w+)(?::[^}]*)?\}|\$(?P<plain>\w+)|\[\[(?P<old>\w+)(?::[^\]]*)?\]\]")
_PIECE = re.compile(rf"(?P<string>\"(?:\\.|[^\"\\])*\"|'(?:\\.|[^'\\])*'|`[^`]*`)|{VARIABLE.pattern}")
#: A user variable right after these stands for a duration (``[$window]``, ``[5m:$step]``, ``offset $shift``).
_DURATION_BEFORE = re.compile(r"(?:[\[:]|\boffset)\s*$")


class GrammarUnavailable(RuntimeError):
    """Node or the installed grammars are missing."""


@dataclass(frozen=True)
class Node:
    """One node of a lezer tree, with the span of the query as written (variables unsubstituted)."""

    name: str
    start: int
    end: int
    source: str
    children: tuple[Node, ...]

    @property
    def text(self) -> str:
        return self.source[self.start : self.end]

    def child(self, *names: str) -> Node | None:
        """The first direct child named one of ``names``."""
        return next((child for child in self.children if child.name in names), None)

    def find(self, *names: str) -> Iterator[Node]:
        """Every node below this one named one of ``names``, in text order."""
        for child in self.children:
            if child.name in names:
                yield child
            yield from child.find(*names)


@dataclass(frozen=True)
class Parsed:
    """A query and its tree; ``error`` says where the grammar refused it, None when it parsed."""

    lang: Lang
    expr: str
    tree: Node
    error: str | None


def variable_name(match: re.Match[str]) -> str:
    """The name of the variable a :data:`VARIABLE` match found."""
    return str(match["braced"] or match["plain"] or match["old"])


def _variable_value(match: re.Match[str], before: str) -> str:
    name = variable_name(match)
    if name in BUILTINS:
        return BUILTINS[name]
    return "5m" if _DURATION_BEFORE.search(before) else PLACEHOLDER


def substitute(expr: str) -> tuple[str, list[tuple[int, int, int, int]]]:
    """``expr`` with Grafana's variables replaced, and the (new start, new end, old start, old end) of each change."""
    out: list[str] = []
    changes: list[tuple[int, int, int, int]] = []
    last = length = 0
    for match in _PIECE.finditer(expr):
        old = match.group()
        inside = match["string"] is not None  # a variable in a string is a label value: never a duration
        new = VARIABLE.sub(lambda var: _variable_value(var, ""), old) if inside else _variable_value(match, expr[: match.start()])
        if new == old:
            continue
        length += match.start() - last
        out += [expr[last : match.start()], new]
        changes.append((length, length + len(new), match.start(), match.end()))
        length += len(new)
        last = match.end()
    out.append(expr[last:])
    return "".join(out), changes


def _original(offset: int, changes: Sequence[tuple[int, int, int, int]]) -> int:
    """Where an offset of the substituted text lies in the text as written (a change maps as a whole)."""
    shift = 0
    for new_start, new_end, old_start, old_end in changes:
        if offset < new_start:
            break
        if offset < new_end:
            return old_start
        shift = old_end - new_end
    return offset + shift


def _node(raw: list[Any], expr: str, changes: Sequence[tuple[int, int, int, int]]) -> Node:
    name, start, end, *children = raw
    return Node(name, _original(start, changes), _original(end, changes), expr, tuple(_node(child, expr, changes) for child in children))


def _error(lang: Lang, expr: str, start: int, end: int) -> str:
    if start < end:
        what = f"unexpected {expr[start:end]!r}"
    elif start < len(expr):
        what = f"something is missing before {expr[start : start + 20]!r}"
    else:
        what = "unexpected end of query"
    return f"{LANG_NAMES[lang]} syntax error at character {start + 1}: {what} in {expr!r}"


class _Grammar:
    """The Node process that parses: started on first use, ended when the interpreter exits."""

    def __init__(self) -> None:
        self._process: subprocess.Popen[str] | None = None
        self._lock = threading.Lock()

    def _start(self) -> subprocess.Popen[str]:
        node = shutil.which("node")
        if node is None:
            raise GrammarUnavailable("node is not installed: the PromQL and LogQL grammars need Node.js 20 or newer")
        if not (GRAMMAR_DIR / "node_modules").is_dir():
            raise GrammarUnavailable(f"the grammars are not installed in {GRAMMAR_DIR}: run `make grammar` (npm ci there)")
        process = subprocess.Popen([node, "parse.mjs"], cwd=GRAMMAR_DIR, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, encoding="utf-8")  # noqa: S603 - a fixed script
        atexit.register(self.close)
        return process

    def parse(self, batch: Sequence[tuple[Lang, str]]) -> list[dict[str, Any]]:
        """The raw trees of a batch of (language, substituted query), in one round trip."""
        with self._lock:
            if self._process is None:
                self._process = self._start()
            assert self._process.stdin is not None
            assert self._process.stdout is not None
            try:
                self._process.stdin.write(json.dumps([{"lang": lang, "expr": expr} for lang, expr in batch]) + "\n")
                self._process.stdin.flush()
                answer = self._process.stdout.readline()
            except BrokenPipeError:
                answer = ""
            if not answer:
                self._process.wait()
                self._process = None
                raise GrammarUnavailable(f"the grammar process in {GRAMMAR_DIR} stopped (its error is above)")
            result: list[dict[str, Any]] = json.loads(answer)
            return result

    def close(self) -> None:
        with self._lock:
            if self._process is not None:
                self._process.communicate()
                self._process = None


_GRAMMAR = _Grammar()
_CACHE: dict[tuple[Lang, str], Parsed] = {}


def parse(queries: Sequence[tuple[Lang, str]]) -> list[Parsed]:
    """The tree of every (language, query), in order; the ones not seen before go to Node together, in one batch."""
    missing = [query for query in dict.fromkeys(queries) if query not in _CACHE]
    if missing:
        substituted = [substitute(expr) for _, expr in missing]
        answers = _GRAMMAR.parse([(lang, text) for (lang, _), (text, _) in zip(missing, substituted, strict=True)])
        for (lang, expr), (_, changes), raw in zip(missing, substituted, answers, strict=True):
            error = raw["error"] and _error(lang, expr, _original(raw["error"][0], changes), _original(raw["error"][1], changes))
            _CACHE[lang, expr] = Parsed(lang, expr, _node(raw["tree"], expr, changes), error)
    return [_CACHE[query] for query in queries]
