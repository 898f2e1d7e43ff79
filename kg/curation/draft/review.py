"""The review table of a draft: per claim, the sentence, the proposed claim, and each decision's confidence and
reason (the cue it matched). Written beside the draft as ``source-NNN.review.tsv`` and printed by ``kg draft``."""

from __future__ import annotations

import csv
import io
from pathlib import Path
from typing import Final

from kg.curation.draft.document import DECISIONS, Draft
from kg.namespaces import curie

COLUMNS: Final = (
    "id", "status", "sentence", "claim", "start", "end", "quote", "certainty", "negated", "scope",
    *(f"{d}_confidence" for d in DECISIONS), "why",
)  # fmt: skip


def review_path(draft_file: Path) -> Path:
    return draft_file.with_suffix(".review.tsv")


def review_rows(draft: Draft, text: str | None) -> list[dict[str, str]]:
    rows = []
    for claim in draft.claims:
        sentence = text[claim.sentence[0] : claim.sentence[1]] if text else ""
        label = f"{claim.subject.label} \u2014{curie(claim.predicate)}→ {claim.object.label}"
        if claim.object.proposed:
            label += " (proposed entity)"
        if claim.subject.proposed:
            label = "(proposed entity) " + label
        row = {
            "id": curie(claim.id),
            "status": "rejected: " + claim.rejected if claim.rejected is not None else "pending",
            "sentence": sentence,
            "claim": label,
            "start": str(claim.start),
            "end": str(claim.end),
            "quote": claim.quote,
            "certainty": claim.certainty + (f" ({claim.hedge_cue})" if claim.hedge_cue else ""),
            "negated": "true" if claim.negated else "false",
            "scope": claim.scope or "",
            "why": "; ".join(f"{name}: {d.why}" for name, d in claim.decisions.items()),
        }
        for name in DECISIONS:
            d = claim.decisions.get(name)
            row[f"{name}_confidence"] = f"{d.confidence:.2f}" if d is not None else ""
        rows.append(row)
    return rows


def review_tsv(draft: Draft, text: str | None) -> str:
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, COLUMNS, delimiter="\t", lineterminator="\n", quoting=csv.QUOTE_MINIMAL)
    writer.writeheader()
    writer.writerows(review_rows(draft, text))
    return buffer.getvalue()
