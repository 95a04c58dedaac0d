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


def test_a_bad_address_or_a_missing_server_is_a_clear_error() -> None:
    import fletchdb
    import pytest

    from flight_server.errors import InvalidArgumentError, UnavailableError

    with pytest.raises(InvalidArgumentError, match="expected grpc://host:port"):
        fletchdb.FlightClient("nonsense://x", token="t")
    with pytest.raises(UnavailableError, match="FletchDB server unavailable"):
        fletchdb.FlightClient("grpc://127.0.0.1:1", token="t")  # port 1: nothing listens
