"""Findings: what validation returns. The library returns them; only the CLI prints them and sets the exit code."""

from __future__ import annotations

import enum
import json
from dataclasses import dataclass, field
from pathlib import Path


class Severity(enum.StrEnum):
    ERROR = "error"
    WARNING = "warning"


@dataclass(frozen=True, order=True)
class Finding:
    """One problem: where it is (file, line, column, focus node), which rule found it, and what is wrong."""

    severity: Severity
    rule: str
    message: str
    file: Path | None = None
    line: int | None = None
    column: int | None = None
    focus: str | None = None
    value: str | None = None

    def location(self) -> str:
        if self.file is None:
            return ""
        try:
            shown = self.file.resolve().relative_to(Path.cwd())
        except ValueError:
            shown = self.file
        parts = [str(shown)]
        if self.line is not None:
            parts.append(str(self.line))
            if self.column is not None:
                parts.append(str(self.column))
        return ":".join(parts)

    def text(self) -> str:
        """Compiler style: ``path:line:col: severity: message [rule] (focus)``."""
        where = self.location()
        head = f"{where}: " if where else ""
        focus = f" ({self.focus})" if self.focus else ""
        return f"{head}{self.severity.value}: {self.message} [{self.rule}]{focus}"

    def as_json(self) -> dict[str, object]:
        return {
            "severity": self.severity.value,
            "rule": self.rule,
            "message": self.message,
            "file": str(self.file) if self.file else None,
            "line": self.line,
            "column": self.column,
            "focus": self.focus,
            "value": self.value,
        }


FIRST_RULES = ("syntax", "prefix", "undefined_iri")
"""Rules whose findings are causes of others: listed first, so a curator fixes them first."""


@dataclass
class Report:
    findings: list[Finding] = field(default_factory=list)
    timings: dict[str, float] = field(default_factory=dict)
    folded: list[Finding] = field(default_factory=list)
    """Findings that most likely follow from a cause in ``findings`` (a wrong prefix): shown under it."""
    notes: list[str] = field(default_factory=list)
    """What was not checked, and why (quotes without their sources)."""

    @property
    def errors(self) -> list[Finding]:
        return [f for f in [*self.findings, *self.folded] if f.severity is Severity.ERROR]

    @property
    def warnings(self) -> list[Finding]:
        return [f for f in [*self.findings, *self.folded] if f.severity is Severity.WARNING]

    @property
    def ok(self) -> bool:
        return not self.errors

    def sorted(self, findings: list[Finding] | None = None) -> list[Finding]:
        """Causes first (``FIRST_RULES``), then by file, line and column."""

        def key(f: Finding) -> tuple[int, str, int, int, str, str]:
            rank = FIRST_RULES.index(f.rule) if f.rule in FIRST_RULES else len(FIRST_RULES)
            return (rank, str(f.file or "~"), f.line or 0, f.column or 0, f.rule, f.message)

        return sorted(self.findings if findings is None else findings, key=key)

    def to_json(self) -> str:
        return json.dumps(
            {
                "ok": self.ok,
                "errors": len(self.errors),
                "warnings": len(self.warnings),
                "findings": [f.as_json() for f in self.sorted()],
                "folded": [f.as_json() for f in self.sorted(self.folded)],
                "notes": self.notes,
            },
            indent=2,
            ensure_ascii=False,
        )
