"""An oracle that shares no code with the serving path: every answer of the API compared with what the graph itself
says, computed here from the Turtle files (parsed by pyoxigraph directly), from the `.rq` files (their `#+` headers
read here), and from pyoxigraph run directly, never through `kg` code.

- Named queries: each parameter with its example, other values from the graph, an IRI that does not exist, and left
  out. An optional parameter narrows (the unparameterized answer, filtered here in Python); a required one, or one
  with a default, is substituted (pyoxigraph's ``substitutions=``). On the real graph (embedded, on-disk and remote
  backends) and on a generated graph (on-disk and remote).
- GraphQL: filters, orderings, cursors and search with hypothesis-generated arguments, against sets computed from
  the quads in Python.
- Every face (SPARQL, named queries, GraphQL, pages, the KGX edges of `kg release`): every claim or edge it returns is
  in the graph with exactly that subject, relation, object, source and quote.
"""

from __future__ import annotations

import csv
import json
import re
import sys
from collections import Counter, defaultdict
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pyoxigraph as ox
import pytest
import yaml
from conftest import ROOT, SOURCES, needs_shared_sources
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from starlette.testclient import TestClient

from kg.app import create_app
from kg.settings import Settings

settings.register_profile(
    "oracle", max_examples=15, deadline=None, suppress_health_check=[HealthCheck.too_slow], derandomize=True
)
ORACLE = settings.get_profile("oracle")

ONTOLOGY = ROOT / "ontology"
QUERIES = ROOT / "queries"
SCAD = "https://w3id.org/scad/ontology#"
KGR = "https://w3id.org/scad/id/"
RDF_TYPE = "http://www.w3.org/1999/02/22-rdf-syntax-ns#type"
SUBCLASS = "http://www.w3.org/2000/01/rdf-schema#subClassOf"
SKOS = "http://www.w3.org/2004/02/skos/core#"
XSD = "http://www.w3.org/2001/XMLSchema#"
# written here, not imported: the queries' predefined prefixes, as the README lists them
PREFIXES = {
    "rdf": "http://www.w3.org/1999/02/22-rdf-syntax-ns#",
    "rdfs": "http://www.w3.org/2000/01/rdf-schema#",
    "xsd": XSD,
    "owl": "http://www.w3.org/2002/07/owl#",
    "skos": SKOS,
    "dcterms": "http://purl.org/dc/terms/",
    "scad": SCAD,
    "kgr": KGR,
}
NOWHERE = KGR + "no-such-thing-in-the-graph"
SELECT_JSON = {"Accept": "application/sparql-results+json"}


# -- the graph, read here ----------------------------------------------------------------------------------------


def full(curie: str) -> str:
    """The IRI of a CURIE of the prefixes above (an IRI stays as it is)."""
    prefix, _, local = curie.partition(":")
    return PREFIXES[prefix] + local if prefix in PREFIXES and not local.startswith("//") else curie


def read_quads(directory: Path) -> list[ox.Quad]:
    """Every triple of every Turtle file under ``directory``, in a named graph per file."""
    quads = []
    for path in sorted(directory.rglob("*.ttl")):
        graph = ox.NamedNode("https://w3id.org/scad/graph/" + path.relative_to(directory).as_posix())
        quads += [ox.Quad(t.subject, t.predicate, t.object, graph) for t in ox.parse(path=str(path))]
    return quads


