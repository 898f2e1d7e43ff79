"""The TRAPI knowledge provider: every answer valid against reasoner-pydantic's TRAPI models; the edges, predicates,
categories and attributes checked against an oracle that shares no code with the provider (rdflib over the Turtle
files, and linkml-runtime's SchemaView over the Biolink model of the biolink-model package); bad TRAPI is a 400 that
names what is wrong; and the same over real HTTP against `kg serve`."""

from __future__ import annotations

import importlib.resources
import json
import subprocess
import sys
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
import rdflib
from conftest import ROOT
from linkml_runtime.utils.formatutils import underscore
from linkml_runtime.utils.schemaview import SchemaView
from reasoner_pydantic import MetaKnowledgeGraph, Query
from reasoner_pydantic import Response as TrapiResponse
from servers import kg_server
from starlette.testclient import TestClient

from kg.app import create_app
from kg.settings import Settings

SCAD = rdflib.Namespace("https://w3id.org/scad/ontology#")
KGR = "https://w3id.org/scad/id/"
SKOS = rdflib.SKOS
BIOLINK = "https://w3id.org/biolink/vocab/"
KINDS = ["Disease", "PathologicalProcess", "CellType", "AnatomicalEntity", "Therapy", "Mechanism", "AdverseEffect"]
KINDS += ["Challenge", "Outcome", "EvidenceKind", "Organization"]


@pytest.fixture(scope="module")
def client() -> Iterator[TestClient]:
    with TestClient(create_app(Settings())) as c:
        yield c


@pytest.fixture(scope="module")
def graph() -> rdflib.Graph:
    g = rdflib.Graph()
    for path in sorted((ROOT / "ontology").rglob("*.ttl")):
        g.parse(path, format="turtle")
    return g


@pytest.fixture(scope="module")
def biolink_view() -> SchemaView:
    return SchemaView(str(importlib.resources.files("biolink_model") / "schema" / "biolink_model.yaml"))


def kgr(iri: Any) -> str:
    return "kgr:" + str(iri)[len(KGR) :]


def kind_of(g: rdflib.Graph, entity: rdflib.term.Node) -> str | None:
    for cls in g.objects(entity, rdflib.RDF.type):
        for kind in KINDS:
            if (cls, rdflib.RDFS.subClassOf * "*", SCAD[kind]) in g:  # type: ignore[operator]
                return kind
    return None


def biolink_of(g: rdflib.Graph, term: rdflib.term.Node, default: str) -> str:
    for match in (SKOS.exactMatch, SKOS.closeMatch):
        found = sorted(str(o) for o in g.objects(term, match) if str(o).startswith(BIOLINK))
        if found:
            return "biolink:" + found[0][len(BIOLINK) :]
    return default


def oracle_edges(g: rdflib.Graph) -> dict[str, dict[str, Any]]:
    """Every claim between two entities, by its CURIE, as rdflib reads the Turtle files."""
    edges = {}
    for claim in g.subjects(rdflib.RDF.type, SCAD.Claim):
        subject, obj = g.value(claim, SCAD.subject), g.value(claim, SCAD.object)
        if obj is None or kind_of(g, subject) is None or kind_of(g, obj) is None:
            continue
        source = g.value(claim, SCAD.statedIn)
        edges[kgr(claim)] = {
            "subject": kgr(subject),
            "object": kgr(obj),
            "subject_kind": kind_of(g, subject),
            "object_kind": kind_of(g, obj),
            "predicate": biolink_of(g, g.value(claim, SCAD.predicate), "biolink:related_to"),
            "quote": str(g.value(claim, SCAD.quote)),
            "source": str(source),
            "negated": g.value(claim, SCAD.negated).toPython(),
            "promotional": g.value(source, SCAD.isPromotional).toPython(),
            "certainty": "scad:" + str(g.value(claim, SCAD.certainty)).rsplit("#", 1)[1],
        }
    return edges


def one_hop(subject_node: dict[str, Any], object_node: dict[str, Any], **edge: Any) -> dict[str, Any]:
    return {
        "message": {
            "query_graph": {
                "nodes": {"s": subject_node, "o": object_node},
                "edges": {"e": {"subject": "s", "object": "o", **edge}},
            }
        }
    }


def ask(client: TestClient | httpx.Client, query: dict[str, Any]) -> dict[str, Any]:
    Query.model_validate(query)  # the test's own queries are valid TRAPI
    response = client.post("/trapi/query", json=query)
    assert response.status_code == 200, response.text
    body = response.json()
    TrapiResponse.model_validate(body)
    assert body["schema_version"].startswith("1.5")
    return body


def edge_ids(body: dict[str, Any]) -> set[str]:
    return set(body["message"]["knowledge_graph"]["edges"])


