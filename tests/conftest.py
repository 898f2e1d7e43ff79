"""Shared fixtures: the real graph of ontology/ in a real pyoxigraph store, and the named-query catalogue."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pyoxigraph as ox
import pytest
from starlette.testclient import TestClient

from kg.app import create_app
from kg.curation.release import nquads
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


@pytest.fixture(scope="session")
def virtuoso_url(dataset: Dataset, catalog: Catalog, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A real Virtuoso Open Source server, started on 127.0.0.1 for the session and loaded with the release's N-Quads
    (the graphs of the files and the metadata graphs, release id "test" as in the `store` fixture)."""
    from servers import virtuoso_server

    with virtuoso_server(
        nquads(memory_store(dataset.quads), catalog, "test"), tmp_path_factory.mktemp("virtuoso")
    ) as url:
        yield url


REMOTE_ENGINES = {"remote": "oxigraph_url", "virtuoso": "virtuoso_url"}
"""The remote backend's engines, each a real server process: Oxigraph's own and Virtuoso. Both take form POSTs."""


@pytest.fixture(scope="session", params=["embedded", *REMOTE_ENGINES])
def backend(request: pytest.FixtureRequest, store: ox.Store) -> Iterator[Backend]:
    """Each backend in turn: the embedded store, then a remote oxigraph server, then a remote Virtuoso."""
    if request.param == "embedded":
        yield EmbeddedBackend(store, "test")
        return
    remote = RemoteBackend(request.getfixturevalue(REMOTE_ENGINES[request.param]), timeout=30, release=None)
    try:
        yield remote
    finally:
        remote.close()


@pytest.fixture(scope="module", params=["embedded", *REMOTE_ENGINES])
def app_client(request: pytest.FixtureRequest) -> Iterator[TestClient]:
    """The real app over in-process HTTP, on the embedded store and then on each remote engine."""
    settings = Settings()
    if request.param in REMOTE_ENGINES:
        url = request.getfixturevalue(REMOTE_ENGINES[request.param])
        settings = Settings(sparql_url=url, sparql_post="form", release_id="test-release")
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


SYSTEM_GRAPHS = (
    "Virtuoso's default graph and GRAPH ?g include its system graphs (virtrdf#, localuriqaserver/sparql, ldp#)"
)
IN_WITH_PATH = "Virtuoso 7.2 gives no rows for FILTER (?x IN (...)) in a group with a * property path"
BOOLEAN_AS_INTEGER = "Virtuoso computes boolean constants and comparisons as xsd:integer 1/0 (BIND (false AS ?x) is 0)"
GROUP_CONCAT_ORDER = "Virtuoso's GROUP_CONCAT joins the values in another order (SPARQL leaves the order open)"
VIRTUOSO_DIFFERS: dict[str, str] = {
    "test_cq13_mechanisms_of_lupus_therapies": BOOLEAN_AS_INTEGER,
    "test_cq29_therapies_per_disease": IN_WITH_PATH,
    "test_competency.py::test_cq37_stem_cell_therapies_without_adverse_effects": "Virtuoso 7.2 gives 10 rows for 4: a + path inside"
    " FILTER NOT EXISTS after a * path (cause not isolated further)",
    "test_cq_disagreements": "Virtuoso 7.2 answers disagreements with 16 rows for 8, flags as xsd:integer 0/1"
    " (cause of the extra rows not isolated)",
    "test_without_a_dataset_the_default_graph_is_the_union": SYSTEM_GRAPHS + "; and it relabels blank nodes",
    "test_every_named_query_answers_the_same_over_http": "several named queries differ on Virtuoso 7.2 (README list:"
    " system graphs, IN with * paths, integer booleans, GROUP_CONCAT order, inferred's internal compiler error)",
    "test_sources_and_facets": IN_WITH_PATH + " (the facet counts come back 0)",
    "test_home_search_and_counts": "the overview query on Virtuoso 7.2 lacks a row the home page indexes (500);"
    " cause not isolated",
    "test_accessible_markup[virtuoso-/]": "the home page fails on Virtuoso 7.2 (see test_home_search_and_counts)",
    "test_a_protocol_dataset_replaces_the_whole_dataset": "Virtuoso 7.2 keeps a default graph when the request names"
    " only named graphs (named-graph-uri), where SPARQL 1.1 Protocol 2.1.4 makes it empty",
    "test_the_catalogue_page_lists_every_named_query": "Virtuoso 7.2 stops the inferred query with an internal"
    " compiler error (sparp_gp_deprecate())",
}
"""Tests that fail on Virtuoso only, each for a documented deviation of Virtuoso 7.2 from SPARQL 1.1 (README,
"A second engine: Virtuoso"); strict, so a test that starts to pass fails until it is taken off this list."""


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        callspec = getattr(item, "callspec", None)
        if callspec is None or "virtuoso" not in (callspec.params.get("backend"), callspec.params.get("app_client")):
            continue
        names = (item.name, f"{item.path.name}::{item.originalname}", item.originalname)  # type: ignore[attr-defined]
        reason = next((VIRTUOSO_DIFFERS[n] for n in names if n in VIRTUOSO_DIFFERS), None)
        if reason is not None:
            item.add_marker(pytest.mark.xfail(reason=reason, strict=True))
