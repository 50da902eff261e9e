"""The lint's grammar check: every query of the boards parses with its real grammar, and broken ones are caught."""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from pathlib import Path

import pytest

from dashboards import lezer, lint

PERMISSIVE = frozenset({"MIT", "Apache-2.0", "ISC", "BSD-2-Clause", "BSD-3-Clause", "0BSD"})
_QUOTED_VALUE = re.compile(r'(=~|!~|!=|=)\s*"((?:\\.|[^"\\])*)"')


def _board_queries() -> list[lint.BoardQuery]:
    return [query for path in lint.board_files() for query in lint.BoardLinter(path).queries()]


def _drop_closing_brace(expr: str) -> str:
    return expr.replace("}", "", 1)


def _unquote_label_value(expr: str) -> str:
    return _QUOTED_VALUE.sub(r"\1\2", expr, count=1)


def _unbalance_paren(expr: str) -> str:
    return f"({expr}"


MUTATIONS: dict[str, Callable[[str], str]] = {
    "dropped closing brace": _drop_closing_brace,
    "unquoted label value": _unquote_label_value,
    "unbalanced paren": _unbalance_paren,
}


def test_every_query_of_the_boards_parses() -> None:
    """Every target (PromQL and LogQL) and every variable's selector of the generated boards parses."""
    queries = _board_queries()
    assert {query.lang for query in queries} == {"promql", "logql"}
    assert any(query.where.startswith("variable ") for query in queries)
    assert lint.grammar_problems(queries) == []


def test_every_broken_target_is_reported() -> None:
    """A dropped '}', an unquoted label value and an unbalanced '(' in any target each fail the grammar check."""
    targets = [query for query in _board_queries() if query.where.startswith("panel ")]
    mutants = []
    for query in targets:
        for mutation, mutate in MUTATIONS.items():
            broken = mutate(query.expr)
            assert broken != query.expr, f"{query.where}: {mutation} changes nothing in {query.expr!r}"
            mutants.append(lint.BoardQuery(query.path, f"{query.where} ({mutation})", query.lang, broken))
    found = lint.grammar_problems(mutants)
    reported = sorted(problem.message.split(": ", 1)[0] for problem in found)
    assert reported == sorted(mutant.where for mutant in mutants)
    assert all("syntax error at character " in problem.message and problem.rule == "grammar" for problem in found)


def test_grafana_variables_are_substituted_and_mapped_back() -> None:
    """Built-in intervals become durations and user variables a word; the tree still reads the text as written."""
    expr = 'sum by (level) (rate({env=~"${env:regex}"} | json | symbol=~"[[symbol]]" [$__auto] offset $shift))'
    text, _ = lezer.substitute(expr)
    assert text == 'sum by (level) (rate({env=~"placeholder"} | json | symbol=~"placeholder" [5m] offset 5m))'
    [parsed] = lezer.parse([("logql", expr)])
    assert parsed.error is None
    assert [node.text for node in parsed.tree.find("String", "Duration")] == ['"${env:regex}"', '"[[symbol]]"', "$__auto", "$shift"]


def test_missing_grammars_are_named(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """Without node_modules the parser says how to install the grammars instead of failing obscurely."""
    monkeypatch.setattr(lezer, "GRAMMAR_DIR", tmp_path)
    with pytest.raises(lezer.GrammarUnavailable, match="make grammar"):
        lezer._Grammar().parse([("promql", "up")])


def test_grammar_packages_are_pinned_and_permissively_licensed() -> None:
    """package.json pins exact versions, the lock holds them, and every locked package is MIT, Apache, ISC or BSD."""
    package = json.loads((lezer.GRAMMAR_DIR / "package.json").read_text())
    locked = json.loads((lezer.GRAMMAR_DIR / "package-lock.json").read_text())["packages"]
    for name, version in package["dependencies"].items():
        assert re.fullmatch(r"\d+\.\d+\.\d+", version), name
        assert locked[f"node_modules/{name}"]["version"] == version
    licenses = {path: entry.get("license") for path, entry in locked.items() if path}
    assert {path: license for path, license in licenses.items() if license not in PERMISSIVE} == {}
