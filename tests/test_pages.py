"""Linked data and pages over in-process HTTP, on both backends: every resource IRI dereferences; each RDF format
holds exactly the triples the store holds for the resource; the HTML pages show what the sources say (expected
answers from the curation files and the competency questions), escape what they show, and follow basic
accessibility rules."""

from __future__ import annotations

import re
from html import unescape
from html.parser import HTMLParser
from pathlib import Path

import pyoxigraph as ox
import pytest
import rdflib
from rdflib.compare import isomorphic
from starlette.testclient import TestClient

from kg.namespaces import GRAPH, KGR
from kg.queries.catalog import Catalog

BROWSER = {"accept": "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"}
RDF_FORMATS = {
    "text/turtle": ("ttl", "turtle"),
    "application/ld+json": ("jsonld", "json-ld"),
    "application/n-triples": ("nt", "nt"),
}
RESOURCES = ["lupus", "hematopoietic-stem-cell-transplantation", "C003-084", "source-000", "lupus_map-mondo-0007915"]
CSS = Path(__file__).resolve().parent.parent / "kg" / "web" / "pages" / "static" / "site.css"


def stored_description(store: ox.Store, iri: str) -> rdflib.Graph:
    """What the store holds for a resource: every triple with it as subject or object, in any named graph."""
    node = ox.NamedNode(iri)
    triples = {q.triple for q in store.quads_for_pattern(node, None, None, None)}
    triples |= {q.triple for q in store.quads_for_pattern(None, None, node, None)}
    graph = rdflib.Graph()
    graph.parse(data=ox.serialize(list(triples), format=ox.RdfFormat.N_TRIPLES).decode(), format="nt")
    return graph


def parsed(body: bytes, rdflib_format: str) -> rdflib.Graph:
    graph = rdflib.Graph()
    graph.parse(data=body.decode("utf-8"), format=rdflib_format)
    return graph


@pytest.mark.parametrize("name", RESOURCES)
@pytest.mark.parametrize("media", list(RDF_FORMATS))
def test_each_rdf_format_holds_the_stored_triples(
    app_client: TestClient, store: ox.Store, name: str, media: str
) -> None:
    extension, rdflib_format = RDF_FORMATS[media]
    expected = stored_description(store, KGR + name)
    assert len(expected) > 3
    by_accept = app_client.get(f"/id/{name}", headers={"accept": media})
    assert by_accept.status_code == 200, by_accept.text
    assert by_accept.headers["content-type"].startswith(media)
    assert "Accept" in by_accept.headers["vary"]
    assert by_accept.headers["content-location"] == f"/id/{name}.{extension}"
    by_extension = app_client.get(f"/id/{name}.{extension}", headers=BROWSER)
    assert by_extension.status_code == 200
    assert by_extension.headers["content-type"].startswith(media)
    for response in (by_accept, by_extension):
        got = parsed(response.content, rdflib_format)
        assert isomorphic(got, expected), set(got) ^ set(expected)


def test_browsers_get_html_and_rdf_clients_get_turtle(app_client: TestClient) -> None:
    page = app_client.get("/id/lupus", headers=BROWSER)
    assert page.headers["content-type"].startswith("text/html")
    assert '<link rel="alternate" type="text/turtle" href="/id/lupus.ttl">' in page.text
    rdf = app_client.get("/id/lupus", headers={"accept": "application/rdf+xml;q=0.5, text/turtle"})
    assert rdf.headers["content-type"].startswith("text/turtle")
    link = rdf.headers["link"]
    assert '</id/lupus.jsonld>; rel="alternate"; type="application/ld+json"' in link


def test_unknown_and_unacceptable(app_client: TestClient) -> None:
    missing = app_client.get("/id/no-such-thing", headers={"accept": "text/turtle"})
    assert missing.status_code == 404
    assert missing.headers["content-type"] == "application/problem+json"
    assert "kgr:no-such-thing" in missing.json()["detail"]
    page = app_client.get("/id/no-such-thing", headers=BROWSER)
    assert page.status_code == 404 and page.headers["content-type"].startswith("text/html")
    assert "kgr:no-such-thing" in page.text
    refused = app_client.get("/id/lupus", headers={"accept": "image/png"})
    assert refused.status_code == 406
    assert "text/turtle" in refused.json()["detail"]
    assert app_client.get("/ontology.exe").status_code == 404
    assert app_client.get("/graph/not/a/graph.ttl").status_code == 404


