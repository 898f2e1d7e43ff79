"""The ``kg`` command. Exit codes: 0 ok, 1 findings (errors, or files that need formatting), 2 usage or I/O problem."""

from __future__ import annotations

import enum
import json
import shutil
import socket
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, NoReturn, cast

import pyoxigraph as ox
import typer
from rich.console import Console
from rich.table import Table
from rich.text import Text

from kg.curation import inference, stats, summary
from kg.errors import KgError
from kg.queries.catalog import Catalog, ParameterError, QueryError, UnknownQuery, parse_query, term_text
from kg.queries.formats import GRAPHS, RESULTS, by_name
from kg.queries.text import check_depth, lex, looks_like_update
from kg.rdf.dataset import SourceError, graph_name, read_sources
from kg.report import Report, Severity
from kg.settings import Settings
from kg.store import build
from kg.store.backends import Backend, Result, StoreError, memory_store, open_backend, open_store_dir

if TYPE_CHECKING:
    from kg.curation.validate import Options

app = typer.Typer(
    name="kg",
    help="Curate, check and serve the knowledge graph of stem-cell therapies for autoimmune disease.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
# Piped output is not cut to 80 columns: a table keeps every cell whole for the next tool.
out = Console(highlight=False, soft_wrap=True, width=None if sys.stdout.isatty() else 100_000)
err = Console(stderr=True, highlight=False, soft_wrap=True)

PathsArg = Annotated[
    list[Path] | None,
    typer.Argument(help="Turtle files or directories (default: the ontology directory).", show_default=False),
]


class OutputFormat(enum.StrEnum):
    text = "text"
    json = "json"


def fail(message: str) -> NoReturn:
    err.print(f"kg: {message}", markup=False)
    raise typer.Exit(2)


def shown(path: Path) -> str:
    """A path as a person reads it: relative to the working directory when under it."""
    try:
        return str(path.resolve().relative_to(Path.cwd()))
    except ValueError:
        return str(path)


@contextmanager
def progress(what: str) -> Iterator[Callable[[str], None]]:
    """A spinner naming the stage on a terminal (standard error); nothing when piped."""
    if not err.is_terminal:
        yield lambda stage: None
        return
    with err.status(what) as status:
        yield lambda stage: status.update(f"{what}: {stage}")


def _sources(option: Path | None, settings: Settings) -> Path | None:
    chosen = option if option is not None else settings.sources_dir
    if chosen is not None and not chosen.is_dir():
        where = "--sources" if option is not None else "KG_SOURCES_DIR"
        fail(f"{where} {chosen}: not a directory; expected the folder of source texts")
    return chosen


def _validate(chosen: list[Path], root: Path, settings: Settings, options: Options, what: str) -> Report:
    """Validate; files under the ontology directory are checked in the context of the whole graph."""
    from kg.curation.validate import validate, validate_files

    ontology = settings.ontology_dir.resolve()
    inside = [p for p in chosen if p.resolve() == ontology or ontology in p.resolve().parents]
    with progress(what) as stage:
        try:
            if inside and len(inside) == len(chosen) and [p.resolve() for p in chosen] != [ontology]:
                return validate_files(chosen, settings.ontology_dir, options, stage)
            return validate(chosen, options, root, stage)
        except (SourceError, QueryError) as exc:
            fail(str(exc))


def _paths(paths: list[Path] | None, settings: Settings) -> tuple[list[Path], Path]:
    chosen = paths or [settings.ontology_dir]
    missing = [p for p in chosen if not p.exists()]
    if missing:
        fail(f"{missing[0]}: no such file or directory; expected a Turtle file or a directory of them")
    root = chosen[0] if len(chosen) == 1 and chosen[0].is_dir() else Path.cwd()
    return chosen, root


@app.command("validate")
def validate_command(
    paths: PathsArg = None,
    sources: Annotated[
        Path | None, typer.Option("--sources", help="Directory of source texts: check every quote is verbatim.")
    ] = None,
    output: Annotated[
        OutputFormat, typer.Option("--format", help="text for people, json for tools.")
    ] = OutputFormat.text,
    no_reasoner: Annotated[bool, typer.Option("--no-reasoner", help="Skip the OWL 2 RL consistency check.")] = False,
    show_all: Annotated[bool, typer.Option("--all", help="List every warning, not the first few per rule.")] = False,
) -> None:
    """Parse, check shapes, quality rules and OWL consistency; quotes against the texts of --sources or KG_SOURCES_DIR.

    Files under the ontology directory are checked in the context of the whole graph; only their findings are shown.
    """
    from kg.curation.validate import Options

    settings = Settings()
    chosen, root = _paths(paths, settings)
    options = Options(settings.queries_dir, sources_dir=_sources(sources, settings), reasoner=not no_reasoner)
    started = time.perf_counter()
    report = _validate(chosen, root, settings, options, "validating")
    elapsed = time.perf_counter() - started
    if output is OutputFormat.json:
        out.print(report.to_json(), markup=False)
    else:
        _print_report(report, elapsed, WARNINGS_PER_RULE if not show_all else None)
    raise typer.Exit(0 if report.ok else 1)


WARNINGS_PER_RULE = 5


def _print_report(report: Report, elapsed: float, warnings_per_rule: int | None) -> None:
    shown: dict[str, int] = {}
    for finding in report.sorted():
        if finding.severity is Severity.WARNING and warnings_per_rule is not None:
            shown[finding.rule] = shown.get(finding.rule, 0) + 1
            if shown[finding.rule] > warnings_per_rule:
                continue
        style = "red" if finding.severity is Severity.ERROR else "yellow"
        out.print(finding.text(), style=style, markup=False)
    for rule, n in sorted(shown.items()):
        if warnings_per_rule is not None and n > warnings_per_rule:
            out.print(f"... and {n - warnings_per_rule} more warning(s) of [{rule}]; --all lists them", markup=False)
    if report.folded:
        errors = sum(f.severity is Severity.ERROR for f in report.folded)
        out.print(
            f"  ... {errors} error(s) and {len(report.folded) - errors} warning(s) more most likely follow from the"
            f" prefix above; fix it first{'' if warnings_per_rule is None else ' (--all lists them)'}",
            markup=False,
        )
        if warnings_per_rule is None:
            for finding in report.sorted(report.folded):
                out.print("  " + finding.text(), markup=False)
    for note in report.notes:
        out.print(f"note: {note}", style="yellow", markup=False)
    summary_line = f"{len(report.errors)} error(s), {len(report.warnings)} warning(s) in {elapsed:.1f} s"
    (out if report.ok else err).print(("ok: " if report.ok else "failed: ") + summary_line, markup=False)


@app.command("format")
def format_command(
    paths: PathsArg = None,
    check: Annotated[bool, typer.Option("--check", help="Change nothing; exit 1 if a file is not canonical.")] = False,
) -> None:
    """Rewrite Turtle files in canonical form (deterministic order, one predicate per line)."""
    from kg.curation import formatting

    settings = Settings()
    chosen, _ = _paths(paths, settings)
    try:
        results = formatting.format_paths(chosen, check=check)
    except SourceError as exc:
        fail(str(exc))
    broken = [r for r in results if r.error is not None]
    changed = [r for r in results if r.changed]
    for r in broken:
        assert r.error is not None
        err.print(r.error.text(), markup=False)
    for r in changed:
        out.print(f"{'would reformat' if check else 'reformatted'} {shown(r.path)}", markup=False)
    out.print(
        f"{len(results)} file(s): {len(changed)} {'to reformat' if check else 'reformatted'}"
        + (f", {len(broken)} left unchanged (errors above)" if broken else ""),
        markup=False,
    )
    raise typer.Exit(1 if broken or (check and changed) else 0)


def _generated(target: Path, text: str, check: bool, command: str, what: str) -> None:
    """A committed generated file: write it when it changed, or with ``check`` exit 1 when it is out of date."""
    from kg.curation import formatting

    current = target.read_text(encoding="utf-8") if target.exists() else None
    if check:
        if current != text:
            err.print(f"{shown(target)} is out of date; run `{command}`", markup=False)
            raise typer.Exit(1)
        out.print(f"{shown(target)} is current ({what})", markup=False)
        return
    if current != text:
        formatting.write_atomically(target, text)
    out.print(f"{shown(target)}: {what}", markup=False)


@app.command("derive")
def derive_command(
    check: Annotated[
        bool, typer.Option("--check", help="Change nothing; exit 1 if the summary or inferred file is out of date.")
    ] = False,
) -> None:
    """Write the summary layer (ontology/data/summary.ttl) from the claims with queries/summary.rq, then the inferred
    graph (ontology/inferred.ttl) with queries/inferred.rq and the beliefs."""
    settings = Settings()
    data = read_sources([settings.ontology_dir], settings.ontology_dir)
    if data.errors:
        for e in data.errors:
            err.print(e.text(), markup=False)
        fail("the ontology does not parse; nothing derived")
    target = settings.summary_file
    triples = summary.derive(memory_store(data.quads), settings.queries_dir / "summary.rq")
    _generated(target, summary.text(triples), check, "kg derive", f"{len(triples)} summary triples")
    # the inferred graph follows from the asserted graphs with the summary just derived
    summary_graph = graph_name(target, settings.ontology_dir)
    quads = [q for q in data.quads if q.graph_name != summary_graph]
    quads += [ox.Quad(t.subject, t.predicate, t.object, summary_graph) for t in triples]
    entailed = inference.derive(quads, settings.queries_dir)
    _generated(
        settings.inferred_file, inference.text(entailed), check, "kg derive", f"{len(entailed)} inferred triples"
    )


@app.command("stats")
def stats_command(
    paths: PathsArg = None,
    output: Annotated[OutputFormat, typer.Option("--format", help="text or json.")] = OutputFormat.text,
) -> None:
    """Counts of the asserted graphs (triples, entities per class, claims per source, certainty, direction and quote
    role); the inferred graph's triples apart."""
    settings = Settings()
    chosen, root = _paths(paths, settings)
    data = read_sources(chosen, root)
    if data.errors:
        for e in data.errors:
            err.print(e.text(), markup=False)
        fail("some files do not parse; run `kg validate`")
    store: ox.Store = memory_store(data.quads)
    result = stats.compute(store, len(data.files), parse_query(settings.queries_dir / "stats.rq"))
    if output is OutputFormat.json:
        out.print(json.dumps(result.as_json(), indent=2), markup=False)
        return
    out.print(
        f"{result.triples} asserted triples in {result.files} files; "
        f"{result.inferred_triples} more in the inferred graph (counted apart, in nothing below)",
        markup=False,
    )
    for title, counts in (
        ("entities and records per class", result.per_class),
        ("claims per source", result.claims_per_source),
        ("claims per certainty", result.claims_per_certainty),
        ("claims per evidence direction", result.claims_per_direction),
        ("claims per quote role", result.claims_per_quote_role),
        ("mappings per verification status", result.mappings_per_status),
    ):
        table = Table(title=title, title_justify="left")
        table.add_column("")
        table.add_column("count", justify="right")
        for key, n in counts.items():
            table.add_row(key, str(n))
        table.add_row("total", str(sum(counts.values())), style="bold")
        out.print(table)
    out.print(f"negated claims: {result.negated_claims}", markup=False)


class ResultFormat(enum.StrEnum):
    table = "table"
    json = "json"
    csv = "csv"
    tsv = "tsv"
    xml = "xml"
    ttl = "ttl"
    nt = "nt"
    jsonld = "jsonld"


def _print_result(result: Result, output: ResultFormat) -> None:
    """Print a query result: a table for people (CURIEs), or a standard serialization."""
    if output is ResultFormat.table:
        if isinstance(result, ox.QueryBoolean):
            out.print("true" if bool(result) else "false", markup=False)
            return
        if isinstance(result, ox.QuerySolutions):
            names = [v.value for v in result.variables]
            table = Table(*names)
            count = 0
            for row in result:
                table.add_row(*(term_text(row[n]) for n in names))
                count += 1
            out.print(table)
            out.print(f"{count} row(s)", markup=False)
            return
        output = ResultFormat.ttl
    graph = isinstance(result, (ox.QueryTriples, list))
    offers, what = (GRAPHS, "a graph") if graph else (RESULTS, "query results")
    try:
        fmt = by_name(output.value, offers, what)
    except KgError as exc:
        fail(exc.message)
    if isinstance(result, list):
        assert fmt.rdf is not None
        body = ox.serialize(result, format=fmt.rdf)
    elif isinstance(result, ox.QueryTriples):
        assert fmt.rdf is not None
        body = result.serialize(format=fmt.rdf)
    else:
        assert fmt.results is not None
        body = result.serialize(format=fmt.results)
    sys.stdout.buffer.write(body or b"")
    sys.stdout.flush()


def _backend() -> Backend:
    try:
        return open_backend(Settings())
    except StoreError as exc:
        fail(str(exc))


@app.command("query")
def query_command(
    name: Annotated[str | None, typer.Argument(help="A named query (the stem of a file in queries/).")] = None,
    param: Annotated[list[str] | None, typer.Option("--param", "-p", help="key=value, repeatable.")] = None,
    output: Annotated[
        ResultFormat, typer.Option("--format", help="table for people, or a serialization.")
    ] = ResultFormat.table,
    list_queries: Annotated[bool, typer.Option("--list", help="List the named queries and their parameters.")] = False,
) -> None:
    """Run a named query with parameters (--list shows them all)."""
    settings = Settings()
    catalog = Catalog(settings.queries_dir)
    if list_queries:
        table = Table("name", "parameters", "summary")
        for known in catalog:
            table.add_row(known.name, " ".join(f"{p.name}=" for p in known.params), known.summary)
        out.print(table)
        return
    if name is None:
        fail("name a query, or pass --list to see them")
    try:
        query = catalog.get(name)
    except UnknownQuery as exc:
        fail(f"{exc}; `kg query --list` lists them")
    values = {}
    for item in param or []:
        key, sep, value = item.partition("=")
        if not sep:
            fail(f"--param {item!r}: expected key=value")
        values[key] = value
    try:
        bindings = query.bind(values)
    except ParameterError as exc:
        fail(str(exc))
    backend = _backend()
    try:
        _print_result(backend.query(query.text, bindings), output)
    except KgError as exc:
        fail(exc.message)
    finally:
        backend.close()


@app.command("sparql")
def sparql_command(
    query: Annotated[str, typer.Argument(help="A SPARQL query, or - to read it from standard input.")],
    output: Annotated[
        ResultFormat, typer.Option("--format", help="table for people, or a serialization.")
    ] = ResultFormat.table,
) -> None:
    """Run a SPARQL query against the configured store (read-only)."""
    text = sys.stdin.read() if query == "-" else query
    lexed = lex(text)
    try:
        check_depth(lexed)
    except KgError as exc:
        fail(exc.message)
    if looks_like_update(lexed):
        fail("updates are not run: the store is derived from the Turtle files; edit those instead")
    backend = _backend()
    try:
        _print_result(backend.query(text), output)
    except KgError as exc:
        fail(exc.message)
    finally:
        backend.close()


@app.command("export-schema")
def export_schema_command(
    output: Annotated[Path, typer.Option("--output", "-o", help="Where to write the SDL.")] = Path("schema.graphql"),
    check: Annotated[bool, typer.Option("--check", help="Change nothing; exit 1 if the file is out of date.")] = False,
) -> None:
    """Write the GraphQL schema (SDL) that the code defines, for clients and for review."""
    from kg.graphql.schema import build_schema

    text = build_schema().as_str() + "\n"
    _generated(output, text, check, "kg export-schema", f"{len(text.splitlines())} lines")


assets_app = typer.Typer(
    help="The editors' pinned files (YASGUI, GraphiQL, React): install them so the pages work without internet.",
    no_args_is_help=True,
)
app.add_typer(assets_app, name="assets")


@assets_app.command("fetch")
def assets_fetch_command(
    directory: Annotated[
        Path | None, typer.Option("--dir", help="Folder to install them in (default: the KG_ASSETS_DIR setting).")
    ] = None,
    registry: Annotated[
        str | None, typer.Option("--registry", help="An npm registry (default: https://registry.npmjs.org/).")
    ] = None,
) -> None:
    """Download the pinned npm packages of kg/web/editors/assets.json, check each tarball against the registry's
    sha512 and each file against its SRI hash, and install the files; `kg serve` then serves them (KG_ASSETS_DIR)."""
    from kg.web.editors.assets import AssetError, fetch, pins

    target = directory or Settings().assets_dir
    if target is None:
        fail("no folder to install the editors' files in; give --dir DIR or set KG_ASSETS_DIR")
    try:
        written = fetch(target, registry=registry)
    except (AssetError, OSError) as exc:
        fail(str(exc))
    total = len(pins().assets)
    out.print(f"{shown(target)}: {len(written)} file(s) installed, {total - len(written)} already there", markup=False)
    for path in written:
        out.print(f"  {path}", markup=False)


@app.command("release")
def release_command(
    output: Annotated[Path, typer.Option("--output", "-o", help="Directory to write.")] = Path("dist"),
    sources: Annotated[
        Path | None, typer.Option("--sources", help="Directory of source texts (default: the sources setting).")
    ] = None,
    allow_dirty: Annotated[
        bool, typer.Option("--allow-dirty", help="Release uncommitted changes under ontology/ (recorded).")
    ] = False,
    nanopubs: Annotated[
        bool,
        typer.Option(
            "--nanopubs",
            help="Also write every claim as a nanopublication with a trusty URI (signed with KG_NANOPUB_KEY).",
        ),
    ] = False,
) -> None:
    """Validate everything (quotes included), then write the release files and a manifest of hashes."""
    from kg.curation.release import uncommitted, write_release
    from kg.curation.validate import Options

    settings = Settings()
    sources_dir = _sources(sources, settings)
    if sources_dir is None:
        fail("a release checks every quote: pass --sources DIR or set KG_SOURCES_DIR to the folder of source texts")
    signer = None
    if nanopubs and settings.nanopub_key is not None:  # a key that cannot sign is named before the long work
        from kg.curation.nanopubs import NanopubError, Signer

        try:
            signer = Signer.from_file(settings.nanopub_key, settings.nanopub_orcid)
        except NanopubError as exc:
            fail(str(exc))
    changed = uncommitted(settings.ontology_dir)
    if changed is None and not allow_dirty:
        fail(
            f"{shown(settings.ontology_dir)} is not in a git work tree, so git cannot tell what a release holds;"
            " pass --allow-dirty to release it anyway"
        )
    if changed and not allow_dirty:
        listed = ", ".join(changed[:5]) + (f" and {len(changed) - 5} more" if len(changed) > 5 else "")
        fail(f"uncommitted changes under {shown(settings.ontology_dir)} ({listed}); commit them, or pass --allow-dirty")
    options = Options(settings.queries_dir, sources_dir=sources_dir)
    report = _validate([settings.ontology_dir], settings.ontology_dir, settings, options, "validating")
    if not report.ok:
        _print_report(report, sum(report.timings.values()), WARNINGS_PER_RULE)
        err.print("kg: not releasing files that do not validate", markup=False)
        raise typer.Exit(1)
    data = read_sources([settings.ontology_dir], settings.ontology_dir)
    release_id = build.release_id(build.file_hashes(data, settings.ontology_dir))
    record: dict[str, object] = {"quotes_checked": True, "allow_dirty": allow_dirty, "uncommitted": changed}
    if nanopubs:
        record["nanopubs"] = {"signed": signer is not None}
    with progress("writing the release files"):
        manifest = write_release(
            data, Catalog(settings.queries_dir), release_id, output, record, nanopubs=nanopubs, signer=signer
        )
    files = manifest["files"]
    assert isinstance(files, dict)
    for name, info in files.items():
        out.print(f"{shown(output / name)}  {info['bytes']:>9} bytes  sha256 {info['sha256'][:16]}", markup=False)
    out.print(f"release {release_id}" + (" (uncommitted changes, --allow-dirty)" if changed else ""), markup=False)


@app.command("diff")
def diff_command(
    old: Annotated[str, typer.Argument(help="A git revision (its ontology/) or a release file (.nq, .nt, .ttl).")],
    new: Annotated[str, typer.Argument(help="The same, newer; WORKTREE for the files as they are now.")] = "WORKTREE",
) -> None:
    """List the statements added (+) and removed (-) between two versions, grouped by entity label."""
    from kg.curation.diff import DiffError, canonical, diff, statements

    settings = Settings()
    try:
        with progress("reading both versions") as stage:
            stage(old)
            before = statements(old, Path.cwd())
            stage(new)
            if new == "WORKTREE":
                data = read_sources([settings.ontology_dir], settings.ontology_dir)
                after = canonical({(q.subject, q.predicate, q.object) for q in data.quads})
            else:
                after = statements(new, Path.cwd())
    except DiffError as exc:
        fail(str(exc))
    changes = diff(before, after)
    for change in changes:
        out.print(f"{change.label} ({change.subject})", markup=False)
        for line in change.removed:
            out.print(f"  - {line}", style="red", markup=False)
        for line in change.added:
            out.print(f"  + {line}", style="green", markup=False)
    added = sum(len(c.added) for c in changes)
    removed = sum(len(c.removed) for c in changes)
    out.print(f"{len(changes)} entities changed: {added} statements added, {removed} removed", markup=False)


@app.command("build")
def build_command(
    store: Annotated[Path, typer.Option("--store", help="Directory of the on-disk store to write.")],
    no_reasoner: Annotated[bool, typer.Option("--no-reasoner", help="Skip the OWL 2 RL consistency check.")] = False,
    sources: Annotated[
        Path | None, typer.Option("--sources", help="Directory of source texts (default: the sources setting).")
    ] = None,
) -> None:
    """Validate the Turtle files, then bulk-load them into an on-disk store with a build record."""
    from kg.curation.validate import Options
    from kg.graphql import recorded

    try:
        build.check_target(store)
    except build.BuildError as exc:
        fail(str(exc))
    settings = Settings()
    options = Options(settings.queries_dir, sources_dir=_sources(sources, settings), reasoner=not no_reasoner)
    report = _validate([settings.ontology_dir], settings.ontology_dir, settings, options, "validating")
    for note in report.notes:
        err.print(f"note: {note}", markup=False)
    if not report.ok:
        _print_report(report, sum(report.timings.values()), WARNINGS_PER_RULE)
        err.print("kg: not building a store from files that do not validate", markup=False)
        raise typer.Exit(1)
    data = read_sources([settings.ontology_dir], settings.ontology_dir)
    if not settings.inferred:
        data = inference.asserted(data)
    started = time.perf_counter()
    catalog = Catalog(settings.queries_dir)
    try:
        with progress("loading the store"):
            record = build.build_store(
                data,
                settings.ontology_dir,
                store,
                catalog.get("entity_labels").text,
                catalog,
                survey=lambda built: recorded.record(built, settings.queries_dir),
            )
    except build.BuildError as exc:
        fail(str(exc))
    elapsed = time.perf_counter() - started
    out.print(
        f"{shown(store)}: release {record['release']}, {record['quads']} quads, built in {elapsed:.1f} s", markup=False
    )


@app.command("serve")
def serve_command(
    host: Annotated[str | None, typer.Option(help="Interface to listen on (default 127.0.0.1).")] = None,
    port: Annotated[int | None, typer.Option(help="Port (default 8000).")] = None,
    workers: Annotated[int | None, typer.Option(help="Worker processes (default 1).")] = None,
    store: Annotated[Path | None, typer.Option("--store", help="Serve an on-disk store built by `kg build`.")] = None,
    sparql_url: Annotated[
        str | None, typer.Option("--sparql-url", help="Use this SPARQL 1.1 endpoint instead of the embedded store.")
    ] = None,
    watch: Annotated[
        bool, typer.Option("--watch", help="Reload when files under ontology/ change (and still validate).")
    ] = False,
) -> None:
    """Serve SPARQL, the named queries and the API over HTTP (embedded store by default)."""
    overrides = {"host": host, "port": port, "workers": workers, "store_dir": store, "sparql_url": sparql_url}
    settings = Settings(**cast(dict[str, Any], {k: v for k, v in overrides.items() if v is not None}))
    _port_is_free(settings.host, settings.port)
    if settings.sparql_url is not None:
        backend, release, checked = f"remote {settings.sparql_url}", settings.release_id or "unknown", "not run here"
    elif settings.store_dir is not None:
        try:
            opened, record = open_store_dir(settings.store_dir)
        except StoreError as exc:
            fail(str(exc))
        del opened
        backend, release = f"on-disk store {shown(settings.store_dir)}", str(record["release"])
        checked = "done by kg build"
    else:
        from kg.curation.validate import Options, validate  # only here: a built store was validated by kg build
        from kg.web.reload import relocate, serve_snapshots

        settings = serve_snapshots(settings)  # the workers load exactly the copy validated here
        options = Options(settings.queries_dir, sources_dir=_sources(None, settings), reasoner=False)
        with progress("validating"):
            report = validate([settings.ontology_dir], options, settings.ontology_dir)
        if settings.ontology_source is not None:
            report = relocate(report, settings.ontology_dir, settings.ontology_source)
        if not report.ok:
            shutil.rmtree(settings.ontology_dir.parent, ignore_errors=True)
            _print_report(report, sum(report.timings.values()), WARNINGS_PER_RULE)
            fail("not serving files that do not validate; fix them or serve a store built earlier with --store")
        data = read_sources([settings.ontology_dir], settings.ontology_dir)
        backend = f"embedded, from {shown(settings.ontology_source or settings.ontology_dir)}"
        release = build.release_id(build.file_hashes(data, settings.ontology_dir))
        quotes = "quotes checked" if options.sources_dir is not None else "quotes not checked"
        checked = f"{len(report.errors)} error(s), {len(report.warnings)} warning(s), {quotes}"
    host_text = f"[{settings.host}]" if ":" in settings.host else settings.host
    workers_text = f"{settings.workers} worker{'s' if settings.workers != 1 else ''}"
    out.print(
        f"kg: serving http://{host_text}:{settings.port}/ · backend {backend} · release {release} · {workers_text}"
        f" · validation: {checked}",
        markup=False,
    )
    out.file.flush()
    from kg.web.server import serve

    try:
        serve(settings, watch=watch and settings.sparql_url is None and settings.store_dir is None)
    finally:
        if settings.ontology_source is not None:
            shutil.rmtree(settings.ontology_dir.parent, ignore_errors=True)


def _port_is_free(host: str, port: int) -> None:
    """A busy port is named, with the option that picks another (exit 2), before any worker starts."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((host, port))
        except OSError as exc:
            fail(f"cannot listen on {host}:{port} ({exc.strerror}); is another server there? pick another with --port")


class ReviewFormat(enum.StrEnum):
    table = "table"
    tsv = "tsv"


def _print_review(rows: list[dict[str, str]], output: ReviewFormat, text: str) -> None:
    if output is ReviewFormat.tsv:
        sys.stdout.write(text)
        sys.stdout.flush()
        return
    table = Table("id", "sentence / claim", "certainty", "neg.", "confidence s/r/o/c/n", "why", show_lines=True)
    for row in rows:
        confidence = "/".join(
            row[f"{d}_confidence"] or "-" for d in ("subject", "relation", "object", "certainty", "negation")
        )
        sentence = row["sentence"] if len(row["sentence"]) <= 160 else row["sentence"][:157] + "..."
        cell = Text(sentence + "\n")
        cell.append(row["claim"], style="bold")
        status = "" if row["status"] == "pending" else "\n" + row["status"]
        table.add_row(
            Text(row["id"] + status), cell, Text(row["certainty"]), row["negated"], confidence, Text(row["why"])
        )
    out.print(table)


@app.command("draft")
def draft_command(
    article: Annotated[Path, typer.Argument(help="The article as a plain-text file.")],
    source: Annotated[str, typer.Option("--source", help="The source number, three digits (015).")],
    title: Annotated[str | None, typer.Option("--title", help="Its title (default: the first line).")] = None,
    url: Annotated[str | None, typer.Option("--url", help="Where it was published.")] = None,
    force: Annotated[bool, typer.Option("--force", help="Replace a draft that has curator edits.")] = False,
    output: Annotated[
        ReviewFormat, typer.Option("--format", help="The review table: table for people, tsv for tools.")
    ] = ReviewFormat.table,
) -> None:
    """Draft the claims of an article into ontology/drafts/source-NNN.ttl for review (offline, rule-based)."""
    from kg.curation.draft.cues import CueError
    from kg.curation.draft.review import review_rows, review_tsv
    from kg.curation.draft.session import DraftError, make_draft

    settings = Settings()
    try:
        result = make_draft(article, source, settings.ontology_dir, title, url, force)
    except (DraftError, CueError, SourceError) as exc:
        fail(str(exc))
    draft = result.draft
    _print_review(review_rows(draft, result.text), output, review_tsv(draft, result.text))
    pending = sum(1 for c in draft.claims if c.rejected is None)
    err.print(
        f"{result.path}: {pending} claim(s) drafted, {len(draft.proposals)} proposed entities, "
        f"{result.kept_rejected} rejected kept, {result.already_accepted} already accepted; "
        f"review, then `kg accept {result.path}`",
        markup=False,
    )


@app.command("accept")
def accept_command(
    draft: Annotated[Path, typer.Argument(help="A draft written by kg draft (ontology/drafts/source-NNN.ttl).")],
    only: Annotated[
        str | None, typer.Option("--only", help="Accept only these draft claims: D015-001,D015-004.")
    ] = None,
    reject: Annotated[
        str | None, typer.Option("--reject", help="Reject these draft claims instead (with --reason): D015-002,...")
    ] = None,
    reason: Annotated[str | None, typer.Option("--reason", help="Why they are rejected.")] = None,
) -> None:
    """Move a draft's claims into ontology/data/claims/source-NNN.ttl (formatted, derived, validated); or reject."""
    from kg.curation.draft.session import DraftError, accept
    from kg.curation.draft.session import reject as reject_claims

    settings = Settings()
    if not draft.is_file():
        fail(f"{draft}: no such file; expected a draft written by kg draft")
    try:
        if reject is not None:
            if only is not None:
                fail("--only and --reject: expected one of them")
            if reason is None:
                fail("--reject needs --reason: a few words saying why")
            ids = reject_claims(draft, settings.ontology_dir, _ids(reject), reason)
            short = ", ".join(i.rsplit("/", 1)[-1] for i in ids)
            out.print(f"{draft}: {len(ids)} claim(s) rejected ({short})", markup=False)
            return
        result = accept(draft, settings.ontology_dir, settings.queries_dir, _ids(only) if only is not None else None)
    except (DraftError, SourceError) as exc:
        fail(str(exc))
    if not result.report.ok:
        _print_report(result.report, sum(result.report.timings.values()), WARNINGS_PER_RULE)
        fail("nothing accepted: the graph with these claims does not validate")
    if not result.accepted:
        out.print(f"{draft}: no pending claims to accept; nothing written", markup=False)
        return
    for old, new in result.accepted.items():
        out.print(f"{old.rsplit('/', 1)[-1]} -> {new.rsplit('/', 1)[-1]}", markup=False)
    for path in result.written:
        out.print(f"wrote {path}", markup=False)
    out.print(
        f"{len(result.accepted)} claim(s) accepted, {len(result.entities)} new entities; kg validate is clean",
        markup=False,
    )


def _ids(text: str) -> list[str]:
    return [part.strip() for part in text.split(",") if part.strip()]


def main() -> None:
    try:
        app()
    except KeyboardInterrupt:
        sys.exit(130)
