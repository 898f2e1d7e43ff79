"""Validation: syntax, SHACL shapes, quality rules (``queries/checks/*.rq``), OWL consistency, verbatim quotes, and
the summary layer against its CONSTRUCT. Returns a Report; printing and exit codes belong to the CLI."""

from __future__ import annotations

import re
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

import owlrl
import pyoxigraph as ox
import pyshacl
import pyshacl.errors
import rdflib
from rdflib.namespace import SH

from kg.curation import anchors, causes, inference, summary
from kg.namespaces import PREFIXES, curie
from kg.queries.catalog import Catalog, NamedQuery, parse_query, term_text
from kg.rdf.dataset import Dataset, read_sources, turtle_files
from kg.report import Finding, Report, Severity
from kg.store.backends import memory_store, run

_SCAD = PREFIXES["scad"]
_SHACL_NODE_SHAPE = PREFIXES["sh"] + "NodeShape"


@dataclass(frozen=True)
class Options:
    queries_dir: Path
    """The named queries: the quality rules in ``checks/``, the summary CONSTRUCT and the quote listing."""
    sources_dir: Path | None = None
    reasoner: bool = True

    @property
    def checks_dir(self) -> Path:
        return self.queries_dir / "checks"

    @property
    def summary_query(self) -> Path:
        return self.queries_dir / "summary.rq"


QUOTES_NOT_CHECKED = "quotes not checked: pass --sources or set the sources setting (KG_SOURCES_DIR)"


def validate(
    paths: Iterable[Path], options: Options, root: Path | None = None, on_stage: Callable[[str], None] | None = None
) -> Report:
    """Validate the Turtle files under ``paths``; nothing is written anywhere. ``on_stage`` hears each stage's name."""
    report = Report()
    if options.sources_dir is None:
        report.notes.append(QUOTES_NOT_CHECKED)
    started = time.perf_counter()
    data = read_sources(paths, root)
    report.timings["parse"] = time.perf_counter() - started
    report.findings.extend(data.errors)
    if data.errors:
        return report  # later stages would report the consequences of the broken files, not the causes
    everything, data = data, inference.asserted(data)  # rules, shapes and reasoner see the asserted graphs only
    store = memory_store(data.quads)
    report.findings.extend(causes.check_prefixes(data))
    stages: list[tuple[str, Callable[[], Iterable[Finding]]]] = [
        ("inferred", lambda: inference.check(everything, options.queries_dir)),
        ("checks", lambda: check_rules(store, data, options.checks_dir)),
        ("summary", lambda: check_summary(store, data, options.summary_query)),
        ("shacl", lambda: check_shapes(data)),
        ("bindings", lambda: check_bindings(options.queries_dir)),
    ]
    if options.reasoner:
        stages.append(("owl", lambda: check_consistency(data)))
    if options.sources_dir is not None:
        texts = anchors.SourceTexts(options.sources_dir)
        quotes = parse_query(options.queries_dir / "claim_quotes.rq")
        stages.append(("quotes", lambda: check_quotes(store, data, texts, quotes)))
        anchored = parse_query(options.queries_dir / "quote_anchors.rq")
        stages.append(("anchors", lambda: anchors.check(store, data, texts, anchored)))
    for name, run_stage in stages:
        if on_stage is not None:
            on_stage(name)
        t0 = time.perf_counter()
        report.findings.extend(run_stage())
        report.timings[name] = time.perf_counter() - t0
    causes.one_error_per_untagged_label(report)
    causes.fold_consequences(report)
    return report


def validate_files(
    files: Iterable[Path], ontology_dir: Path, options: Options, on_stage: Callable[[str], None] | None = None
) -> Report:
    """Validate ``files`` (under ``ontology_dir``) in the context of the whole graph; report only their findings."""
    wanted = {p.resolve() for p in turtle_files(files)}
    report = validate([ontology_dir], options, ontology_dir, on_stage)

    def theirs(found: list[Finding]) -> list[Finding]:
        # a file that does not parse or binds a prefix wrongly stops or floods the rest: it is reported wherever it is
        return [f for f in found if f.file is None or f.file.resolve() in wanted or f.rule in ("syntax", "prefix")]

    report.findings, report.folded = theirs(report.findings), theirs(report.folded)
    return report


