"""One DoPut stream carries many batches: each is acknowledged in order once durable, and readable."""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pytest

from flight_server.errors import DuplicateIDError
from flight_server.schema import Op


def _batches(n_batches: int, rows: int, dim: int = 4) -> list[pa.RecordBatch]:
    rng = np.random.default_rng(0)
    out = []
    for b in range(n_batches):
        start = b * rows
        ids = pa.array(np.char.add("id-", np.arange(start, start + rows).astype(str)))
        flat = pa.array(rng.random(rows * dim, dtype=np.float32))
        out.append(
            pa.record_batch(
                {
                    "id": ids,
                    "embedding": pa.FixedSizeListArray.from_arrays(flat, dim),
                    "i:n": pa.array(np.arange(start, start + rows, dtype=np.int64)),
                }
            )
        )
    return out


def _stream(client, collection, batches):
    acks: list[tuple[int, int]] = []
    seqs = client._transport.write_stream(
        collection.id, Op.ADD, batches, batches[0].schema, on_ack=lambda s, r: acks.append((s, r))
    )
    return seqs, acks


def test_each_batch_of_a_stream_is_acknowledged_in_order(serve, mint, connect) -> None:
    client = connect(serve(), mint(role="writer"))
    col = client.create_collection("stream")
    batches = _batches(20, 10_000)
    seqs, acks = _stream(client, col, batches)
    assert seqs == sorted(seqs) and len(set(seqs)) == 20
    assert acks == [(s, 10_000) for s in seqs]
    assert col.count() == 200_000
    got = col.get(ids=["id-0", "id-199999"], include=["metadatas"])
    assert got["metadatas"] == [{"n": 0}, {"n": 199_999}]


@pytest.mark.slow
def test_a_stream_of_a_million_rows(serve, mint, connect) -> None:
    client = connect(serve(compaction_enabled=False), mint(role="writer"))
    col = client.create_collection("million")
    seqs, _ = _stream(client, col, _batches(10, 100_000))
    assert len(seqs) == 10
    assert col.count() == 1_000_000


def test_a_bad_batch_ends_the_stream_and_keeps_the_acknowledged_ones(serve, mint, connect) -> None:
    client = connect(serve(), mint(role="writer"))
    col = client.create_collection("partial")
    good = _batches(3, 100)
    duplicated = good[2].set_column(0, "id", pa.array(["d"] * 100))
    acks: list[int] = []
    with pytest.raises(DuplicateIDError):
        client._transport.write_stream(
            col.id,
            Op.ADD,
            [good[0], good[1], duplicated, good[2]],
            good[0].schema,
            on_ack=lambda s, r: acks.append(s),
        )
    assert len(acks) == 2  # the two batches before the bad one, and nothing after it
    assert col.count() == 200
    assert col.get(ids=["d", "id-200"])["ids"] == []
