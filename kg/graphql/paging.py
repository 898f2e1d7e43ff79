"""Relay connections (https://relay.dev/graphql/connections.htm): keyset cursors, the window of an ordered list that
``first``/``after`` and ``last``/``before`` select, and where a page lies. Shared by the root connections
(kg.graphql.connections) and the relation and claim connections of an entity (kg.graphql.types)."""

from __future__ import annotations

import base64
import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import strawberry

from kg.graphql.limits import InvalidInput, page_size


def encode_cursor(*key: Any) -> str:
    return base64.urlsafe_b64encode(json.dumps(list(key)).encode()).decode()


def decode_cursor(cursor: str, argument: str = "after", like: Sequence[Any] | None = None) -> list[Any]:
    """The key a cursor holds; with ``like``, it must have that key's shape (so keys compare)."""
    try:
        value = json.loads(base64.urlsafe_b64decode(cursor.encode()))
    except (ValueError, UnicodeDecodeError):
        value = None
    if not isinstance(value, list) or (like is not None and [type(v) for v in value] != [type(v) for v in like]):
        raise InvalidInput(f"{argument} is {cursor!r}; expected a cursor returned by this API")
    return value


@dataclass(frozen=True)
class Window:
    """Which part of an ordered list a page is (Relay's pagination algorithm), and whether more lies on either side."""

    start: int
    stop: int
    has_previous: bool
    has_next: bool


def window(
    keys: Sequence[list[Any]],
    first: int | None,
    after: str | None,
    last: int | None,
    before: str | None,
    descending: bool = False,
) -> Window:
    """The page of ``keys`` (the cursor keys of the list, in its order) that ``first``/``after`` and
    ``last``/``before`` select, as the Relay connection spec defines it: the cursors cut the list to what lies after
    ``after`` and before ``before`` (keyset: a cursor still cuts where its item was), then ``first`` keeps the
    start of that and ``last`` its end. hasPreviousPage: more than ``last`` were left, or (without ``last``) items lie
    before ``after``; hasNextPage: more than ``first`` were left, or (without ``first``) items lie after ``before``.
    With neither ``first`` nor ``last``, ``first`` is the default page size."""
    if first is None and last is None:
        first = page_size(None)
    else:
        first = None if first is None else page_size(first, argument="first")
        last = None if last is None else page_size(last, argument="last")
    like = keys[0] if keys else None

    def beyond(key: list[Any], position: list[Any]) -> bool:
        """``key`` comes after ``position`` in the list's order."""
        return key < position if descending else key > position

    lower, upper = 0, len(keys)
    if after is not None:
        position = decode_cursor(after, "after", like)
        lower = next((n for n, k in enumerate(keys) if beyond(k, position)), len(keys))
    if before is not None:
        position = decode_cursor(before, "before", like)
        upper = next((n for n, k in enumerate(keys) if not beyond(position, k)), len(keys))
    following = upper < len(keys)  # the item of ``before``, at least, follows the page
    upper = max(lower, upper)
    start, stop = lower, upper
    if first is not None and stop - start > first:
        stop = start + first
    if last is not None and stop - start > last:
        start = stop - last
    has_previous = upper - lower > last if last is not None else after is not None and lower > 0
    has_next = upper - lower > first if first is not None else before is not None and following
    return Window(start, stop, has_previous, has_next)


@strawberry.type(description="Where a page lies in its list (the Relay connection spec).")
class PageInfo:
    has_next_page: bool
    has_previous_page: bool
    start_cursor: str | None
    end_cursor: str | None


def page_info(cursors: list[str], at: Window) -> PageInfo:
    return PageInfo(
        has_next_page=at.has_next,
        has_previous_page=at.has_previous,
        start_cursor=cursors[0] if cursors else None,
        end_cursor=cursors[-1] if cursors else None,
    )
