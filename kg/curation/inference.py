"""The inferred graph: what follows from the asserted graphs by the rules of ``queries/inferred.rq`` (repeated until
nothing new follows), plus the computed beliefs. `kg derive` writes it to ``ontology/inferred.ttl``; the quality
rules, shapes and reasoner of `kg validate` see only the asserted graphs."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Final

import pyoxigraph as ox

from kg.curation import belief, summary
from kg.namespaces import INFERRED_GRAPH
from kg.queries.catalog import parse_query
from kg.rdf.dataset import Dataset
from kg.rdf.turtle import serialize
from kg.report import Finding, Severity
from kg.store.backends import memory_store, run

FILE_NAME: Final = "inferred.ttl"
GRAPH_NAME: Final = ox.NamedNode(INFERRED_GRAPH)
"""The file lives at the top of the ontology folder, so its graph is named like every file's: by its path."""
MAX_ROUNDS: Final = 20


def is_inferred(graph: ox.NamedNode | ox.BlankNode | ox.DefaultGraph) -> bool:
    return graph == GRAPH_NAME


def asserted(data: Dataset) -> Dataset:
    """The dataset without the inferred graph (what curators wrote, and the summary layer derived from claims)."""
    return Dataset(
        files=[f for f in data.files if not is_inferred(f.graph)],
        quads=[q for q in data.quads if not is_inferred(q.graph_name)],
        errors=list(data.errors),
    )


def derive(quads: Iterable[ox.Quad], queries_dir: Path) -> list[ox.Triple]:
    """The inferred triples for the asserted ``quads``: the entailment rules to a fixpoint, then the beliefs."""
    base = [q for q in quads if not is_inferred(q.graph_name)]
    store = memory_store(base)
    known = {ox.Triple(q.subject, q.predicate, q.object) for q in base}
    rules = parse_query(queries_dir / "inferred.rq")
    inferred: set[ox.Triple] = set()
    for _ in range(MAX_ROUNDS):
        result = run(store, rules)
        assert isinstance(result, ox.QueryTriples), f"{rules.name} must be a CONSTRUCT query"
        new = {t for t in result if t not in known and t not in inferred}
        if not new:
            break
        inferred |= new
        store.extend(ox.Quad(t.subject, t.predicate, t.object, GRAPH_NAME) for t in new)
    else:
        raise RuntimeError(f"{rules.name} found new triples after {MAX_ROUNDS} rounds; a rule does not terminate")
    rows = run(store, parse_query(queries_dir / "belief_inputs.rq"))
    groupings = run(store, parse_query(queries_dir / "belief_groupings.rq"))
    assert isinstance(rows, ox.QuerySolutions) and isinstance(groupings, ox.QuerySolutions)
    return sorted(inferred, key=str) + belief.triples(belief.beliefs(rows, groupings))


def text(triples: list[ox.Triple]) -> str:
    return serialize(triples)


def check(data: Dataset, queries_dir: Path) -> Iterator[Finding]:
    """The committed inferred file must hold exactly what the rules and beliefs derive from the asserted graphs."""
    files = [f for f in data.files if is_inferred(f.graph)]
    if not files:
        return
    # from the summary the claims imply, so that a stale summary is reported once (summary-out-of-date), not twice
    summaries = {f.graph for f in data.files if f.path.name == summary.FILE_NAME}
    base = [q for q in data.quads if q.graph_name not in summaries]
    implied = summary.derive(memory_store(base), queries_dir / "summary.rq")
    graph = next(iter(summaries), GRAPH_NAME)
    derived = set(derive(base + [ox.Quad(t.subject, t.predicate, t.object, graph) for t in implied], queries_dir))
    committed = {ox.Triple(q.subject, q.predicate, q.object) for q in data.quads if is_inferred(q.graph_name)}
    if derived != committed:
        missing, extra = len(derived - committed), len(committed - derived)
        yield Finding(
            severity=Severity.ERROR,
            rule="inferred-out-of-date",
            message=f"{files[0].path} lacks {missing} inferred triple(s) and holds {extra} that no longer follow; "
            "run `kg derive`",
            file=files[0].path,
        )
