"""A curator's ``#`` comments in a Turtle file, attached to the statement block they precede or sit in.

pyoxigraph drops comments, so the canonical writer would lose them. This module reads them with a small lexer that
knows where strings and IRIs are (a ``#`` there is not a comment), follows the statements at the top level, and
attaches each comment:

- before any directive (``@prefix``): the file's header, written first;
- between statements: to the block that follows (after the last statement: the file's footer);
- inside a block: to the predicate it stands before (own line, where a predicate is expected), else to the predicate
  being written (a comment after code on its line, or among objects, or in a nested ``[ ]``).

A comment that cannot be kept with its block (in a block whose subject is a blank node, or next to a term this lexer
cannot resolve) raises :class:`CommentError` with its line and column, and the caller changes nothing.
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass, field

from kg.namespaces import RDF_TYPE
from kg.rdf.dataset import LINE_END

_SPECIAL = set(";,[]()\"'<#")
_LONG_QUOTES = ('"""', "'''")


@dataclass(frozen=True)
class Comment:
    text: str
    """The comment from its ``#`` to the end of its line, trailing blanks removed."""
    line: int
    column: int


class CommentError(ValueError):
    def __init__(self, comment: Comment, reason: str) -> None:
        super().__init__(f"{comment.line}:{comment.column}: {reason}")
        self.comment = comment
        self.reason = reason


@dataclass
class BlockComments:
    leading: list[Comment] = field(default_factory=list)
    by_predicate: dict[str, list[Comment]] = field(default_factory=dict)


@dataclass
class Comments:
    """Where the comments of one file go: header, footer and per subject IRI."""

    header: list[Comment] = field(default_factory=list)
    footer: list[Comment] = field(default_factory=list)
    blocks: dict[str, BlockComments] = field(default_factory=dict)

    def __bool__(self) -> bool:
        return bool(self.header or self.footer or self.blocks)

    def block(self, subject: str) -> BlockComments:
        return self.blocks.setdefault(subject, BlockComments())


@dataclass(frozen=True)
class _Token:
    kind: str  # "comment", "iri", "string", "punct", "word"
    text: str
    start: int


def _tokens(text: str) -> list[_Token]:
    out: list[_Token] = []
    i, n = 0, len(text)
    while i < n:
        c = text[i]
        if c.isspace():
            i += 1
        elif c == "#":
            found = LINE_END.search(text, i)
            end = n if found is None else found.start()
            out.append(_Token("comment", text[i:end].rstrip(), i))
            i = end
        elif c == "<":
            end = text.find(">", i)
            end = n - 1 if end < 0 else end
            out.append(_Token("iri", text[i : end + 1], i))
            i = end + 1
        elif c in "\"'":
            end = _string_end(text, i)
            out.append(_Token("string", text[i:end], i))
            i = end
        elif c in ";,[]()" or (c == "." and not (i + 1 < n and text[i + 1].isdigit())):
            out.append(_Token("punct", c, i))
            i += 1
        else:
            j = i
            while j < n:
                d = text[j]
                if d == "\\" and j + 1 < n:
                    j += 2
                    continue
                if d.isspace() or d in _SPECIAL:
                    break
                if d == "." and (j + 1 >= n or text[j + 1].isspace() or text[j + 1] in _SPECIAL or text[j + 1] == "."):
                    break
                j += 1
            j = max(j, i + 1)
            out.append(_Token("word", text[i:j], i))
            i = j
    return out


def _string_end(text: str, start: int) -> int:
    for quotes in _LONG_QUOTES:
        if text.startswith(quotes, start):
            i = start + 3
            while i < len(text):
                if text[i] == "\\":
                    i += 2
                elif text.startswith(quotes, i):
                    return i + 3
                else:
                    i += 1
            return len(text)
    quote = text[start]
    i = start + 1
    while i < len(text) and text[i] not in (quote, "\n", "\r"):
        i += 2 if text[i] == "\\" else 1
    return min(i + 1, len(text))


def comment_texts(text: str) -> Counter[str]:
    """The multiset of comment texts of a Turtle text (what ``kg format`` must keep)."""
    return Counter(t.text for t in _tokens(text) if t.kind == "comment")


class _Reader:
    def __init__(self, text: str) -> None:
        self.text = text
        self.line_starts = [0] + [m.end() for m in LINE_END.finditer(text)]
        self.prefixes: dict[str, str] = {}
        self.comments = Comments()

    def at(self, token: _Token) -> Comment:
        line = _bisect(self.line_starts, token.start)
        return Comment(token.text, line + 1, token.start - self.line_starts[line] + 1)

    def trailing(self, token: _Token) -> bool:
        """Whether code stands before this comment on its line."""
        start = self.line_starts[_bisect(self.line_starts, token.start)]
        return self.text[start : token.start].strip() != ""

    def resolve(self, term: str) -> str | None:
        if term == "a":
            return RDF_TYPE
        if term.startswith("<") and term.endswith(">"):
            iri = term[1:-1]
            return iri if re.match(r"^[A-Za-z][A-Za-z0-9+.\-]*:", iri) else None
        name, sep, local = term.partition(":")
        if not sep or name not in self.prefixes or "\\" in local:
            return None
        return self.prefixes[name] + local


