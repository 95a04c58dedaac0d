"""Deterministic write batches for the WAL tests (also imported by the crash-writer subprocess)."""

from __future__ import annotations

import hashlib

import pyarrow as pa

from flight_server.schema import embedding_type


def make_batch(key: str, rows: int, dim: int = 4, kind: int = 0) -> pa.RecordBatch:
    """A write batch whose every value derives from `key`; `kind` picks one of four schemas."""
    ids = pa.array([f"{key}/{i}" for i in range(rows)], pa.string())
    if kind % 4 == 3:  # a delete batch: ids only
        return pa.RecordBatch.from_arrays([ids], names=["id"])
    seed = int.from_bytes(hashlib.blake2b(key.encode(), digest_size=4).digest(), "little")
    values = pa.array([float((seed + i) % 1000) / 7 for i in range(rows * dim)], pa.float32())
    cols: dict[str, pa.Array] = {
        "id": ids,
        "embedding": pa.FixedSizeListArray.from_arrays(values, type=embedding_type(dim)),
    }
    if kind % 4 >= 1:
        cols["document"] = pa.array([f"doc {key} {i}" if i % 3 else None for i in range(rows)])
        cols["i:year"] = pa.array([seed % 3000 + i for i in range(rows)], pa.int64())
    if kind % 4 == 2:
        cols["ls:tags"] = pa.array([["a", key] for _ in range(rows)], pa.list_(pa.string()))
        cols["x:gone"] = pa.array([i % 2 == 0 for i in range(rows)], pa.bool_())
    return pa.RecordBatch.from_arrays(list(cols.values()), names=list(cols))


def checksum(batch: pa.RecordBatch) -> str:
    """A content digest of a batch, independent of how it was serialized."""
    digest = hashlib.sha256(repr(batch.schema).encode())
    digest.update(repr(batch.to_pydict()).encode())
    return digest.hexdigest()[:16]
