"""The GraphQL cost bounds the work a document can cause: pages count ``first``/``last``, other lists their real
length in the release, nested lists multiply; checking a document has its own time budget; and the most expensive
document the server accepts is answered (or stopped cleanly) within the deadline, on a real `kg serve`.

Expected costs are worked out by hand here from the rule's definition (each field 1 per time it may be resolved, a
list multiplies what is below it), with list lengths taken from the sources (five articles, 000-004) or from the
page arguments, never from the code under test."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator

import httpx
import pytest
from servers import kg_server
from starlette.testclient import TestClient

from kg.app import create_app
from kg.settings import Settings

SOURCES = 5  # the source articles 000 to 004
DEADLINE = 3.0
COPY = "{name}: claims(first: {n}) {{ edges {{ node {{ source {{ contentType creator date callToAction claimCount }} }} }} }}"
"""Each source field of a claim runs a store query (``sources``): a unit of cost that costs real work. By hand:
claims 1 + edges (1 + n x (node 1 + source (1 + 5 fields))) = 2 + 7n."""


def heaviest(last: int) -> str:
    """28 full pages (28 x 702 = 19656) and a last page of ``last`` claims (2 + 7 x last): 48 gives 19994, the most
    the cap of 20000 allows with this unit; 49 gives 20001."""
    copies = [COPY.format(name=f"a{i}", n=100) for i in range(28)] + [COPY.format(name="a28", n=last)]
    return "{ " + " ".join(copies) + " }"


@pytest.fixture(scope="module")
def client() -> Iterator[TestClient]:
    with TestClient(create_app(Settings())) as c:
        yield c


def cost_of(client: TestClient, query: str) -> int:
    body = client.post("/graphql", json={"query": query}, headers={"X-KG-Debug": "1"}).json()
    assert "errors" not in body, body["errors"]
    return int(body["extensions"]["cost"])


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("{ sources { id } }", 1 + SOURCES * 1),
        ("{ sources { id curie title } }", 1 + SOURCES * 3),
        ("{ diseases(first: 3) { edges { node { id } } } }", 1 + 1 + 3 * (1 + 1)),
        ("{ diseases { totalCount edges { node { id } } } }", 1 + 1 + 1 + 20 * (1 + 1)),  # the default page, 20
        ("{ claims(first: 2, last: 5) { edges { node { id } } } }", 1 + 1 + 2 * (1 + 1)),  # the smaller
        ('{ search(text: "lup") { matched } }', 1 + 10 * 1),  # the argument's default, 10
        ("query($n: Int = 1) { diseases(first: $n) { edges { node { id } } } }", 1 + 1 + 100 * (1 + 1)),
        ("{ ...F ...F } fragment F on Query { sources { id } }", 2 * (1 + SOURCES * 1)),  # spreads expand
        (
            "{ claims(first: 4) { edges { node { source { id } } } } sources { id } }",
            (1 + 1 + 4 * (1 + 1 + 1)) + (1 + SOURCES),
        ),
        (heaviest(48), 28 * 702 + 2 + 7 * 48),
    ],
    ids=[
        "list",
        "fields",
        "page",
        "default-page",
        "first-and-last",
        "schema-default",
        "variable",
        "spreads",
        "nested",
        "heaviest",
    ],
)
def test_the_cost_is_worked_out_by_hand(client: TestClient, query: str, expected: int) -> None:
    assert cost_of(client, query) == expected


def test_a_relation_page_counts_the_smaller_of_first_and_the_real_length(client: TestClient) -> None:
    """A relation page is as long as ``first`` asks, but never longer than the most edges any entity has along its
    hops in the release: more than the 10 once assumed, under the 100 asked, and the same for every entity asked (a
    bound, not this entity's count)."""
    flat = "{{ entity(id: {id}) {{ relations(first: {n}) {{ edges {{ relation }} }} }} }}"
    one = cost_of(client, flat.format(id='"kgr:lupus"', n=100))
    other = cost_of(client, flat.format(id='"kgr:source-000"', n=100))
    most = one - 3  # entity 1 + relations 1 + edges (1 + most x relation 1)
    assert one == other and 10 < most < 100
    assert cost_of(client, flat.format(id='"kgr:lupus"', n=3)) == 1 + 1 + 1 + 3 * 1  # first is the smaller
    nested = cost_of(
        client,
        '{ entity(id: "kgr:lupus") { relations(first: 100) { edges { node { '
        "relations(first: 100) { edges { relation } } } } } } }",
    )
    # entity 1 + relations 1 + edges (1 + most x (node 1 + relations 1 + edges (1 + most x relation 1)))
    assert nested == 1 + 1 + 1 + most * (1 + 1 + 1 + most * 1)  # nested lists multiply


def test_checking_a_document_has_its_own_time_budget() -> None:
    """480 fields side by side pass the limits (cost 480 x 6) but graphql-core's overlapping-fields rule compares
    every pair: seconds of work, stopped at the budget with an error that names it; a light document is checked."""
    heavy = "{ " + "sources { id } " * 480 + "}"
    with TestClient(create_app(Settings(graphql_check_timeout=0.3))) as c:
        started = time.monotonic()
        body = c.post("/graphql", json={"query": heavy}, headers={"Accept": "application/graphql-response+json"})
        took = time.monotonic() - started
        assert body.status_code == 400
        assert [e["message"] for e in body.json()["errors"]] == [
            "the document took longer than 0.3 s to check (KG_GRAPHQL_CHECK_TIMEOUT); send a smaller document"
        ]
        assert took < 0.3 + 2.0
        light = c.post("/graphql", json={"query": "{ sources { id } }"}).json()
        assert len(light["data"]["sources"]) == SOURCES


def test_the_most_expensive_accepted_query_finishes_within_the_deadline() -> None:
    """On a real `kg serve` without answer cache: the document just under the cap (19994) is answered in full or
    stopped with 503 at KG_QUERY_TIMEOUT, while a light request on another connection is answered; one page item
    more (20001) is refused before anything runs, naming its cost."""
    env = {"KG_QUERY_TIMEOUT": str(DEADLINE), "KG_CACHE_ENTRIES": "0"}
    with kg_server(env=env) as served:
        over = httpx.post(served.url + "/graphql", json={"query": heaviest(49)}, timeout=30).json()
        assert [e["message"] for e in over["errors"]] == [
            "the query's estimated cost is 20001, more than the 20000 allowed"
        ]
        outcome: dict[str, object] = {}

        def heavy() -> None:
            started = time.monotonic()
            response = httpx.post(served.url + "/graphql", json={"query": heaviest(48)}, timeout=60)
            outcome.update(status=response.status_code, body=response.json(), took=time.monotonic() - started)

        thread = threading.Thread(target=heavy)
        thread.start()
        time.sleep(0.5)
        with httpx.Client(timeout=30) as other:
            light = other.post(served.url + "/graphql", json={"query": "{ sources { id } }"})
        light_done = thread.is_alive()
        thread.join(60)
        assert light.status_code == 200 and len(light.json()["data"]["sources"]) == SOURCES
        assert outcome["status"] in (200, 503), outcome
        body = outcome["body"]
        assert isinstance(body, dict)
        if outcome["status"] == 200:
            assert "errors" not in body and len(body["data"]["a28"]["edges"]) == 48
        else:
            assert "KG_QUERY_TIMEOUT" in str(body.get("detail"))
        assert float(str(outcome["took"])) < DEADLINE + 3.0
        assert light_done or outcome["status"] == 200  # the light one came back while the heavy one still ran


def test_an_answer_over_the_size_cap_is_replaced_by_an_error_naming_it() -> None:
    """KG_MAX_RESULT_BYTES holds for GraphQL answers too: a page of 100 claims with their quotes is far over 1 KB."""
    with TestClient(create_app(Settings(max_result_bytes=1024))) as c:
        response = c.post("/graphql", json={"query": "{ claims(first: 100) { edges { node { quote } } } }"})
        assert response.status_code < 500 and len(response.content) <= 1024
        body = response.json()
        assert body["data"] is None
        assert [e["message"] for e in body["errors"]] == [
            "the answer is larger than 1024 bytes (KG_MAX_RESULT_BYTES); ask for less"
        ]
        small = c.post("/graphql", json={"query": "{ sources { id } }"}).json()
        assert len(small["data"]["sources"]) == SOURCES
