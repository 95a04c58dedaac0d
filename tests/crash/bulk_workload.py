"""The bulk workload of issues 12 and 20: 200-record add batches of 16-dim embeddings.

Batch n is a pure function of n (ids `b<n>-<i>`, embeddings from a seeded generator, metadata and
documents naming n and i), so a worker process and the checking test agree on it without talking.
`check_store` holds the invariants every reopen must pass.
"""

from __future__ import annotations

import os
from typing import Any

import numpy as np

BATCH = 200
DIM = 16
COLLECTION = "bulk"


def bulk_batch(n: int) -> dict[str, Any]:
    """The keyword arguments of `collection.add` for batch n."""
    rng = np.random.default_rng(n)
    return {
        "ids": [f"b{n}-{i}" for i in range(BATCH)],
        "embeddings": rng.random((BATCH, DIM), dtype=np.float32),
        "metadatas": [{"batch": n, "i": i, "even": i % 2 == 0} for i in range(BATCH)],
        "documents": [f"batch {n} record {i}" for i in range(BATCH)],
    }


def say(line: str) -> None:
    """One line on stdout in a single write (atomic on a pipe: a kill never leaves half a line)."""
    os.write(1, (line + "\n").encode())


def batches_present(collection: Any) -> set[int]:
    """The batch numbers in the collection; fails unless every batch is wholly there or absent."""
    ids = collection.get(include=[])["ids"]
    counts: dict[int, int] = {}
    for rid in ids:
        n = int(rid[1:].split("-")[0])
        counts[n] = counts.get(n, 0) + 1
    torn = {n: c for n, c in counts.items() if c != BATCH}
    assert not torn, f"batches neither whole nor absent: {torn}"
    assert len(ids) == len(set(ids)) == collection.count()
    return set(counts)


def check_batch(collection: Any, n: int) -> None:
    """Batch n reads back exactly (ids, embeddings, metadata, documents)."""
    want = bulk_batch(n)
    got = collection.get(ids=want["ids"], include=["embeddings", "metadatas", "documents"])
    assert got["ids"] == want["ids"], f"batch {n}: {len(got['ids'])} of {BATCH} ids"
    assert np.array_equal(np.asarray(got["embeddings"], np.float32), want["embeddings"]), n
    assert got["metadatas"] == want["metadatas"], n
    assert got["documents"] == want["documents"], n


def check_store(collection: Any, acked: set[int], in_flight: set[int] = frozenset()) -> set[int]:
    """Acknowledged batches all there and exact, nothing else but whole in-flight batches, queries
    work, and a further add and delete work. Returns the batches present."""
    present = batches_present(collection)
    assert acked <= present, f"acknowledged batches lost: {sorted(acked - present)[:10]}"
    assert present <= acked | in_flight, f"never written: {sorted(present - acked - in_flight)}"
    for n in sorted(present)[:2] + sorted(present)[-3:]:
        check_batch(collection, n)
    if present:
        n = max(present)
        probe = bulk_batch(n)["embeddings"][7]
        # HNSW is approximate (and this workload's deletes leave holes): only well-formed results
        hit = collection.query(query_embeddings=[probe], n_results=3, include=["distances"])
        assert len(set(hit["ids"][0])) == 3 and hit["distances"][0] == sorted(hit["distances"][0])
        # a filter this narrow is searched exactly: the stored vector itself comes first, at the
        # distance its rounding to the index dtype leaves once compacted (f16: ~2e-6 at 16 dims)
        hit = collection.query(
            query_embeddings=[probe], n_results=3, where={"batch": n}, include=["distances"]
        )
        assert hit["ids"][0][0] == f"b{n}-7" and hit["distances"][0][0] < 1e-4, hit
    extra = bulk_batch(10**6)
    collection.add(**extra)
    assert collection.get(ids=extra["ids"][:1], include=[])["ids"] == extra["ids"][:1]
    collection.delete(ids=extra["ids"])
    assert batches_present(collection) == present
    return present
