"""Linked data for people and machines. Every resource IRI of the graph dereferences on this server - ``/id/...``
(entities, claims, sources, mappings), ``/ontology`` (the vocabulary's hash IRIs) and ``/graph/...`` (the named
graphs) - as HTML for browsers and Turtle, JSON-LD or N-Triples for machines, chosen by the Accept header or by a
file extension (``/id/lupus.ttl``).

The HTML is rendered on the server from the stored GraphQL documents of ``queries/graphql/`` and the named SPARQL
queries, so a page shows exactly what the APIs answer. Pages are readable without JavaScript; scripts only add
search-as-you-type and the interactive graph view. Rendered pages are cached per release, with ETags."""

from __future__ import annotations

import hashlib
from collections.abc import Awaitable, Callable, Iterable
from pathlib import Path
from types import MappingProxyType
from typing import Any, Final

import pyoxigraph as ox
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from kg.errors import BadRequest, KgError, NotFound
from kg.execution.executor import Answer, Executor
from kg.execution.executor import Term as RdfTerm
from kg.graphql.context import Context
from kg.graphql.model import Direction, Relation, to_iri
from kg.namespaces import GRAPH, KGR, SCAD, curie
from kg.queries.catalog import Catalog, NamedQuery
from kg.queries.formats import GRAPHS, Format, by_name, negotiate, parse_accept
from kg.web.fastpath import request_key
from kg.web.pages.render import (
    disease_therapy_matrix,
    environment,
    groups,
    local_href,
    neighbourhood,
    safe_json,
    shown,
)
from kg.web.pages.vocabulary import Term, Vocabulary
from kg.web.sparql import answer, cache_headers, not_modified

HTML: Final = Format("text/html")
DOCUMENTS: Final = GRAPHS[:1] + [f for f in GRAPHS if f.media_type != "text/turtle"]
"""What a resource can be served as besides HTML: Turtle first for clients that accept any RDF."""
EXTENSIONS: Final = {"html": HTML} | {
    name: by_name(name, GRAPHS, "a resource") for name in ("ttl", "nt", "jsonld", "nq", "trig", "rdf")
}
CSP: Final = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; "
    "frame-ancestors 'none'; base-uri 'none'; form-action 'self'"
)
PAGE_HEADERS: Final = MappingProxyType({"Content-Security-Policy": CSP, "X-Content-Type-Options": "nosniff"})
"""What a page adds to the headers of every answer (kg.web.sparql.cache_headers)."""


def prefers_html(request: Request) -> bool:
    """True when the client names HTML before any other type it accepts (browsers do; curl and RDF clients don't)."""
    for media, q in parse_accept(request.headers.get("accept")):
        if q > 0:
            return media in ("text/html", "application/xhtml+xml")
    return False