@dataclass
class Model:
    """What the quads say about claims, sources and entities, computed in Python."""

    store: ox.Store
    claims: dict[str, dict[str, str]] = field(default_factory=dict)
    contexts: dict[str, set[str]] = field(default_factory=lambda: defaultdict(set))
    promotional: dict[str, bool] = field(default_factory=dict)
    labels: dict[str, str] = field(default_factory=dict)
    synonyms: dict[str, list[str]] = field(default_factory=lambda: defaultdict(list))
    types: dict[str, set[str]] = field(default_factory=lambda: defaultdict(set))
    superclasses: dict[str, set[str]] = field(default_factory=lambda: defaultdict(set))

    @classmethod
    def of(cls, quads: list[ox.Quad]) -> Model:
        store = ox.Store()
        store.extend(quads)
        model = cls(store)
        fields = {
            "subject": "subject",
            "predicate": "predicate",
            "object": "object",
            "objectLiteral": "objectLiteral",
            "quote": "quote",
            "statedIn": "source",
            "certainty": "certainty",
            "negated": "negated",
            "scope": "scope",
            "hedgeCue": "hedge",
            "claimedEvidence": "evidence",
        }
        claim_iris = {
            q.subject.value for q in quads if q.predicate.value == RDF_TYPE and q.object.value == SCAD + "Claim"
        }
        for q in quads:
            s, p, o = q.subject.value, q.predicate.value, q.object.value
            if s in claim_iris and p.startswith(SCAD) and p[len(SCAD) :] in fields:
                model.claims.setdefault(s, {})[fields[p[len(SCAD) :]]] = o
            elif s in claim_iris and p == SCAD + "contextDisease":
                model.contexts[s].add(o)
            elif p == SCAD + "isPromotional":
                model.promotional[s] = o == "true"
            elif p == SKOS + "prefLabel":
                model.labels[s] = o
            elif p == SKOS + "altLabel":
                model.synonyms[s].append(o)
            elif p == RDF_TYPE:
                model.types[s].add(o)
            elif p == SUBCLASS:
                model.superclasses[s].add(o)
        return model

    def is_a(self, iri: str, kind: str) -> bool:
        """rdf:type / rdfs:subClassOf* ``kind``."""
        seen, todo = set(), list(self.types.get(iri, ()))
        while todo:
            c = todo.pop()
            if c == kind:
                return True
            if c not in seen:
                seen.add(c)
                todo += self.superclasses.get(c, ())
        return False

    def mentioned_by(self, iri: str) -> tuple[set[str], set[str]]:
        """The sources, and the non-promotional sources, with a claim that has ``iri`` as subject, object or context."""
        found = {
            c["source"]
            for claim, c in self.claims.items()
            if iri in (c.get("subject"), c.get("object")) or iri in self.contexts.get(claim, ())
        }
        return found, {s for s in found if not self.promotional.get(s, False)}


@pytest.fixture(scope="module")
def real() -> Model:
    return Model.of(read_quads(ONTOLOGY))


# -- the named queries, read here --------------------------------------------------------------------------------


@dataclass
class Query:
    name: str
    text: str
    params: list[dict[str, Any]]
    construct: bool


def read_queries() -> list[Query]:
    found = []
    for path in sorted(QUERIES.glob("*.rq")):
        text = path.read_text(encoding="utf-8")
        header = yaml.safe_load("\n".join(line[3:] for line in text.splitlines() if line.startswith("#+ "))) or {}
        params = header.get("params") or []
        if params:
            body = re.sub(r"(?m)^\s*#.*$", "", text)
            construct = re.search(r"(?i)\bCONSTRUCT\b", body) is not None
            found.append(Query(path.stem, text, params, construct))
    return found


def term_of(param: dict[str, Any], raw: Any) -> ox.NamedNode | ox.Literal:
    text = str(raw).lower() if isinstance(raw, bool) else str(raw)
    kind = param.get("type", "string")
    if kind == "iri":
        prefix, _, local = text.partition(":")
        return ox.NamedNode(PREFIXES[prefix] + local if prefix in PREFIXES and not local.startswith("//") else text)
    if kind in ("integer", "boolean", "decimal", "date"):
        return ox.Literal(text, datatype=ox.NamedNode(XSD + kind))
    return ox.Literal(text)


def raw_of(term: ox.NamedNode | ox.Literal) -> str:
    return term.value


Row = tuple[tuple[str, str], ...]


CONCATENATED = {"via"}
"""Columns that are a GROUP_CONCAT, whose order SPARQL leaves to the engine (§18.5.1.7): compared as sets."""


def unordered(name: str, term: Any) -> str:
    if name in CONCATENATED and isinstance(term, ox.Literal):
        return " ".join(sorted(term.value.split(" ")))
    return str(term)


def rows_of(result: Any) -> list[Row] | set[tuple[str, str, str]]:
    if isinstance(result, ox.QuerySolutions):
        names = [v.value for v in result.variables]
        return sorted(tuple((n, unordered(n, row[n])) for n in names if row[n] is not None) for row in result)
    return {(str(t.subject), str(t.predicate), str(t.object)) for t in result}


def run(model: Model, text: str, substitutions: dict[str, ox.NamedNode | ox.Literal] | None = None) -> Any:
    subs = {ox.Variable(k): v for k, v in (substitutions or {}).items()}
    return rows_of(model.store.query(text, use_default_graph_as_union=True, prefixes=PREFIXES, substitutions=subs))


