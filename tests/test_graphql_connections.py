"""Relay's connection spec on the root connections (one per kind, entities(kind:), claims): first/after, last/before,
PageInfo (hasNextPage, hasPreviousPage, startCursor, endCursor), checked against pages computed here, independently of
the API: the ordered lists from the quads in Python (no SPARQL), and the pages by the spec's own pagination algorithm
(ApplyCursorsToEdges, EdgesToReturn, hasPreviousPage, hasNextPage), which finds cursors by equality."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st
from starlette.testclient import TestClient

from kg.app import create_app
from kg.rdf.dataset import Dataset
from kg.settings import Settings

RDF_TYPE = "http://www.w3.org/1999/02/22-rdf-syntax-ns#type"
SUBCLASS = "http://www.w3.org/2000/01/rdf-schema#subClassOf"
PREF_LABEL = "http://www.w3.org/2004/02/skos/core#prefLabel"
SCAD = "https://w3id.org/scad/ontology#"
MENTIONS = (SCAD + "subject", SCAD + "object", SCAD + "contextDisease")

# (root field, the kind's class, the orderBy argument)
LISTS = [
    ("diseases", "Disease", "LABEL"),
    ("therapies", "Therapy", "LABEL_DESC"),
    ("cellTypes", "CellType", "SOURCES_DESC"),
    ("claims", "Claim", None),
]
PAGE = "pageInfo { hasNextPage hasPreviousPage startCursor endCursor } edges { cursor node { id } }"


@pytest.fixture(scope="module")
def client() -> Iterator[TestClient]:
    with TestClient(create_app(Settings())) as c:
        yield c


@dataclass(frozen=True)
class Graph:
    """What the lists are made of, read straight from the quads."""

    types: dict[str, set[str]]
    labels: dict[str, str]
    sources: dict[str, set[str]]
    claims: list[str]


@pytest.fixture(scope="module")
def graph(dataset: Dataset) -> Graph:
    parents: dict[str, set[str]] = defaultdict(set)
    asserted: dict[str, set[str]] = defaultdict(set)
    labels: dict[str, str] = {}
    stated_in: dict[str, str] = {}
    mentions: list[tuple[str, str]] = []
    for q in dataset.quads:
        s, p, o = q.subject.value, q.predicate.value, q.object.value
        if p == SUBCLASS:
            parents[s].add(o)
        elif p == RDF_TYPE:
            asserted[s].add(o)
        elif p == PREF_LABEL:
            labels[s] = o
        elif p == SCAD + "statedIn":
            stated_in[s] = o
        elif p in MENTIONS:
            mentions.append((s, o))

    def closure(cls: str) -> set[str]:
        seen, todo = {cls}, [cls]
        while todo:
            for parent in parents.get(todo.pop(), ()):
                if parent not in seen:
                    seen.add(parent)
                    todo.append(parent)
        return seen

    types = {e: set().union(*(closure(t) for t in ts)) for e, ts in asserted.items()}
    sources: dict[str, set[str]] = defaultdict(set)
    for claim, entity in mentions:
        if claim in stated_in:
            sources[entity].add(stated_in[claim])
    claims = sorted(e for e, ts in asserted.items() if SCAD + "Claim" in ts)
    return Graph(types, labels, dict(sources), claims)


def expected_order(graph: Graph, kind: str, order: str | None) -> list[str]:
    if kind == "Claim":
        return graph.claims
    members = [e for e, ts in graph.types.items() if SCAD + kind in ts and e in graph.labels]

    def by_label(e: str) -> tuple[str, str]:
        return graph.labels[e].casefold(), e

    if order == "LABEL":
        return sorted(members, key=by_label)
    if order == "LABEL_DESC":
        return sorted(members, key=by_label, reverse=True)
    return sorted(members, key=lambda e: (-len(graph.sources.get(e, ())), *by_label(e)))


def ask(client: TestClient, field: str, order: str | None, **arguments: Any) -> dict[str, Any]:
    args = [f"{k}: {v!r}".replace("'", '"') for k, v in arguments.items() if v is not None]
    if order:
        args.append(f"orderBy: {order}")
    query = f"{{ {field}({', '.join(args)}) {{ totalCount {PAGE} }} }}" if args else f"{{ {field} {{ {PAGE} }} }}"
    response = client.post("/graphql", json={"query": query})
    body = response.json()
    assert "errors" not in body, (query, body.get("errors"))
    result: dict[str, Any] = body["data"][field]
    return result


@pytest.fixture(scope="module")
def listed(client: TestClient, graph: Graph) -> dict[str, tuple[list[str], list[str]]]:
    """Per root field: the expected order of IRIs, and the API's cursor of each, read by paging forward with first."""
    out = {}
    for field, kind, order in LISTS:
        cursors: list[str] = []
        after = None
        for _ in range(20):
            page = ask(client, field, order, first=100, after=after)
            cursors += [e["cursor"] for e in page["edges"]]
            if not page["pageInfo"]["hasNextPage"]:
                break
            after = page["pageInfo"]["endCursor"]
        expected = expected_order(graph, kind, order)
        assert len(cursors) == len(expected) == page["totalCount"] > 3, field
        out[field] = (expected, cursors)
    return out


