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
    entry = 10 + len("0") + 48  # a value's bytes plus its key's (the text and about 48 bytes of object)
    cache: Lru[str, bytes] = Lru(100, max_bytes=4 * entry, size=len)
    cache.put("h", b"x" * 11)
    assert "h" not in cache
    for n in range(5):
        cache.put(str(n), b"x" * 10)
    assert len(cache) == 4 and cache.bytes == 4 * entry and "0" not in cache


def test_zero_entries_keeps_nothing_and_a_value_is_never_replaced() -> None:
    off: Lru[str, int] = Lru(0)
    off.put("a", 1)
    assert off.get("a") is None
    cache: Lru[str, int | None] = Lru(3)
    cache.put("missing", None)  # None is a value worth keeping (an entity the graph does not have)
    cache.put("missing", 5)
    assert "missing" in cache and cache["missing"] is None


def test_keys_count_in_the_bytes() -> None:
    """A client chooses keys (query texts, IRIs): a cache of tiny values under huge keys stays within its bytes."""
    cache: Lru[str, int] = Lru(10_000, max_bytes=100_000, size=lambda _: 8)
    for n in range(1_000):
        cache.put(f"{n}:" + "k" * 10_000, n)
    assert cache.bytes <= 100_000 and 0 < len(cache) <= 10
    estimated: Lru[str, list[str]] = Lru(10_000, max_bytes=50_000)  # no size given: estimated from the text
    for n in range(1_000):
        estimated.put(str(n), ["v" * 1_000])
    assert estimated.bytes <= 50_000 and len(estimated) < 50
