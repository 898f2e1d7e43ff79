"""The one kind of cache a worker process keeps: a map bounded in entries (and, when given a size, in bytes) that
pushes out what was used least recently. A release never changes, so nothing expires."""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable, Hashable
from typing import Generic, TypeVar

K = TypeVar("K", bound=Hashable)
V = TypeVar("V")


class Lru(Generic[K, V]):
    def __init__(self, entries: int, max_bytes: int | None = None, size: Callable[[V], int] | None = None) -> None:
        """At most ``entries`` values (0: keep nothing); with ``size``, at most ``max_bytes`` in all, and no single
        value larger than a quarter of that."""
        self.entries = entries
        self.max_bytes = max_bytes
        self.size = size
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
        weight = self.size(value) if self.size is not None else 0
        if self.entries == 0 or key in self.items:
            return
        if self.max_bytes is not None and weight > self.max_bytes // 4:
            return
        self.items[key] = value
        self.bytes += weight
        while len(self.items) > self.entries or (self.max_bytes is not None and self.bytes > self.max_bytes):
            _, old = self.items.popitem(last=False)
            self.bytes -= self.size(old) if self.size is not None else 0
