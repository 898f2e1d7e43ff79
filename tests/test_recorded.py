"""`kg build` measures the GraphQL list sizes of the release once and keeps them beside the store (sizes.json), so
`kg serve --store` does not survey the whole graph in every worker at start. The costs a server reports from the
recorded sizes are the ones worked out by hand from the sources (five articles) and the same as a server that
surveys the release itself; a file of another release is ignored, and one of this release is what is read."""

from __future__ import annotations

import json
import shutil
import sqlite3
from pathlib import Path

import pytest
import rdflib
from conftest import ROOT
from starlette.testclient import TestClient

from kg.app import create_app
from kg.graphql.recorded import SIZES_FILE, record
from kg.queries.catalog import Catalog
from kg.rdf.dataset import Dataset
from kg.settings import Settings
from kg.store.build import build_store
from kg.store.edges import EDGES_FILE
from kg.store.labels import LABELS_FILE

SOURCES = 5  # the source articles 000 to 004
QUERIES = [
    "{ sources { id } }",
    '{ entity(id: "kgr:lupus") { relations { edges { relation } } } }',
    '{ entity(id: "kgr:lupus") { relations { edges { node { relations { edges { relation } } } } } } }',
    "{ claims(first: 4) { edges { node { source { id } } } } sources { id } }",
]


@pytest.fixture(scope="module")
def recorded(dataset: Dataset, settings: Settings, tmp_path_factory: pytest.TempPathFactory) -> Path:
    target = tmp_path_factory.mktemp("recorded") / "kg"
    catalog = Catalog(settings.queries_dir)
    build_store(
        dataset,
        settings.ontology_dir,
        target,
        catalog.get("entity_labels").text,
        catalog,
        survey=lambda built: record(built, settings.queries_dir),
    )
    return target


def costs(settings: Settings) -> list[int]:
    with TestClient(create_app(settings)) as client:
        found = []
        for query in QUERIES:
            body = client.post("/graphql", json={"query": query}, headers={"X-KG-Debug": "1"}).json()
            assert "errors" not in body, body["errors"]
            found.append(int(body["extensions"]["cost"]))
        return found


def test_the_build_records_the_sizes_of_its_release(recorded: Path) -> None:
    sizes = json.loads((recorded / SIZES_FILE).read_text())
    release = json.loads((recorded / "build.json").read_text())["release"]
    assert sizes["release"] == release
    assert sizes["counts"]["sources"] == SOURCES


def test_recorded_give_the_costs_of_a_survey_at_start(recorded: Path, tmp_path: Path) -> None:
    from_file = costs(Settings(store_dir=recorded))
    assert from_file[0] == 1 + SOURCES  # by hand: the list 1, each source 1
    unrecorded = tmp_path / "kg"
    unrecorded.mkdir()
    for item in recorded.iterdir():  # the same store without its sizes.json: surveyed at start
        if item.name != SIZES_FILE:
            (unrecorded / item.name).symlink_to(item)
    assert costs(Settings(store_dir=unrecorded)) == from_file


def test_the_recorded_file_is_what_is_read_and_only_for_its_release(recorded: Path, tmp_path: Path) -> None:
    copy = tmp_path / "kg"
    copy.mkdir()
    for item in recorded.iterdir():
        if item.name != SIZES_FILE:
            (copy / item.name).symlink_to(item)
    sizes = json.loads((recorded / SIZES_FILE).read_text())
    sizes["counts"]["sources"] = 50  # not this graph's count: seen only if the file is read
    (copy / SIZES_FILE).write_text(json.dumps(sizes))
    assert costs(Settings(store_dir=copy))[0] == 1 + 50
    (copy / SIZES_FILE).write_text(json.dumps(sizes | {"release": "another"}))
    assert costs(Settings(store_dir=copy))[0] == 1 + SOURCES
    (copy / SIZES_FILE).write_text("{not json")
    assert costs(Settings(store_dir=copy))[0] == 1 + SOURCES


def altered(recorded: Path, target: Path, name: str, statement: str) -> Path:
    """The same store with its SQLite file ``name`` copied and changed by ``statement`` (the rest linked)."""
    target.mkdir()
    for item in recorded.iterdir():
        if item.name == name:
            shutil.copyfile(item, target / item.name)
        else:
            (target / item.name).symlink_to(item)
    with sqlite3.connect(target / name) as connection:
        connection.execute(statement)
    connection.close()
    return target


