"""The parameter-binding check of `kg validate` (kg/queries/binding.py): each verdict is compared with what the
binding really does on a small graph, against the meaning computed directly with pyoxigraph (an optional parameter
narrows the unparameterized answer; a required one, or one with a default, is substituted)."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pyoxigraph as ox
import pytest
from conftest import ROOT

from kg.queries.binding import check
from kg.queries.catalog import NamedQuery, parse_query
from kg.store.backends import run

EX = "http://example.org/"
DATA = f"<{EX}a> <{EX}p> <{EX}b> .\n<{EX}a> <{EX}q> <{EX}c> .\n<{EX}d> <{EX}p> <{EX}e> .\n"
PREFIX = f"PREFIX ex: <{EX}>\n"

# (name, parameter header, query, the start of the finding or None when the binding is sound)
CASES = [
    ("required_pattern", "", "SELECT ?s ?x WHERE { ?s ex:q ?x }", None),
    ("only_in_optional", "", "SELECT ?s ?x WHERE { ?s ex:p ?o OPTIONAL { ?s ex:q ?x } }", "?x occurs inside OPTIONAL"),
    ("optional_first", "", "SELECT ?s ?x WHERE { OPTIONAL { ?s ex:q ?x } ?s ex:p ?x }", "?x occurs inside OPTIONAL"),
    ("only_in_minus", "", "SELECT ?s ?x WHERE { ?s ex:p ?o MINUS { ?s ex:q ?x } }", "?x occurs inside MINUS"),
    (
        "subquery_hides_it",
        "",
        "SELECT ?s ?x WHERE { { SELECT ?s WHERE { ?s ex:q ?x } } }",
        "?x is bound by no graph pattern",
    ),
    ("bind_before", "", "SELECT ?s ?x ?y WHERE { BIND (?x AS ?y) ?s ex:q ?x }", "?x is used in a BIND"),
    ("one_union_branch", "", "SELECT ?s ?x WHERE { { ?s ex:q ?x } UNION { ?s ex:p ?o } }", "?x is not bound in every"),
    ("both_union_branches", "", "SELECT ?s ?x WHERE { { ?s ex:q ?x } UNION { ?s ex:p ?x } }", None),
    ("graph_name", "", "SELECT ?s ?x WHERE { GRAPH ?x { ?s ex:p ?o } }", None),
    ("not_projected", "", "SELECT ?s WHERE { ?s ex:q ?x }", "?x is not in the SELECT projection"),
    ("limit", "", "SELECT ?s ?x WHERE { ?s ?p ?x } ORDER BY ?x LIMIT 1", "is in a query with LIMIT"),
    ("group_key", "", "SELECT ?x (COUNT(?s) AS ?n) WHERE { ?s ?p ?x } GROUP BY ?x", None),
    ("filter_over_optional", "bind: filter", "SELECT ?s ?x WHERE { ?s ex:p ?o OPTIONAL { ?s ex:q ?x } }", None),
    (
        "required_in_optional",
        "required: true",
        "SELECT ?s ?x WHERE { ?s ex:p ?o OPTIONAL { ?s ex:q ?x } }",
        "?x occurs",
    ),
    ("required_pattern_sub", "required: true", "SELECT ?s ?x WHERE { ?s ex:p ?o . ?s ?p ?x }", None),
    (
        "threshold_default",
        "default: 0",
        "SELECT ?s ?x (COUNT(*) AS ?n) WHERE { ?s ?p ?o } GROUP BY ?s ?x HAVING (COUNT(*) >= ?x)",
        None,
    ),
]


def write(tmp_path: Path, name: str, header: str, body: str) -> NamedQuery:
    extra = f"\n#+     {header}" if header else ""
    kind = "integer" if "default" in header else "iri"
    path = tmp_path / f"{name}.rq"
    path.write_text(f"#+ summary: a case\n#+ params:\n#+   - name: x\n#+     type: {kind}{extra}\n{PREFIX}{body}\n")
    return parse_query(path)


def rows(result: object) -> list[tuple[tuple[str, str], ...]]:
    assert isinstance(result, ox.QuerySolutions)
    names = [v.value for v in result.variables]
    return sorted(tuple((n, str(r[n])) for n in names if r[n] is not None) for r in result)


@pytest.mark.parametrize(("name", "header", "body", "finding"), CASES, ids=[c[0] for c in CASES])
def test_verdict_matches_what_the_binding_does(
    tmp_path: Path, name: str, header: str, body: str, finding: str | None
) -> None:
    query = write(tmp_path, name, header, body)
    problems = check(query)
    if finding is None:
        assert problems == []
    else:
        assert len(problems) == 1 and problems[0].message.startswith(f"parameter 'x' {finding}"), problems
        assert problems[0].line == len(query.source.splitlines())  # the line of the query that mentions ?x
    store = ox.Store()
    store.load(DATA.encode(), ox.RdfFormat.N_TRIPLES, to_graph=ox.NamedNode(EX + "g"))
    p = query.params[0]
    values = ["2", "1"] if p.type == "integer" else [EX + "c", EX + "b", EX + "g", EX + "nowhere"]
    differs = False
    for value in values:
        term = query.term(p, value)
        fast = rows(run(store, query, query.bind({"x": value})))
        if p.required or p.default is not None:
            meaning = rows(
                store.query(query.source, use_default_graph_as_union=True, substitutions={ox.Variable("x"): term})
            )
        else:
            everything = rows(store.query(query.source, use_default_graph_as_union=True))
            meaning = [r for r in everything if ("x", str(term)) in r]
        differs = differs or fast != meaning
    if finding is None:
        assert not differs, "the check passed a binding that changes the answer"
    elif name not in ("not_projected", "required_in_optional"):  # nothing to compare / VALUES = substitution there
        assert differs, "the check refused a binding that means what it says on this graph"


def test_validate_reports_the_query_file_and_line(tmp_path: Path) -> None:
    queries = tmp_path / "queries"
    shutil.copytree(ROOT / "queries", queries)
    bad = write(queries, "fabricating", "", "SELECT ?s ?x WHERE {\n  ?s ex:p ?o\n  OPTIONAL { ?s ex:q ?x }\n}")
    env = {**os.environ, "KG_QUERIES_DIR": str(queries)}
    result = subprocess.run(
        [sys.executable, "-m", "kg", "validate", "--no-reasoner"], cwd=ROOT, env=env, capture_output=True, text=True
    )
    assert result.returncode == 1, result.stdout + result.stderr
    line = bad.source.splitlines().index("  OPTIONAL { ?s ex:q ?x }") + 1
    assert f"fabricating.rq:{line}: error: query 'fabricating' parameter 'x' ?x occurs inside OPTIONAL" in result.stdout
    assert "[parameter_binding]" in result.stdout


def test_every_named_query_binds_soundly(tmp_path: Path) -> None:
    from kg.queries.catalog import Catalog

    assert {q.name: check(q) for q in Catalog(ROOT / "queries") if check(q)} == {}