def other_values(
    model: Model, q: Query, param: dict[str, Any], unparameterized: Any
) -> list[ox.NamedNode | ox.Literal]:
    """Values the graph really has for the parameter: from the unparameterized answer for an optional one, else the
    other instances of the example's classes (or the other named graphs)."""
    name, kind = param["name"], param.get("type", "string")
    if kind == "integer":
        return [term_of(param, n) for n in (0, 1, 2, 5, 100)]
    if kind == "boolean":
        return [term_of(param, b) for b in ("true", "false")]
    found: set[str] = set()
    if not (param.get("required") or "default" in param) and isinstance(unparameterized, list):
        found = {value for row in unparameterized for n, value in row if n == name}
        if kind == "iri":  # an IRI parameter names IRIs only (a literal object, say, cannot be asked for)
            found = {value for value in found if value.startswith("<")}
        terms = sorted(found)
        picked = terms[:: max(1, len(terms) // 3)][:3]
        return [_parse_term(t) for t in picked]
    example = term_of(param, param["example"])
    graphs = {g.value for g in model.store.named_graphs()}
    if example.value in graphs:
        candidates = sorted(graphs - {example.value})
    else:
        classes = model.types.get(example.value, set())
        candidates = sorted(i for i, ts in model.types.items() if ts & classes and i != example.value and "//" in i)
    return [ox.NamedNode(v) for v in candidates[:: max(1, len(candidates) // 3)][:3]]


def _parse_term(text: str) -> ox.NamedNode | ox.Literal:
    if text.startswith("<"):
        return ox.NamedNode(text[1:-1])
    parsed = list(ox.parse(f"<urn:s> <urn:p> {text} .".encode(), ox.RdfFormat.N_TRIPLES))
    obj = parsed[0].object
    assert isinstance(obj, ox.Literal | ox.NamedNode)
    return obj


@dataclass
class Case:
    query: str
    params: dict[str, str]
    expected: Any
    why: str


def cases(model: Model) -> Iterator[Case]:
    """Every named query x every parameter x (example, other real values, a missing IRI, left out), with the answer
    its meaning gives, computed here."""
    for q in read_queries():
        required = [p for p in q.params if p.get("required")]
        base = {p["name"]: term_of(p, p["example"]) for p in required}
        for param in q.params:
            name = param["name"]
            substituted = bool(param.get("required")) or "default" in param
            fixed = {k: v for k, v in base.items() if k != name}
            defaults = {p["name"]: term_of(p, p["default"]) for p in q.params if "default" in p and p["name"] != name}
            if substituted:
                unparameterized = None
            else:
                unparameterized = run(model, q.text, {**fixed, **defaults})
                yield Case(q.name, {k: raw_of(v) for k, v in fixed.items()}, unparameterized, f"{name} left out")
            values = [term_of(param, param["example"]), *other_values(model, q, param, unparameterized)]
            if param.get("type") == "iri":
                values.append(ox.NamedNode(NOWHERE))
            if "default" in param:
                expected = run(model, q.text, {**fixed, **defaults, name: term_of(param, param["default"])})
                yield Case(q.name, {k: raw_of(v) for k, v in fixed.items()}, expected, f"{name} left out (default)")
            for value in dict.fromkeys(values):
                given_ = {**{k: raw_of(v) for k, v in fixed.items()}, name: raw_of(value)}
                if substituted:
                    expected = run(model, q.text, {**fixed, **defaults, name: value})
                    why = f"{name}={value} substituted"
                else:
                    assert isinstance(unparameterized, list)
                    expected = [row for row in unparameterized if (name, str(value)) in row]
                    why = f"{name}={value} narrows"
                yield Case(q.name, given_, expected, why)


def answer(client: TestClient, case: Case, construct: bool) -> Any:
    headers = {"Accept": "application/n-triples"} if construct else SELECT_JSON
    response = client.get(f"/queries/{case.query}", params=case.params, headers=headers)
    assert response.status_code == 200, (case, response.text)
    if construct:
        return rows_of(list(ox.parse(response.content, ox.RdfFormat.N_TRIPLES)))
    return rows_of(ox.parse_query_results(response.content, ox.QueryResultsFormat.JSON))


def check_named_queries(client: TestClient, model: Model) -> int:
    constructs = {q.name for q in read_queries() if q.construct}
    wrong, count = [], 0
    for case in cases(model):
        count += 1
        got = answer(client, case, case.query in constructs)
        if got != case.expected:
            extra = [r for r in got if r not in case.expected][:2] if isinstance(got, list) else []
            wrong.append(f"{case.query}?{case.params} ({case.why}): {len(got)} rows, expected {len(case.expected)}")
            wrong += [f"    not in the graph's answer: {dict(r)}" for r in extra]
    assert not wrong, "named queries that do not mean what their parameters say:\n" + "\n".join(wrong)
    return count


# -- the backends ------------------------------------------------------------------------------------------------


@pytest.fixture(scope="module", params=["embedded", "on-disk", "remote"])
def client(request: pytest.FixtureRequest, built_store: Path) -> Iterator[TestClient]:
    if request.param == "embedded":
        chosen = Settings()
    elif request.param == "on-disk":
        chosen = Settings(store_dir=built_store)
    else:
        chosen = Settings(sparql_url=request.getfixturevalue("oxigraph_url"), release_id="oracle")
    with TestClient(create_app(chosen)) as c:
        yield c


def test_named_queries_mean_what_their_parameters_say(client: TestClient, real: Model) -> None:
    assert check_named_queries(client, real) > 60


@pytest.fixture(scope="module")
def generated(tmp_path_factory: pytest.TempPathFactory) -> tuple[Model, Path]:
    sys.path.insert(0, str(ROOT / "bench"))
    from generate import generate

    from kg.rdf.dataset import Dataset
    from kg.store.build import build_store

    vocabulary = read_quads(ONTOLOGY)
    vocabulary = [q for q in vocabulary if q.graph_name.value.endswith("/scad.ttl")]
    quads = vocabulary + generate(4000, seed=12)
    target = tmp_path_factory.mktemp("generated") / "store"
    build_store(Dataset(files=[], quads=quads), ONTOLOGY, target)
    return Model.of(quads), target


@pytest.mark.parametrize("backend", ["on-disk", "remote"])
def test_named_queries_on_a_generated_graph(generated: tuple[Model, Path], backend: str) -> None:
    from servers import oxigraph_server

    model, target = generated
    if backend == "on-disk":
        with TestClient(create_app(Settings(store_dir=target))) as c:
            assert check_named_queries(c, model) > 60
        return
    with oxigraph_server(target / "data") as url, TestClient(create_app(Settings(sparql_url=url))) as c:
        assert check_named_queries(c, model) > 60


# -- GraphQL -----------------------------------------------------------------------------------------------------


@pytest.fixture(scope="module", params=["embedded", "on-disk", "remote"])
def gql(request: pytest.FixtureRequest, built_store: Path) -> Iterator[TestClient]:
    """The GraphQL API on each backend in turn (the same answers on all three)."""
    if request.param == "embedded":
        chosen = Settings()
    elif request.param == "on-disk":
        chosen = Settings(store_dir=built_store)
    else:
        chosen = Settings(sparql_url=request.getfixturevalue("oxigraph_url"), release_id="oracle")
    with TestClient(create_app(chosen)) as c:
        yield c


def graphql(client: TestClient, query: str, **variables: Any) -> dict[str, Any]:
    response = client.post("/graphql", json={"query": query, "variables": variables})
    body = response.json()
    assert response.status_code == 200 and not body.get("errors"), body
    data: dict[str, Any] = body["data"]
    return data


CERTAINTIES = ["Speculative", "Hedged", "ReportedFinding", "Asserted"]


def enum_name(local: str) -> str:
    return re.sub(r"(?<!^)(?=[A-Z])", "_", local).upper()


def certainty_enum(iri: str) -> str:
    return enum_name(iri.rsplit("#", 1)[-1])


def relation_enums(client: TestClient) -> dict[str, str]:
    data = graphql(client, '{ __type(name: "Relation") { enumValues { name } } }')
    names = {v["name"] for v in data["__type"]["enumValues"]}
    found = {}
    for iri in (SCAD, SKOS):
        for name in names:
            found[iri + re.sub(r"_(\w)", lambda m: m.group(1).upper(), name.lower())] = name
    return found


CLAIMS = """query($f: ClaimFilter, $first: Int, $after: String) {
  claims(filter: $f, first: $first, after: $after) {
    totalCount pageInfo { hasNextPage endCursor }
    edges { node { id quote predicate negated certainty objectLiteral source { id } subject { id } object { id } } }
  }
}"""


def pages(
    client: TestClient, query: str, field_: str, first: int, **variables: Any
) -> tuple[list[dict[str, Any]], int]:
    """Every node of a connection, following its cursors, and its totalCount (checked on every page)."""
    nodes: list[dict[str, Any]] = []
    after, total = None, None
    for _ in range(400):
        page = graphql(client, query, first=first, after=after, **variables)[field_]
        total = page["totalCount"] if total is None else total
        assert page["totalCount"] == total
        nodes += page["edges"]
        if not page["pageInfo"]["hasNextPage"]:
            assert len(nodes) == total
            return nodes, total
        assert len(page["edges"]) == first
        after = page["pageInfo"]["endCursor"]
    raise AssertionError("the cursors do not end")


def claim_filters(model: Model, relations: dict[str, str]) -> st.SearchStrategy[dict[str, Any]]:
    """Up to three ClaimFilter fields at once (so that answers are seldom empty), each a value the graph has, or an
    IRI it does not."""
    claims = list(model.claims.values())

    def some(key: str) -> st.SearchStrategy[str]:
        return st.sampled_from([*sorted({c[key] for c in claims if key in c}), NOWHERE])

    fields = {
        "source": some("source"),
        "subject": some("subject"),
        "object": some("object"),
        "evidenceKind": some("evidence"),
        "relation": st.sampled_from(sorted({relations[c["predicate"]] for c in claims if c["predicate"] in relations})),
        "certainty": st.sampled_from([enum_name(c) for c in CERTAINTIES]),
        "minCertainty": st.sampled_from([enum_name(c) for c in CERTAINTIES]),
        "negated": st.booleans(),
        "excludePromotional": st.booleans(),
        "contextDisease": st.sampled_from(sorted({d for ds in model.contexts.values() for d in ds})),
    }
    return st.sets(st.sampled_from(sorted(fields)), max_size=3).flatmap(
        lambda chosen: st.fixed_dictionaries({k: fields[k] for k in sorted(chosen)})
    )


def expected_claims(model: Model, f: dict[str, Any], relations: dict[str, str]) -> list[str]:
    rank = {enum_name(c): n for n, c in enumerate(CERTAINTIES)}
    keep = []
    for iri, c in model.claims.items():
        ok = (
            all(c.get(key) == f[name] for name, key in [("source", "source"), ("subject", "subject")] if name in f)
            and ("object" not in f or c.get("object") == f["object"])
            and ("evidenceKind" not in f or c.get("evidence") == f["evidenceKind"])
            and ("relation" not in f or relations.get(c["predicate"]) == f["relation"])
            and ("certainty" not in f or certainty_enum(c["certainty"]) == f["certainty"])
            and ("minCertainty" not in f or rank[certainty_enum(c["certainty"])] >= rank[f["minCertainty"]])
            and ("negated" not in f or (c["negated"] == "true") == f["negated"])
            and not (f.get("excludePromotional") and model.promotional[c["source"]])
            and ("contextDisease" not in f or f["contextDisease"] in model.contexts.get(iri, ()))
        )
        if ok:
            keep.append(iri)
    return sorted(keep)


def test_claim_filters_and_cursors(gql: TestClient, real: Model) -> None:
    relations = relation_enums(gql)

    @ORACLE
    @given(claim_filters(real, relations), st.integers(min_value=7, max_value=100))
    def check(f: dict[str, Any], first: int) -> None:
        nodes, _ = pages(gql, CLAIMS, "claims", first, f=f)
        assert [n["node"]["id"] for n in nodes] == expected_claims(real, f, relations), f
        for n in nodes:
            assert_claim_in_graph(real, n["node"])

    check()


def assert_claim_in_graph(model: Model, node: dict[str, Any]) -> None:
    """The invariant: a claim shown is in the graph with exactly that subject, relation, object, source and quote.
    (GraphQL shows a subject or object it has no card for as null: that hides, it does not invent.)"""
    c = model.claims.get(node["id"])
    assert c is not None, f"claim {node['id']} is not in the graph"
    shown = {key: node[key] for key in ("quote", "predicate") if key in node}
    if "predicate" in shown:
        shown["predicate"] = full(shown["predicate"])
    shown |= {key: node[key]["id"] for key in ("source", "subject", "object") if node.get(key) is not None}
    for key, value in shown.items():
        assert value == c.get(key), f"claim {node['id']}: {key} is {value!r}, the graph has {c.get(key)!r}"


ENTITIES = """query($kind: EntityKind!, $f: EntityFilter, $order: EntityOrder!, $first: Int, $after: String) {
  entities(kind: $kind, filter: $f, orderBy: $order, first: $first, after: $after) {
    totalCount pageInfo { hasNextPage endCursor } edges { sourceCount node { id label } }
  }
}"""
KINDS = {
    "DISEASE": "Disease",
    "CELL_TYPE": "CellType",
    "THERAPY": "Therapy",
    "ANATOMICAL_ENTITY": "AnatomicalEntity",
    "OUTCOME": "Outcome",
    "EVIDENCE_KIND": "EvidenceKind",
}


def test_entity_filters_orderings_and_cursors(gql: TestClient, real: Model) -> None:
    words = sorted({w.lower() for label in real.labels.values() for w in re.findall(r"\w{3,}", label)})[::7]

    @ORACLE
    @given(
        st.sampled_from(sorted(KINDS)),
        st.fixed_dictionaries(
            {},
            optional={
                "labelContains": st.sampled_from(words) | st.text(alphabet="aeiostl", min_size=1, max_size=3),
                "minSources": st.integers(min_value=0, max_value=5),
                "excludePromotional": st.booleans(),
            },
        ),
        st.sampled_from(["LABEL", "LABEL_DESC", "SOURCES_DESC"]),
        st.integers(min_value=1, max_value=40),
    )
    def check(kind: str, f: dict[str, Any], order: str, first: int) -> None:
        nodes, _ = pages(gql, ENTITIES, "entities", first, kind=kind, f=f, order=order)
        expected = []
        for iri, label in real.labels.items():
            if not real.is_a(iri, SCAD + KINDS[kind]):
                continue
            every, neutral = real.mentioned_by(iri)
            count = len(neutral if f.get("excludePromotional") else every)
            if "labelContains" in f and f["labelContains"].casefold() not in label.casefold():
                continue
            if f.get("minSources") is not None and count < f["minSources"]:
                continue
            expected.append((label, count, iri))
        if order == "SOURCES_DESC":
            expected.sort(key=lambda e: (-e[1], e[0].casefold(), e[2]))
        else:
            expected.sort(key=lambda e: (e[0].casefold(), e[2]), reverse=order == "LABEL_DESC")
        assert [(n["node"]["id"], n["sourceCount"]) for n in nodes] == [(e[2], e[1]) for e in expected]
        assert all(n["node"]["label"] == real.labels[n["node"]["id"]] for n in nodes)

    check()


RELATIONS = """query($id: ID!, $f: EdgeFilter, $after: String, $therapiesAfter: String) {
  entity(id: $id) {
    relations(filter: $f, first: 7, after: $after) {
      totalCount pageInfo { hasNextPage endCursor }
      edges {
        relation direction node { id }
        evidence {
          sourceCount claimCount
          claims(first: 100) { totalCount edges { node { id quote predicate source { id } subject { id } object { id } } } }
        }
      }
    }
    ... on Disease {
      therapies(filter: $f, first: 7, after: $therapiesAfter) {
        totalCount pageInfo { hasNextPage endCursor }
        edges { relation direction node { id } evidence { claims(first: 100) { totalCount edges { node { id } } } } }
      }
    }
  }
}"""
TREATS = {"INVESTIGATED_FOR", "CONSIDERED_FOR", "OFFERED_FOR"}


def test_edge_filters(gql: TestClient, real: Model) -> None:
    relations = relation_enums(gql)
    rank = {enum_name(c): n for n, c in enumerate(CERTAINTIES)}
    busy = Counter(c["subject"] for c in real.claims.values()) + Counter(
        c["object"] for c in real.claims.values() if "object" in c
    )
    entities = sorted(e for e, n in busy.items() if n >= 3 and e in real.labels)
    diseases = [e for e in entities if real.is_a(e, SCAD + "Disease")]
    assert diseases
    kinds = sorted({c["evidence"] for c in real.claims.values() if "evidence" in c})

    def every(iri: str, f: dict[str, Any], field: str, cursor: str) -> list[dict[str, Any]]:
        """Every edge of a relation field of ``iri``, page after page, each with the list of all its claims."""
        found: list[dict[str, Any]] = []
        after = None
        while True:
            page = graphql(gql, RELATIONS, id=iri, f=f, **{cursor: after})["entity"][field]
            for e in page["edges"]:
                claims = e["evidence"]["claims"]
                assert (
                    len(claims["edges"])
                    == claims["totalCount"]
                    == e["evidence"].get("claimCount", len(claims["edges"]))
                )
                found.append(e | {"evidence": e["evidence"] | {"claims": [c["node"] for c in claims["edges"]]}})
            if not page["pageInfo"]["hasNextPage"]:
                assert len(found) == page["totalCount"]
                return found
            after = page["pageInfo"]["endCursor"]

    @settings(ORACLE, max_examples=30)
    @given(
        st.sampled_from(diseases) | st.sampled_from(entities),
        st.fixed_dictionaries(
            {},
            optional={
                "minSources": st.integers(min_value=1, max_value=3),
                "excludePromotional": st.booleans(),
                "minCertainty": st.sampled_from([enum_name(c) for c in CERTAINTIES]),
                "evidenceKind": st.sampled_from([*kinds, NOWHERE]),
            },
        ),
    )
    def check(iri: str, f: dict[str, Any]) -> None:
        got = every(iri, f, "relations", "after")
        # an edge shows every claim of its statement (negated and promotional ones included); it is kept when its
        # supporting claims (not negated, not promotional under excludePromotional) pass the filter
        edges: dict[tuple[str, str, str], list[str]] = defaultdict(list)
        for claim, c in real.claims.items():
            if c["predicate"] not in relations or "object" not in c:
                continue
            for direction, here, other in (("OUTGOING", "subject", "object"), ("INCOMING", "object", "subject")):
                if c[here] == iri and c[other] in real.labels:
                    edges[(relations[c["predicate"]], direction, c[other])].append(claim)
        expected = set()
        for key, claims in edges.items():
            cs = [real.claims[c] for c in claims if real.claims[c]["negated"] == "false"]
            if f.get("excludePromotional"):
                cs = [c for c in cs if not real.promotional[c["source"]]]
            if not cs:
                continue
            if f.get("minSources") is not None and len({c["source"] for c in cs}) < f["minSources"]:
                continue
            if "minCertainty" in f and max(rank[certainty_enum(c["certainty"])] for c in cs) < rank[f["minCertainty"]]:
                continue
            if "evidenceKind" in f and not any(c.get("evidence") == f["evidenceKind"] for c in cs):
                continue
            expected.add((*key, tuple(sorted(claims))))
        shown = {
            (e["relation"], e["direction"], e["node"]["id"], tuple(sorted(c["id"] for c in e["evidence"]["claims"])))
            for e in got
        }
        assert shown == expected, (iri, f, sorted(shown - expected)[:3], sorted(expected - shown)[:3])
        if real.is_a(iri, SCAD + "Disease"):  # a relation field: the therapies studied, considered or offered for it
            therapies = {
                (
                    e["relation"],
                    e["direction"],
                    e["node"]["id"],
                    tuple(sorted(c["id"] for c in e["evidence"]["claims"])),
                )
                for e in every(iri, f, "therapies", "therapiesAfter")
            }
            assert therapies == {e for e in expected if e[0] in TREATS and e[1] == "INCOMING"}, (iri, f)
        for e in got:
            for c in e["evidence"]["claims"]:
                assert_claim_in_graph(real, c)

    check()


SEARCH = """query($text: String!, $first: Int!) {
  search(text: $text, first: $first) { matched entity { id label } }
}"""


def test_search_finds_what_the_labels_hold(gql: TestClient, real: Model) -> None:
    names = sorted(real.labels.values())

    @ORACLE
    @given(st.sampled_from(names), st.integers(min_value=0, max_value=12), st.integers(min_value=3, max_value=8))
    def check(label: str, start: int, length: int) -> None:
        text = label[start : start + length].strip() or label
        hits = graphql(gql, SEARCH, text=text, first=100)["search"]
        folded = text.casefold()
        matching = {
            iri
            for iri, name in real.labels.items()
            if real.types.get(iri, set()) - {SKOS + "Concept"}
            and any(folded in n.casefold() for n in [name, *real.synonyms.get(iri, [])])
        }
        found = {h["entity"]["id"] for h in hits}
        for h in hits:
            names_of = [real.labels[h["entity"]["id"]], *real.synonyms.get(h["entity"]["id"], [])]
            assert h["matched"] in names_of and folded in h["matched"].casefold(), (text, h)
        if len(matching) < 100:
            assert found <= matching and {i for i in matching if i in found} == found
            assert any(real.labels[i] == label for i in found), (text, label)

    check()


# -- the invariant on every face ---------------------------------------------------------------------------------


def test_every_face_shows_only_claims_of_the_graph(client: TestClient, real: Model, tmp_path: Path) -> None:
    # SPARQL
    response = client.post(
        "/sparql",
        data={
            "query": "SELECT ?claim ?s ?p ?o ?source ?quote WHERE { ?claim scad:subject ?s ; scad:predicate ?p ; "
            "scad:object ?o ; scad:statedIn ?source ; scad:quote ?quote }"
        },
        headers=SELECT_JSON,
    )
    assert response.status_code == 200
    solutions = ox.parse_query_results(response.content, ox.QueryResultsFormat.JSON)
    assert isinstance(solutions, ox.QuerySolutions)
    seen = 0
    for row in solutions:
        node = {"id": row["claim"].value, "quote": row["quote"].value, "source": {"id": row["source"].value}}
        node |= {"subject": {"id": row["s"].value}, "object": {"id": row["o"].value}, "predicate": row["p"].value}
        assert_claim_in_graph(real, node)
        seen += 1
    assert seen == sum(1 for c in real.claims.values() if "object" in c)
    # named queries that list claims
    for name in ("claims", "evidence_for_statement", "negated_claims", "clinical_claims"):
        rows = client.get(f"/queries/{name}", headers=SELECT_JSON).json()["results"]["bindings"]
        assert rows, name
        for r in rows:
            node: dict[str, Any] = {"id": r["claim"]["value"]}
            for key, var in [("quote", "quote"), ("predicate", "predicate")]:
                if var in r:
                    node[key] = r[var]["value"]
            for key in ("source", "subject", "object"):
                if key in r:
                    node[key] = {"id": r[key]["value"]}
            assert_claim_in_graph(real, node)
    # pages: an entity page links only claims about the entity
    for iri in ("lupus", "hematopoietic-stem-cell-transplantation", "mesenchymal-stem-cell", "infertility"):
        page = client.get("/id/" + iri, headers={"Accept": "text/html"})
        assert page.status_code == 200
        linked = set(re.findall(r'href="/id/(C\d{3}-\d{3})"', page.text))
        assert linked, iri
        for claim in linked:
            c = real.claims[KGR + claim]
            about = {c["subject"], c.get("object")} | real.contexts.get(KGR + claim, set())
            assert KGR + iri in about, f"the page of {iri} links {claim}, which is not about it"
    # pages: a claim page shows its quote and links its source
    for iri in sorted(real.claims)[::40]:
        page = client.get("/id/" + iri[len(KGR) :], headers={"Accept": "text/html"})
        assert page.status_code == 200
        c = real.claims[iri]
        assert html_text(c["quote"]) in page.text and "/id/" + c["source"][len(KGR) :] in page.text


def has_blank(q: ox.Quad) -> bool:
    return isinstance(q.subject, ox.BlankNode) or isinstance(q.object, ox.BlankNode)


def html_text(text: str) -> str:
    return (
        text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace('"', "&#34;").replace("'", "&#39;")
    )


def test_release_edges_are_claims_of_the_graph(real: Model, tmp_path: Path) -> None:
    import subprocess

    needs_shared_sources()
    result = subprocess.run(
        [sys.executable, "-m", "kg", "release", "--output", str(tmp_path), "--sources", str(SOURCES), "--allow-dirty"],
        cwd=ROOT,
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stderr
    with (tmp_path / "edges.tsv").open(encoding="utf-8") as f:
        rows = list(csv.DictReader(f, delimiter="\t"))
    assert len(rows) == sum(1 for c in real.claims.values() if "object" in c)

    for r in rows:
        assert_claim_in_graph(
            real,
            {
                "id": full(r["id"]),
                "quote": r["supporting_text"],
                "predicate": full(r["original_predicate"]),
                "source": {"id": full(r["publications"])},
                "subject": {"id": full(r["subject"])},
                "object": {"id": full(r["object"])},
            },
        )
    graph = {(str(q.subject), str(q.predicate), str(q.object)) for q in real.store if not has_blank(q)}
    released = {
        (str(q.subject), str(q.predicate), str(q.object))
        for q in ox.parse(path=str(tmp_path / "graph.nq"), format=ox.RdfFormat.N_QUADS)
        if not has_blank(q)
    }
    assert released == graph
    with (tmp_path / "nodes.tsv").open(encoding="utf-8") as f:
        nodes = {r["id"] for r in csv.DictReader(f, delimiter="\t")}
    assert {r["subject"] for r in rows} | {r["object"] for r in rows} <= nodes
    manifest = json.loads((tmp_path / "manifest.json").read_text())
    assert "edges.tsv" in manifest["files"]
