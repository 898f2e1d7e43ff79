"""The named-query catalogue: every query parses, runs with its examples, and binds parameters as RDF terms."""

from __future__ import annotations

import pyoxigraph as ox
import pytest
from conftest import ROOT

from kg.queries.catalog import Catalog, ParameterError, UnknownQuery, parse_query
from kg.store.backends import run

CATALOG = Catalog(ROOT / "queries")
CHECKS = Catalog(ROOT / "queries" / "checks")


@pytest.mark.parametrize("name", sorted(q.name for q in CATALOG))
def test_query_runs_with_its_examples(store: ox.Store, name: str) -> None:
    query = CATALOG.get(name)
    assert query.summary and query.kind in {"SELECT", "ASK", "CONSTRUCT", "DESCRIBE"}
    examples = {p.name: p.example for p in query.params if p.example is not None}
    assert all(p.example is not None for p in query.params if p.required), (
        f"{name}: a required parameter lacks an example"
    )
    result = run(store, query, query.bind(examples))
    rows = list(result) if not isinstance(result, ox.QueryBoolean) else [bool(result)]
    if "competency" in query.tags and name != "boilerplate_claims":
        assert rows, f"{name} answers nothing with its example parameters"


def test_every_competency_query_names_its_question() -> None:
    competency = [q for q in CATALOG if "competency" in q.tags]
    assert all(q.cq for q in competency)
    assert len({cq for q in competency for cq in q.cq}) == 24  # every public question of ../shared/cq/public.md


@pytest.mark.parametrize("rule", sorted(q.name for q in CHECKS))
def test_quality_rules_declare_severity_and_message(rule: str) -> None:
    query = CHECKS.get(rule)
    assert query.kind == "SELECT" and query.severity in {"error", "warning"} and query.message


def test_bad_parameters_name_the_parameter_and_the_type() -> None:
    query = CATALOG.get("diseases_for_therapy")
    with pytest.raises(ParameterError, match="needs parameter 'therapy'"):
        query.bind({})
    with pytest.raises(ParameterError, match=r"parameter 'therapy' has value 'SLE'; expected an IRI"):
        query.bind({"therapy": "SLE"})
    with pytest.raises(ParameterError, match="has no parameter 'disease'"):
        query.bind({"therapy": "kgr:msc-therapy", "disease": "kgr:lupus"})
    counting = CATALOG.get("diseases_by_source_count")
    with pytest.raises(ParameterError, match="expected an integer"):
        counting.bind({"limit_sources": "3; DROP ALL"})
    assert counting.bind({"limit_sources": "3"})[ox.Variable("limit_sources")] == ox.Literal(
        "3", datatype=ox.NamedNode("http://www.w3.org/2001/XMLSchema#integer")
    )


@pytest.mark.parametrize(
    "value",
    [
        "kgr:lupus> } ; DROP ALL ; SELECT * { <x",
        'https://w3id.org/scad/id/lupus" . ?s ?p ?o',
        "kgr:lupus }\nUNION { ?s ?p ?o }",
    ],
)
def test_injection_through_an_iri_parameter_is_refused(value: str) -> None:
    with pytest.raises(ParameterError):
        CATALOG.get("sources_mentioning").bind({"entity": value})


def test_string_parameters_are_bound_as_literals_not_query_text(store: ox.Store) -> None:
    query = parse_query(ROOT / "tests" / "data" / "label_lookup.rq")
    hostile = 'lupus"@en } UNION { ?entity ?p ?label } #'
    assert list(run(store, query, query.bind({"label": hostile}))) == []
    (row,) = list(run(store, query, query.bind({"label": "lupus"})))
    assert row["entity"] == ox.NamedNode("https://w3id.org/scad/id/lupus")


def test_unknown_query_is_a_clear_error() -> None:
    with pytest.raises(UnknownQuery, match="no named query 'nope'"):
        CATALOG.get("nope")
