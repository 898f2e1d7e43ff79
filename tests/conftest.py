"""Shared fixtures: the real graph of ontology/ in a real pyoxigraph store, and the named-query catalogue."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pyoxigraph as ox
import pytest

from kg.queries import Catalog, term_text
from kg.settings import Settings
from kg.sources import Dataset, read_sources
from kg.store import memory_store, run

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
def store(dataset: Dataset) -> ox.Store:
    return memory_store(dataset.quads)


@pytest.fixture(scope="session")
def catalog(settings: Settings) -> Catalog:
    return Catalog(settings.queries_dir)


@pytest.fixture(scope="session")
def select(store: ox.Store, catalog: Catalog) -> Callable[..., Rows]:
    """Run a named query with raw string parameters; rows as {variable: CURIE or literal text}."""

    def run_named(name: str, **params: str) -> Rows:
        query = catalog.get(name)
        solutions = run(store, query, query.bind(params))
        assert isinstance(solutions, ox.QuerySolutions)
        names = [v.value for v in solutions.variables]
        return [{n: term_text(row[n]) for n in names} for row in solutions]

    return run_named
