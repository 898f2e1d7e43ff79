"""A TRAPI query, read and checked before anything runs: one-hop query graphs only (one edge between two nodes), with
bounded lists, Biolink terms that exist, and attribute constraints this provider can apply. Anything else is a 400
that names the field, the value and what was expected."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any, Final

from kg.errors import BadRequest
from kg.trapi.biolink import Biolink

MAX_IDS: Final = 100
MAX_TERMS: Final = 50
MAX_CONSTRAINTS: Final = 20
MAX_NODES: Final = 2
MAX_EDGES: Final = 1
OPERATORS: Final = ("==", "===", ">", "<")
CONSTRAINABLE: Final = {
    "biolink:knowledge_level": "the knowledge level (knowledge_assertion, prediction)",
    "biolink:agent_type": "the agent type (automated_agent)",
    "biolink:negated": "true for a negative statement",
    "scad:certainty": "scad:Asserted, scad:ReportedFinding, scad:Hedged or scad:Speculative",
    "scad:isPromotional": "true when the source is promotional",
    "biolink:original_predicate": "the graph's own predicate, such as scad:hasAdverseEffect",
    "biolink:publications": "the source's IRI",
    "biolink:has_evidence": "the kind of evidence the source says it rests on, such as kgr:clinical-study",
}
"""The edge attributes a constraint can filter on, with what their values are."""


@dataclass(frozen=True)
class Constraint:
    id: str
    operator: str
    value: Any
    negated: bool


@dataclass(frozen=True)
class QueryNode:
    key: str
    ids: tuple[str, ...] | None
    categories: tuple[str, ...] | None


@dataclass(frozen=True)
class QueryEdge:
    key: str
    subject: str
    object: str
    predicates: tuple[str, ...] | None
    constraints: tuple[Constraint, ...]
    qualified: bool
    """True when the edge has qualifier constraints: the graph's edges have no qualifiers, so none can match."""


@dataclass(frozen=True)
class OneHop:
    nodes: dict[str, QueryNode]
    edge: QueryEdge
    query_graph: dict[str, Any]
    """As the client sent it, for the answer's message."""


def parse_body(body: bytes) -> Any:
    try:
        return json.loads(body)
    except (ValueError, RecursionError) as exc:
        reason = "it is nested too deeply" if isinstance(exc, RecursionError) else str(exc)[:200]
        raise BadRequest(f"the TRAPI query is not valid JSON: {reason}") from None


def _object(value: Any, where: str) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise BadRequest(f"{where} has value {_shown(value)}; expected a JSON object")
    return value


def _shown(value: Any) -> str:
    text = json.dumps(value)
    return text if len(text) <= 80 else text[:77] + "..."


def _strings(value: Any, where: str, limit: int) -> tuple[str, ...] | None:
    if value is None:
        return None
    if not isinstance(value, list) or not value or not all(isinstance(v, str) for v in value):
        raise BadRequest(f"{where} has value {_shown(value)}; expected a non-empty list of strings (or null)")
    if len(value) > limit:
        raise BadRequest(f"{where} has {len(value)} entries; at most {limit} are accepted")
    return tuple(value)


def _terms(value: Any, where: str, known: frozenset[str], kind: str, model: Biolink) -> tuple[str, ...] | None:
    terms = _strings(value, where, MAX_TERMS)
    for term in terms or ():
        if term not in known:
            raise BadRequest(f"{where} has {term!r}, which is not a Biolink {kind} of Biolink {model.version}")
    return terms


