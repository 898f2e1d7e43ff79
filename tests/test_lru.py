"""The bounded cache every worker cache is made of (kg.lru)."""

from __future__ import annotations

from kg.lru import Lru


def test_pushes_out_the_least_recently_used_entry() -> None:
    cache: Lru[str, int] = Lru(2)
    cache.put("a", 1)
    cache.put("b", 2)
    assert cache.get("a") == 1  # "b" is now the least recently used
    cache.put("c", 3)
    assert "b" not in cache and cache["a"] == 1 and cache["c"] == 3 and len(cache) == 2


def test_bounded_in_bytes_and_refuses_a_value_larger_than_a_quarter() -> None:
    cache: Lru[str, bytes] = Lru(100, max_bytes=40, size=len)
    cache.put("huge", b"x" * 11)
    assert "huge" not in cache
    for n in range(5):
        cache.put(str(n), b"x" * 10)
    assert len(cache) == 4 and cache.bytes == 40 and "0" not in cache


def test_zero_entries_keeps_nothing_and_a_value_is_never_replaced() -> None:
    off: Lru[str, int] = Lru(0)
    off.put("a", 1)
    assert off.get("a") is None
    cache: Lru[str, int | None] = Lru(3)
    cache.put("missing", None)  # None is a value worth keeping (an entity the graph does not have)
    cache.put("missing", 5)
    assert "missing" in cache and cache["missing"] is None
