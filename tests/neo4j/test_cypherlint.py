"""lint_cypher: Neo4j's own Cypher parser and semantic analysis, run from Python.

All texts are linted in one `node` call (module fixture, ~2 s). Skips, with the reason,
where node or `npm ci --prefix tests/cypher_lint` is missing.
"""

from __future__ import annotations

import pytest
from support import cypherlint
from support.cypherlint import (
    CypherLintUnavailable,
    browser_param_names,
    errors,
    lint_cypher,
    strip_browser_params,
)

SCHEMA = {
    "labels": ["Model", "Root"],
    "rel_types": ["DERIVED_FROM"],
    "properties": ["id", "downloads", "created_at"],
}

CASES = {
    "syntax": "MATCH (m:Model RETURN m",
    "undefined_variable": "MATCH (m:Model) RETURN n.id",
    "unknown_function": "MATCH (m:Model) RETURN frobnicate(m.id) AS x",
    "undeclared_param": "MATCH (m:Model) RETURN m.id LIMIT $nope",
    "type_error": "RETURN toUpper(1) AS x",
    "valid": (
        "// top models since a date, per month\n"
        "MATCH (m:Model)-[:DERIVED_FROM*1..]->(r:Root)\n"
        "WHERE m.created_at >= $since\n"
        "WITH date.truncate('month', m.created_at) AS month, r, count(m) AS n, "
        "sum(m.downloads) AS dl\n"
        "RETURN month, r {.id} AS root, n, dl ORDER BY dl DESC LIMIT $limit;\n"
        "/* a second statement */\n"
        "UNWIND $rows AS row MERGE (m:Model {id: row.id}) SET m += row.props;\n"
    ),
    "unknown_label": "MATCH (m:Modle) RETURN m.id",
    "browser_params": (
        ":param limit => 5\n"
        ":params {since: date('2024-01-01'),\n"
        "  rows: []}\n"
        "MATCH (m:Model) WHERE m.created_at >= $since RETURN m.id LIMIT $limit;\n"
        "RETURN undefinedThing;\n"
    ),
}


@pytest.fixture(scope="module")
def results():
    try:
        diags = lint_cypher(
            list(CASES.items()), params={"since": "2024-01-01", "limit": 10, "rows": []}, **SCHEMA
        )
    except CypherLintUnavailable as exc:
        pytest.skip(f"Cypher linter unavailable: {exc}")
    by_case = {name: [] for name in CASES}
    for d in diags:
        by_case[d.path].append(d)
    return by_case


def messages(diags):
    return [d.message for d in diags]


def test_catches_a_syntax_error(results):
    errs = errors(results["syntax"])
    assert errs, results["syntax"]
    assert errs[0].message.startswith("Invalid input 'RETURN'")
    assert (errs[0].line, errs[0].column) == (1, 16)


def test_catches_an_undefined_variable(results):
    assert messages(errors(results["undefined_variable"])) == ["Variable `n` not defined"]


def test_catches_an_unknown_function(results):
    (err,) = errors(results["unknown_function"])
    assert err.message.startswith("Function frobnicate is not present in the database")


def test_catches_an_undeclared_parameter_and_a_type_error(results):
    assert messages(errors(results["undeclared_param"])) == ["Parameter $nope is not defined."]
    assert messages(errors(results["type_error"])) == [
        "Type mismatch: expected String but was Integer"
    ]


def test_valid_query_with_params_comments_and_two_statements_passes(results):
    assert results["valid"] == []


def test_unknown_label_is_a_warning_not_an_error(results):
    diags = results["unknown_label"]
    assert [d.severity for d in diags] == ["warning"]
    assert diags[0].message.startswith("Label Modle is not present")


def test_browser_param_lines_are_stripped_and_positions_kept(results):
    diags = results["browser_params"]
    # $limit/$since are fine; the only error is on line 5 of the original text.
    assert [(d.severity, d.line, d.message) for d in diags] == [
        ("error", 5, "Variable `undefinedThing` not defined")
    ]


def test_strip_browser_params_keeps_lines_and_offsets():
    text = ":param x => 1\n:params {a: {b: 1},\n c: '}'}\nRETURN $x, $a, $c\n"
    stripped = strip_browser_params(text)
    assert len(stripped) == len(text)
    assert stripped.splitlines()[3] == "RETURN $x, $a, $c"
    assert stripped.strip() == "RETURN $x, $a, $c"
    assert browser_param_names(text) == ["x", "a", "c"]
    assert strip_browser_params("MATCH (n) RETURN n") == "MATCH (n) RETURN n"


def test_missing_node_is_reported_as_unavailable(monkeypatch):
    monkeypatch.setattr(cypherlint.shutil, "which", lambda name: None)
    with pytest.raises(CypherLintUnavailable, match="node"):
        lint_cypher("RETURN 1")
