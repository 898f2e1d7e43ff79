"""Shared fixtures: the real graph of ontology/ in a real pyoxigraph store, and the named-query catalogue."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pyoxigraph as ox
import pytest
from starlette.testclient import TestClient

from kg.app import create_app
from kg.queries.catalog import Catalog, term_text
from kg.rdf.dataset import Dataset, read_sources
from kg.settings import Settings
from kg.store.backends import Backend, EmbeddedBackend, RemoteBackend, memory_store
from kg.store.build import build_store
from kg.store.metadata import metadata_quads

ROOT = Path(__file__).resolve().parent.parent
DATA = ROOT / "tests" / "data"
SHARED = ROOT.parent / "shared"
SOURCES = SHARED / "sources"

Rows = list[dict[str, str]]


def needs_shared_sources() -> None:
    if not SOURCES.is_dir():
        pytest.skip(f"the source articles are not beside this checkout ({SOURCES}); skipping the verbatim checks")


@pytest.fixture(scope="session")
def settings() -> Settings:
    return Settings()


@pytest.fixture(scope="session")
def dataset(settings: Settings) -> Dataset:
    data = read_sources([settings.ontology_dir], settings.ontology_dir)
    assert not data.errors, [e.text() for e in data.errors]
    return data


@pytest.fixture(scope="session")
def store(dataset: Dataset, settings: Settings) -> ox.Store:
    """The data and, as the server has them, the VoID and examples graphs (tests/test_metadata.py checks those)."""
    loaded = memory_store(dataset.quads)
    loaded.extend(metadata_quads(loaded, Catalog(settings.queries_dir), "test"))
    return loaded


@pytest.fixture(scope="session")
def catalog(settings: Settings) -> Catalog:
    return Catalog(settings.queries_dir)


@pytest.fixture(scope="session")
def built_store(dataset: Dataset, settings: Settings, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The graph as an on-disk store, built by the code behind `kg build`."""
    target = tmp_path_factory.mktemp("store") / "kg"
    build_store(dataset, settings.ontology_dir, target, catalog=Catalog(settings.queries_dir))
    return target


@pytest.fixture(scope="session")
def oxigraph_url(built_store: Path) -> Iterator[str]:
    """A real `oxigraph serve-read-only` process over the built store, for the remote backend."""
    from servers import oxigraph_server

    with oxigraph_server(built_store / "data") as url:
        yield url


@pytest.fixture(scope="session", params=["embedded", "remote"])
def backend(request: pytest.FixtureRequest, store: ox.Store) -> Iterator[Backend]:
    """Each backend in turn: the embedded store, then a remote oxigraph server."""
    if request.param == "embedded":
        yield EmbeddedBackend(store, "test")
        return
    remote = RemoteBackend(request.getfixturevalue("oxigraph_url"), timeout=30, release=None)
    try:
        yield remote
    finally:
        remote.close()


@pytest.fixture(scope="module", params=["embedded", "remote"])
def app_client(request: pytest.FixtureRequest) -> Iterator[TestClient]:
    """The real app over in-process HTTP, on the embedded store and then on a remote oxigraph server."""
    settings = Settings()
    if request.param == "remote":
        settings = Settings(sparql_url=request.getfixturevalue("oxigraph_url"), release_id="test-release")
    with TestClient(create_app(settings)) as c:
        yield c


@pytest.fixture(scope="session")
def select(backend: Backend, catalog: Catalog) -> Callable[..., Rows]:
    """Run a named query with raw string parameters on the current backend; rows as {variable: CURIE or text}."""

    def run_named(name: str, **params: str) -> Rows:
        query = catalog.get(name)
        solutions = backend.query(query.text, query.bind(params))
        assert isinstance(solutions, ox.QuerySolutions)
        names = [v.value for v in solutions.variables]
        return [{n: term_text(row[n]) for n in names} for row in solutions]

    return run_named
