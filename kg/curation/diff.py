"""`kg diff OLD NEW`: the statements added and removed between two versions of the graph, grouped by the label of
the entity they are about, for reviewing a curator's change. A version is a git revision (its ``ontology/``) or a
release file (N-Quads, N-Triples or Turtle)."""

from __future__ import annotations

import subprocess
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pyoxigraph as ox

from kg.namespaces import PREFIXES, curie
from kg.queries.catalog import term_text

PREF_LABEL = PREFIXES["skos"] + "prefLabel"
FORMATS = {".nq": ox.RdfFormat.N_QUADS, ".nt": ox.RdfFormat.N_TRIPLES, ".ttl": ox.RdfFormat.TURTLE}


class DiffError(Exception):
    """A version that cannot be read: not a release file, not a git revision."""


Statement = tuple[Any, ox.NamedNode, Any]


def canonical(found: set[Statement]) -> set[Statement]:
    """The statements with blank nodes relabelled from the graph's structure, so equal graphs compare equal."""
    dataset = ox.Dataset(ox.Quad(s, p, o) for s, p, o in found)
    dataset.canonicalize(ox.CanonicalizationAlgorithm.UNSTABLE)
    return {(q.subject, q.predicate, q.object) for q in dataset}


def statements(version: str, repo: Path) -> set[Statement]:
    return canonical(_statements(version, repo))


def _statements(version: str, repo: Path) -> set[Statement]:
    path = Path(version)
    if path.is_file():
        fmt = FORMATS.get(path.suffix)
        if fmt is None:
            raise DiffError(f"{version}: expected a .nq, .nt or .ttl release file")
        try:
            return {(q.subject, q.predicate, q.object) for q in ox.parse(path=str(path), format=fmt)}
        except SyntaxError as exc:
            raise DiffError(f"{version}: {exc.msg}") from None
    listing = subprocess.run(
        ["git", "-C", str(repo), "ls-tree", "-r", "--name-only", version, "--", "ontology"],
        capture_output=True,
        text=True,
        check=False,
    )
    if listing.returncode != 0:
        raise DiffError(f"{version}: neither a release file nor a git revision ({listing.stderr.strip()})")
    found: set[Statement] = set()
    for name in listing.stdout.split():
        if not name.endswith(".ttl"):
            continue
        text = subprocess.run(
            ["git", "-C", str(repo), "show", f"{version}:{name}"], capture_output=True, check=True
        ).stdout
        try:
            found |= {(t.subject, t.predicate, t.object) for t in ox.parse(text, format=ox.RdfFormat.TURTLE)}
        except SyntaxError as exc:
            raise DiffError(f"{version}:{name}:{exc.lineno}: {exc.msg}") from None
    return found


@dataclass
class Change:
    label: str
    subject: str
    added: list[str]
    removed: list[str]


def diff(old: set[Statement], new: set[Statement]) -> list[Change]:
    labels = {s.value: o.value for s, p, o in old | new if p.value == PREF_LABEL and isinstance(s, ox.NamedNode)}
    added: dict[str, list[str]] = defaultdict(list)
    removed: dict[str, list[str]] = defaultdict(list)
    for side, bucket in ((new - old, added), (old - new, removed)):
        for s, p, o in side:
            key = s.value if isinstance(s, ox.NamedNode) else "_:"
            bucket[key].append(f"{curie(p.value)} {term_text(o) if not isinstance(o, ox.Literal) else str(o)}")
    subjects = sorted(set(added) | set(removed), key=lambda s: (labels.get(s, curie(s)).casefold(), s))
    return [Change(labels.get(s, curie(s)), curie(s), sorted(added[s]), sorted(removed[s])) for s in subjects]