def test_pages_are_cached_with_etags(app_client: TestClient) -> None:
    first = app_client.get("/id/lupus", headers=BROWSER)
    etag = first.headers["etag"]
    again = app_client.get("/id/lupus", headers=BROWSER | {"if-none-match": etag})
    assert again.status_code == 304 and again.headers["etag"] == etag
    assert first.headers["x-kg-release"]
    assert "script-src 'self'" in first.headers["content-security-policy"]


@pytest.mark.parametrize("path", ["/id/msc-therapy", "/id/msc-therapy.ttl", "/ontology", "/matrix", "/search?q=msc"])
def test_a_repeated_request_gets_the_same_response(app_client: TestClient, path: str) -> None:
    """Repeats are replayed before routing (kg.web.fastpath): same status, body and headers as the first answer."""
    first, second = (app_client.get(path, headers=BROWSER) for _ in range(2))
    assert first.status_code == second.status_code == 200
    assert first.content == second.content
    skip = {"x-request-id", "date", "server"}
    assert {k: v for k, v in first.headers.items() if k not in skip} == {
        k: v for k, v in second.headers.items() if k not in skip
    }
    other = app_client.get(path, headers={"accept": "application/n-triples"})
    if path in ("/id/msc-therapy", "/ontology"):  # negotiated: the key includes Accept
        assert other.headers["content-type"].startswith("application/n-triples")
    else:  # an extension decides the format, and the other pages are HTML only
        assert other.content == first.content


def test_ontology_dereferences_to_the_ontology_file(app_client: TestClient, store: ox.Store) -> None:
    graph = ox.NamedNode(GRAPH + "scad.ttl")
    triples = [q.triple for q in store.quads_for_pattern(None, None, None, graph)]
    expected = rdflib.Graph().parse(data=ox.serialize(triples, format=ox.RdfFormat.N_TRIPLES).decode(), format="nt")
    for path, headers, fmt in [
        ("/ontology", {"accept": "text/turtle"}, "turtle"),
        ("/ontology.jsonld", {}, "json-ld"),
        ("/ontology.nt", {}, "nt"),
    ]:
        response = app_client.get(path, headers=headers)
        assert response.status_code == 200
        assert isomorphic(parsed(response.content, fmt), expected)


def test_named_graphs_dereference(app_client: TestClient, store: ox.Store) -> None:
    graph = ox.NamedNode(GRAPH + "data/sources.ttl")
    triples = {q.triple for q in store.quads_for_pattern(None, None, None, graph)}
    response = app_client.get("/graph/data/sources.ttl?format=nt")
    assert response.status_code == 200
    got = {q.triple for q in ox.parse(response.content, format=ox.RdfFormat.N_TRIPLES)}
    assert got == triples


class Page(HTMLParser):
    """The parts of an HTML page the tests look at: text, links, headings, form controls and their labels."""

    def __init__(self, html: str) -> None:
        super().__init__()
        self.text: list[str] = []
        self.links: dict[str, str] = {}
        self.headings: list[tuple[str, str]] = []
        self.inputs: list[dict[str, str | None]] = []
        self.label_for: set[str] = set()
        self.lang: str | None = None
        self.scripts: list[dict[str, str | None]] = []
        self._open: list[tuple[str, dict[str, str | None], list[str]]] = []
        self.feed(html)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = dict(attrs)
        if tag == "html":
            self.lang = a.get("lang")
        if tag == "input" and a.get("type") != "hidden":
            self.inputs.append(a)
        if tag == "label" and a.get("for"):
            self.label_for.add(a["for"] or "")
        if tag == "script":
            self.scripts.append(a)
        if tag in ("a", "h1", "h2", "h3"):
            self._open.append((tag, a, []))

    def handle_endtag(self, tag: str) -> None:
        if self._open and self._open[-1][0] == tag:
            name, a, parts = self._open.pop()
            content = " ".join("".join(parts).split())
            if name == "a" and a.get("href"):
                self.links.setdefault(content, a["href"] or "")
            else:
                self.headings.append((name, content))

    def handle_data(self, data: str) -> None:
        self.text.append(data)
        for _, _, parts in self._open:
            parts.append(data)

    @property
    def plain(self) -> str:
        return " ".join("".join(self.text).split())


def page(client: TestClient, path: str) -> Page:
    response = client.get(path, headers=BROWSER)
    assert response.status_code == 200, response.text[:500]
    assert response.headers["content-type"].startswith("text/html")
    return Page(response.text)


