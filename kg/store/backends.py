"""The store and its backends: embedded pyoxigraph (in memory from the Turtle files, or an on-disk store opened
read-only) or any SPARQL 1.1 Protocol endpoint. Every backend answers with pyoxigraph result objects."""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Literal, Protocol

import httpx
import pyoxigraph as ox

from kg.errors import BackendUnavailable, QuerySyntaxError
from kg.namespaces import INFERRED_GRAPH, PREFIXES, sparql_prologue
from kg.queries.catalog import Catalog, NamedQuery
from kg.queries.text import dataset_graphs, inline_values, lex, names_dataset, query_form
from kg.rdf.dataset import read_sources
from kg.settings import Settings
from kg.store.build import BUILD_RECORD, file_hashes, release_id
from kg.store.edges import EDGES_FILE, EdgeIndex, EdgeIndexError
from kg.store.embedded import Bindings, Result, query_store, syntax_message
from kg.store.labels import LABELS_FILE, LabelIndex, LabelIndexError
from kg.store.metadata import metadata_quads

__all__ = ["Bindings", "Result", "syntax_message"]

PROLOGUE = sparql_prologue()
"""Sent before every query to a remote endpoint, so the prefixes of kg.namespaces are predefined there as on the
embedded store (a query may redefine them)."""


def memory_store(quads: Iterable[ox.Quad]) -> ox.Store:
    store = ox.Store()
    store.extend(quads)
    return store


def run(store: ox.Store, query: NamedQuery | str, bindings: Bindings | None = None) -> Result:
    """Run a named query (or query text) over the union of all graphs, with parameters bound as RDF terms.

    Parameters travel as a VALUES block written by pyoxigraph (never spliced from client text). pyoxigraph's
    substitutions would do the same, but measured on the named queries they ran 1.5 to 45 times slower (the disease
    card: 290 ms against 9 ms), so both backends use VALUES."""
    text = query.text if isinstance(query, NamedQuery) else query
    return store.query(inline_values(text, bindings or {}), use_default_graph_as_union=True, prefixes=PREFIXES)


class StoreError(Exception):
    """A store that cannot be opened: missing, corrupt, or without its build record."""


class Backend(Protocol):
    kind: str
    release: str
    cacheable: bool

    def query(
        self,
        text: str,
        bindings: Bindings | None = None,
        default_graphs: Sequence[str] = (),
        named_graphs: Sequence[str] = (),
        base_iri: str | None = None,
    ) -> Result:
        """Run ``text``. Its dataset is, in order: the protocol's ``default_graphs`` and ``named_graphs`` when either
        is given (the other is then empty), the query's own FROM / FROM NAMED, or else the union of the graphs as the
        default graph and every graph as a named graph. Relative IRIs resolve against ``base_iri``."""
        ...

    def ping(self) -> bool: ...

    def close(self) -> None: ...


@dataclass
class EmbeddedBackend:
    """pyoxigraph in this process. The default graph is the union of the named graphs (one per Turtle file)."""

    store: ox.Store
    release: str
    kind: str = "embedded"
    cacheable: bool = True

    def query(
        self,
        text: str,
        bindings: Bindings | None = None,
        default_graphs: Sequence[str] = (),
        named_graphs: Sequence[str] = (),
        base_iri: str | None = None,
    ) -> Result:
        return query_store(self.store, text, bindings, default_graphs, named_graphs, base_iri)

    def ping(self) -> bool:
        return bool(self.store.query("ASK { ?s ?p ?o }", use_default_graph_as_union=True))

    def close(self) -> None:
        del self.store


