"""What the pages show, made from the answers of the stored GraphQL documents: links, the Jinja environment, the
relation groups of an entity page, the graph view's network and the disease x therapy matrix."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Final

from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape

from kg.graphql.model import Certainty, Relation
from kg.namespaces import GRAPH, KGR, SCAD, curie, expand
from kg.web.pages.vocabulary import Vocabulary

HERE: Final = Path(__file__).parent
"""The folder of the templates and the static files."""
ONTOLOGY: Final = "https://w3id.org/scad/ontology"
CERTAINTY_WORDS: Final = {
    "ASSERTED": "asserted",
    "REPORTED_FINDING": "reported finding",
    "HEDGED": "hedged",
    "SPECULATIVE": "speculative",
}
EVIDENCE_WORDS: Final = {
    "SUPPORTS": "supports",
    "REFUTES": "refutes",
    "NO_EVIDENCE": "no evidence",
    "PRIMARY_RESULT": "primary result",
    "BACKGROUND": "background",
    "REVIEW_OR_SYNTHESIS": "review or synthesis",
    "MARKETING": "marketing",
}
"""The words for a claim's evidence direction and quote role (GraphQL enum names)."""
KIND_CLASSES: Final = {
    "Disease": "disease",
    "PathologicalProcess": "process",
    "CellType": "cell",
    "AnatomicalEntity": "anatomy",
    "Therapy": "therapy",
    "Mechanism": "mechanism",
    "AdverseEffect": "risk",
    "Challenge": "challenge",
    "Outcome": "outcome",
    "EvidenceKind": "evidence",
    "Organization": "organization",
}
MAX_NEIGHBOURS: Final = 60
"""The graph view draws at most this many neighbours (those with the most sources), to stay readable."""


def local_href(iri: str) -> str | None:
    """Where a graph IRI dereferences on this server, or None for an external IRI."""
    if iri.startswith(KGR):
        return "/id/" + iri[len(KGR) :]
    if iri.startswith(SCAD):
        return "/ontology#" + iri[len(SCAD) :]
    if iri == ONTOLOGY or iri.startswith(ONTOLOGY + "/"):
        return "/ontology"
    if iri.startswith(GRAPH):
        return "/graph/" + iri[len(GRAPH) :]
    return None


def href(iri: str) -> str:
    return local_href(iri) or iri


def plural(noun: str, count: int = 2) -> str:
    """The English plural of a class label ("therapy" -> "therapies"), for counts on pages."""
    if count == 1:
        return noun
    if noun.endswith("y") and noun[-2:-1] not in "aeiou":
        return noun[:-1] + "ies"
    return noun + ("es" if noun.endswith(("s", "x", "ch", "sh")) else "s")


def safe_json(value: object) -> str:
    """JSON to embed in a ``<script type="application/json">`` element: no ``<`` can close it."""
    return json.dumps(value, ensure_ascii=False, separators=(",", ":")).replace("<", "\\u003c")