def test_disease_page_shows_therapies_evidence_and_quotes(app_client: TestClient) -> None:
    lupus = page(app_client, "/id/lupus")
    assert ("h1", "lupus") in lupus.headings
    # CQ13: the therapies for lupus are HSCT (003), SCT (002) and MSC therapy (000, 001, 003)
    group = next(h for n, h in lupus.headings if n == "h3" and h.startswith("Has investigational therapy"))
    assert group.endswith("(3)")
    for therapy in ("hematopoietic stem cell transplantation", "stem cell transplantation", "MSC therapy"):
        assert lupus.links[therapy].startswith("/id/")
    # the quote of C002-022, verbatim, and its source marked promotional
    assert "Lupus patients have also seen success with stem cell transplantation" in lupus.plain
    assert "promotional" in lupus.plain
    assert lupus.links["Graph view"] == "/explore/lupus"
    # external identifiers link to their resolvers; the close match is not shown as exact
    assert lupus.links["obo:MONDO_0007915"] == "http://purl.obolibrary.org/obo/MONDO_0007915"
    assert re.search(r"obo:MONDO_0007915 close systemic lupus erythematosus", lupus.plain)


def test_unverified_identifiers_are_marked(app_client: TestClient) -> None:
    rejection = page(app_client, "/id/rejection")
    assert "unverified" in rejection.plain


def test_source_page_lists_its_claims_and_flags(app_client: TestClient) -> None:
    source = page(app_client, "/id/source-002")
    assert "promotional" in source.plain
    assert "Lupus patients have also seen success with stem cell transplantation" in source.plain
    assert source.links["C002-022"] == "/id/C002-022"
    neutral = page(app_client, "/id/source-003")
    assert "This source promotes" not in neutral.plain


def test_claim_page(app_client: TestClient) -> None:
    claim = page(app_client, "/id/C003-084")
    assert "Potential side effects, especially with HSCT, such as infections, fatigue, bleeding, and infertility" in (
        claim.plain
    )
    assert claim.links["hematopoietic stem cell transplantation"] == "/id/hematopoietic-stem-cell-transplantation"


def test_other_resources_list_their_statements(app_client: TestClient) -> None:
    mapping = page(app_client, "/id/lupus_map-mondo-0007915")
    assert mapping.links["lupus"] == "/id/lupus"
    assert "systemic lupus erythematosus" in mapping.plain


def test_graph_view_embeds_the_neighbourhood(app_client: TestClient) -> None:
    response = app_client.get("/explore/lupus", headers=BROWSER)
    view = Page(response.text)
    assert {"src": "/static/graph.js", "defer": None} in view.scripts
    for neighbour in ("hematopoietic stem cell transplantation", "MSC therapy", "kidney", "autoimmune disease"):
        assert neighbour in view.links
    assert app_client.get("/explore/no-such-thing", headers=BROWSER).status_code == 404


def test_matrix_rows_follow_the_competency_answers(app_client: TestClient) -> None:
    matrix = app_client.get("/matrix", headers=BROWSER).text
    row = re.search(r'<th scope="row"><a href="/id/lupus">lupus</a></th>(.*?)</tr>', matrix, re.S)
    assert row is not None
    assert len(re.findall(r'<td class="cell c-', row.group(1))) == 3  # HSCT, SCT, MSC therapy (CQ13)
    assert "promo-only" in row.group(1)  # SCT for lupus rests on 002 alone


def test_ontology_page_documents_every_term(app_client: TestClient, store: ox.Store) -> None:
    html = app_client.get("/ontology", headers=BROWSER).text
    rows = store.query(
        "SELECT ?t WHERE { GRAPH <https://w3id.org/scad/graph/scad.ttl> "
        "{ ?t <http://www.w3.org/2000/01/rdf-schema#isDefinedBy> <https://w3id.org/scad/ontology> } }"
    )
    assert isinstance(rows, ox.QuerySolutions)
    names = [row["t"].value.rsplit("#", 1)[1] for row in rows]
    assert len(names) > 100
    for name in names:
        assert f'id="{name}"' in html, name
    assert 'href="https://w3id.org/biolink/vocab/Disease"' in html


