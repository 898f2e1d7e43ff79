"""`kg draft`, `kg accept` and `kg accept --reject`: the curator's round trip between an article, its draft file and
the graph. Nothing is written half: accepted claims are tried on a copy of the ontology (formatted, derived,
validated) and only a clean copy's files are written back."""

from __future__ import annotations

import re
import shutil
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

import pyoxigraph as ox

from kg.curation import inference, summary
from kg.curation.draft.claim import DraftClaim
from kg.curation.draft.cues import FILE_NAME, check_kinds, read_cues
from kg.curation.draft.document import (
    Draft,
    SourceInfo,
    claim_triples,
    draft_id,
    draft_text,
    edited_by_curator,
    entity_triples,
    read_draft,
    source_triples,
)
from kg.curation.draft.extract import draft_claims
from kg.curation.draft.lexicon import Entity, Lexicon, read_lexicon, text_of
from kg.curation.draft.review import review_path, review_tsv
from kg.curation.formatting import write_atomically
from kg.curation.validate import Options, validate
from kg.namespaces import KGR, PREFIXES, RDF_TYPE
from kg.rdf.dataset import DRAFTS_DIR, Dataset, graph_name, read_sources
from kg.rdf.turtle import serialize
from kg.report import Report
from kg.store.backends import memory_store

INFERRED_FILE = "inferred.ttl"
"""Where `kg derive` writes the inferred graph in the ontology folder (Settings.inferred_file)."""

_SCAD = PREFIXES["scad"]
_NUMBER = re.compile(r"^[0-9]{3}$")


class DraftError(Exception):
    """A draft or accept that cannot go ahead; the message names the thing, its value and what was expected."""


@dataclass
class DraftResult:
    path: Path
    draft: Draft
    text: str
    kept_rejected: int = 0
    already_accepted: int = 0


def draft_path(ontology_dir: Path, number: str) -> Path:
    return ontology_dir / DRAFTS_DIR / f"source-{number}.ttl"


def _graph(ontology_dir: Path) -> Dataset:
    data = read_sources([ontology_dir], ontology_dir)
    if data.errors:
        raise DraftError(f"{data.errors[0].text()}; run `kg validate` and fix the ontology first")
    return data


def make_draft(
    article: Path,
    number: str,
    ontology_dir: Path,
    title: str | None = None,
    url: str | None = None,
    force: bool = False,
) -> DraftResult:
    """Draft the claims of ``article`` as source ``number`` into ``ontology/drafts/source-NNN.ttl``."""
    if not _NUMBER.match(number):
        raise DraftError(f"--source {number!r}: expected three digits, such as 015")
    if url is not None and not re.match(r"^https?://[^\s<>\"{}|\\^`]+$", url):
        raise DraftError(f"--url {url!r}: expected an http:// or https:// address")
    try:
        text = article.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise DraftError(
            f"{article}: cannot be read as UTF-8 text ({exc}); expected the article as plain text"
        ) from exc
    data = _graph(ontology_dir)
    lexicon = read_lexicon(data.quads)
    cues = read_cues(ontology_dir / FILE_NAME)
    check_kinds(cues, lexicon.kinds.known(), ontology_dir / FILE_NAME)
    claims, proposals = draft_claims(text, lexicon, cues)
    target = draft_path(ontology_dir, number)
    rejected: list[DraftClaim] = []
    if target.exists():
        try:
            if edited_by_curator(target) and not force:
                raise DraftError(
                    f"{target}: has curator edits to its pending claims; not overwritten "
                    "(--force replaces them; rejected claims are always kept)"
                )
            rejected = [c for c in read_draft(target, lexicon.entities).claims if c.rejected is not None]
        except SyntaxError as exc:
            if not force:
                raise DraftError(f"{target}: does not parse ({exc}); fix it or use --force to replace it") from exc
    source_iri = f"{KGR}source-{number}"
    accepted = _accepted_keys(data, source_iri)
    refused = {c.key() for c in rejected}
    kept = [c for c in claims if c.key() not in refused and c.key() not in accepted]
    used = {c.id for c in rejected}
    k = 0
    for claim in kept:
        k += 1
        while draft_id(number, k) in used:
            k += 1
        claim.id = draft_id(number, k)
    needed = {c.subject.iri for c in kept} | {c.object.iri for c in kept}
    first_line = text.strip().splitlines()[0].strip() if text.strip() else article.stem
    source = SourceInfo(number, title or first_line, article.name, url, str(article))
    draft = Draft(source, sorted(kept + rejected, key=lambda c: c.id), [p for p in proposals if p.iri in needed])
    body = draft_text(draft)
    target.parent.mkdir(parents=True, exist_ok=True)
    write_atomically(target, body)
    write_atomically(review_path(target), review_tsv(draft, text))
    return DraftResult(target, draft, text, len(rejected), _count(claims, accepted))