def environment() -> Environment:
    """The Jinja environment of the pages: autoescaped, strict about undefined names, with the templates' helpers."""
    env = Environment(
        loader=FileSystemLoader(HERE / "templates"),
        autoescape=select_autoescape(default=True),
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.globals.update(href=href, curie=curie, expand=expand, certainty_word=lambda c: CERTAINTY_WORDS.get(c, c))
    env.globals["evidence_word"] = lambda v: EVIDENCE_WORDS.get(v, v)
    env.filters["kind_class"] = lambda kind: KIND_CLASSES.get(kind, "other")
    env.filters["plural"] = plural
    return env


def shown(edge: dict[str, Any]) -> dict[str, Any]:
    """An edge of a relation page as the templates show it: its claims (the first page) and whether a promotional
    source makes any of them."""
    evidence = edge["evidence"]
    claims = [c["node"] for c in evidence["claims"]["edges"]]
    promotional = evidence["sourceCount"] > evidence["nonPromotionalSourceCount"]
    return edge | {"claims": claims, "promotional": promotional or any(c["source"]["isPromotional"] for c in claims)}


def groups(relation_groups: list[dict[str, Any]], vocabulary: Vocabulary) -> list[dict[str, Any]]:
    """An entity's relation groups (in the order of the Relation enum, incoming first, as GraphQL gives them), each
    with its best supported edges and the number of all of them."""
    result = []
    for group in relation_groups:
        relation, direction = group["relation"], group["direction"]
        edges = [shown(e) for e in group["relationships"]["edges"]]
        heading = vocabulary.heading(relation, direction)
        result.append(
            {
                "heading": heading,
                "relation": relation,
                "direction": direction,
                "edges": edges,
                "total": group["totalCount"],
            }
        )
    return result


def neighbourhood(entity: dict[str, Any], vocabulary: Vocabulary, limit: int = MAX_NEIGHBOURS) -> dict[str, Any]:
    """Nodes and edges of the graph view: the entity, its neighbours (the ``limit`` best supported), and the
    relations among them. An edge is one statement (subject, relation, object) weighted by its independent sources."""
    center = entity["id"]
    nodes = {center: {"id": center, "label": entity["label"], "kind": entity["__typename"], "center": True}}
    relations = entity["relations"]["edges"]
    ranked = sorted(relations, key=lambda e: (-e["evidence"]["sourceCount"], e["node"]["label"].casefold()))
    neighbours = {e["node"]["id"] for e in ranked} - {center}
    for edge in ranked:
        node = edge["node"]
        if len(nodes) > limit and node["id"] not in nodes:
            continue
        nodes.setdefault(node["id"], {"id": node["id"], "label": node["label"], "kind": node["__typename"]})
    edges: dict[tuple[str, str, str], dict[str, Any]] = {}

    def add(this: str, edge: dict[str, Any]) -> None:
        other = edge["node"]["id"]
        if other not in nodes:
            return
        source, target = (this, other) if edge["direction"] == "OUTGOING" else (other, this)
        key = (source, edge["relation"], target)
        if key in edges:
            return
        evidence = edge["evidence"]
        edges[key] = {
            "source": source,
            "target": target,
            "label": vocabulary.label(Relation[edge["relation"]].value),
            "weight": evidence["sourceCount"],
            "certainty": evidence["strongestCertainty"],
            "promotionalOnly": evidence["promotionalOnly"],
        }

    for edge in relations:
        add(center, edge)
    for edge in relations:
        for inner in edge["node"]["relations"]["edges"]:
            add(edge["node"]["id"], inner)
    for node in nodes.values():
        node["href"] = href(node["id"])
        node["kindClass"] = KIND_CLASSES.get(node["kind"], "other")
    return {
        "nodes": list(nodes.values()),
        "edges": list(edges.values()),
        "neighbours": len(neighbours),
        "relations": entity["relations"]["totalCount"],
        "truncated": entity["relations"]["totalCount"] > len(relations),
    }


def disease_therapy_matrix(diseases: dict[str, Any]) -> dict[str, Any]:
    """Rows of diseases, columns of therapies (those studied for most diseases first), and for each cell the
    strongest certainty, the number of sources and whether only promotional sources make the claim."""
    rows = []
    columns: dict[str, dict[str, Any]] = {}
    for edge in diseases["edges"]:
        disease = edge["node"]
        cells = {}
        for link in disease.get("therapies", {}).get("edges", []):
            therapy = link["node"]
            column = columns.setdefault(therapy["id"], {"id": therapy["id"], "label": therapy["label"], "count": 0})
            column["count"] += 1
            evidence = link["evidence"]
            cells[therapy["id"]] = {
                "certainty": evidence["strongestCertainty"],
                "rank": Certainty[evidence["strongestCertainty"]].rank,
                "sources": evidence["sourceCount"],
                "promotionalOnly": evidence["promotionalOnly"],
            }
        if cells:
            rows.append({"id": disease["id"], "label": disease["label"], "cells": cells})
    ordered = sorted(columns.values(), key=lambda c: (-c["count"], c["label"].casefold()))
    rows.sort(key=lambda r: (-len(r["cells"]), r["label"].casefold()))
    return {"rows": rows, "columns": ordered, "total": diseases["totalCount"]}