def test_home_search_and_counts(app_client: TestClient) -> None:
    home = page(app_client, "/")
    assert "280 claims" in home.plain  # 279 of the worksheet and C004-039, added in review
    assert "5 sources (2 promotional)" in home.plain
    for link in ("GraphiQL", "YASGUI", "The named-query catalogue"):
        assert link in home.links
    assert home.links["Turtle"].startswith("/graph/")
    found = page(app_client, "/search?q=lupus")
    assert found.links["lupus"] == "/id/lupus"
    assert app_client.get("/", headers={"accept": "*/*"}).json()["links"]["sparql"] == "/sparql"


def test_page_text_is_escaped(app_client: TestClient) -> None:
    response = app_client.get("/search", params={"q": '<script>alert("x")</script>'}, headers=BROWSER)
    assert response.status_code == 200
    assert "<script>alert" not in response.text
    assert "&lt;script&gt;alert" in response.text


@pytest.mark.parametrize(
    "path", ["/", "/id/lupus", "/id/source-000", "/id/C003-084", "/explore/lupus", "/matrix", "/ontology", "/queries"]
)
def test_accessible_markup(app_client: TestClient, path: str) -> None:
    view = page(app_client, path)
    assert view.lang == "en"
    assert [n for n, _ in view.headings].count("h1") == 1
    for control in view.inputs:
        assert control.get("id") in view.label_for, control
    assert all(s.get("src", "").startswith("/static/") for s in view.scripts if s.get("type") != "application/json")


def luminance(hex_colour: str) -> float:
    channels = [int(hex_colour[i : i + 2], 16) / 255 for i in (1, 3, 5)]
    linear = [c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4 for c in channels]
    return 0.2126 * linear[0] + 0.7152 * linear[1] + 0.0722 * linear[2]


def contrast(a: str, b: str) -> float:
    high, low = sorted((luminance(a), luminance(b)), reverse=True)
    return (high + 0.05) / (low + 0.05)


def test_text_colours_meet_wcag_aa() -> None:
    colours = dict(re.findall(r"--([a-z-]+):\s*(#[0-9a-f]{6})", CSS.read_text()))
    for name in ("ink", "muted", "link", "promo-ink", "asserted", "reported", "hedged", "speculative"):
        assert contrast(colours[name], "#ffffff") >= 4.5, name
    for name in ("ink", "muted", "link"):  # the header and the suggestions sit on the wash
        assert contrast(colours[name], colours["wash"]) >= 4.5, name
    assert contrast(colours["promo-ink"], colours["promo-wash"]) >= 4.5
    for cell in ("asserted", "reported", "hedged", "speculative"):  # white numbers on the matrix cells
        assert contrast("#ffffff", colours[cell]) >= 4.5, cell


def test_graph_view_keeps_the_best_supported_neighbours() -> None:
    from kg.web.pages.render import neighbourhood
    from kg.web.pages.vocabulary import Vocabulary

    def edge(n: int, sources: int) -> dict[str, object]:
        node = {"id": f"n{n}", "label": f"node {n}", "__typename": "Therapy", "relations": {"edges": []}}
        evidence = {"sourceCount": sources, "strongestCertainty": "HEDGED", "promotionalOnly": False}
        return {"relation": "INVESTIGATED_FOR", "direction": "INCOMING", "node": node, "evidence": evidence}

    relations = {"totalCount": 10, "edges": [edge(n, n % 4) for n in range(10)]}
    entity = {"id": "c", "label": "centre", "__typename": "Disease", "relations": relations}
    network = neighbourhood(entity, Vocabulary({}), limit=4)
    kept = {n["id"] for n in network["nodes"]} - {"c"}
    assert kept == {"n3", "n7", "n2", "n6"}  # three sources, then two
    assert network["neighbours"] == 10
    assert all(e["target"] == "c" and e["source"] in kept for e in network["edges"])


def test_a_pasted_iri_or_curie_opens_its_page(app_client: TestClient) -> None:
    for text, target in [
        ("https://w3id.org/scad/id/lupus", "/id/lupus"),
        ("kgr:lupus", "/id/lupus"),
        ("scad:Disease", "/ontology#Disease"),
    ]:
        response = app_client.get("/search", params={"q": text}, headers=BROWSER, follow_redirects=False)
        assert response.status_code == 303 and response.headers["location"] == target
    elsewhere = app_client.get("/search", params={"q": "https://example.org/x"}, headers=BROWSER)
    assert elsewhere.status_code == 200 and "Nothing matches" in elsewhere.text  # never a redirect off this site