def _count(claims: list[DraftClaim], keys: set[tuple[str, str, str, str]]) -> int:
    return sum(1 for c in claims if c.key() in keys)


def _accepted_keys(data: Dataset, source_iri: str) -> set[tuple[str, str, str, str]]:
    fields: dict[str, dict[str, str]] = {}
    for q in data.quads:
        fields.setdefault(text_of(q.subject), {})[q.predicate.value] = text_of(q.object)
    return {
        (
            f.get(_SCAD + "subject", ""),
            f.get(_SCAD + "predicate", ""),
            f.get(_SCAD + "object", ""),
            f.get(_SCAD + "quote", ""),
        )
        for f in fields.values()
        if f.get(_SCAD + "statedIn") == source_iri
    }


@dataclass
class AcceptResult:
    report: Report
    accepted: dict[str, str] = field(default_factory=dict)
    """Draft id -> the claim id it became."""
    written: list[Path] = field(default_factory=list)
    entities: list[str] = field(default_factory=list)


def _pick(draft: Draft, only: list[str] | None) -> list[DraftClaim]:
    pending = [c for c in draft.claims if c.rejected is None]
    if only is None:
        return pending
    by_id = {c.id: c for c in draft.claims}
    chosen = []
    for name in only:
        iri = name if name.startswith("http") else KGR + name.removeprefix("kgr:")
        claim = by_id.get(iri)
        if claim is None:
            raise DraftError(
                f"--only {name!r}: no such claim in the draft; expected an id such as D{draft.source.number}-001"
            )
        if claim.rejected is not None:
            raise DraftError(
                f"--only {name!r}: the claim was rejected ({claim.rejected}); remove its draft:Rejected mark first"
            )
        chosen.append(claim)
    return chosen


def _read_draft(path: Path, lexicon: Lexicon) -> Draft:
    try:
        return read_draft(path, lexicon.entities)
    except OSError as exc:
        raise DraftError(f"{path}: cannot be read ({exc.strerror}); expected a draft written by kg draft") from exc
    except (SyntaxError, ValueError) as exc:
        raise DraftError(f"{path}: {exc}") from exc


def accept(path: Path, ontology_dir: Path, queries_dir: Path, only: list[str] | None = None) -> AcceptResult:
    """Move the draft's pending claims (or those named in ``only``) into ``data/claims/source-NNN.ttl``."""
    data = _graph(ontology_dir)
    lexicon = read_lexicon(data.quads)
    draft = _read_draft(path, lexicon)
    chosen = _pick(draft, only)
    _check_quotes(draft, chosen)
    number = draft.source.number
    files = _files_by_graph(data, ontology_dir)
    claims_file = ontology_dir / "data" / "claims" / f"source-{number}.ttl"
    new: dict[Path, list[ox.Triple]] = {}

    def add(target: Path, triples: list[ox.Triple]) -> None:
        new.setdefault(target, list(files.get(target.resolve(), []))).extend(triples)

    result = AcceptResult(Report())
    next_number = _next_claim_number(files.get(claims_file.resolve(), []), number)
    for claim in chosen:
        claim_iri = f"{KGR}C{number}-{next_number:03d}"
        next_number += 1
        result.accepted[claim.id] = claim_iri
        add(claims_file, claim_triples(claim, draft.source.iri, claim_iri, False))
    known = set(lexicon.entities)
    proposed = {e.iri: e for e in draft.proposals}
    for iri in sorted({c.subject.iri for c in chosen} | {c.object.iri for c in chosen}):
        if iri in proposed and iri not in known:
            add(_entity_file(proposed[iri], lexicon, data, ontology_dir), entity_triples(proposed[iri], False))
            result.entities.append(iri)
    if chosen and not any(text_of(q.subject) == draft.source.iri and q.predicate.value == RDF_TYPE for q in data.quads):
        add(ontology_dir / "data" / "sources.ttl", source_triples(draft.source, False))
    if not chosen:
        return result
    result.report, texts = _try_on_copy(ontology_dir, queries_dir, {p: serialize(t) for p, t in new.items()})
    if not result.report.ok:
        result.accepted.clear()
        return result
    for target, body in texts.items():
        target.parent.mkdir(parents=True, exist_ok=True)
        write_atomically(target, body)
        result.written.append(target)
    accepted_ids = set(result.accepted)
    rest = [c for c in draft.claims if c.id not in accepted_ids]
    still = {c.subject.iri for c in rest} | {c.object.iri for c in rest}
    remaining = Draft(
        draft.source, rest, [e for e in draft.proposals if e.iri in still and e.iri not in result.entities]
    )
    write_atomically(path, draft_text(remaining))
    return result