def check_bindings(queries_dir: Path) -> Iterator[Finding]:
    """Every parameter of a named query that the VALUES binding would not bind to its meaning (kg.queries.binding)."""
    from kg.queries.binding import check  # imported on first use: rdflib's SPARQL grammar takes a second to build

    for query in Catalog(queries_dir):
        for problem in check(query):
            yield Finding(
                severity=Severity.ERROR,
                rule="parameter_binding",
                message=f"query '{query.name}' {problem.message}",
                file=query.path,
                line=problem.line,
                focus=problem.param,
            )


def _locate(data: Dataset, focus: str | None) -> tuple[Path | None, int | None]:
    if focus is None or not focus.startswith(("http://", "https://")):
        return None, None
    where = data.locate(focus)
    return where if where else (None, None)


def finding_at(
    data: Dataset, severity: Severity, rule: str, message: str, focus: str | None, value: str | None = None
) -> Finding:
    file, line = _locate(data, focus)
    return Finding(
        severity=severity,
        rule=rule,
        message=message,
        file=file,
        line=line,
        focus=curie(focus) if focus else None,
        value=value,
    )


def check_rules(store: ox.Store, data: Dataset, checks_dir: Path) -> Iterator[Finding]:
    """Each quality rule is a SELECT in ``checks_dir``; every row it returns is a finding about ``?focus``."""
    known = causes.defined_iris(data)
    for rule in Catalog(checks_dir):
        severity = Severity(rule.severity or "error")
        template = rule.message or rule.summary
        solutions = run(store, rule)
        assert isinstance(solutions, ox.QuerySolutions), f"quality rule {rule.name} must be a SELECT query"
        names = [v.value for v in solutions.variables]
        for row in solutions:
            values = {name: term_text(row[name]) for name in names}
            focus = row["focus"] if "focus" in names else None
            focus_iri = focus.value if isinstance(focus, ox.NamedNode) else None
            finding = finding_at(data, severity, rule.name, template.format_map(_Defaulting(values)), focus_iri)
            raw = {name: row[name].value for name in names if row[name] is not None}
            yield causes.at_cause(data, rule.name, finding, raw, known)


class _Defaulting(dict[str, str]):
    def __missing__(self, key: str) -> str:
        return "?" + key


def check_summary(store: ox.Store, data: Dataset, query_path: Path) -> Iterator[Finding]:
    """The committed summary file must hold exactly what the summary CONSTRUCT derives from the claims."""
    summary_files = [f for f in data.files if f.path.name == summary.FILE_NAME]
    if not summary_files:
        return
    derived = set(summary.derive(store, query_path))
    committed = set(data.triples([f.graph for f in summary_files]))
    for f in summary_files:
        for t in sorted(derived - committed, key=str):
            yield Finding(
                severity=Severity.ERROR,
                rule="summary-out-of-date",
                message=f"{f.path} lacks the summary triple {_triple_text(t)} that the claims imply; run `kg derive`",
                file=f.path,
                focus=term_text(t.subject),
            )


def _triple_text(t: ox.Triple) -> str:
    return " ".join(term_text(x) for x in (t.subject, t.predicate, t.object))


def to_rdflib(triples: Iterable[ox.Triple]) -> rdflib.Graph:
    """An rdflib graph of already parsed triples (for pySHACL and owlrl); no second parse of the files."""

    def term(x: ox.NamedNode | ox.BlankNode | ox.Literal | ox.Triple) -> rdflib.term.Node:
        if isinstance(x, ox.NamedNode):
            return rdflib.URIRef(x.value)
        if isinstance(x, ox.BlankNode):
            return rdflib.BNode(x.value)
        if isinstance(x, ox.Literal):
            if x.language:
                return rdflib.Literal(x.value, lang=x.language)
            return rdflib.Literal(x.value, datatype=rdflib.URIRef(x.datatype.value))
        raise TypeError(f"RDF-star triple terms are not supported here: {x}")

    graph = rdflib.Graph()
    for t in triples:
        graph.add((term(t.subject), term(t.predicate), term(t.object)))
    return graph


