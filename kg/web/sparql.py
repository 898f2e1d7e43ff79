"""The SPARQL 1.1 Protocol at ``/sparql``: query by GET, POST form and POST ``application/sparql-query``; updates
refused; with no query, the service description (for machines) or a YASGUI page (for browsers)."""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from functools import lru_cache
from types import MappingProxyType
from urllib.parse import parse_qsl

import pyoxigraph as ox
from starlette.datastructures import URL
from starlette.requests import Request
from starlette.responses import Response
from starlette.types import Scope

from kg.errors import BadRequest, Forbidden, PayloadTooLarge, UnsupportedMediaType
from kg.execution.executor import Answer, Executor, Plan
from kg.queries.catalog import Catalog
from kg.queries.formats import GRAPHS, Format, known, negotiate, parse_accept
from kg.settings import Settings
from kg.store.metadata import DATASET, EXAMPLES_GRAPH, VOID_GRAPH
from kg.web.editors.pages import Editors
from kg.web.fastpath import request_key

LONG_TEXT = 16_384
"""Longer query texts are scanned (linear, but a megabyte takes about a second) off the event loop."""
SD = "http://www.w3.org/ns/sparql-service-description#"
FORM = "application/x-www-form-urlencoded"


async def read_body(request: Request, limit: int) -> bytes:
    """The request body, refused with 413 as soon as it passes ``limit`` bytes."""
    declared = request.headers.get("content-length")
    if declared is not None:
        try:
            too_big = int(declared) > limit
        except ValueError:
            raise BadRequest(f"Content-Length {declared!r} is not a number") from None
        if too_big:
            raise PayloadTooLarge(f"request body of {declared} bytes is larger than {limit} bytes (KG_MAX_BODY_BYTES)")
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise PayloadTooLarge(f"request body is larger than {limit} bytes (KG_MAX_BODY_BYTES)")
        chunks.append(chunk)
    return b"".join(chunks)


def decode(body: bytes, what: str) -> str:
    try:
        return body.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise BadRequest(f"{what} is not valid UTF-8 (byte {exc.start})") from None


async def protocol_params(request: Request, settings: Settings) -> list[tuple[str, str]]:
    """The protocol parameters of a request, from the URL and, for POST, the body."""
    params = list(request.query_params.multi_items())
    if request.method != "POST":
        return params
    content_type = request.headers.get("content-type", "")
    refuse_update(content_type)
    return body_params(params, content_type, await read_body(request, settings.max_body_bytes))


def refuse_update(content_type: str) -> None:
    """Before a POST body is read: an update body is refused."""
    if content_type.partition(";")[0].strip().lower() == "application/sparql-update":
        raise Forbidden("this endpoint is read-only: SPARQL updates are refused")


def body_params(params: list[tuple[str, str]], content_type: str, body: bytes) -> list[tuple[str, str]]:
    """The URL's ``params`` and those of a POST ``body`` of ``content_type``."""
    media, _, rest = content_type.partition(";")
    media = media.strip().lower()
    if media == FORM:
        return params + parse_qsl(decode(body, "the form body"), keep_blank_values=True)
    if media == "application/sparql-query":
        charset = media_parameter(rest, "charset")
        if charset is not None and charset.lower() not in ("utf-8", "utf8"):
            raise UnsupportedMediaType(f"a query body in charset {charset!r} is not accepted; send it as UTF-8")
        if any(name == "query" for name, _ in params):
            raise BadRequest("the query is given twice: in the body and as a 'query' parameter")
        return [*params, ("query", decode(body, "the query"))]
    raise UnsupportedMediaType(
        f"POST body of type {media or '(none)'!r} is not accepted; send {FORM} or application/sparql-query"
    )


def media_parameter(parameters: str, name: str) -> str | None:
    """The value of one parameter of a media type (the text after its first ';'), unquoted."""
    for part in parameters.split(";"):
        key, _, value = part.partition("=")
        if key.strip().lower() == name:
            return value.strip().strip('"')
    return None


def endpoint_iri(request: Request) -> str | None:
    """The endpoint's own URL, the base IRI of its queries; None when the Host the client sent makes no IRI."""
    return scope_endpoint_iri(request.scope)


def scope_endpoint_iri(scope: Scope) -> str | None:
    host = next((value for name, value in scope["headers"] if name == b"host"), None)
    server = scope.get("server")
    return _endpoint_iri(
        scope["scheme"], host, None if server is None else tuple(server), scope.get("root_path", ""), scope["path"]
    )