def without_heads(recorded: Path, target: Path) -> Path:
    """The same store with a label index that has no recorded heads: every card is built from the store."""
    return altered(recorded, target, LABELS_FILE, "DROP TABLE head")


SEARCH = (Path(__file__).resolve().parent.parent / "queries" / "graphql" / "search.graphql").read_text()
TEXTS = ["lup", "lupus", "LUPUS", "sc", "stem cell", "ms", "marrow", "t", "arthritis", "zzzz", " lupus ", "é", ""]
TEXTS += ["lupus\x00", "lu\x00pus", "\x00\x00\x00", 'lu"\x1f*']  # a NUL used to end the full-text query early


def test_the_search_document_is_answered_from_the_index_as_graphql_answers_it(recorded: Path, tmp_path: Path) -> None:
    """Each answer equals GraphQL's own for the same search (the document with a trailing space, which only GraphQL
    answers, on the same store without recorded heads: an independent path through the schema, the card loader and
    the store), and needs no store query."""
    oracle = without_heads(recorded, tmp_path / "kg")
    with (
        TestClient(create_app(Settings(store_dir=recorded, cache_entries=0))) as client,
        TestClient(create_app(Settings(store_dir=oracle, cache_entries=0))) as other,
    ):
        executor = client.app.state.executor  # type: ignore[attr-defined]
        for text in TEXTS:
            for variables in ({"text": text}, {"text": text, "first": 3}, {"text": text, "first": 0}):
                asked = executor.store_queries
                fast = client.post("/graphql", json={"query": SEARCH, "variables": variables})
                assert executor.store_queries == asked, variables  # answered from the label index
                slow = other.post("/graphql", json={"query": SEARCH + " ", "variables": variables})
                assert fast.status_code == slow.status_code == 200
                assert fast.json() == slow.json(), variables
                assert fast.headers["content-type"] == slow.headers["content-type"]
        found = client.post("/graphql", json={"query": SEARCH, "variables": {"text": "lupus"}}).json()
        assert "https://w3id.org/scad/id/lupus" in [h["entity"]["id"] for h in found["data"]["search"]]


def test_searches_graphql_would_refuse_or_shape_otherwise_are_left_to_it(recorded: Path) -> None:
    with TestClient(create_app(Settings(store_dir=recorded, cache_entries=0))) as client:
        for variables in ({"text": "x" * 201}, {"text": "lup", "first": -1}, {"text": "lup", "first": None}, {}):
            fast = client.post("/graphql", json={"query": SEARCH, "variables": variables})
            slow = client.post("/graphql", json={"query": SEARCH + " ", "variables": variables})
            assert fast.status_code == slow.status_code and fast.json() == slow.json(), variables
        for variables in ({"text": "x" * 201}, {"text": "lup", "first": -1}):
            errors = client.post("/graphql", json={"query": SEARCH, "variables": variables}).json()["errors"]
            assert errors and ("200 characters" in errors[0]["message"] or "page size" in errors[0]["message"])


def test_hostile_search_bodies_get_the_answers_graphql_gives(recorded: Path) -> None:
    """Bodies the fast path must not answer itself: each gets what GraphQL's view gives the same body with the
    document changed (a 4xx or an error naming the problem), never a 5xx."""
    deep = "[" * 3000 + "]" * 3000
    bodies = [
        (json.dumps({"query": SEARCH, "variables": {"text": "\ud800"}}), True),  # a lone surrogate, escaped
        ('{"query": ' + json.dumps(SEARCH) + ', "variables": {"text": ' + deep + "}}", True),
        (json.dumps({"query": SEARCH, "variables": {"text": 5}}), True),
        (json.dumps({"query": SEARCH, "variables": {"text": "lup", "first": "3"}}), True),
        (json.dumps({"query": SEARCH, "variables": {"text": "lup"}, "operationName": "Other"}), True),
        (b'{"query": "\xff"}', False),
    ]
    with TestClient(create_app(Settings(store_dir=recorded, cache_entries=0))) as client:
        for body, comparable in bodies:
            fast = client.post("/graphql", content=body, headers={"Content-Type": "application/json"})
            assert fast.status_code < 500, body
            if comparable:
                text = body if isinstance(body, str) else body.decode()
                slow_body = text.replace(json.dumps(SEARCH), json.dumps(SEARCH + " "))
                slow = client.post("/graphql", content=slow_body, headers={"Content-Type": "application/json"})
                assert fast.status_code == slow.status_code, body[:80]
                if fast.headers["content-type"].startswith("application/json"):
                    assert "errors" in fast.json() and "errors" in slow.json(), body[:80]