def check_shapes(data: Dataset) -> Iterator[Finding]:
    """SHACL: the files that declare node shapes are the shapes graph; all files together are the data graph."""
    shape_graphs = {
        q.graph_name
        for q in data.quads
        if q.predicate.value == PREFIXES["rdf"] + "type" and q.object == ox.NamedNode(_SHACL_NODE_SHAPE)
    }
    if not shape_graphs:
        return
    shapes = to_rdflib(data.triples(shape_graphs))  # type: ignore[arg-type]
    graph = to_rdflib(data.triples(g for g in {q.graph_name for q in data.quads} - shape_graphs))  # type: ignore[misc]
    _, results, _ = pyshacl.validate(graph, shacl_graph=shapes, inference="none", allow_warnings=True)
    if isinstance(results, pyshacl.errors.ValidationFailure):
        yield Finding(severity=Severity.ERROR, rule="shacl", message=f"the shapes cannot be applied: {results}")
        return
    assert isinstance(results, rdflib.Graph)
    for result in results.subjects(rdflib.RDF.type, SH.ValidationResult):
        focus = results.value(result, SH.focusNode)
        severity = (
            Severity.WARNING if results.value(result, SH.resultSeverity) in (SH.Warning, SH.Info) else Severity.ERROR
        )
        shape = results.value(result, SH.sourceShape)
        rule = curie(str(shape)) if isinstance(shape, rdflib.URIRef) else _shape_name(shapes, shape)
        message = str(results.value(result, SH.resultMessage) or "does not conform")
        path = results.value(result, SH.resultPath)
        value = results.value(result, SH.value)
        if isinstance(path, rdflib.URIRef):
            message = f"{curie(str(path))}: {message}"
        value_text = (
            curie(str(value)) if isinstance(value, rdflib.URIRef) else (str(value) if value is not None else None)
        )
        yield finding_at(
            data,
            severity,
            rule,
            message,
            str(focus) if isinstance(focus, rdflib.URIRef) else None,
            value_text,
        )


def _shape_name(shapes: rdflib.Graph, shape: rdflib.term.Node | None) -> str:
    """A blank property shape is named after the node shape that holds it."""
    for parent in shapes.subjects(SH.property, shape):
        if isinstance(parent, rdflib.URIRef):
            return curie(str(parent))
    for parent in shapes.subjects(SH.sparql, shape):
        if isinstance(parent, rdflib.URIRef):
            return curie(str(parent))
    return "shacl"


class _Consistency(owlrl.OWLRL_Semantics):  # type: ignore[misc]
    """OWL 2 RL closure that keeps its inconsistency messages instead of writing them into the graph."""

    def post_process(self) -> None:
        pass


def check_consistency(data: Dataset) -> Iterator[Finding]:
    """OWL 2 RL reasoning (owlrl) over the ontology and data: disjoint classes, domains and ranges."""
    graph = to_rdflib(
        t
        for t in data.triples()
        if not isinstance(t.object, ox.Literal) or t.predicate.value == PREFIXES["rdf"] + "type"
    )
    closure = _Consistency(graph, axioms=False, daxioms=False, rdfs=False)
    closure.closure()
    for message in closure.error_messages:
        iris = re.findall(r"https?://[^\s,()]+", str(message))
        focus = next((i for i in iris if i.startswith(PREFIXES["kgr"])), None)
        text = re.sub(r"https?://[^\s,()]+", lambda m: curie(m.group(0)), " ".join(str(message).split()))
        yield finding_at(data, Severity.ERROR, "owl-consistency", text, focus)


def check_quotes(store: ox.Store, data: Dataset, texts: anchors.SourceTexts, quotes: NamedQuery) -> Iterator[Finding]:
    """Each claim's quote must be an exact substring of its source's text (``<sources>/<scad:fileName>``)."""
    rows = run(store, quotes)
    assert isinstance(rows, ox.QuerySolutions)
    seen: set[str] = set()
    for row in rows:
        file = row["file"].value
        text = texts.get(file)
        if file not in seen:
            seen.add(file)
            if text is None:
                path = texts.path(file)
                yield Finding(
                    severity=Severity.ERROR,
                    rule="quote-source-missing",
                    message=f"source text {path} not found; expected the file named by scad:fileName",
                    file=path,
                )
        if text is not None and row["quote"].value not in text:
            yield causes.quote_finding(data, row["claim"].value, row["quote"].value, text, file)