def relay_page(
    count: int, first: int | None, after: int | None, last: int | None, before: int | None
) -> tuple[list[int], bool, bool]:
    """The spec's pagination algorithm over positions 0..count-1, cursors given as positions: the positions of the
    edges to return, hasPreviousPage and hasNextPage (where the spec leaves the cursor cases to the server, these say
    whether anything lies before the page or after it)."""
    edges = list(range(count))
    if after is not None:
        edges = edges[edges.index(after) + 1 :]
    if before is not None:
        edges = [e for e in edges if e < before]
    cut = list(edges)
    if first is not None and len(edges) > first:
        edges = edges[:first]
    if last is not None and len(edges) > last:
        edges = edges[len(edges) - last :]
    # the edge a cursor names lies before (after) or after (before) the page itself
    has_previous = len(cut) > last if last is not None else after is not None
    has_next = len(cut) > first if first is not None else before is not None
    if first is None and last is None:  # the server's default page size, 20
        edges = cut[:20]
        has_next = len(cut) > 20
    return edges, has_previous, has_next


@st.composite
def page_arguments(draw: st.DrawFn) -> tuple[str, int | None, int | None, int | None, int | None]:
    field = draw(st.sampled_from([f for f, _, _ in LISTS]))
    size = st.none() | st.integers(min_value=0, max_value=25)
    position = st.none() | st.integers(min_value=0, max_value=400)
    return field, draw(size), draw(position), draw(size), draw(position)


def test_pages_follow_the_relay_algorithm(client: TestClient, listed: dict[str, tuple[list[str], list[str]]]) -> None:
    @settings(max_examples=150, deadline=None)
    @given(arguments=page_arguments())
    @example(arguments=("diseases", None, -1, 0, 0))  # before names the first item, after the last: hasNextPage
    @example(arguments=("claims", 5, 3, 2, 1))  # before precedes after
    def check(arguments: tuple[str, int | None, int | None, int | None, int | None]) -> None:
        field, first, after, last, before = arguments
        expected, cursors = listed[field]
        after = None if after is None else after % len(expected)
        before = None if before is None else before % len(expected)
        order = next(o for f, _, o in LISTS if f == field)
        page = ask(
            client,
            field,
            order,
            first=first,
            after=None if after is None else cursors[after],
            last=last,
            before=None if before is None else cursors[before],
        )
        positions, has_previous, has_next = relay_page(len(expected), first, after, last, before)
        assert [e["node"]["id"] for e in page["edges"]] == [expected[n] for n in positions]
        assert [e["cursor"] for e in page["edges"]] == [cursors[n] for n in positions]
        info = page["pageInfo"]
        assert info["startCursor"] == (cursors[positions[0]] if positions else None)
        assert info["endCursor"] == (cursors[positions[-1]] if positions else None)
        assert (info["hasPreviousPage"], info["hasNextPage"]) == (has_previous, has_next)

    check()


@pytest.mark.parametrize(("field", "kind", "order"), LISTS)
def test_paging_backward_with_last_and_before_visits_the_list_in_reverse(
    client: TestClient, graph: Graph, field: str, kind: str, order: str | None
) -> None:
    expected = expected_order(graph, kind, order)
    seen: list[str] = []
    before = None
    for _ in range(60):
        page = ask(client, field, order, last=7, before=before)
        seen = [e["node"]["id"] for e in page["edges"]] + seen
        if not page["pageInfo"]["hasPreviousPage"]:
            break
        before = page["pageInfo"]["startCursor"]
    assert seen == expected


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        ("last: -1", "last is -1; expected a page size from 0 to 100"),
        ("last: 101", "last is 101; expected a page size from 0 to 100"),
        ('before: "nonsense"', "before is 'nonsense'; expected a cursor returned by this API"),
        ('after: "WyJhIl0="', "after is 'WyJhIl0='; expected a cursor returned by this API"),  # a claim-shaped key
    ],
)
def test_bad_paging_arguments_are_named(client: TestClient, arguments: str, message: str) -> None:
    query = f"{{ cellTypes(orderBy: SOURCES_DESC, {arguments}) {{ totalCount }} }}"
    body = client.post("/graphql", json={"query": query}).json()
    assert [e["message"] for e in body["errors"]] == [message]