def _bisect(starts: list[int], offset: int) -> int:
    lo, hi = 0, len(starts) - 1
    while lo < hi:
        mid = (lo + hi + 1) // 2
        if starts[mid] <= offset:
            lo = mid
        else:
            hi = mid - 1
    return lo


def read_comments(text: str) -> Comments:
    """Attach every comment of ``text`` (a Turtle file that parses) to its place; raises CommentError."""
    reader = _Reader(text)
    tokens = _tokens(text)
    pending: list[_Token] = []
    seen_block = after_directive = False
    i = 0
    while i < len(tokens):
        token = tokens[i]
        if token.kind == "comment":
            if after_directive and reader.trailing(token):
                reader.comments.header.append(reader.at(token))  # beside a directive: the header's
            else:
                pending.append(token)
            i += 1
            continue
        after_directive = False
        directive = token.text in ("@prefix", "@base") or token.text.upper() in ("PREFIX", "BASE")
        if directive:
            reader.comments.header.extend(reader.at(c) for c in pending)
            pending = []
            i = _directive(reader, tokens, i)
            after_directive = True
            continue
        seen_block = True
        i = _statement(reader, tokens, i, pending)
        pending = []
    where = reader.comments.footer if seen_block else reader.comments.header
    where.extend(reader.at(c) for c in pending)
    return reader.comments


def _directive(reader: _Reader, tokens: list[_Token], i: int) -> int:
    keyword = tokens[i].text
    words = [t for t in tokens[i + 1 : i + 4] if t.kind != "comment"]
    if keyword.lower().endswith("prefix") and len(words) >= 2 and words[1].kind == "iri":
        reader.prefixes[words[0].text.rstrip(":")] = words[1].text[1:-1]
    j = i + 1
    while j < len(tokens):
        t = tokens[j]
        if t.kind == "comment":
            reader.comments.header.append(reader.at(t))
        elif (keyword.startswith("@") and t.text == ".") or (not keyword.startswith("@") and t.kind == "iri"):
            return j + 1
        j += 1
    return j


def _statement(reader: _Reader, tokens: list[_Token], i: int, before: list[_Token]) -> int:
    """Follow one triples statement from its subject to its ``.``, placing the comments before and in it."""
    subject_token = tokens[i]
    subject = reader.resolve(subject_token.text) if subject_token.kind in ("word", "iri") else None
    inside: list[tuple[_Token, str | None, bool]] = []  # comment, predicate it goes with, or None: the next one
    depth = 0
    expect_predicate = subject_token.text != "["
    current: str | None = None
    if subject_token.text == "[":
        depth = 1
    elif subject_token.text == "(":
        depth = 1
        expect_predicate = False
    j = i + 1
    while j < len(tokens):
        t = tokens[j]
        if t.kind == "comment":
            own_line = not reader.trailing(t)
            goes_with = None if (current is None or (own_line and expect_predicate and depth == 0)) else current
            inside.append((t, goes_with, own_line))
            j += 1
            continue
        if t.kind == "punct" and t.text in "[(":
            depth += 1
        elif t.kind == "punct" and t.text in "])":
            depth -= 1
            if depth == 0 and subject_token.text in "[(" and current is None:
                expect_predicate = True
        elif depth == 0 and t.kind == "punct" and t.text == ";":
            expect_predicate = True
        elif depth == 0 and t.kind == "punct" and t.text == ".":
            j += 1
            break
        elif depth == 0 and expect_predicate:
            predicate = reader.resolve(t.text) if t.kind in ("word", "iri") else None
            for index, (c, goes_with, own) in enumerate(inside):
                if goes_with is None:
                    inside[index] = (c, predicate or "", own)
            current = predicate or ""
            expect_predicate = False
        j += 1
    # a comment on the line of the closing "." goes with the block too
    while j < len(tokens) and tokens[j].kind == "comment" and reader.trailing(tokens[j]):
        inside.append((tokens[j], current, False))
        j += 1
    inside = [(c, current if goes_with is None else goes_with, own) for c, goes_with, own in inside]
    if not before and not inside:
        return j
    if subject is None:
        first = (before or [c for c, _, _ in inside])[0]
        raise CommentError(reader.at(first), "a comment in a block whose subject is a blank node cannot be kept")
    block = reader.comments.block(subject)
    block.leading.extend(reader.at(c) for c in before)
    for c, predicate, _ in inside:
        if not predicate:
            raise CommentError(reader.at(c), "a comment next to a predicate that cannot be resolved cannot be kept")
        block.by_predicate.setdefault(predicate, []).append(reader.at(c))
    return j