@lru_cache(maxsize=256)
def _endpoint_iri(
    scheme: str, host: bytes | None, server: tuple[str, int] | None, root_path: str, path: str
) -> str | None:
    """What Starlette's ``request.url`` is without its query, made once per host and path."""
    headers = [] if host is None else [(b"host", host)]
    scope: Scope = {"type": "http", "scheme": scheme, "path": path, "root_path": root_path, "query_string": b""}
    endpoint = str(URL(scope={**scope, "headers": headers, "server": server}))
    try:
        return ox.NamedNode(endpoint).value
    except ValueError:
        return None


NO_HEADERS: Mapping[str, str] = MappingProxyType({})


def answer_response(answer: Answer, release: str) -> Response:
    return Response(answer.body, media_type=answer.format.content_type, headers=cache_headers(answer.etag, release))


def cache_headers(etag: str, release: str) -> dict[str, str]:
    return {"ETag": etag, "X-KG-Release": release, "Cache-Control": "public, no-cache", "Vary": "Accept"}


def not_modified(request: Request, etag: str, headers: Mapping[str, str]) -> Response | None:
    """304 with ``headers`` when the client already has the answer tagged ``etag``."""
    tags = request.headers.get("if-none-match")
    if tags and (tags.strip() == "*" or etag in [t.strip() for t in tags.split(",")]):
        return Response(status_code=304, headers=dict(headers))
    return None


def query_text(params: list[tuple[str, str]], method: str, settings: Settings) -> str | None:
    """The one query of a request's parameters; None for a GET with none (the service description is wanted)."""
    names = [name for name, _ in params]
    if "update" in names and "query" in names:
        raise BadRequest("the request has both a 'query' and an 'update' parameter; give one operation")
    if "update" in names:
        raise Forbidden("this endpoint is read-only: SPARQL updates are refused")
    queries = [value for name, value in params if name == "query"]
    if len(queries) > 1:
        raise BadRequest("give exactly one 'query' parameter")
    if not queries:
        if method == "POST":
            raise BadRequest("no 'query' parameter in the request")
        return None
    text = queries[0]
    if not text.strip():
        raise BadRequest("the 'query' parameter is empty")
    if len(text.encode("utf-8")) > settings.max_body_bytes:
        raise PayloadTooLarge(f"the query is longer than {settings.max_body_bytes} bytes (KG_MAX_BODY_BYTES)")
    return text


def client_plan(
    executor: Executor,
    text: str,
    params: list[tuple[str, str]],
    accept: str | None,
    base_iri: str | None,
    format_name: str | None,
) -> Plan:
    """The plan of a client's query (lexed once: the plan says its form)."""
    return executor.plan(
        text,
        default_graphs=[v for n, v in params if n == "default-graph-uri"],
        named_graphs=[v for n, v in params if n == "named-graph-uri"],
        accept=accept,
        format_name=format_name,
        base_iri=base_iri,
        untrusted=True,
    )


async def sparql(request: Request) -> Response:
    settings: Settings = request.app.state.settings
    executor: Executor = request.app.state.executor
    params = await protocol_params(request, settings)
    text = query_text(params, request.method, settings)
    if text is None:
        return await describe_service(request)
    format_name = known([v for n, v in params if n == "format"])
    accept, base_iri = request.headers.get("accept"), endpoint_iri(request)

    def plan(name: str | None) -> Plan:
        return client_plan(executor, text, params, accept, base_iri, name)

    first = plan(format_name) if len(text) <= LONG_TEXT else await asyncio.to_thread(plan, format_name)
    if format_name is None and first.form is not None and request.app.state.results.wanted(request):
        page: Response = await request.app.state.results.page(request, executor, first.form, plan)
        return page  # kg.web.pages.results
    return await answer(request, executor, first)


async def answer(request: Request, executor: Executor, plan: Plan, headers: Mapping[str, str] = NO_HEADERS) -> Response:
    """The response for a planned query, with the route's own ``headers``: 304 when the client has it, else the
    (cached or new) answer."""
    unchanged = not_modified(request, plan.etag, {**cache_headers(plan.etag, executor.release), **headers})
    if unchanged is not None:
        return unchanged
    result = await executor.execute(plan, client_of(request) if plan.untrusted else None)
    key = request_key(request.scope)
    if key is not None:
        executor.remember(key, plan.key, headers)
    response = answer_response(result, executor.release)
    response.headers.update(headers)
    return response


def client_of(request: Request) -> str:
    """Who a query is charged to: the remote address (uvicorn has already replaced it by the X-Forwarded-For address
    when the connection comes from one of KG_TRUSTED_PROXIES)."""
    return request.client.host if request.client is not None else "unknown"