def reject(path: Path, ontology_dir: Path, ids: list[str], reason: str) -> list[str]:
    """Mark claims of the draft rejected with ``reason``; a later `kg draft` does not propose them again."""
    if not reason.strip():
        raise DraftError("--reason '': expected a few words saying why the claims are rejected")
    lexicon = read_lexicon(_graph(ontology_dir).quads)
    draft = _read_draft(path, lexicon)
    chosen = _pick(draft, ids)
    for claim in chosen:
        claim.rejected = reason
    write_atomically(path, draft_text(draft))
    return [c.id for c in chosen]


def _check_quotes(draft: Draft, chosen: list[DraftClaim]) -> None:
    article = Path(draft.source.article) if draft.source.article else None
    if article is None or not article.is_file():
        return
    text = article.read_text(encoding="utf-8")
    for claim in chosen:
        if text[claim.start : claim.end] != claim.quote:
            raise DraftError(
                f"{claim.id}: scad:quote is not the text at characters {claim.start}-{claim.end} of {article}; "
                "expected a verbatim span (fix the quote or its draft:start/draft:end)"
            )


def _files_by_graph(data: Dataset, ontology_dir: Path) -> dict[Path, list[ox.Triple]]:
    by_graph: dict[str, list[ox.Triple]] = {}
    for q in data.quads:
        by_graph.setdefault(text_of(q.graph_name), []).append(ox.Triple(q.subject, q.predicate, q.object))
    return {f.path.resolve(): by_graph.get(f.graph.value, []) for f in data.files}


def _next_claim_number(triples: list[ox.Triple], number: str) -> int:
    pattern = re.compile(rf"^{re.escape(KGR)}C{number}-([0-9]+)$")
    found = [int(m.group(1)) for t in triples if (m := pattern.match(text_of(t.subject)))]
    return max(found, default=0) + 1


def _entity_file(entity: Entity, lexicon: Lexicon, data: Dataset, ontology_dir: Path) -> Path:
    """The entities file that already holds entities of the proposed one's kind (or of its family)."""
    family = lexicon.kinds.family(entity.kind)
    for wanted in (entity.kind, family):
        for other in lexicon.entities.values():
            if other.kind == wanted or (wanted == family and lexicon.kinds.family(other.kind) == family):
                where = data.locate(other.iri)
                if where is not None:
                    return where[0]
    return ontology_dir / "data" / "entities" / "proposed.ttl"


def _try_on_copy(ontology_dir: Path, queries_dir: Path, texts: dict[Path, str]) -> tuple[Report, dict[Path, str]]:
    """Write ``texts`` into a copy of the ontology, derive the summary there and validate the copy."""
    with tempfile.TemporaryDirectory(prefix="kg-accept-") as tmp:
        copy = Path(tmp) / "ontology"
        shutil.copytree(ontology_dir, copy, ignore=shutil.ignore_patterns(DRAFTS_DIR))
        root = ontology_dir.resolve()
        for target, body in texts.items():
            twin = copy / target.resolve().relative_to(root)
            twin.parent.mkdir(parents=True, exist_ok=True)
            twin.write_text(body, encoding="utf-8")
        data = read_sources([copy], copy)
        triples = summary.derive(memory_store(data.quads), queries_dir / "summary.rq")
        summary_text = summary.text(triples)
        summary_path = copy / "data" / summary.FILE_NAME
        summary_path.write_text(summary_text, encoding="utf-8")
        # the inferred graph follows from the asserted graphs with the summary just derived (as `kg derive` does)
        summary_graph = graph_name(summary_path, copy)
        quads = [q for q in data.quads if q.graph_name != summary_graph]
        quads += [ox.Quad(t.subject, t.predicate, t.object, summary_graph) for t in triples]
        inferred_text = inference.text(inference.derive(quads, queries_dir))
        (copy / INFERRED_FILE).write_text(inferred_text, encoding="utf-8")
        report = validate([copy], Options(queries_dir), copy)
    out = dict(texts)
    out[ontology_dir / "data" / summary.FILE_NAME] = summary_text
    out[ontology_dir / INFERRED_FILE] = inferred_text
    return report, out