def test_open_query_returns_every_claim_between_entities_with_its_evidence(
    client: TestClient, graph: rdflib.Graph
) -> None:
    body = ask(client, one_hop({}, {}))
    expected = oracle_edges(graph)
    edges = body["message"]["knowledge_graph"]["edges"]
    assert set(edges) == set(expected)
    for key, edge in edges.items():
        want = expected[key]
        assert (edge["subject"], edge["object"], edge["predicate"]) == (
            want["subject"],
            want["object"],
            want["predicate"],
        )
        assert [s["resource_role"] for s in edge["sources"]] == ["primary_knowledge_source"]
        assert edge["sources"][0]["resource_id"] == "infores:scad-kg"
        attributes = {a["attribute_type_id"]: a["value"] for a in edge["attributes"]}
        assert attributes["biolink:supporting_text"] == [want["quote"]]
        assert attributes["biolink:publications"] == [want["source"]]
        assert attributes["biolink:negated"] is want["negated"]
        assert attributes["scad:isPromotional"] is want["promotional"]
        assert attributes["scad:certainty"] == want["certainty"]
        assert attributes["biolink:knowledge_level"] in ("knowledge_assertion", "prediction")
        assert attributes["biolink:agent_type"] == "automated_agent"
    bound = {b["id"] for r in body["message"]["results"] for e in r["analyses"] for b in e["edge_bindings"]["e"]}
    assert bound == set(expected)


def test_ids_by_external_identifier_and_categories_with_descendants(client: TestClient, graph: rdflib.Graph) -> None:
    # multiple sclerosis by its MONDO id; its therapies by biolink:Procedure (scad:Therapy's alignment)
    query = one_hop({"categories": ["biolink:Procedure"]}, {"ids": ["MONDO:0005301"]})
    body = ask(client, query)
    expected = {
        k
        for k, e in oracle_edges(graph).items()
        if e["object"] == "kgr:multiple-sclerosis" and e["subject_kind"] == "Therapy"
    }
    assert expected and edge_ids(body) == expected
    for result in body["message"]["results"]:
        assert result["node_bindings"]["o"] == [
            {"id": "kgr:multiple-sclerosis", "query_id": "MONDO:0005301", "attributes": []}
        ]
    # an ancestor category (Disease is a DiseaseOrPhenotypicFeature) matches too; an unrelated one does not
    wide = ask(
        client, one_hop({"categories": ["biolink:Procedure"]}, {"categories": ["biolink:DiseaseOrPhenotypicFeature"]})
    )
    assert expected <= edge_ids(wide)
    assert not edge_ids(ask(client, one_hop({"categories": ["biolink:Gene"]}, {})))


def test_predicates_match_their_biolink_descendants(
    client: TestClient, graph: rdflib.Graph, biolink_view: SchemaView
) -> None:
    parent = "treats or applied or studied to treat"
    descendants = {f"biolink:{underscore(s)}" for s in biolink_view.slot_descendants(parent, reflexive=True)}
    expected = {k for k, e in oracle_edges(graph).items() if e["predicate"] in descendants}
    assert expected  # the graph has some (applied_to_treat, studied_to_treat)
    body = ask(client, one_hop({}, {}, predicates=[f"biolink:{underscore(parent)}"]))
    assert edge_ids(body) == expected
    exact = ask(client, one_hop({}, {}, predicates=["biolink:studied_to_treat"]))
    assert edge_ids(exact) == {
        k for k, e in oracle_edges(graph).items() if e["predicate"] == "biolink:studied_to_treat"
    }


def test_attribute_constraints_filter_on_certainty_negation_and_promotion(
    client: TestClient, graph: rdflib.Graph
) -> None:
    edges = oracle_edges(graph)

    def constrained(*constraints: dict[str, Any]) -> set[str]:
        return edge_ids(ask(client, one_hop({}, {}, attribute_constraints=list(constraints))))

    negated = {k for k, e in edges.items() if e["negated"]}
    assert (
        negated
        and constrained({"id": "biolink:negated", "name": "negated", "operator": "==", "value": True}) == negated
    )
    independent = {k for k, e in edges.items() if not e["promotional"]}
    not_promo = {"id": "scad:isPromotional", "name": "promotional", "operator": "==", "value": False}
    assert constrained(not_promo) == independent
    not_hedged = {"id": "scad:certainty", "name": "certainty", "operator": "==", "value": "scad:Hedged", "not": True}
    want = {k for k in independent if edges[k]["certainty"] != "scad:Hedged"}
    assert constrained(not_promo, not_hedged) == want
    either = {
        "id": "scad:certainty",
        "name": "certainty",
        "operator": "==",
        "value": ["scad:Hedged", "scad:Speculative"],
    }
    assert constrained(either) == {k for k, e in edges.items() if e["certainty"] in ("scad:Hedged", "scad:Speculative")}