def wants_html(request: Request) -> bool:
    for media, q in parse_accept(request.headers.get("accept")):
        if q <= 0:
            continue
        if media in ("text/html", "application/xhtml+xml"):
            return True
        if media in {f.media_type for f in GRAPHS} or media == "*/*":
            return False
    return False


async def describe_service(request: Request) -> Response:
    if wants_html(request):
        return yasgui_page(request)
    fmt: Format = negotiate(request.headers.get("accept"), GRAPHS, "the service description")
    assert fmt.rdf is not None
    endpoint = str(request.url.replace(query="", fragment=""))
    body = ox.serialize(service_description(endpoint, await metadata(request)), format=fmt.rdf)
    return Response(body, media_type=fmt.content_type, headers={"Vary": "Accept"})


async def metadata(request: Request) -> list[ox.Triple]:
    """The VoID and examples graphs of the store (kg.store.metadata), for the service description."""
    executor: Executor = request.app.state.executor
    catalog: Catalog = request.app.state.catalog
    found: list[ox.Triple] = []
    for graph in (VOID_GRAPH, EXAMPLES_GRAPH):
        plan = executor.plan(
            catalog.get("named_graph").text, bindings={ox.Variable("graph"): ox.NamedNode(graph)}, format_name="nt"
        )
        answer = await executor.execute(plan)
        found += [q.triple for q in ox.parse(answer.body, format=ox.RdfFormat.N_TRIPLES)]
    return found


def service_description(endpoint: str, described: list[ox.Triple] | None = None) -> list[ox.Triple]:
    """The service; with ``described`` (the VoID and examples graphs), its default dataset is the VoID dataset and the
    two graphs are its named graphs, their triples included."""
    service = ox.BlankNode("service")
    dataset: ox.NamedNode | ox.BlankNode = ox.NamedNode(DATASET) if described else ox.BlankNode("dataset")
    graph = ox.BlankNode("default")

    def sd(name: str) -> ox.NamedNode:
        return ox.NamedNode(SD + name)

    rdf_type = ox.NamedNode("http://www.w3.org/1999/02/22-rdf-syntax-ns#type")
    triples = [
        ox.Triple(service, rdf_type, sd("Service")),
        ox.Triple(service, sd("endpoint"), ox.NamedNode(endpoint)),
        ox.Triple(service, sd("supportedLanguage"), sd("SPARQL11Query")),
        ox.Triple(service, sd("feature"), sd("UnionDefaultGraph")),
        ox.Triple(service, sd("defaultDataset"), dataset),
        ox.Triple(dataset, rdf_type, sd("Dataset")),
        ox.Triple(dataset, sd("defaultGraph"), graph),
        ox.Triple(graph, rdf_type, sd("Graph")),
    ]
    for n, name in enumerate((VOID_GRAPH, EXAMPLES_GRAPH) if described else ()):
        named = ox.BlankNode(f"named{n}")
        triples += [
            ox.Triple(dataset, sd("namedGraph"), named),
            ox.Triple(named, rdf_type, sd("NamedGraph")),
            ox.Triple(named, sd("name"), ox.NamedNode(name)),
        ]
    triples += described or []
    formats = [
        "http://www.w3.org/ns/formats/SPARQL_Results_JSON",
        "http://www.w3.org/ns/formats/SPARQL_Results_XML",
        "http://www.w3.org/ns/formats/SPARQL_Results_CSV",
        "http://www.w3.org/ns/formats/SPARQL_Results_TSV",
        "http://www.w3.org/ns/formats/Turtle",
        "http://www.w3.org/ns/formats/N-Triples",
        "http://www.w3.org/ns/formats/N-Quads",
        "http://www.w3.org/ns/formats/TriG",
        "http://www.w3.org/ns/formats/JSON-LD",
        "http://www.w3.org/ns/formats/RDF_XML",
    ]
    triples += [ox.Triple(service, sd("resultFormat"), ox.NamedNode(f)) for f in formats]
    return triples


def yasgui_page(request: Request) -> Response:
    catalog: Catalog = request.app.state.catalog
    # the researchers' questions first: queries that answer competency questions, then the rest, none with parameters
    runnable = [q for q in catalog if q.kind in ("SELECT", "ASK", "CONSTRUCT", "DESCRIBE") and not q.params]
    examples = [{"name": q.summary[:40], "query": q.text} for q in sorted(runnable, key=lambda q: not q.cq)][:12]
    endpoint = str(request.url.replace(query="", fragment=""))
    editors: Editors = request.app.state.editors
    return editors.yasgui(endpoint, examples)
