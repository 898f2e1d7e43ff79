"""The knowledge provider: the graph's claims as TRAPI edges, one-hop lookups over them, and the meta knowledge graph.

Nodes and edges come from the named queries ``trapi_nodes`` and ``trapi_edges`` (run once per release through the
executor, with its deadline and caches). A claim between two entities is one edge: its Biolink predicate is the
alignment of the claim's predicate (skos:exactMatch, else closeMatch, in ontology/scad.ttl; biolink:related_to when
there is none), its source is this graph as the primary knowledge source, and its attributes carry the quote, the
source, the knowledge level (from the certainty's alignment), the agent type, the certainty, the negation and the
promotional flag of the source."""

from __future__ import annotations

import re
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any, Final

from kg.errors import ResultTooLarge
from kg.execution.executor import Executor, Term
from kg.namespaces import curie
from kg.queries.catalog import Catalog
from kg.trapi.biolink import ROOT_PREDICATE, Biolink
from kg.trapi.query_graph import CONSTRAINABLE, Constraint, OneHop

TRAPI_VERSION: Final = "1.5.0"
INFORES: Final = "infores:scad-kg"
"""This graph's information-resource id. It is NOT registered in the Translator infores catalogue: a placeholder in
the infores form until a registration exists (the README and the OpenAPI document say so)."""
AGENT_TYPE: Final = "automated_agent"
"""How the claims were made, as the KGX export states it (kg.curation.release)."""
_OBO: Final = re.compile(r"^http://purl\.obolibrary\.org/obo/([A-Za-z]+)_(\w+)$")
_OTHER: Final = {"http://id.nlm.nih.gov/mesh/": "MESH", "http://www.ebi.ac.uk/efo/EFO_": "EFO"}


def translator_curie(iri: str) -> str | None:
    """The CURIE Translator tools use for an external identifier (``MONDO:0007915``), or None."""
    m = _OBO.match(iri)
    if m:
        return f"{m.group(1).upper()}:{m.group(2)}"
    for base, prefix in _OTHER.items():
        if iri.startswith(base):
            return f"{prefix}:{iri[len(base) :]}"
    return None


@dataclass(frozen=True)
class Node:
    id: str
    name: str
    category: str
    xrefs: tuple[str, ...]

    def trapi(self) -> dict[str, Any]:
        attributes = [{"attribute_type_id": "biolink:xref", "value": list(self.xrefs)}] if self.xrefs else []
        return {"name": self.name, "categories": [self.category], "attributes": attributes}


@dataclass(frozen=True)
class Edge:
    id: str
    subject: str
    object: str
    predicate: str
    attributes: dict[str, Any]
    """Attribute type id -> value, for the constraints and the answer."""

    def trapi(self) -> dict[str, Any]:
        return {
            "subject": self.subject,
            "object": self.object,
            "predicate": self.predicate,
            "sources": [
                {
                    "resource_id": INFORES,
                    "resource_role": "primary_knowledge_source",
                    "source_record_urls": [self.attributes["scad:claim"]],
                }
            ],
            "attributes": [
                {"attribute_type_id": key, "value": value}
                for key, value in self.attributes.items()
                if key != "scad:claim"
            ],
        }


@dataclass
class Index:
    release: str
    nodes: dict[str, Node]
    edges: list[Edge]
    by_xref: dict[str, set[str]] = field(default_factory=lambda: defaultdict(set))


def _value(row: dict[str, Term], name: str) -> str:
    term = row.get(name)
    return term.value if term is not None else ""


def _flag(row: dict[str, Term], name: str) -> bool:
    return _value(row, name) == "true"


def build_index(
    release: str, node_rows: list[dict[str, Term]], edge_rows: list[dict[str, Term]], model: Biolink
) -> Index:
    nodes: dict[str, Node] = {}
    index = Index(release, nodes, [])
    for row in node_rows:
        xrefs = tuple(sorted(filter(None, (translator_curie(x) for x in _value(row, "xrefs").split("|") if x))))
        node = Node(curie(_value(row, "entity")), _value(row, "name"), model.curie(_value(row, "category")), xrefs)
        nodes[node.id] = node
        for xref in xrefs:
            index.by_xref[xref].add(node.id)
    for row in edge_rows:
        subject, object_ = curie(_value(row, "subject")), curie(_value(row, "object"))
        if subject not in nodes or object_ not in nodes:
            continue  # a claim about something that is not an entity (a source, a value) is no edge here
        aligned = _value(row, "exactBiolink") or _value(row, "closeBiolink")
        predicate = model.curie(aligned) if aligned else ROOT_PREDICATE
        if predicate not in model.predicates:  # aligned to a Biolink slot that is no predicate
            predicate = ROOT_PREDICATE
        level = _value(row, "level")
        attributes: dict[str, Any] = {
            "scad:claim": _value(row, "claim"),
            "biolink:supporting_text": [_value(row, "quote")],
            "biolink:publications": [_value(row, "source")],
            "biolink:knowledge_level": model.curie(level).removeprefix("biolink:") if level else "not_provided",
            "biolink:agent_type": AGENT_TYPE,
            "biolink:negated": _flag(row, "negated"),
            "scad:certainty": curie(_value(row, "certainty")),
            "scad:isPromotional": _flag(row, "promotional"),
            "biolink:original_predicate": curie(_value(row, "predicate")),
        }
        evidence = [curie(e) for e in _value(row, "evidences").split("|") if e]
        if evidence:
            attributes["biolink:has_evidence"] = evidence
        index.edges.append(Edge(curie(_value(row, "claim")), subject, object_, predicate, attributes))
    return index


