"""One typed settings object for everything (``KG_`` environment variables); nothing else reads the environment."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Literal

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

PROJECT_DIR = Path(__file__).resolve().parent.parent


class Settings(BaseSettings):
    """Every setting, with its default; `deploy/kg.env.example` lists them for operators."""

    model_config = SettingsConfigDict(env_prefix="KG_", extra="ignore", use_attribute_docstrings=True)

    ontology_dir: Path = PROJECT_DIR / "ontology"
    """The Turtle files: ontology, shapes and data (the source of truth)."""
    ontology_source: Path | None = None
    """Set by `kg serve`: the files curators edit, of which ``ontology_dir`` is the last validated snapshot."""
    queries_dir: Path = PROJECT_DIR / "queries"
    """The named queries; quality rules live in its ``checks/`` folder."""
    sources_dir: Path | None = None
    """The source texts (``scad:fileName``) every quote is checked against; unset: quotes are checked only with
    --sources, and `kg release` refuses to run."""
    nanopub_key: Path | None = None
    """An RSA private key (PEM, or base64 as `np setup` writes it) that signs the nanopublications of
    `kg release --nanopubs`; unset: they carry a trusty URI but no signature."""
    nanopub_orcid: str | None = None
    """The ORCID iD (``https://orcid.org/...``) the signed nanopublications name as their creator."""

    assets_dir: Path | None = None
    """The editors' pinned files (YASGUI, GraphiQL, React) installed by `kg assets fetch`, served at /assets/; unset,
    or a file missing there: the pages load that file from the CDN at its exact version, with its SRI hash."""

    host: str = "127.0.0.1"
    """Interface `kg serve` listens on."""
    port: Annotated[int, Field(ge=0, le=65535)] = 8000
    """Port `kg serve` listens on."""
    workers: Annotated[int, Field(ge=1, le=64)] = 1
    """Worker processes of `kg serve`; with --store they share the on-disk store."""
    store_dir: Path | None = None
    """An on-disk store built by `kg build`, opened read-only; unset: the Turtle files are loaded in memory."""
    sparql_url: str | None = None
    """A SPARQL 1.1 Protocol endpoint to use instead of the embedded store."""
    sparql_post: Literal["form", "direct"] = "form"
    """How queries are POSTed to the remote endpoint: ``form`` (``application/x-www-form-urlencoded``, the query and
    its graphs as form fields; every SPARQL 1.1 server takes it, and Virtuoso 7.2 needs it: it never answers a direct
    POST) or ``direct`` (the query as an ``application/sparql-query`` body, the graphs in the URL)."""
    inferred: bool = True
    """Load the inferred graph (ontology/inferred.ttl) with the asserted ones, in memory and in `kg build`; false
    serves the asserted graphs only. A remote endpoint serves whatever it holds."""
    release_id: str | None = None
    """The data release served by the remote endpoint; answers from a remote endpoint are cached only when it is set."""

    query_timeout: Annotated[float, Field(gt=0)] = 10.0
    """Seconds a query may run before it is stopped and answered 503."""
    max_rows: Annotated[int, Field(ge=1)] = 10_000
    """Most rows (or triples) one answer may hold; larger answers are refused with 422."""
    max_body_bytes: Annotated[int, Field(ge=1024)] = 1_000_000
    """Largest request body accepted; larger ones are refused with 413."""
    max_header_bytes: Annotated[int, Field(ge=1024)] = 16_384
    """Largest request line and headers together; larger ones are refused with 431 (by `kg serve`)."""
    header_timeout: Annotated[float, Field(gt=0)] = 10.0
    """Seconds a client may take to send a request's line and headers (408 after that, by `kg serve`)."""
    body_timeout: Annotated[float, Field(gt=0)] = 30.0
    """Seconds a client may take to send a request's body once its headers are in (408 after that, by `kg serve`, if
    no answer has started)."""
    keep_alive_timeout: Annotated[int, Field(ge=1)] = 5
    """Seconds an idle keep-alive connection stays open."""
    max_connections: Annotated[int, Field(ge=1)] = 1000
    """Connections one worker holds at once (idle keep-alive ones included; uvicorn's limit_concurrency), or requests
    it runs at once: a request arriving while its worker is at the limit gets 503 with Retry-After, and its connection
    is closed."""
    max_result_bytes: Annotated[int, Field(ge=1024)] = 64_000_000
    """Largest serialized answer."""
    max_query_depth: Annotated[int, Field(ge=8, le=2000)] = 400
    """Deepest nesting of groups, lists and blank nodes (``{``, ``(``, ``[``) in a SPARQL query; deeper is refused
    with 400 before the engine's recursive parser sees it."""
    query_threads: Annotated[int, Field(ge=1)] = 16
    """Queries running at once in one worker process."""
    cache_entries: Annotated[int, Field(ge=0)] = 4096
    """Answers kept in the cache of one worker (0: no caching)."""
    cache_bytes: Annotated[int, Field(ge=0)] = 64_000_000
    """Bytes of the answer cache of one worker, keys included (the row, GraphQL and card caches get a quarter each)."""
    service_allowlist: list[str] = []
    """SPARQL SERVICE endpoints a query may call; empty: SERVICE is refused. Sandboxed queries have no network, so
    the allow-list takes effect only with ``sandbox`` off (or for the remote backend, which runs the query itself)."""
    sandbox: bool = True
    """Run client SPARQL (``/sparql``) in sandbox processes; off runs it in the HTTP worker (only to measure the
    sandbox's cost: no kill at the deadline, no memory cap, no kernel network guard)."""
    sandboxes: Annotated[int, Field(ge=1, le=64)] = 4
    """Sandbox processes per HTTP worker, started with it: client queries running at once in one worker."""
    query_memory: Annotated[int, Field(ge=64_000_000)] = 1_000_000_000
    """Memory cap of one sandbox process in bytes (its data segment, RLIMIT_DATA); a query past it fails alone."""
    accept_network_risk: bool = False
    """Serve client SPARQL even where the kernel cannot deny the sandboxes the network (no seccomp); SERVICE is then
    stopped by the lexical check alone. Off: such a server refuses client SPARQL (fail closed)."""
    client_budget: Annotated[float, Field(gt=0)] = 60.0
    """Seconds of query time one client may use per minute (one budget across the workers of `kg serve`); past it:
    429 with Retry-After."""
    client_queries: Annotated[int, Field(ge=1)] = 2
    """Client queries one client may run at once (across the workers of `kg serve`); more wait behind them, 429 if
    none ends in time."""
    trusted_proxies: list[str] = ["127.0.0.1"]
    """Addresses (or networks) of proxies whose X-Forwarded-For names the client; uvicorn's default."""
    cors_origins: list[str] = ["*"]
    """Origins allowed to call the API from a browser."""
    admin_token: str | None = None
    """Bearer token for POST /admin/reload; unset: the admin endpoint is disabled."""
    access_log: bool = True
    """One JSON line per request (request id, route, status, time)."""
    runtime_dir: Path | None = None
    """Set by `kg serve`: a folder its workers share, where a reload's stamp tells them all to swap in the new
    release (kg.web.reload) and where they keep the clients' budgets (kg.execution.ledger); unset: a reload swaps in
    the one process that validated it, and budgets are kept in memory."""
    retire_on_timeout: bool = False
    """Set by `kg serve`: a worker whose in-process query (named or GraphQL, never client SPARQL) outlived its
    deadline finishes its other requests and is replaced."""
    graphql_batching: bool = True
    """Batch each level of a GraphQL query into one store query (off only to measure what batching saves)."""
    graphql_check_timeout: Annotated[float, Field(gt=0)] = 3.0
    """Seconds parsing and validating one GraphQL document (its limits and cost included) may take, off the event
    loop; past it the document is refused with an error that names this budget. Apart from KG_QUERY_TIMEOUT, which
    bounds running the operation."""
    graphql_allowlist_only: bool = False
    """Accept only the GraphQL operations of queries/graphql/*.graphql, sent as persisted queries (by SHA-256)."""
    debug: bool = False
    """Show error details to clients (never in production)."""

    @property
    def checks_dir(self) -> Path:
        return self.queries_dir / "checks"

    @property
    def summary_file(self) -> Path:
        return self.ontology_dir / "data" / "summary.ttl"

    @property
    def inferred_file(self) -> Path:
        return self.ontology_dir / "inferred.ttl"
