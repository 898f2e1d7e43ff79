"""``/openapi.json``: the HTTP API as OpenAPI 3.1, one operation per named query."""

from __future__ import annotations

from typing import Any

from kg import __version__
from kg.queries.catalog import PARAM_TYPES, Catalog, NamedQuery
from kg.queries.formats import GRAPHS, RESULTS
from kg.trapi.biolink import biolink
from kg.trapi.provider import INFORES, TRAPI_VERSION

_SCHEMAS: dict[str, dict[str, Any]] = {
    "iri": {"type": "string", "format": "iri"},
    "string": {"type": "string"},
    "integer": {"type": "integer"},
    "decimal": {"type": "number"},
    "boolean": {"type": "boolean"},
    "date": {"type": "string", "format": "date"},
}
_PROBLEM = {"application/problem+json": {"schema": {"$ref": "#/components/schemas/Problem"}}}


def _errors(*codes: int) -> dict[str, Any]:
    text = {
        400: "malformed request or query",
        403: "refused (updates, SERVICE)",
        404: "no such query",
        406: "no acceptable format",
        413: "request too large",
        415: "unsupported body type",
        422: "invalid parameter, or an answer over the size caps",
        503: "the query timed out, or the backend is unavailable",
    }
    return {str(c): {"description": text[c], "content": _PROBLEM} for c in codes}


def _content(query: NamedQuery) -> dict[str, Any]:
    formats = RESULTS if query.kind in ("SELECT", "ASK") else GRAPHS
    return {f.media_type: {} for f in formats}


def _typed(kind: str, value: str) -> object:
    """A parameter's default as its JSON Schema type."""
    if kind == "integer":
        return int(value)
    if kind == "boolean":
        return value.lower() == "true"
    if kind == "decimal":
        return float(value)
    return value


def operation(query: NamedQuery) -> dict[str, Any]:
    parameters = [
        {
            "name": p.name,
            "in": "query",
            "required": p.required,
            "description": p.description or PARAM_TYPES[p.type],
            "schema": {**_SCHEMAS[p.type], **({"default": _typed(p.type, p.default)} if p.default is not None else {})},
            **({"example": p.example} if p.example is not None else {}),
        }
        for p in query.params
    ]
    parameters.append(
        {
            "name": "format",
            "in": "query",
            "required": False,
            "description": (
                "a format name (json, xml, csv, tsv, ttl, n3, nt, nq, trig, jsonld, rdf) instead of Accept; one "
                "that names no format for the query's form leaves the choice to Accept"
            ),
            "schema": {"type": "string"},
        }
    )
    return {
        "operationId": query.name,
        "summary": query.summary,
        "description": query.description or query.summary,
        "tags": list(query.tags) or ["queries"],
        "parameters": parameters,
        "responses": {
            "200": {"description": f"the {query.kind} answer", "content": _content(query)},
            "304": {"description": "not modified since the ETag given in If-None-Match"},
            **_errors(404, 406, 422, 503),
        },
    }


def document(catalog: Catalog) -> dict[str, Any]:
    paths: dict[str, Any] = {
        "/sparql": {
            "get": {
                "operationId": "sparql_get",
                "summary": "SPARQL 1.1 query by GET (no query: the service description, or YASGUI for browsers)",
                "parameters": [
                    {"name": "query", "in": "query", "required": False, "schema": {"type": "string"}},
                    {
                        "name": "default-graph-uri",
                        "in": "query",
                        "schema": {"type": "array", "items": {"type": "string"}},
                    },
                    {
                        "name": "named-graph-uri",
                        "in": "query",
                        "schema": {"type": "array", "items": {"type": "string"}},
                    },
                ],
                "responses": {
                    "200": {"description": "query results or a graph"},
                    **_errors(400, 403, 406, 413, 422, 503),
                },
            },
            "post": {
                "operationId": "sparql_post",
                "summary": "SPARQL 1.1 query by POST (form or application/sparql-query); updates are refused",
                "requestBody": {
                    "content": {
                        "application/x-www-form-urlencoded": {
                            "schema": {"type": "object", "properties": {"query": {"type": "string"}}}
                        },
                        "application/sparql-query": {"schema": {"type": "string"}},
                    }
                },
                "responses": {
                    "200": {"description": "query results or a graph"},
                    **_errors(400, 403, 406, 413, 415, 422, 503),
                },
            },
        },
        "/queries": {
            "get": {
                "operationId": "list_queries",
                "summary": "The named-query catalogue",
                "responses": {"200": {"description": "the queries", "content": {"application/json": {}}}},
            }
        },
        **_trapi_paths(),
        "/healthz": {
            "get": {"operationId": "healthz", "summary": "Liveness", "responses": {"200": {"description": "alive"}}}
        },
    }
    for query in catalog:
        paths[f"/queries/{query.name}"] = {"get": operation(query)}
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "Stem-cell therapies for autoimmune disease: knowledge graph API",
            "version": __version__,
            "description": (
                "Read-only SPARQL endpoint, named queries and a TRAPI knowledge provider over a curated knowledge "
                f"graph. The TRAPI infores id {INFORES} is a placeholder: it is not registered in the Translator "
                "infores catalogue."
            ),
            "x-translator": {
                "component": "KP",
                "infores": INFORES,
                "biolink-version": biolink().version,
                "team": [],
            },
            "x-trapi": {"version": TRAPI_VERSION, "operations": ["lookup"]},
        },
        "tags": [{"name": "trapi"}, {"name": "translator"}, {"name": "queries"}],
        "paths": paths,
        "components": {
            "schemas": {
                "Problem": {
                    "type": "object",
                    "properties": {
                        "type": {"type": "string"},
                        "title": {"type": "string"},
                        "status": {"type": "integer"},
                        "detail": {"type": "string"},
                    },
                }
            }
        },
    }


def _trapi_paths() -> dict[str, Any]:
    return {
        "/trapi/query": {
            "post": {
                "operationId": "trapi_query",
                "summary": f"TRAPI {TRAPI_VERSION} lookup: a one-hop query graph over the claims",
                "tags": ["trapi", "translator"],
                "requestBody": {"required": True, "content": {"application/json": {"schema": {"type": "object"}}}},
                "responses": {
                    "200": {"description": "a TRAPI Response", "content": {"application/json": {}}},
                    **_errors(400, 413, 415, 422, 503),
                },
            }
        },
        "/trapi/meta_knowledge_graph": {
            "get": {
                "operationId": "trapi_meta_knowledge_graph",
                "summary": "The node categories, predicates and attributes this provider serves",
                "tags": ["trapi", "translator"],
                "responses": {
                    "200": {"description": "a TRAPI MetaKnowledgeGraph", "content": {"application/json": {}}}
                },
            }
        },
    }