class Pages:
    """Renders the HTML pages and answers the linked-data routes. Made once by the app; per-release data (the
    vocabulary, the named graphs) is loaded on first use and replaced when the release changes."""

    def __init__(self, queries_dir: Path) -> None:
        self.env = environment()
        self.documents = {p.stem: p.read_text(encoding="utf-8") for p in (queries_dir / "graphql").glob("*.graphql")}
        self.env.globals["search_document"] = self.documents.get("search", "")  # none: no search-as-you-type
        self._release = ""
        self._vocabulary: Vocabulary | None = None
        self._graphs: dict[str, int] | None = None

    # -- data -------------------------------------------------------------------------------------------------

    async def graphql(self, request: Request, document: str, variables: dict[str, Any] | None = None) -> Any:
        """The data of a stored GraphQL document, run in process on the same schema and services as /graphql."""
        view = request.app.state.graphql
        result = await view.schema.execute(
            self.documents[document], variable_values=variables, context_value=Context(services=view.services)
        )
        if result.errors:
            error = result.errors[0]
            original = error.original_error
            if isinstance(original, KgError):
                raise original
            raise RuntimeError(f"GraphQL document {document} failed: {error.message}")
        return result.data

    async def rows(self, request: Request, name: str, **params: str) -> list[dict[str, RdfTerm]]:
        catalog: Catalog = request.app.state.catalog
        executor: Executor = request.app.state.executor
        query = catalog.get(name)
        rows, _ = await executor.select(query.text, query.bind(params) if params else None)
        return rows

    def _fresh(self, request: Request) -> None:
        release = request.app.state.executor.release
        if release != self._release:
            self._release, self._vocabulary, self._graphs = release, None, None

    async def vocabulary(self, request: Request) -> Vocabulary:
        self._fresh(request)
        if self._vocabulary is None:
            terms: dict[str, Term] = {}
            for row in await self.rows(request, "ontology_terms"):
                iri = row["term"].value
                terms.setdefault(iri, Term(iri)).facts[row["field"].value].append(row["value"].value)
            for term in list(terms.values()):  # the reverse links, for the documentation of each class
                for field, reverse in (("parent", "child"), ("domain", "domainOf"), ("range", "rangeOf")):
                    for target in term.facts.get(field, []):
                        if target in terms:
                            terms[target].facts[reverse].append(term.iri)
            self._vocabulary = Vocabulary(terms)
        return self._vocabulary

    async def graphs(self, request: Request) -> dict[str, int]:
        """The named graphs (one per Turtle file) and their triple counts."""
        self._fresh(request)
        if self._graphs is None:
            rows = await self.rows(request, "named_graphs")
            self._graphs = {r["graph"].value: int(r["triples"].value) for r in rows}
        return self._graphs

    # -- responses --------------------------------------------------------------------------------------------

    async def page(self, request: Request, build: Callable[[], Awaitable[tuple[str, dict[str, Any]]]]) -> Response:
        """An HTML page: from the cache when this release already rendered it, else built, rendered and kept; a
        repeat of the same request is then answered before routing (kg.web.fastpath)."""
        executor: Executor = request.app.state.executor
        digest = hashlib.sha256(f"page\x1f{executor.release}\x1f{request.url.path}\x1f{request.url.query}".encode())
        key = digest.hexdigest()
        etag = f'"{executor.release}-{key[:20]}"'
        headers = {**cache_headers(etag, executor.release), **PAGE_HEADERS}
        unchanged = not_modified(request, etag, headers)
        if unchanged is not None:
            return unchanged
        cached = executor.cache.get(key)
        if cached is None:
            template, context = await build()
            body = self.render(request, template, **context).encode("utf-8")
            cached = Answer(body, HTML, etag)
            if executor.backend.cacheable:
                executor.cache.put(key, cached)
        repeat = request_key(request.scope)
        if repeat is not None:
            executor.remember(repeat, key, PAGE_HEADERS)
        return Response(cached.body, media_type=HTML.content_type, headers=headers)

    def render(self, request: Request, template: str, **context: Any) -> str:
        executor: Executor | None = getattr(request.app.state, "executor", None)
        release = executor.release if executor is not None else ""
        return self.env.get_template(template).render(release=release, path=request.url.path, **context)

    def error_page(self, request: Request, status: int, title: str, detail: str) -> Response:
        body = self.render(request, "error.html", status=status, title=title, detail=detail)
        return Response(body, status_code=status, media_type="text/html; charset=utf-8", headers={"Vary": "Accept"})

    # -- routes -----------------------------------------------------------------------------------------------

    async def home(self, request: Request) -> Response:
        """``/`` for a browser: the home page."""

        async def build() -> tuple[str, dict[str, Any]]:
            vocabulary = await self.vocabulary(request)
            counts = {r["what"].value: int(r["n"].value) for r in await self.rows(request, "overview")}
            kinds = sorted(
                ((vocabulary.label(k), n, k) for k, n in counts.items() if k.startswith(SCAD)), key=lambda c: c[0]
            )
            sources = await self.rows(request, "sources")
            return "home.html", {
                "counts": counts,
                "kinds": kinds,
                "sources": sources,
                "graphs": sorted((await self.graphs(request)).items()),
            }

        return await self.page(request, build)

    async def search(self, request: Request) -> Response:
        """``/search?q=``: the search results without JavaScript (the same search as GraphQL's ``search``)."""
        text = request.query_params.get("q", "").strip()[:200]
        iri = to_iri(text) if text.startswith(("http://", "https://")) or ":" in text else None
        target = local_href(iri) if iri else None
        if target is not None:  # a pasted IRI or CURIE of the graph: go to its page
            return RedirectResponse(target, status_code=303)

        async def build() -> tuple[str, dict[str, Any]]:
            hits = []
            if text:
                data = await self.graphql(request, "search", {"text": text, "first": 50})
                hits = data["search"]
            return "search.html", {"q": text, "hits": hits}

        return await self.page(request, build)

    async def resource(self, request: Request) -> Response:
        """``/id/{name}``: a resource of the graph, as an HTML page or an RDF description."""
        name: str = request.path_params["name"]
        stem, dot, extension = name.rpartition(".")
        fmt: Format | None = None
        if dot and extension in EXTENSIONS:
            name, fmt = stem, EXTENSIONS[extension]
        iri = KGR + name
        try:
            node = ox.NamedNode(iri)
        except ValueError:
            raise NotFound(f"{name!r} is not a resource name") from None
        types = [r["type"].value for r in await self.rows(request, "resource_types", resource=iri)]
        if not types:
            raise NotFound(f"the graph has no resource {curie(iri)}; search for it at /search?q=")
        if fmt is None:
            fmt = negotiate(request.headers.get("accept"), [HTML, *DOCUMENTS], "a resource")
        if fmt is not HTML:
            return await self.description(request, "describe", {"resource": node}, fmt, f"/id/{name}")
        return await self.page(request, lambda: self._resource_page(request, iri, types))

    async def _resource_page(self, request: Request, iri: str, types: list[str]) -> tuple[str, dict[str, Any]]:
        vocabulary = await self.vocabulary(request)
        alternates = self.alternates("/id/" + iri[len(KGR) :])
        if SCAD + "Claim" in types:
            data = await self.graphql(request, "claim_page", {"id": iri})
            return "claim.html", {"claim": data["claim"], "vocabulary": vocabulary, "alternates": alternates}
        if SCAD + "Source" in types:
            after = request.query_params.get("after")
            data = await self.graphql(request, "source_page", {"id": iri, "after": after})
            return "source.html", {
                "source": data["source"],
                "claims": data["claims"],
                "vocabulary": vocabulary,
                "alternates": alternates,
            }
        if "relation" in request.query_params or "direction" in request.query_params:
            return await self._relations_page(request, iri, vocabulary, alternates)
        data = await self.graphql(request, "entity_page", {"id": iri})
        entity = data["entity"]
        if entity is not None:
            return "entity.html", {
                "entity": entity,
                "curator_assertions": data.get("curatorAssertions") or [],
                "groups": groups(entity["relationGroups"], vocabulary),
                "vocabulary": vocabulary,
                "alternates": alternates,
            }
        statements = await self.statements(request, iri)
        labels = await self.labels(request, [s["subject"] for s in statements] + [s["iri"] for s in statements])
        return "resource.html", {
            "iri": iri,
            "types": types,
            "outgoing": [s for s in statements if s["subject"] == iri],
            "incoming": [s | {"iri": s["subject"], "text": ""} for s in statements if s["subject"] != iri],
            "labels": labels,
            "vocabulary": vocabulary,
            "alternates": alternates,
        }

    async def _relations_page(
        self, request: Request, iri: str, vocabulary: Vocabulary, alternates: list[dict[str, str]]
    ) -> tuple[str, dict[str, Any]]:
        """``/id/{name}?relation=...&direction=...``: every edge of one relation of an entity, a page at a time."""
        relation = request.query_params.get("relation", "")
        direction = request.query_params.get("direction", "")
        if relation not in Relation.__members__:
            raise BadRequest(f"relation is {relation!r}; expected a relation name such as INVESTIGATED_FOR")
        if direction not in Direction.__members__:
            raise BadRequest(f"direction is {direction!r}; expected INCOMING or OUTGOING")
        variables = {
            "id": iri,
            "relation": relation,
            "direction": direction,
            "after": request.query_params.get("after"),
        }
        data = await self.graphql(request, "entity_relations", variables)
        entity = data["entity"]
        if entity is None:
            raise NotFound(f"{curie(iri)} is not an entity, so it has no relations to list")
        page = entity["relations"]
        return "relations.html", {
            "entity": entity,
            "relation": relation,
            "direction": direction,
            "heading": vocabulary.heading(relation, direction),
            "page": page,
            "edges": [shown(e) for e in page["edges"]],
            "alternates": alternates,
        }

    async def ontology(self, request: Request) -> Response:
        """``/ontology``: the documentation of the vocabulary, or the ontology itself as RDF."""
        extension = request.path_params.get("extension")
        if extension is not None:
            fmt = EXTENSIONS.get(extension)
            if fmt is None:
                raise NotFound(f"no /ontology.{extension}; try .ttl, .jsonld or .nt")
        else:
            fmt = negotiate(request.headers.get("accept"), [HTML, *DOCUMENTS], "the ontology")
        if fmt is not HTML:
            return await self.description(request, "ontology_graph", {}, fmt, "/ontology")

        async def build() -> tuple[str, dict[str, Any]]:
            vocabulary = await self.vocabulary(request)
            terms = sorted(vocabulary.terms.values(), key=lambda t: t.name.casefold())
            header = await self.rows(request, "ontology_header")
            return "ontology.html", {
                "header": {r["field"].value: r["value"].value for r in header},
                "classes": [t for t in terms if t.kind == "class"],
                "properties": [t for t in terms if t.kind == "property"],
                "individuals": [t for t in terms if t.kind == "individual"],
                "vocabulary": vocabulary,
                "alternates": self.alternates("/ontology"),
            }

        return await self.page(request, build)

    async def named_graph(self, request: Request) -> Response:
        """``/graph/{path}``: one named graph (one Turtle file of ``ontology/``) as RDF."""
        iri = GRAPH + request.path_params["path"]
        if iri not in await self.graphs(request):
            raise NotFound(f"no named graph {iri}; GET / lists them")
        name = request.query_params.get("format")
        fmt = by_name(name, GRAPHS, "a graph") if name else negotiate(request.headers.get("accept"), GRAPHS, "a graph")
        return await self.description(request, "named_graph", {"graph": ox.NamedNode(iri)}, fmt, None)

    async def explore(self, request: Request) -> Response:
        """``/explore/{name}``: the graph view of an entity's neighbourhood."""
        iri = KGR + request.path_params["name"]

        async def build() -> tuple[str, dict[str, Any]]:
            data = await self.graphql(request, "neighbourhood", {"id": iri})
            entity = data["entity"]
            if entity is None:
                raise NotFound(f"the graph has no entity {curie(iri)}")
            vocabulary = await self.vocabulary(request)
            network = neighbourhood(entity, vocabulary)
            return "explore.html", {"entity": entity, "network": network, "network_json": safe_json(network)}

        return await self.page(request, build)

    async def matrix(self, request: Request) -> Response:
        """``/matrix``: diseases by therapies, each cell coloured by the strongest evidence."""

        async def build() -> tuple[str, dict[str, Any]]:
            data = await self.graphql(request, "matrix")
            return "matrix.html", disease_therapy_matrix(data["diseases"])

        return await self.page(request, build)

    async def disagreements(self, request: Request) -> Response:
        """``/disagreements``: the pairs of claims where sources disagree, quotes side by side."""

        async def build() -> tuple[str, dict[str, Any]]:
            data = await self.graphql(request, "disagreements")
            return "disagreements.html", {"pairs": data["disagreements"]}

        return await self.page(request, build)

    # -- helpers ----------------------------------------------------------------------------------------------

    async def description(
        self, request: Request, query: str, params: dict[str, ox.NamedNode], fmt: Format, base: str | None
    ) -> Response:
        """An RDF answer of a named CONSTRUCT query, through the executor (cached, with ETag and 304)."""
        catalog: Catalog = request.app.state.catalog
        executor: Executor = request.app.state.executor
        named = catalog.get(query)
        plan = executor.plan(named.text, bindings=dict(_variables(named, params)), format_name=fmt.media_type)
        headers: dict[str, str] = {}
        if base is not None:
            extension = next(k for k, v in EXTENSIONS.items() if v is fmt)
            headers["Content-Location"] = f"{base}.{extension}"
            headers["Link"] = ", ".join(
                f'<{a["href"]}>; rel="alternate"; type="{a["type"]}"' for a in self.alternates(base)
            )
        return await answer(request, executor, plan, headers)

    @staticmethod
    def alternates(base: str) -> list[dict[str, str]]:
        return [
            {"href": f"{base}.ttl", "type": "text/turtle", "name": "Turtle"},
            {"href": f"{base}.jsonld", "type": "application/ld+json", "name": "JSON-LD"},
            {"href": f"{base}.nt", "type": "application/n-triples", "name": "N-Triples"},
        ]

    async def statements(self, request: Request, iri: str) -> list[dict[str, str]]:
        """The description of ``iri`` (``describe.rq``) as rows: subject, predicate, and an IRI or a text value."""
        catalog: Catalog = request.app.state.catalog
        executor: Executor = request.app.state.executor
        nt = by_name("nt", GRAPHS, "a graph")
        bindings = {ox.Variable("resource"): ox.NamedNode(iri)}
        plan = executor.plan(catalog.get("describe").text, bindings=bindings, format_name=nt.media_type)
        result = await executor.execute(plan)
        rows = []
        for quad in ox.parse(result.body, format=ox.RdfFormat.N_TRIPLES):
            obj = quad.object
            rows.append(
                {
                    "subject": str(getattr(quad.subject, "value", "")),
                    "predicate": quad.predicate.value,
                    "iri": obj.value if isinstance(obj, ox.NamedNode) else "",
                    "text": obj.value if isinstance(obj, ox.Literal) else "",
                }
            )
        return sorted(rows, key=lambda r: (r["subject"], r["predicate"], r["iri"], r["text"]))

    async def labels(self, request: Request, iris: Iterable[str]) -> dict[str, str]:
        """Preferred labels of the entities among ``iris``."""
        view = request.app.state.graphql
        context = Context(services=view.services)
        wanted = sorted({i for i in iris if i.startswith(KGR)})
        cards = await context.cards.load_many(wanted)
        return {iri: card.label for iri, card in zip(wanted, cards, strict=True) if card is not None}


def _variables(query: NamedQuery, params: dict[str, ox.NamedNode]) -> Iterable[tuple[ox.Variable, ox.NamedNode]]:
    """The variables the parameters bind (``bind: filter`` ones bind a companion, see kg.queries.catalog)."""
    for name, term in params.items():
        param = query.param(name)
        if param is None:
            raise KeyError(f"query '{query.name}' has no parameter '{name}'")
        yield param.variable, term
