"""A sandbox process: ``python -m kg.execution.sandbox``, started by kg.execution.pool, runs clients' SPARQL text.

It reads its configuration and the store, puts kernel limits on itself (kg.execution.confine), says it is ready, then
answers one query at a time: the query runs here and its answer travels back as the bytes pyoxigraph serialized, within
KG_MAX_ROWS and KG_MAX_RESULT_BYTES. The HTTP worker kills it at the deadline; a crash here ends only this process.

Frames on stdin and stdout: two big-endian 32-bit lengths, a JSON header, then a body of raw bytes. JSON (not
pickle) so that nothing a sandbox sends can make the HTTP worker run code. Each request is acknowledged with one byte
(``RECEIVED``) as soon as it has been read whole, on a pipe of its own that the pool reads only after an answer or a
failure (so a receipt costs no wake-up of the worker): the pool knows whether a sandbox that ended had the query.
"""

from __future__ import annotations

import json
import os
import struct
import sys
from typing import Any, BinaryIO

import pyoxigraph as ox

from kg.errors import KgError
from kg.execution.confine import deny_network, die_with_parent, limit_memory
from kg.execution.serialize import Caps, format_for, serialize
from kg.queries.formats import GRAPHS, RESULTS
from kg.store.embedded import query_store, syntax_message

LENGTHS = struct.Struct(">II")
RECEIVED = b"+"
"""Written as soon as a whole request has been read, before it runs: a sandbox that ends before sending it never ran
the query, which the pool may then send to another."""
FORMATS = {f.media_type: f for f in (*RESULTS, *GRAPHS)}


def frame(header: dict[str, Any], body: bytes = b"") -> bytes:
    head = json.dumps(header).encode("utf-8")
    return LENGTHS.pack(len(head), len(body)) + head + body


def read_frame(stream: BinaryIO) -> tuple[dict[str, Any], bytes] | None:
    lengths = stream.read(LENGTHS.size)
    if len(lengths) < LENGTHS.size:
        return None
    head_size, body_size = LENGTHS.unpack(lengths)
    head = stream.read(head_size)
    body = stream.read(body_size)
    if len(head) < head_size or len(body) < body_size:
        return None
    return json.loads(head), body


def open_store(config: dict[str, Any], payload: bytes) -> ox.Store:
    """The on-disk store read-only (its pages shared with every process that opens it), or the quads the HTTP worker
    loaded and validated, sent as N-Quads."""
    if config.get("store_dir"):
        return ox.Store.read_only(str(config["store_dir"]))
    store = ox.Store()
    store.bulk_load(payload, ox.RdfFormat.N_QUADS)
    return store


def answer(store: ox.Store, request: dict[str, Any], caps: Caps) -> tuple[dict[str, Any], bytes]:
    result = None
    try:
        result = query_store(
            store, request["text"], None, request["default_graphs"], request["named_graphs"], request.get("base_iri")
        )
        media_type = request.get("media_type")
        fmt = FORMATS[media_type] if media_type else format_for(result, request["accept"], request["format_name"])
        body = serialize(result, fmt, caps)
        return {"ok": True, "media_type": fmt.media_type}, body
    except SyntaxError as exc:  # pyoxigraph parses lazily: some errors surface while iterating
        return {"ok": False, "error": "QuerySyntaxError", "message": syntax_message(exc)}, b""
    except KgError as exc:
        return {"ok": False, "error": type(exc).__name__, "message": exc.message}, b""
    except PermissionError:  # the network guard refused a socket: a SERVICE clause the lexical check did not see
        message = "the query tried to open a network connection (SERVICE); queries here run without network"
        return {"ok": False, "error": "Forbidden", "message": message}, b""
    except MemoryError:
        return {"ok": False, "error": "memory", "message": "the query needed more memory than its cap"}, b""
    except Exception as exc:  # reported to the worker, which logs it with an incident id
        return {"ok": False, "error": None, "message": f"{type(exc).__name__}: {exc}"[:1000]}, b""
    finally:
        del result


def main() -> None:
    die_with_parent()
    requests = sys.stdin.buffer
    answers = os.fdopen(os.dup(1), "wb")
    os.dup2(2, 1)  # anything else written to stdout goes to stderr, never into the frames
    first = read_frame(requests)
    if first is None:
        return
    config, payload = first
    store = open_store(config, payload)
    del payload
    limit_memory(int(config["memory"]))
    guard = deny_network()
    caps = Caps(int(config["max_rows"]), int(config["max_result_bytes"]))
    answers.write(frame({"ready": True, "guard": guard.mechanism, "detail": guard.detail}))
    answers.flush()
    receipts = int(config["receipts"])
    while (request := read_frame(requests)) is not None:
        os.write(receipts, RECEIVED)
        header, body = answer(store, request[0], caps)
        answers.write(frame(header, body))
        answers.flush()


if __name__ == "__main__":
    main()
