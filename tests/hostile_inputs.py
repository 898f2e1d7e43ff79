"""The hostile inputs of tests/test_hostile.py, each with the answer it must get: SPARQL (SERVICE written every way
the grammar allows, nesting, updates, malformed text, bad encodings), GraphQL (fragment bombs, huge integers, odd
JSON), pages, named queries, raw HTTP framing and headers, and the CLI."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any


@dataclass
class Case:
    family: str
    name: str
    method: str
    path: str
    expect: frozenset[int]
    kwargs: dict[str, Any] = field(default_factory=dict)
    graphql_error: bool = False
    """A 200 is the expected refusal only if it carries GraphQL errors and no data."""


def _case(family: str, name: str, method: str, path: str, expect: set[int] | int, **kwargs: Any) -> Case:
    codes = {expect} if isinstance(expect, int) else expect
    return Case(
        family, name, method, path, frozenset(codes), kwargs, graphql_error=family == "graphql" and 200 in codes
    )


def service_evasions(target: str) -> dict[str, str]:
    """SERVICE clauses written the ways the grammar allows, several of which the former lexical check missed."""
    u = f"<{target}>"
    escaped = target.replace(":", "\\u003A", 2)
    group = "{ ?a ?b ?c }"
    return {
        "plain": f"SELECT * WHERE {{ SERVICE {u} {group} }}",
        "silent": f"SELECT * WHERE {{ SERVICE SILENT {u} {group} }}",
        "lower case": f"select * where {{ service {u} {group} }}",
        "mixed case": f"SELECT * WHERE {{ SeRvIcE {u} {group} }}",
        "comment ends at CR": f"SELECT * WHERE {{ ?s ?p ?o #\rSERVICE {u} {group} }}",
        "comment ends at CR LF": f"SELECT * WHERE {{ ?s ?p ?o #x\r\nSERVICE {u} {group} }}",
        "escaped quote in prefixed name": (
            f"PREFIX e: <http://e/> SELECT * WHERE {{ {{ ?s e:p\\' ?o }} UNION {{ SERVICE SILENT {u} {group} }} }} #'"
        ),
        "escaped double quote in prefixed name": (
            f'PREFIX e: <http://e/> SELECT * WHERE {{ {{ ?s e:p\\" ?o }} UNION {{ SERVICE SILENT {u} {group} }} }} #"'
        ),
        "escaped hash in prefixed name": (
            f"PREFIX e: <http://e/> SELECT * WHERE {{ ?s e:p\\# ?o . SERVICE SILENT {u} {group} }}"
        ),
        "less-than read as an IRI": (
            f"SELECT * WHERE {{ {{ FILTER(1<'>'||true) }} UNION {{ SERVICE SILENT {u} {group} }} FILTER('b'='b') }}"
        ),
        "escape then hash in an IRI": (
            f"SELECT * WHERE {{ {{ ?s <http://e/\\u0041#> ?o }} UNION {{ SERVICE SILENT {u} {group} }} }}"
        ),
        "keyword as a prefix": f"PREFIX SERVICE: <http://e/> PREFIX : {u} SELECT * WHERE {{ SERVICE:{group} }}",
        "glued SILENT": f"SELECT * WHERE {{ SERVICESILENT{u}{group} }}",
        "glued to a literal": f'SELECT * WHERE {{ BIND("x"@en AS ?l) SERVICE {u} {group} }}',
        "glued to a number": f"SELECT * WHERE {{ BIND(1 AS ?l) .SERVICE {u} {group} }}",
        "glued to a variable": f"SELECT * WHERE {{ ?s ?p ?o.SERVICE {u} {group} }}",
        "no space before IRI": f"SELECT * WHERE {{ SERVICE{u}{group} }}",
        "newline and tab": f"SELECT * WHERE {{\n\tSERVICE\n\t{u}\n{group} }}",
        "prefixed endpoint": f"PREFIX x: {u} SELECT * WHERE {{ SERVICE x: {group} }}",
        "relative endpoint": f"BASE {u} SELECT * WHERE {{ SERVICE <> {group} }}",
        "escaped endpoint": f"SELECT * WHERE {{ SERVICE <{escaped}> {group} }}",
        "variable endpoint": f"SELECT * WHERE {{ BIND({u} AS ?u) SERVICE ?u {group} }}",
        "in a subquery": f"SELECT * WHERE {{ {{ SELECT * WHERE {{ SERVICE {u} {group} }} }} }}",
        "in OPTIONAL": f"SELECT * WHERE {{ ?s ?p ?o OPTIONAL {{ SERVICE SILENT {u} {group} }} }} LIMIT 1",
        "in MINUS": f"SELECT * WHERE {{ ?s ?p ?o MINUS {{ SERVICE SILENT {u} {group} }} }} LIMIT 1",
        "in EXISTS": f"SELECT * WHERE {{ ?s ?p ?o FILTER EXISTS {{ SERVICE SILENT {u} {group} }} }} LIMIT 1",
        "in ASK": f"ASK {{ SERVICE {u} {group} }}",
        "in CONSTRUCT": f"CONSTRUCT {{ ?a ?b ?c }} WHERE {{ SERVICE {u} {group} }}",
        "in DESCRIBE": f"DESCRIBE ?a WHERE {{ SERVICE {u} {group} }}",
        "after a long string": f"SELECT * WHERE {{ BIND('''a'b''c''' AS ?x) SERVICE {u} {group} }}",
    }


def sparql_cases(target: str) -> list[Case]:
    cases: list[Case] = []
    for name, text in service_evasions(target).items():
        cases.append(_case("sparql", f"SERVICE {name} (GET)", "GET", "/sparql", {400, 403}, params={"query": text}))
        cases.append(
            _case(
                "sparql",
                f"SERVICE {name} (POST)",
                "POST",
                "/sparql",
                {400, 403},
                content=text.encode(),
                headers={"Content-Type": "application/sparql-query"},
            )
        )
    for opener, closer, inner in (("{", "}", "?s ?p ?o"), ("(", ")", "1"), ("[", "]", "")):
        for depth in (401, 3000, 20000):
            if opener == "{":
                text = "SELECT * WHERE " + opener * depth + inner + closer * depth
            elif opener == "(":
                text = "SELECT * WHERE { FILTER(" + opener * depth + inner + closer * depth + ") }"
            else:
                text = "SELECT * WHERE { ?s ?p " + "[ ?p " * depth + "1" + " ]" * depth + " }"
            cases.append(
                _case(
                    "sparql",
                    f"nesting {opener} x{depth}",
                    "POST",
                    "/sparql",
                    400,
                    content=text.encode(),
                    headers={"Content-Type": "application/sparql-query"},
                )
            )
    cases.append(_case("sparql", "unbalanced nesting", "GET", "/sparql", 400, params={"query": "SELECT * {" * 500}))
    updates = [
        "INSERT DATA { <http://e/a> <http://e/b> <http://e/c> }",
        "DELETE WHERE { ?s ?p ?o }",
        f"LOAD <{target}>",
        f"LOAD SILENT <{target}> INTO GRAPH <http://e/g>",
        "CLEAR ALL",
        "DROP DEFAULT",
        "CREATE GRAPH <http://e/g>",
        "ADD DEFAULT TO <http://e/g>",
        "MOVE DEFAULT TO <http://e/g>",
        "COPY DEFAULT TO <http://e/g>",
        "WITH <http://e/g> DELETE { ?s ?p ?o } WHERE { ?s ?p ?o }",
    ]
    for text in updates:
        cases.append(_case("sparql", f"update as query: {text[:60]}", "GET", "/sparql", 403, params={"query": text}))
    cases.append(_case("sparql", "update= parameter", "POST", "/sparql", 403, data={"update": updates[0]}))
    cases.append(
        _case(
            "sparql",
            "sparql-update body",
            "POST",
            "/sparql",
            403,
            content=updates[1].encode(),
            headers={"Content-Type": "application/sparql-update"},
        )
    )
    malformed = [
        "SELECT * WHERE {",
        'SELECT ?x WHERE { ?x ?y "unterminated }',
        "SELECT ?x WHERE { ?x ?y '''never ends }",
        "SELECT * WHERE { ?s ?p ?o } LIMIT -1",
        "SELECT * WHERE { ?s ?p ?o } ORDER BY",
        "SELECT (COUNT(*) AS ?n WHERE { ?s ?p ?o }",
        "SELECT * WHERE { ?s ?p <http://e/ x> }",
        "SELECT * WHERE { ?s ?p <http://e/\\u00> }",
        'SELECT * WHERE { BIND("a\\q" AS ?x) }',
        "\x00\x01\x02",
        "SELECT * WHERE { ?s ?p ?o } \x00",
        "PREFIX : <http://e/> SELECT * WHERE { :a :b :c } GROUP BY",
        "SELECT * WHERE { ?s ?p ?o FILTER() }",
        "SELECT ?x ?x WHERE { BIND(1 AS ?x) BIND(2 AS ?x) }",
    ]
    for text in malformed:
        cases.append(_case("sparql", f"malformed: {text[:60]!r}", "GET", "/sparql", 400, params={"query": text}))
    bodies: list[tuple[str, bytes, str, set[int]]] = [
        ("invalid UTF-8 query body", b"SELECT * WHERE { ?s ?p '\xff' }", "application/sparql-query", {400}),
        ("invalid UTF-8 form", b"query=%ff%fe", "application/x-www-form-urlencoded", {400}),
        ("raw invalid UTF-8 form", b"query=\xff\xfe", "application/x-www-form-urlencoded", {400}),
        ("overlong UTF-8", b"SELECT * WHERE { ?s ?p '\xc0\xaf' }", "application/sparql-query", {400}),
        ("UTF-8 surrogate", b"SELECT * WHERE { ?s ?p '\xed\xa0\x80' }", "application/sparql-query", {400}),
        ("XML body", b"<xml/>", "application/xml", {415}),
        ("empty form", b"", "application/x-www-form-urlencoded", {400}),
        ("body over the cap", b"x" * 1_100_000, "application/sparql-query", {413}),
        ("form over the cap", b"query=" + b"x" * 1_100_000, "application/x-www-form-urlencoded", {413}),
        ("two queries", b"query=ASK%7B%7D&query=ASK%7B%7D", "application/x-www-form-urlencoded", {400}),
    ]
    for name, body, media, codes in bodies:
        cases.append(_case("sparql", name, "POST", "/sparql", codes, content=body, headers={"Content-Type": media}))
    params: list[tuple[str, Any, set[int]]] = [
        (
            "lone surrogate in query",
            "/sparql?query=SELECT%20%2A%20WHERE%20%7B%20%3Fs%20%3Fp%20%22%ED%A0%80%22%20%7D",
            {400},
        ),
        ("NUL in query", "/sparql?query=SELECT%20%2A%20WHERE%20%7B%20%3Fs%20%3Fp%20%3Fo%20%7D%00", {400}),
        ("invalid UTF-8 in query string", "/sparql?query=%FF%FE", {400}),
        ("bad graph IRI", "/sparql?query=ASK%7B%7D&default-graph-uri=not%20an%20iri", {400}),
        (
            "dataset twice",
            "/sparql?query=ASK%20FROM%20%3Chttp%3A%2F%2Fe%2F%3E%7B%7D&default-graph-uri=http://e/",
            {200},  # the protocol's dataset wins over FROM (SPARQL 1.1 Protocol 2.1.4)
        ),
        # a format word that names no format for the query's form lets Accept decide (SPARQLWrapper sends its own)
        ("unknown format", "/sparql?query=ASK%7B%7D&format=exe", {200}),
        ("graph format for SELECT", "/sparql?query=SELECT%20%2A%7B%7D&format=ttl", {200}),
        ("result format for CONSTRUCT", "/sparql?query=CONSTRUCT%7B%7DWHERE%7B%7D&format=csv", {200}),
        ("empty query", "/sparql?query=%20%20", {400}),
    ]
    for name, url, codes in params:
        cases.append(_case("sparql", name, "GET", url, codes))
    for accept in ("application/x-unknown", "image/png;q=1, */*;q=0", "text/html;q=0, application/x-nope"):
        cases.append(
            _case(
                "sparql",
                f"Accept {accept}",
                "GET",
                "/sparql",
                406,
                params={"query": "ASK {}"},
                headers={"Accept": accept},
            )
        )
    return cases


def fragment_bomb(n: int) -> str:
    """n fragments, each spreading the next twice: 2^n selections once expanded."""
    fragments = " ".join(f"fragment F{i} on Query {{ ...F{i + 1} ...F{i + 1} }}" for i in range(n))
    return f"query {{ ...F0 }} {fragments} fragment F{n} on Query {{ sources {{ id }} }}"


def graphql_cases() -> list[Case]:
    cases: list[Case] = []

    def gql(name: str, payload: Any, expect: set[int] | int = 200, raw: bytes | None = None, **kw: Any) -> None:
        content = raw if raw is not None else json.dumps(payload).encode()
        headers = {"Content-Type": "application/json", **kw.pop("headers", {})}
        cases.append(_case("graphql", name, "POST", "/graphql", expect, content=content, headers=headers, **kw))

    for n in (16, 20, 30, 60, 150):
        gql(f"fragment bomb x{n}", {"query": fragment_bomb(n)})
    gql(
        "fragment bomb through inline fragments",
        {
            "query": fragment_bomb(40)
            .replace("on Query {", "on Query { ... on Query {")
            .replace("} fragment", "} } fragment")
        },
    )
    deep = '{ entity(id: "kgr:lupus") { ' + "... on Disease { broader { node { " * 14 + "id" + " } } }" * 14 + " } }"
    gql("depth 14", {"query": deep})
    gql("41 aliases", {"query": "{ " + " ".join(f"a{i}: sources {{ curie }}" for i in range(41)) + " }"})
    aliased = "fragment A on Query { " + " ".join(f"a{i}: sources {{ id }}" for i in range(8)) + " }"
    gql(
        "aliases multiplied by spreads",
        {"query": "{ ...B } fragment B on Query { ...A ...A ...A ...A ...A } " + aliased},
    )
    gql("page of 10000", {"query": "{ diseases(first: 10000) { totalCount } }"})
    gql("page of 5000 digits", {"query": "{ diseases(first: " + "9" * 5000 + ") { totalCount } }"})
    gql("negative page", {"query": "{ diseases(first: -1) { totalCount } }"})
    gql(
        "variable page of 5000 digits",
        {"query": "query($n: Int) { diseases(first: $n) { totalCount } }"},
        raw=b'{"query": "query($n: Int) { diseases(first: $n) { totalCount } }", "variables": {"n": '
        + b"9" * 5000
        + b"}}",
        expect={200, 400},
    )
    gql("float page", {"query": "query($n: Int) { diseases(first: $n) { totalCount } }", "variables": {"n": 1e308}})
    gql(
        "cost through variables",
        {
            "query": "query($a: Int = 100) { therapies(first: $a) { edges { node { ... on Therapy { relations(first: $a) "
            "{ edges { node { relations(first: $a) { edges { node { id label curie synonyms definition } } } } } } } } } } }"
        },
    )
    gql("search of 1000", {"query": '{ search(text: "lup", first: 1000) { matched } }'})
    gql("tokens", {"query": "{ " + "sources { curie } " * 1100 + "}"})
    gql("unknown field", {"query": "{ nope }"})
    gql("mutation", {"query": "mutation { x }"})
    gql("subscription", {"query": "subscription { x }"})
    gql("syntax error", {"query": "{ entity(id: ) }"})
    gql("bad cursor", {"query": '{ claims(after: "!!!") { totalCount } }'})
    gql("NUL in an argument", {"query": '{ entity(id: "kgr:\\u0000") { id } }'}, expect={200})
    gql("bad IRI", {"query": '{ entity(id: "not an iri") { id } }'})
    gql("variables not an object", {"query": "{ sources { id } }", "variables": [1, 2]}, expect={200, 400})
    gql("operation name unknown", {"query": "query A { sources { id } }", "operationName": "B"}, expect={200, 400})
    for name, raw in [
        ("not JSON", b"{not json"),
        ("JSON list", b"[]"),
        ("batch", b'[{"query": "{ sources { id } }"}]'),
        ("JSON string", b'"{ sources { id } }"'),
        ("JSON number", b"12"),
        ("JSON null", b"null"),
        ("query not a string", b'{"query": 12}'),
        ("query missing", b'{"variables": {}}'),
        (
            "deeply nested JSON",
            b'{"query": "{ sources { id } }", "variables": ' + b"[" * 100_000 + b"]" * 100_000 + b"}",
        ),
        ("deep JSON object", b'{"a":' * 50_000 + b"1" + b"}" * 50_000),
        ("invalid UTF-8 body", b'{"query": "{ sources { id \xff } }"}'),
        ("lone surrogate escape", b'{"query": "{ entity(id: \\"kgr:\\ud800\\") { id } }"}'),
        ("raw surrogate bytes", b'{"query": "{ entity(id: \\"kgr:\xed\xa0\x80\\") { id } }"}'),
        ("huge integer in JSON", b'{"query": "{ sources { id } }", "variables": {"n": ' + b"1" * 10_000 + b"}}"),
        ("body over the cap", b'{"query": "' + b" " * 1_100_000 + b'"}'),
        (
            "persisted hash wrong",
            b'{"query": "{ sources { id } }", "extensions": {"persistedQuery": {"sha256Hash": "00"}}}',
        ),
        ("persisted without hash", b'{"extensions": {"persistedQuery": {"version": 1}}}'),
        ("persisted not an object", b'{"extensions": {"persistedQuery": 3}}'),
    ]:
        gql(name, None, expect={200, 400, 413, 415, 422}, raw=raw)
    cases.append(
        _case(
            "graphql",
            "text body",
            "POST",
            "/graphql",
            {400, 415},
            content=b"query=1",
            headers={"Content-Type": "text/plain"},
        )
    )
    cases.append(_case("graphql", "GET syntax error", "GET", "/graphql", {200, 400}, params={"query": "{"}))
    cases.append(_case("graphql", "GET mutation", "GET", "/graphql", {400, 405}, params={"query": "mutation { x }"}))
    cases.append(_case("graphql", "GET invalid UTF-8", "GET", "/graphql?query=%FF", {200, 400}))
    return cases


def page_cases() -> list[Case]:
    paths: list[tuple[str, set[int]]] = [
        ("/id/%00", {400, 404}),
        ("/id/lupus%00", {400, 404}),
        ("/id/%ED%A0%80", {400, 404}),
        ("/id/%FF%FE", {400, 404}),
        ("/id/" + "a" * 20_000, {404, 414, 431}),
        ("/id/lupus.exe", {404, 406}),
        ("/id/../../etc/passwd", {404}),
        ("/id/lupus/..%2F..%2Fsecret", {404}),
        ("/explore/%00", {400, 404}),
        ("/explore/nothing-here", {404}),
        ("/explore/%FF", {400, 404}),
        ("/graph/../../pyproject.toml", {404}),
        ("/graph/%2e%2e/%2e%2e/pyproject.toml", {404}),
        ("/graph/%00.ttl", {400, 404}),
        ("/ontology.exe", {404, 406}),
        ("/ontology.%00", {400, 404, 406}),
        ("/static/../../pyproject.toml", {404}),
        ("/static/%2e%2e/%2e%2e/pyproject.toml", {404}),
        ("/static/%00", {400, 404}),
        ("/queries/../../etc/passwd", {404}),
        ("/queries/%00", {404}),
        ("/queries/nope", {404}),
        ("/nothing", {404}),
        ("/admin/reload", {405}),
    ]
    cases = [_case("pages", f"GET {p[:40]}", "GET", p, codes) for p, codes in paths]
    cases.append(_case("pages", "DELETE /sparql", "DELETE", "/sparql", 405))
    cases.append(_case("pages", "PUT /id/lupus", "PUT", "/id/lupus", 405))
    cases.append(_case("pages", "reload disabled", "POST", "/admin/reload", 403))
    cases.append(
        _case(
            "pages",
            "reload latin-1 token",
            "POST",
            "/admin/reload",
            {401, 403},
            headers={"Authorization": b"Bearer \xe9"},
        )
    )
    for accept in ("image/png", "application/x-nope", "text/turtle;q=0, */*;q=0"):
        cases.append(_case("pages", f"resource as {accept}", "GET", "/id/lupus", 406, headers={"Accept": accept}))
    return cases


def named_query_cases() -> list[Case]:
    cases: list[Case] = []
    bad: list[tuple[str, dict[str, str], set[int]]] = [
        ("diseases_for_therapy", {"therapy": "\x00"}, {422}),
        ("diseases_for_therapy", {"therapy": "not an iri"}, {422}),
        ("diseases_for_therapy", {"therapy": "javascript:alert(1)>"}, {422}),
        ("diseases_for_therapy", {}, {422}),
        ("diseases_for_therapy", {"therapy": "kgr:lupus", "extra": "1"}, {422}),
        ("diseases_by_source_count", {"limit_sources": "1e400"}, {422}),
        ("diseases_by_source_count", {"limit_sources": "9" * 5000}, {422}),
        ("diseases_by_source_count", {"limit_sources": "-" + "9" * 5000}, {422}),
        ("diseases_by_source_count", {"limit_sources": "0x10"}, {422}),
        ("diseases_by_source_count", {"limit_sources": "\u0661\u0662"}, {422}),
    ]
    for name, params, codes in bad:
        cases.append(_case("named", f"{name} {str(params)[:40]}", "GET", f"/queries/{name}", codes, params=params))
    cases.append(
        _case("named", "invalid UTF-8 parameter", "GET", "/queries/diseases_for_therapy?therapy=%FF", {400, 422})
    )
    cases.append(
        _case("named", "image Accept", "GET", "/queries/autoimmune_diseases", 406, headers={"Accept": "image/png"})
    )
    cases.append(_case("named", "unknown format", "GET", "/queries/autoimmune_diseases?format=exe", 200))
    return cases


@dataclass
class Raw:
    name: str
    data: bytes
    expect: frozenset[int]
    trickle: bool = False
    """Send the bytes slowly (one every 0.5 s) to test the deadline for a request head."""


def http_cases() -> list[Raw]:
    def raw(name: str, data: bytes, expect: set[int] | int, trickle: bool = False) -> Raw:
        return Raw(name, data, frozenset({expect} if isinstance(expect, int) else expect), trickle)

    get = b"GET /healthz HTTP/1.1\r\nHost: x\r\n"
    chunk = b"POST /sparql HTTP/1.1\r\nHost: x\r\nContent-Type: application/sparql-query\r\nTransfer-Encoding: chunked\r\n\r\n"
    big_chunks = b"".join(b"%x\r\n" % 65536 + b"x" * 65536 + b"\r\n" for _ in range(18)) + b"0\r\n\r\n"
    graphql_chunk = (
        b"POST /graphql HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n"
    )
    return [
        raw("1 MB of headers", get + b"".join(b"X-%d: %s\r\n" % (i, b"a" * 1000) for i in range(1000)) + b"\r\n", 431),
        raw("one 1 MB header", get + b"X-Big: " + b"a" * 1_000_000 + b"\r\n\r\n", 431),
        raw("20 KB header", get + b"X-Big: " + b"a" * 20_000 + b"\r\n\r\n", 431),
        raw("10000 tiny headers", get + b"a: b\r\n" * 10_000 + b"\r\n", 431),
        raw("20 KB request line", b"GET /healthz?" + b"a" * 20_000 + b" HTTP/1.1\r\nHost: x\r\n\r\n", {414, 431}),
        raw("1 MB request line", b"GET /" + b"a" * 1_000_000 + b" HTTP/1.1\r\n\r\n", {414, 431}),
        raw("chunked body over the cap", chunk + big_chunks, 413),
        raw("chunked GraphQL body over the cap", graphql_chunk + big_chunks, 413),
        raw("bad chunk size", chunk + b"zz\r\nabc\r\n0\r\n\r\n", 400),
        raw("chunk size overflow", chunk + b"ffffffffffffffffffff\r\nabc\r\n0\r\n\r\n", 400),
        raw("length and chunked", chunk.replace(b"\r\n\r\n", b"\r\nContent-Length: 5\r\n\r\n") + b"0\r\n\r\n", 400),
        raw(
            "two lengths",
            b"POST /sparql HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\nContent-Length: 4\r\n\r\nabcd",
            400,
        ),
        raw("negative length", b"POST /sparql HTTP/1.1\r\nHost: x\r\nContent-Length: -1\r\n\r\n", 400),
        raw(
            "length of 5000 digits",
            b"POST /sparql HTTP/1.1\r\nHost: x\r\nContent-Length: " + b"9" * 5000 + b"\r\n\r\n",
            {400, 413},
        ),
        raw("garbage", b"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03" + b"\x00" * 64 + b"\r\n\r\n", 400),
        raw("NUL in a header", get + b"X-A: a\x00b\r\n\r\n", 400),
        raw("space before colon", get + b"X-A : b\r\n\r\n", 400),
        raw("bare LF lines", b"GET /healthz HTTP/1.1\nHost: x\n\n", {200, 400}),
        raw("HTTP/2 preface", b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n", 400),
        raw("HTTP/7", b"GET /healthz HTTP/7.0\r\nHost: x\r\n\r\n", {400, 505}),
        raw("absurd method", b"X" * 5000 + b" /healthz HTTP/1.1\r\nHost: x\r\n\r\n", {400, 405, 431}),
        raw("header without a value line end", get + b"X-A: b\r\nX-B", 408, trickle=False),
        raw("slow head", get + b"X-A: " + b"a" * 20 + b"\r\n\r\n", 408, trickle=True),
        raw("nothing at all", b"", 408),
        raw("unsupported upgrade", get + b"Connection: Upgrade\r\nUpgrade: websocket\r\n\r\n", {200, 400, 426}),
    ]


def cli_cases(tmp: Path) -> list[tuple[str, list[str], str | None, int]]:
    """(name, arguments, standard input, expected exit code)."""
    not_a_store = tmp / "precious"
    not_a_store.mkdir()
    (not_a_store / "thesis.txt").write_text("do not delete")
    return [
        ("sparql nested 5000 deep", ["sparql", "SELECT * WHERE " + "{" * 5000 + "}" * 5000], None, 2),
        ("sparql nested from stdin", ["sparql", "-"], "ASK {" + "(" * 9000 + "1" + ")" * 9000 + "}", 2),
        ("sparql update", ["sparql", "DROP ALL"], None, 2),
        ("sparql malformed", ["sparql", "SELECT * WHERE {"], None, 2),
        ("query unknown", ["query", "nope"], None, 2),
        ("query bad parameter", ["query", "diseases_for_therapy", "--param", "therapy=not an iri"], None, 2),
        ("query parameter without =", ["query", "diseases_for_therapy", "--param", "therapy"], None, 2),
        (
            "query huge integer",
            ["query", "diseases_by_source_count", "--param", "limit_sources=" + "9" * 5000],
            None,
            2,
        ),
        ("build into a directory that is not a store", ["build", "--store", str(not_a_store)], None, 2),
        ("build into a file", ["build", "--store", str(not_a_store / "thesis.txt")], None, 2),
        ("build under a file", ["build", "--store", str(not_a_store / "thesis.txt" / "store")], None, 2),
        ("serve a missing store", ["serve", "--store", str(tmp / "missing")], None, 2),
        ("validate a missing path", ["validate", str(tmp / "missing.ttl")], None, 2),
        ("diff of an unknown revision", ["diff", "no-such-revision-xyz"], None, 2),
    ]
