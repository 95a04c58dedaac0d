"""The server end to end: a remote client adds, queries, gets and deletes as a local one does."""

from __future__ import annotations

import numpy as np


def test_remote_round_trip(serve, mint, connect) -> None:
    server = serve()
    client = connect(server, mint())
    col = client.get_or_create_collection("docs")
    vectors = np.eye(3, dtype=np.float32)
    col.add(
        ids=["a", "b", "c"],
        embeddings=vectors,
        documents=["x", "y", "z"],
        metadatas=[{"n": 1}, {"n": 2}, None],
    )
    assert col.count() == 3
    got = col.query(query_embeddings=vectors[:2], n_results=1, include=["distances"])
    assert got["ids"] == [["a"], ["b"]]
    assert col.get(where={"n": 2})["ids"] == ["b"]
    assert col.delete(where={"n": 1}) == {"deleted": 1}
    assert col.get()["ids"] == ["b", "c"]