def open_store_dir(path: Path) -> tuple[ox.Store, dict[str, object]]:
    """An on-disk store built by ``kg build``, opened read-only (several processes may share it), and its record."""
    record_path = path / BUILD_RECORD
    if not path.is_dir():
        raise StoreError(f"store directory {path} does not exist; build it with `kg build --store {path}`")
    try:
        record = json.loads(record_path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise StoreError(f"{record_path} is missing; {path} is not a store built by `kg build`") from None
    except (OSError, ValueError) as exc:
        raise StoreError(f"{record_path} is not a readable build record ({exc})") from None
    if not isinstance(record, dict) or not isinstance(record.get("release"), str):
        raise StoreError(f"{record_path} has no 'release'; rebuild the store with `kg build`")
    labels = path / LABELS_FILE
    if labels.exists():  # built beside the store by `kg build` (otherwise built at start-up)
        try:
            LabelIndex.open(labels).connection.close()
        except LabelIndexError as exc:
            raise StoreError(str(exc)) from None
    edges = path / EDGES_FILE
    if edges.exists():  # the edge summaries, also written by `kg build` (otherwise summed at start-up)
        try:
            EdgeIndex.open(edges).connection.close()
        except EdgeIndexError as exc:
            raise StoreError(str(exc)) from None
    try:
        store = ox.Store.read_only(str(path / "data"))
    except (OSError, RuntimeError) as exc:  # RocksDB reports corruption as RuntimeError
        raise StoreError(f"{path / 'data'} cannot be opened as an Oxigraph store ({exc})") from None
    return store, record


PostStyle = Literal["form", "direct"]

GRAPH_FORMS = ("CONSTRUCT", "DESCRIBE")
"""Query forms whose answer is a graph, asked for as N-Triples; the others are asked for as SPARQL JSON results. One
media type per form: Virtuoso answers the first type of an Accept list whatever the form, so a CONSTRUCT asked with
``application/sparql-results+json, application/n-triples`` comes back as a table of ?s ?p ?o."""


class RemoteBackend:
    """Any SPARQL 1.1 Protocol endpoint. Parameters travel as a VALUES block; results come back as SPARQL JSON or
    N-Triples and are parsed by pyoxigraph. Its default graph must be the union of the graphs, as here.

    ``post`` is how the query travels: ``form`` (form fields, which every SPARQL 1.1 server takes; Virtuoso 7.2 needs
    it, since it never answers a direct POST) or ``direct`` (an ``application/sparql-query`` body, the protocol's
    graphs in the URL)."""

    kind = "remote"

    def __init__(self, url: str, timeout: float, release: str | None, post: PostStyle = "form") -> None:
        self.url = url
        self.post = post
        self.release = release or "remote"
        self.cacheable = release is not None
        self.client = httpx.Client(timeout=httpx.Timeout(timeout, connect=min(timeout, 5.0)), follow_redirects=False)

    def query(
        self,
        text: str,
        bindings: Bindings | None = None,
        default_graphs: Sequence[str] = (),
        named_graphs: Sequence[str] = (),
        base_iri: str | None = None,
    ) -> Result:
        base = f"BASE <{ox.NamedNode(base_iri).value}>\n" if base_iri else ""
        if not default_graphs and not named_graphs and names_dataset(text):
            # the endpoint's union default graph would override FROM; the protocol's dataset does not
            default_graphs, named_graphs = dataset_graphs(text, PREFIXES)
        body = base + PROLOGUE + inline_values(text, bindings or {})
        graphs = [("default-graph-uri", g) for g in default_graphs] + [("named-graph-uri", g) for g in named_graphs]
        form = query_form(lex(text))
        graph_answer = form in GRAPH_FORMS
        accept = "application/n-triples" if graph_answer else "application/sparql-results+json"
        for attempt in (1, 2):  # a query is read-only: once more when a kept-alive connection was closed under us
            try:
                if self.post == "direct":
                    response = self.client.post(
                        self.url,
                        params=dict_list(graphs),
                        content=body.encode(),
                        headers={"Accept": accept, "Content-Type": "application/sparql-query"},
                    )
                else:
                    response = self.client.post(
                        self.url, data=dict_list([("query", body), *graphs]), headers={"Accept": accept}
                    )
                break
            except (httpx.ReadError, httpx.RemoteProtocolError):
                if attempt == 2:
                    raise BackendUnavailable("the SPARQL backend closed the connection") from None
            except httpx.HTTPError as exc:
                raise BackendUnavailable(f"the SPARQL backend did not answer ({type(exc).__name__})") from None
        if response.status_code == 400:
            raise QuerySyntaxError(f"malformed query: {response.text.strip()[:500]}")
        if response.status_code != 200:
            raise BackendUnavailable(f"the SPARQL backend answered {response.status_code}")
        media = response.headers.get("content-type", "").split(";")[0].strip().lower()
        if media == "application/sparql-results+json" and not graph_answer:
            return ox.parse_query_results(canonical_results(response.content), ox.QueryResultsFormat.JSON)
        if media in ("application/n-triples", "text/plain") and graph_answer:
            return list(ox.parse(response.content, ox.RdfFormat.N_TRIPLES))
        raise BackendUnavailable(f"the SPARQL backend answered a {form} query with {media!r}")

    def ping(self) -> bool:
        try:
            result = self.query("ASK { ?s ?p ?o }")
        except (BackendUnavailable, QuerySyntaxError):
            return False
        return isinstance(result, ox.QueryBoolean)

    def close(self) -> None:
        self.client.close()


BLANK_LABEL = re.compile(r"[A-Za-z0-9_](?:[A-Za-z0-9_.-]*[A-Za-z0-9_-])?")
"""A blank node label as N-Triples and pyoxigraph take it (ASCII subset of BLANK_NODE_LABEL)."""
XSD_BOOLEAN = "http://www.w3.org/2001/XMLSchema#boolean"
CANONICAL_BOOLEAN = {"1": "true", "0": "false"}


def canonical_results(content: bytes) -> bytes:
    """SPARQL JSON results with blank node labels pyoxigraph takes and booleans in their canonical form.

    Virtuoso writes blank nodes as ``nodeID://b10146`` (the JSON format leaves labels open; RDF's grammar does not):
    such a label becomes its UTF-8 in hex, so equal labels stay equal within the answer and different ones
    different. It also answers a stored ``"true"^^xsd:boolean`` as ``"1"^^xsd:boolean``: the same value, written
    back as ``true``."""
    if b'"bnode"' not in content and XSD_BOOLEAN.encode() not in content:
        return content
    document = json.loads(content)
    for row in document.get("results", {}).get("bindings", []):
        for term in row.values():
            value = term.get("value", "")
            if term.get("type") == "bnode" and not BLANK_LABEL.fullmatch(value):
                term["value"] = "x" + value.encode().hex()
            elif term.get("datatype") == XSD_BOOLEAN and value in CANONICAL_BOOLEAN:
                term["value"] = CANONICAL_BOOLEAN[value]
    return json.dumps(document).encode()


def dict_list(pairs: list[tuple[str, str]]) -> dict[str, str | list[str]]:
    """Form fields for httpx: repeated names become lists."""
    out: dict[str, str | list[str]] = {}
    for name, value in pairs:
        if name in out:
            existing = out[name]
            out[name] = [*existing, value] if isinstance(existing, list) else [existing, value]
        else:
            out[name] = value
    return out


def open_backend(settings: Settings) -> Backend:
    """The backend the settings ask for: a remote endpoint, an on-disk store, or the Turtle files in memory."""
    if settings.sparql_url:
        return RemoteBackend(settings.sparql_url, settings.query_timeout, settings.release_id, settings.sparql_post)
    if settings.store_dir is not None:
        store, record = open_store_dir(settings.store_dir)
        return EmbeddedBackend(store, str(record["release"]))
    data = read_sources([settings.ontology_dir], settings.ontology_dir)
    if data.errors:
        raise StoreError("the Turtle files do not parse:\n" + "\n".join(e.text() for e in data.errors))
    quads = data.quads
    hashes = file_hashes(data, settings.ontology_dir)
    if not settings.inferred:
        quads = [q for q in quads if not isinstance(q.graph_name, ox.NamedNode) or q.graph_name.value != INFERRED_GRAPH]
        hashes = {**hashes, "inferred": "excluded"}  # another release: other answers
    store = memory_store(quads)
    release = release_id(hashes)
    store.extend(metadata_quads(store, Catalog(settings.queries_dir), release))  # the VoID and examples graphs
    return EmbeddedBackend(store, release)
