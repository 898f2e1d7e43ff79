"""The one kind of cache a worker process keeps: a map bounded in entries and in bytes, keys included (a client
chooses many keys: query texts, IRIs, request lines), that pushes out what was used least recently. A release never
changes, so nothing expires."""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable, Hashable
from typing import Generic, TypeVar

K = TypeVar("K", bound=Hashable)
V = TypeVar("V")


def key_bytes(key: object) -> int:
    """About how many bytes a key holds (strings, bytes and tuples of them; anything else counts 64)."""
    if isinstance(key, (str, bytes)):
        return len(key) + 48
    if isinstance(key, tuple):
        return sum(key_bytes(part) for part in key) + 40
    return 64


def estimate(value: object) -> int:
    """About how many bytes a value holds, from the length of its text form (for values with no size of their own)."""
    if isinstance(value, (str, bytes)):
        return len(value) + 48
    return len(repr(value)) + 64


class Lru(Generic[K, V]):
    def __init__(self, entries: int, max_bytes: int | None = None, size: Callable[[V], int] | None = None) -> None:
        """At most ``entries`` values (0: keep nothing) and, with ``max_bytes``, at most that many bytes of keys and
        values in all (a value's bytes from ``size``, else ``estimate``), no single entry larger than a quarter of
        that."""
        self.entries = entries
        self.max_bytes = max_bytes
        self.size: Callable[[V], int] | None = size if size is not None or max_bytes is None else estimate
        self.bytes = 0
        self.items: OrderedDict[K, V] = OrderedDict()

    def __contains__(self, key: K) -> bool:
        return key in self.items

    def __getitem__(self, key: K) -> V:
        value = self.items[key]
        self.items.move_to_end(key)
        return value

    def __len__(self) -> int:
        return len(self.items)

    def get(self, key: K) -> V | None:
        return self[key] if key in self.items else None

    def put(self, key: K, value: V) -> None:
        """Keep ``value`` unless it is already there or too large."""
        if self.entries == 0 or key in self.items:
            return
        weight = self._weight(key, value)
        if self.max_bytes is not None and weight > self.max_bytes // 4:
            return
        self.items[key] = value
        self.bytes += weight
        while len(self.items) > self.entries or (self.max_bytes is not None and self.bytes > self.max_bytes):
            old_key, old = self.items.popitem(last=False)
            self.bytes -= self._weight(old_key, old)

    def _weight(self, key: K, value: V) -> int:
        return 0 if self.size is None else self.size(value) + key_bytes(key)

    def clear(self) -> None:
        self.items.clear()
        self.bytes = 0