def test_the_catalogue_page_lists_every_named_query(app_client: TestClient, catalog: Catalog) -> None:
    html = app_client.get("/queries", headers=BROWSER).text
    for query in catalog:
        assert f"<code>{query.name}</code>" in html
    tries = [unescape(h) for h in re.findall(r'href="(/queries/[^"]+)"', html)]
    assert len(tries) == len(list(catalog))
    assert "/queries/disease_card?disease=kgr%3Alupus&format=csv" in tries
    for link in tries:  # every example runs
        assert app_client.get(link).status_code == 200, link
    assert app_client.get("/queries").json()["queries"]  # programs still get JSON


def test_search_as_you_type_works_with_the_production_allow_list() -> None:
    """The search box sends the stored `search` document by GET; the allow-list of production accepts it."""
    from kg.app import create_app
    from kg.settings import Settings

    with TestClient(create_app(Settings(graphql_allowlist_only=True))) as client:
        home = client.get("/", headers=BROWSER).text
        document = unescape(re.search(r'data-document="([^"]*)"', home, re.S).group(1))  # type: ignore[union-attr]
        answer = client.get("/graphql", params={"query": document, "variables": '{"text": "lupus", "first": 8}'})
        assert answer.status_code == 200
        assert answer.json()["data"]["search"][0]["entity"]["id"] == KGR + "lupus"
        other = client.get("/graphql", params={"query": "{ sources { title } }"})
        assert other.status_code == 403


def test_ontology_page_links_classes_both_ways(app_client: TestClient) -> None:
    html = app_client.get("/ontology", headers=BROWSER).text
    therapy = html[html.index('id="Therapy"') : html.index("</section>", html.index('id="Therapy"'))]
    text = " ".join(re.sub(r"<[^>]+>", " ", therapy).split())
    assert "Parents scad:Entity" in text
    assert "Subclasses scad:AdjunctTherapy , scad:CombinationTherapy" in text  # from rdfs:subClassOf in scad.ttl
    assert "scad:investigatedFor" in text.split("Domain of", 1)[1]


def test_an_entity_page_shows_the_best_supported_of_each_relation_and_links_to_all(
    app_client: TestClient, store: ox.Store
) -> None:
    """Stem-cell therapy has 13 outcomes (counted here from its claims): its page shows 8, the most sourced, with the
    count and a link to the page of all of them, which lists the 13; a relation that is not one is a clear 400."""
    count = """PREFIX scad: <https://w3id.org/scad/ontology#>
        SELECT ?o (COUNT(DISTINCT ?source) AS ?n) WHERE { ?c scad:subject <https://w3id.org/scad/id/stem-cell-therapy> ;
            scad:predicate scad:hasOutcome ; scad:object ?o ; scad:negated false ; scad:statedIn ?source } GROUP BY ?o"""
    solutions = store.query(count, use_default_graph_as_union=True)
    assert isinstance(solutions, ox.QuerySolutions)
    sources = {"/id/" + r["o"].value.removeprefix(KGR): int(r["n"].value) for r in solutions}  # type: ignore[union-attr]
    assert len(sources) == 13
    therapy = page(app_client, "/id/stem-cell-therapy")
    heading = next(h for n, h in therapy.headings if n == "h3" and h.startswith("Has outcome"))
    assert heading.endswith("(13)")
    everything = "/id/stem-cell-therapy?relation=HAS_OUTCOME&direction=OUTGOING"
    assert therapy.links["All 13 has outcome"] == everything
    html = app_client.get("/id/stem-cell-therapy", headers=BROWSER).text
    group = html.split(">Has outcome", 1)[1].split("All 13 has outcome", 1)[0]
    shown = re.findall(r'<li class="edge">\s*<a href="([^"]+)">.*?(\d+) sources?,', group, re.S)
    assert len(shown) == 8 and all(sources[href] == int(n) for href, n in shown)
    assert [int(n) for _, n in shown] == sorted(sources.values(), reverse=True)[:8]  # the most sourced, first
    listed = app_client.get(everything, headers=BROWSER)
    assert listed.status_code == 200
    assert set(re.findall(r'<li class="edge">\s*<a href="([^"]+)">', listed.text)) == set(sources)
    refused = app_client.get("/id/stem-cell-therapy?relation=CURES&direction=OUTGOING", headers=BROWSER)
    assert refused.status_code == 400 and "CURES" in refused.text and "expected a relation name" in refused.text