def _constraints(value: Any, where: str) -> tuple[Constraint, ...]:
    if value is None:
        return ()
    if not isinstance(value, list):
        raise BadRequest(f"{where} has value {_shown(value)}; expected a list of attribute constraints")
    if len(value) > MAX_CONSTRAINTS:
        raise BadRequest(f"{where} has {len(value)} constraints; at most {MAX_CONSTRAINTS} are accepted")
    constraints = []
    for n, raw in enumerate(value):
        item = _object(raw, f"{where}[{n}]")
        ident, operator = item.get("id"), item.get("operator")
        if ident not in CONSTRAINABLE:
            known = ", ".join(sorted(CONSTRAINABLE))
            raise BadRequest(f"{where}[{n}].id has value {_shown(ident)}; expected one of {known}")
        if operator not in OPERATORS:
            raise BadRequest(
                f"{where}[{n}].operator has value {_shown(operator)}; expected one of {', '.join(OPERATORS)}"
            )
        if "value" not in item:
            raise BadRequest(f"{where}[{n}] has no value")
        negated = item.get("not", False)
        if not isinstance(negated, bool):
            raise BadRequest(f"{where}[{n}].not has value {_shown(negated)}; expected true or false")
        constraints.append(Constraint(ident, operator, item["value"], negated))
    return tuple(constraints)


def read_query(document: Any, model: Biolink) -> OneHop:
    """The one-hop query of a TRAPI ``Query`` document."""
    query = _object(document, "the request body")
    message = _object(query.get("message"), "message")
    workflow = query.get("workflow")
    if workflow is not None:
        operations = [step.get("id") if isinstance(step, dict) else step for step in workflow or []]
        if not isinstance(workflow, list) or any(op != "lookup" for op in operations):
            raise BadRequest(f"workflow has value {_shown(workflow)}; this provider runs only the 'lookup' operation")
    graph = _object(message.get("query_graph"), "message.query_graph")
    raw_nodes = _object(graph.get("nodes"), "message.query_graph.nodes")
    raw_edges = _object(graph.get("edges"), "message.query_graph.edges")
    if len(raw_edges) != MAX_EDGES or len(raw_nodes) != MAX_NODES:
        raise BadRequest(
            f"message.query_graph has {len(raw_nodes)} nodes and {len(raw_edges)} edges; this provider answers "
            "one-hop queries: one edge between two nodes"
        )
    nodes: dict[str, QueryNode] = {}
    for key, raw in raw_nodes.items():
        where = f"message.query_graph.nodes.{key}"
        node = _object(raw, where)
        interpretation = node.get("set_interpretation") or "BATCH"
        if interpretation != "BATCH":
            raise BadRequest(f"{where}.set_interpretation has value {_shown(interpretation)}; expected BATCH")
        if node.get("constraints"):
            raise BadRequest(f"{where}.constraints: node constraints are not supported; constrain the edge instead")
        nodes[key] = QueryNode(
            key,
            _strings(node.get("ids"), f"{where}.ids", MAX_IDS),
            _terms(node.get("categories"), f"{where}.categories", model.classes, "category", model),
        )
    ((key, raw),) = raw_edges.items()
    where = f"message.query_graph.edges.{key}"
    edge = _object(raw, where)
    for end in ("subject", "object"):
        if edge.get(end) not in nodes:
            raise BadRequest(f"{where}.{end} has value {_shown(edge.get(end))}; expected one of {sorted(nodes)}")
    if edge["subject"] == edge["object"]:
        raise BadRequest(f"{where} joins node {edge['subject']!r} to itself; expected two different nodes")
    knowledge_type = edge.get("knowledge_type") or "lookup"
    if knowledge_type != "lookup":
        raise BadRequest(f"{where}.knowledge_type has value {_shown(knowledge_type)}; this provider answers lookup")
    qualifiers = edge.get("qualifier_constraints") or []
    if not isinstance(qualifiers, list):
        raise BadRequest(f"{where}.qualifier_constraints has value {_shown(qualifiers)}; expected a list")
    parsed = QueryEdge(
        key=key,
        subject=edge["subject"],
        object=edge["object"],
        predicates=_terms(edge.get("predicates"), f"{where}.predicates", model.predicates, "predicate", model),
        constraints=_constraints(edge.get("attribute_constraints"), f"{where}.attribute_constraints"),
        qualified=any(isinstance(q, dict) and q.get("qualifier_set") for q in qualifiers),
    )
    return OneHop(nodes, parsed, graph)
