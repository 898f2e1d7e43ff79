"""One typed settings object for everything (``KG_`` environment variables); nothing else reads the environment."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

PROJECT_DIR = Path(__file__).resolve().parent.parent


class Settings(BaseSettings):
    """Every setting, with its default; `deploy/kg.env.example` lists them for operators."""

    model_config = SettingsConfigDict(env_prefix="KG_", extra="ignore", use_attribute_docstrings=True)

    ontology_dir: Path = PROJECT_DIR / "ontology"
    """The Turtle files: ontology, shapes and data (the source of truth)."""
    queries_dir: Path = PROJECT_DIR / "queries"
    """The named queries; quality rules live in its ``checks/`` folder."""

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
    max_result_bytes: Annotated[int, Field(ge=1024)] = 64_000_000
    """Largest serialized answer."""
    query_threads: Annotated[int, Field(ge=1)] = 16
    """Queries running at once in one worker process."""
    cache_entries: Annotated[int, Field(ge=0)] = 4096
    """Answers kept in the cache of one worker (0: no caching)."""
    cache_bytes: Annotated[int, Field(ge=0)] = 64_000_000
    """Answer cache of one worker: entries and total bytes."""
    service_allowlist: list[str] = []
    """SPARQL SERVICE endpoints a query may call; empty: SERVICE is refused."""
    cors_origins: list[str] = ["*"]
    """Origins allowed to call the API from a browser."""
    admin_token: str | None = None
    """Bearer token for POST /admin/reload; unset: the admin endpoint is disabled."""
    access_log: bool = True
    """One JSON line per request (request id, route, status, time)."""
    retire_on_timeout: bool = False
    """Set by `kg serve`: a worker whose query timed out finishes its other requests and is replaced."""
    graphql_batching: bool = True
    """Batch each level of a GraphQL query into one store query (off only to measure what batching saves)."""
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
