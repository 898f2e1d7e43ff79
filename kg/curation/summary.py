"""The summary layer: plain triples derived from the non-negated claims by ``queries/summary.rq``."""

from __future__ import annotations

from pathlib import Path
from typing import Final

import pyoxigraph as ox

from kg.queries.catalog import parse_query
from kg.rdf.turtle import serialize
from kg.store.backends import run

FILE_NAME: Final = "summary.ttl"


def derive(store: ox.Store, query_path: Path) -> list[ox.Triple]:
    result = run(store, parse_query(query_path))
    assert isinstance(result, ox.QueryTriples), f"{query_path} must be a CONSTRUCT query"
    return list(result)


def text(triples: list[ox.Triple]) -> str:
    return serialize(triples)
