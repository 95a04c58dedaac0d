"""Shrunk counterexamples found by the engine property tests, pinned as plain tests."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import fletchdb
import pytest

E = [1.0, 0.0, 0.0, 0.0]


@pytest.fixture
def client(tmp_path: Path) -> Iterator[Any]:
    c = fletchdb.PersistentClient(tmp_path, settings=fletchdb.Settings(compaction_enabled=False))
    yield c
    c.close()


def test_update_of_indexed_record_keeps_its_place_in_get(client: Any) -> None:
    """An indexed record updated in the tail kept its label but came back after the others.

    Found by test_engine_state_machine (upsert id0,id1; compact; upsert id0): get returned
    ['id1', 'id0']. Executor.get gathered version rows before tail rows; now ordered by label.
    """
    col = client.create_collection("regress", embedding_function=None)  # updates keep embeddings
    col.upsert(ids=["id0", "id1"], embeddings=[E, E])
    col.compact()
    col.upsert(ids=["id0"], embeddings=[E])
    assert col.get()["ids"] == ["id0", "id1"]
    col.update(ids=["id1"], documents=["x"])
    assert col.get()["ids"] == ["id0", "id1"]
    col.add(ids=["id2"], embeddings=[E])
    col.update(ids=["id0"], metadatas=[{"a": 1}])
    assert col.get()["ids"] == ["id0", "id1", "id2"]
    assert col.get(offset=1, limit=1)["ids"] == ["id1"]
    assert col.get(where={"a": 1})["ids"] == ["id0"]
    col.compact()
    assert col.get()["ids"] == ["id0", "id1", "id2"]


@pytest.mark.parametrize("deleted", [False, True], ids=["never-written", "all-deleted"])
def test_query_of_empty_collection_returns_empty_lists(client: Any, deleted: bool) -> None:
    """Chroma 1.5.9 answers a query on an empty collection with empty lists, distances included."""
    col = client.create_collection("regress")
    if deleted:
        col.add(ids=["a"], embeddings=[E])
        col.delete(ids=["a"])
    got = col.query(query_embeddings=[E], n_results=3)
    assert got["ids"] == [[]]
    assert got["distances"] == [[]]
