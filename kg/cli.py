"""The ``kg`` command. Exit codes: 0 ok, 1 findings (errors, or files that need formatting), 2 usage or I/O problem."""

from __future__ import annotations

import enum
import json
import sys
import time
from pathlib import Path
from typing import Annotated, NoReturn

import pyoxigraph as ox
import typer
from rich.console import Console
from rich.table import Table

from kg import formatting, stats, summary
from kg.queries import QueryError
from kg.report import Report, Severity
from kg.settings import Settings
from kg.sources import SourceError, read_sources
from kg.store import memory_store
from kg.validate import Options, validate

app = typer.Typer(
    name="kg",
    help="Curate, check and serve the knowledge graph of stem-cell therapies for autoimmune disease.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
out = Console(highlight=False, soft_wrap=True)
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
    """Parse, check shapes, quality rules and OWL consistency; with --sources, check quotes against the texts."""
    settings = Settings()
    chosen, root = _paths(paths, settings)
    if sources is not None and not sources.is_dir():
        fail(f"--sources {sources}: not a directory; expected the folder of source texts")
    options = Options(
        checks_dir=settings.checks_dir,
        summary_query=settings.queries_dir / "summary.rq",
        sources_dir=sources,
        reasoner=not no_reasoner,
    )
    started = time.perf_counter()
    try:
        report = validate(chosen, options, root)
    except (SourceError, QueryError) as exc:
        fail(str(exc))
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
    summary_line = f"{len(report.errors)} error(s), {len(report.warnings)} warning(s) in {elapsed:.1f} s"
    (out if report.ok else err).print(("ok: " if report.ok else "failed: ") + summary_line, markup=False)


@app.command("format")
def format_command(
    paths: PathsArg = None,
    check: Annotated[bool, typer.Option("--check", help="Change nothing; exit 1 if a file is not canonical.")] = False,
) -> None:
    """Rewrite Turtle files in canonical form (deterministic order, one predicate per line)."""
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
        out.print(f"{'would reformat' if check else 'reformatted'} {r.path}", markup=False)
    out.print(
        f"{len(results)} file(s): {len(changed)} {'to reformat' if check else 'reformatted'}, {len(broken)} not parsed",
        markup=False,
    )
    raise typer.Exit(1 if broken or (check and changed) else 0)


@app.command("derive")
def derive_command(
    check: Annotated[
        bool, typer.Option("--check", help="Change nothing; exit 1 if the summary file is out of date.")
    ] = False,
) -> None:
    """Write the summary layer (ontology/data/summary.ttl) from the claims with queries/summary.rq."""
    settings = Settings()
    data = read_sources([settings.ontology_dir], settings.ontology_dir)
    if data.errors:
        for e in data.errors:
            err.print(e.text(), markup=False)
        fail("the ontology does not parse; nothing derived")
    target = settings.summary_file
    triples = summary.derive(memory_store(data.quads), settings.queries_dir / "summary.rq")
    text = summary.text(triples)
    current = target.read_text(encoding="utf-8") if target.exists() else None
    if check:
        if current != text:
            err.print(f"{target} is out of date; run `kg derive`", markup=False)
            raise typer.Exit(1)
        out.print(f"{target} is current ({len(triples)} triples)", markup=False)
        return
    if current != text:
        formatting.write_atomically(target, text)
    out.print(f"{target}: {len(triples)} summary triples", markup=False)


@app.command("stats")
def stats_command(
    paths: PathsArg = None,
    output: Annotated[OutputFormat, typer.Option("--format", help="text or json.")] = OutputFormat.text,
) -> None:
    """Counts: triples, entities per class, claims per source and per certainty."""
    settings = Settings()
    chosen, root = _paths(paths, settings)
    data = read_sources(chosen, root)
    if data.errors:
        for e in data.errors:
            err.print(e.text(), markup=False)
        fail("some files do not parse; run `kg validate`")
    store: ox.Store = memory_store(data.quads)
    result = stats.compute(store, len(data.files))
    if output is OutputFormat.json:
        out.print(json.dumps(result.as_json(), indent=2), markup=False)
        return
    out.print(f"{result.triples} triples in {result.files} files", markup=False)
    for title, counts in (
        ("entities and records per class", result.per_class),
        ("claims per source", result.claims_per_source),
        ("claims per certainty", result.claims_per_certainty),
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


def main() -> None:
    try:
        app()
    except KeyboardInterrupt:
        sys.exit(130)