DOCUMENTS = Path(__file__).resolve().parent.parent / "queries" / "graphql"
WHOLE_CARDS_OF_NODES = """query ($id: ID!) { entity(id: $id) { relations(first: 50) { edges { node {
  __typename id curie label synonyms definition notes classes externalIds { curie match verification label } } } } } }"""


def test_cards_from_the_recorded_heads_answer_as_cards_built_from_the_store(recorded: Path, tmp_path: Path) -> None:
    """Lists and relation pages take an entity's kind and label from the heads the build recorded, and load the rest
    of its card only for the fields that need it: every persisted document, and one asking a whole card of each
    node, answer as on the same store without heads (where every card is built by a store query), with fewer store
    queries for the disease card."""
    oracle = without_heads(recorded, tmp_path / "kg")
    with (
        TestClient(create_app(Settings(store_dir=recorded, cache_entries=0))) as fast,
        TestClient(create_app(Settings(store_dir=oracle, cache_entries=0))) as slow,
    ):
        first = slow.post("/graphql", json={"query": "{ sources { id } claims(first: 1) { edges { node { id } } } }"})
        ids = ["kgr:lupus", "kgr:msc-therapy", "kgr:mesenchymal-stem-cell", "kgr:bone-marrow"]
        source = first.json()["data"]["sources"][0]["id"]
        claim = first.json()["data"]["claims"]["edges"][0]["node"]["id"]
        asked: list[tuple[str, dict[str, object]]] = [(WHOLE_CARDS_OF_NODES, {"id": i}) for i in ids]
        for path in sorted(DOCUMENTS.glob("*.graphql")):
            document = path.read_text() + " "  # not the search fast path: GraphQL answers each
            if "$relation" in document:
                asked += [
                    (document, {"id": i, "relation": "INVESTIGATED_FOR", "direction": d})
                    for i in ids
                    for d in ("INCOMING", "OUTGOING")
                ]
            elif path.stem == "source_page":
                asked.append((document, {"id": source}))
            elif path.stem == "claim_page":
                asked.append((document, {"id": claim}))
            elif path.stem == "search":
                asked += [(document, {"text": t}) for t in ("lup", "stem cell", "marrow")]
            else:
                asked += [(document, {"id": i}) for i in ids]
        store_queries = {}
        for client in (fast, slow):
            executor = client.app.state.executor  # type: ignore[attr-defined]
            before = executor.store_queries
            client.post(
                "/graphql",
                json={"query": (DOCUMENTS / "disease_card.graphql").read_text(), "variables": {"id": ids[0]}},
            )
            store_queries[client] = executor.store_queries - before
        assert store_queries[fast] < store_queries[slow], store_queries
        for document, variables in asked:
            answers = [c.post("/graphql", json={"query": document, "variables": variables}) for c in (fast, slow)]
            assert answers[0].status_code == answers[1].status_code == 200, variables
            assert "errors" not in answers[1].json(), (document[:60], variables, answers[1].json()["errors"])
            assert answers[0].json() == answers[1].json(), (document[:60], variables)
        whole = slow.post("/graphql", json={"query": WHOLE_CARDS_OF_NODES, "variables": {"id": "kgr:lupus"}}).json()
        nodes = [e["node"] for e in whole["data"]["entity"]["relations"]["edges"]]
        assert any(n["synonyms"] for n in nodes) and any(n["externalIds"] for n in nodes)  # the fields were loaded