def _holds(constraint: Constraint, value: Any) -> bool:
    wanted = constraint.value
    if constraint.operator == "===":
        result = value == wanted
    elif constraint.operator == "==":
        values = value if isinstance(value, list) else [value]
        options = wanted if isinstance(wanted, list) else [wanted]
        result = any(v == w for v in values for w in options)
    else:
        numbers = [v for v in (value if isinstance(value, list) else [value]) if isinstance(v, int | float)]
        if not isinstance(wanted, int | float) or isinstance(wanted, bool):
            result = False
        elif constraint.operator == ">":
            result = any(v > wanted for v in numbers if not isinstance(v, bool))
        else:
            result = any(v < wanted for v in numbers if not isinstance(v, bool))
    return bool(result != constraint.negated)


def _allowed(edge: Edge, constraints: tuple[Constraint, ...]) -> bool:
    return all(c.id in edge.attributes and _holds(c, edge.attributes[c.id]) for c in constraints)


class Provider:
    """Answers TRAPI for one app; the index is built on first use and again when the release changes."""

    def __init__(self, model: Biolink) -> None:
        self.model = model
        self._index: Index | None = None

    async def index(self, executor: Executor, catalog: Catalog) -> Index:
        if self._index is None or self._index.release != executor.release:
            release = executor.release
            nodes, _ = await executor.select(catalog.get("trapi_nodes").text)
            edges, _ = await executor.select(catalog.get("trapi_edges").text)
            self._index = build_index(release, nodes, edges, self.model)
        return self._index

    def _candidates(self, index: Index, ids: tuple[str, ...] | None) -> dict[str, str | None] | None:
        """Graph node -> the query id it was asked for (None when asked by its own id); None for an open node."""
        if ids is None:
            return None
        found: dict[str, str | None] = {}
        for ident in ids:
            if ident in index.nodes:
                found[ident] = None
            for node in sorted(index.by_xref.get(ident, ())):
                found.setdefault(node, ident)
        return found

    def answer(self, index: Index, query: OneHop, max_edges: int) -> dict[str, Any]:
        edge_q = query.edge
        ends = {end: query.nodes[getattr(edge_q, end)] for end in ("subject", "object")}
        bound = {end: self._candidates(index, q.ids) for end, q in ends.items()}
        matched: list[Edge] = []
        if not edge_q.qualified:
            for edge in index.edges:
                if not self.model.matches(edge_q.predicates, edge.predicate):
                    continue
                ok = True
                for end, q in ends.items():
                    node = index.nodes[getattr(edge, end)]
                    allowed = bound[end]
                    if (allowed is not None and node.id not in allowed) or not self.model.matches(
                        q.categories, node.category
                    ):
                        ok = False
                if ok and _allowed(edge, edge_q.constraints):
                    matched.append(edge)
        if len(matched) > max_edges:
            raise ResultTooLarge(
                f"the query matches {len(matched)} edges, more than {max_edges} (KG_MAX_ROWS); give ids, categories "
                "or predicates to narrow it"
            )
        pairs: dict[tuple[str, str], list[Edge]] = defaultdict(list)
        for edge in matched:
            pairs[(edge.subject, edge.object)].append(edge)
        results = []
        for (subject, object_), edges in pairs.items():
            bindings = {}
            for end, node_id in (("subject", subject), ("object", object_)):
                binding: dict[str, Any] = {"id": node_id, "attributes": []}
                asked = (bound[end] or {}).get(node_id)
                if asked is not None:
                    binding["query_id"] = asked
                bindings[getattr(edge_q, end)] = [binding]
            analysis = {
                "resource_id": INFORES,
                "edge_bindings": {edge_q.key: [{"id": e.id, "attributes": []} for e in edges]},
            }
            results.append({"node_bindings": bindings, "analyses": [analysis]})
        used = {n for e in matched for n in (e.subject, e.object)}
        return {
            "message": {
                "query_graph": query.query_graph,
                "knowledge_graph": {
                    "nodes": {n: index.nodes[n].trapi() for n in sorted(used)},
                    "edges": {e.id: e.trapi() for e in matched},
                },
                "results": results,
                "auxiliary_graphs": {},
            },
            "status": "Success",
            "description": f"{len(results)} results, {len(matched)} edges (one per claim)",
            "logs": [],
            "schema_version": TRAPI_VERSION,
            "biolink_version": self.model.version,
        }

    def meta_knowledge_graph(self, index: Index) -> dict[str, Any]:
        prefixes: dict[str, set[str]] = defaultdict(lambda: {"kgr"})
        for node in index.nodes.values():
            prefixes[node.category].update(x.split(":", 1)[0] for x in node.xrefs)
        triples = sorted(
            {(index.nodes[e.subject].category, e.predicate, index.nodes[e.object].category) for e in index.edges}
        )
        names = sorted({name for e in index.edges for name in e.attributes if name in CONSTRAINABLE})
        attributes = [
            {"attribute_type_id": name, "constraint_use": True, "constraint_name": CONSTRAINABLE[name]}
            for name in names
        ] + [{"attribute_type_id": "biolink:supporting_text", "constraint_use": False}]
        return {
            "nodes": {
                category: {"id_prefixes": sorted(found, key=lambda p: (p != "kgr", p))}
                for category, found in sorted(prefixes.items())
            },
            "edges": [
                {"subject": s, "predicate": p, "object": o, "knowledge_types": ["lookup"], "attributes": attributes}
                for s, p, o in triples
            ],
        }