def test_meta_knowledge_graph_lists_what_the_queries_answer(client: TestClient, graph: rdflib.Graph) -> None:
    response = client.get("/trapi/meta_knowledge_graph")
    assert response.status_code == 200
    meta = response.json()
    MetaKnowledgeGraph.model_validate(meta)
    categories = {kind: biolink_of(graph, SCAD[kind], "biolink:NamedThing") for kind in KINDS}
    expected = {
        (categories[e["subject_kind"]], e["predicate"], categories[e["object_kind"]])
        for e in oracle_edges(graph).values()
    }
    assert {(e["subject"], e["predicate"], e["object"]) for e in meta["edges"]} == expected
    assert "MONDO" in meta["nodes"]["biolink:Disease"]["id_prefixes"]
    constrainable = {a["attribute_type_id"] for a in meta["edges"][0]["attributes"] if a["constraint_use"]}
    assert {"biolink:negated", "scad:certainty", "scad:isPromotional", "biolink:knowledge_level"} <= constrainable


BAD = [
    ({"message": {}}, "message.query_graph"),
    (one_hop({}, {"categories": ["biolink:Diseasee"]}), "biolink:Diseasee"),
    (one_hop({}, {}, predicates=["biolink:treats_badly"]), "biolink:treats_badly"),
    (one_hop({"ids": [f"kgr:x{n}" for n in range(101)]}, {}), "at most 100"),
    (
        one_hop({}, {}, attribute_constraints=[{"id": "biolink:p_value", "name": "p", "operator": "<", "value": 0.05}]),
        "biolink:p_value",
    ),
    (
        one_hop(
            {},
            {},
            attribute_constraints=[{"id": "biolink:negated", "name": "n", "operator": "matches", "value": "t.*"}],
        ),
        "matches",
    ),
    (one_hop({"set_interpretation": "ALL", "ids": ["kgr:lupus"]}, {}), "set_interpretation"),
    (one_hop({}, {}, knowledge_type="inferred"), "inferred"),
    (
        {
            "message": {
                "query_graph": {
                    "nodes": {"a": {}, "b": {}, "c": {}},
                    "edges": {"x": {"subject": "a", "object": "b"}, "y": {"subject": "b", "object": "c"}},
                }
            }
        },
        "one-hop",
    ),
    (one_hop({}, {}, subject="nowhere"), "nowhere"),
    ({"message": {"query_graph": {"nodes": [], "edges": {}}}}, "expected a JSON object"),
]


@pytest.mark.parametrize(("query", "named"), BAD)
def test_bad_trapi_is_a_400_that_names_the_problem(client: TestClient, query: dict[str, Any], named: str) -> None:
    response = client.post("/trapi/query", json=query)
    assert response.status_code == 400, response.text
    assert named in response.json()["detail"]


def test_bad_bodies_are_refused_before_parsing(client: TestClient) -> None:
    assert client.post("/trapi/query", content=b"{", headers={"Content-Type": "application/json"}).status_code == 400
    deep = b"[" * 100_000 + b"]" * 100_000
    nested = client.post("/trapi/query", content=deep, headers={"Content-Type": "application/json"})
    assert nested.status_code in (400, 413) and "Traceback" not in nested.text
    assert client.post("/trapi/query", content=b"{}", headers={"Content-Type": "text/plain"}).status_code == 415
    big = b'{"message": "' + b"x" * 1_100_000 + b'"}'
    assert client.post("/trapi/query", content=big, headers={"Content-Type": "application/json"}).status_code == 413


def test_openapi_carries_the_translator_blocks(client: TestClient) -> None:
    info = client.get("/openapi.json").json()["info"]
    assert info["x-trapi"]["version"].startswith("1.5")
    assert info["x-translator"]["component"] == "KP"
    assert info["x-translator"]["infores"] == "infores:scad-kg"
    assert "not registered" in info["description"]
    paths = client.get("/openapi.json").json()["paths"]
    assert "post" in paths["/trapi/query"] and "get" in paths["/trapi/meta_knowledge_graph"]


def test_biolink_table_is_what_the_biolink_model_says() -> None:
    """kg/trapi/biolink.json is regenerated from the biolink-model package and the alignments in ontology/."""
    done = subprocess.run(
        [sys.executable, str(ROOT / "scripts" / "biolink_table.py"), "--check"],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    table = json.loads((ROOT / "kg" / "trapi" / "biolink.json").read_text())
    assert (
        table["biolink_version"]
        == SchemaView(str(importlib.resources.files("biolink_model") / "schema" / "biolink_model.yaml")).schema.version
    )


def test_trapi_over_real_http() -> None:
    with kg_server(env={"KG_ACCESS_LOG": "false"}) as served, httpx.Client(base_url=served.url, timeout=30) as http:
        body = ask(
            http,
            one_hop(
                {"ids": ["kgr:hematopoietic-stem-cell-transplantation"]},
                {"categories": ["biolink:DiseaseOrPhenotypicFeature"]},
                predicates=["biolink:has_adverse_event"],
            ),
        )
        assert body["message"]["results"]
        assert all(
            e["predicate"] == "biolink:has_adverse_event" for e in body["message"]["knowledge_graph"]["edges"].values()
        )
        MetaKnowledgeGraph.model_validate(http.get("/trapi/meta_knowledge_graph").json())
        assert http.post("/trapi/query", json={"message": {}}).status_code == 400