CLAIMS_OF_EDGES = """query ($id: ID!) { entity(id: $id) { relations(first: 100) { totalCount edges { relation direction
  node { id } evidence { sourceCount claimCount claims(first: 20) { totalCount edges { node {
    id curie quote certainty negated evidenceDirection quoteRole scope hedgeCue claimedEvidence { id } relation predicate
    objectLiteral contextDiseases { id }
    source { id title isPromotional } subject { id } object { id } } } } } } } } }"""


@pytest.mark.parametrize("kept", ["emptied", "dropped"])
def test_claims_kept_with_the_edge_summaries_answer_as_the_store_does(
    kept: str, recorded: Path, tmp_path: Path
) -> None:
    """The build keeps each statement's claims beside its summary, so the claims of an edge are read without a store
    query; every field of every claim of every edge of these entities is what the store gives on the same release
    with the claim table emptied, or dropped as in a file an older build wrote (both then ask the store)."""
    oracle = altered(
        recorded, tmp_path / "kg", EDGES_FILE, "DELETE FROM claim" if kept == "emptied" else "DROP TABLE claim"
    )
    ids = ["kgr:lupus", "kgr:msc-therapy", "kgr:mesenchymal-stem-cell", "kgr:hematopoietic-stem-cell-transplantation"]
    with (
        TestClient(create_app(Settings(store_dir=recorded, cache_entries=0))) as fast,
        TestClient(create_app(Settings(store_dir=oracle, cache_entries=0))) as slow,
    ):
        for iri in ids:
            asked = {}
            answers = {}
            for name, client in (("fast", fast), ("slow", slow)):
                executor = client.app.state.executor  # type: ignore[attr-defined]
                before = executor.store_queries
                answers[name] = client.post("/graphql", json={"query": CLAIMS_OF_EDGES, "variables": {"id": iri}})
                asked[name] = executor.store_queries - before
            body = answers["slow"].json()
            assert "errors" not in body, body["errors"]
            assert answers["fast"].json() == body, iri
            assert asked["fast"] < asked["slow"], (iri, asked)
            edges = body["data"]["entity"]["relations"]["edges"]
            assert edges and all(e["evidence"]["claims"]["totalCount"] == e["evidence"]["claimCount"] for e in edges)


def test_the_claims_kept_are_the_claims_of_the_turtle_files(recorded: Path) -> None:
    """An oracle that shares no code with the build: rdflib reads the Turtle files themselves, and every claim that
    relates two entities is in the claim table with the same statement, quote, source and title, certainty,
    negation, direction, role, scope, hedge and claimed evidence, and nothing else is."""
    scad = rdflib.Namespace("https://w3id.org/scad/ontology#")
    graph = rdflib.Graph()
    for path in sorted((ROOT / "ontology").rglob("*.ttl")):
        if "drafts" not in path.parts:
            graph.parse(path, format="turtle")

    def one(subject: rdflib.term.Node, predicate: rdflib.URIRef) -> str | None:
        found = graph.value(subject, predicate)
        return None if found is None else str(found)

    expected = set()
    for claim in graph.subjects(rdflib.RDF.type, scad.Claim):
        obj = graph.value(claim, scad.object)
        if not isinstance(obj, rdflib.URIRef):
            continue  # a claim about a value (hasPrevalence ...) relates no two entities
        source = graph.value(claim, scad.statedIn)
        assert source is not None
        expected.add(
            (
                one(claim, scad.subject), one(claim, scad.predicate), str(obj), str(claim), one(claim, scad.quote),
                str(source), one(source, rdflib.namespace.DCTERMS.title),
                int(graph.value(source, scad.isPromotional).toPython()),  # type: ignore[union-attr]
                one(claim, scad.certainty), int(graph.value(claim, scad.negated).toPython()),  # type: ignore[union-attr]
                one(claim, scad.evidenceDirection), one(claim, scad.quoteRole), one(claim, scad.scope),
                one(claim, scad.hedgeCue), one(claim, scad.claimedEvidence),
            )
        )  # fmt: skip
    with sqlite3.connect(f"{(recorded / EDGES_FILE).as_uri()}?mode=ro", uri=True) as connection:
        kept = set(connection.execute("SELECT * FROM claim").fetchall())
    connection.close()
    assert len(expected) > 250  # the five sources' claims
    assert kept == expected, (sorted(kept - expected)[:3], sorted(expected - kept)[:3])
