"""A process dies (os._exit) right after each compactor step; the directory must stay whole.

The worker ingests N batches with the background compactor off, optionally compacts once part way
(so a previous version exists and the "cleaned" step has something to delete), then installs an
`on_step` hook that exits the process at the target step and calls `collection.compact()`. The
parent reopens: data equals the model, the version is the old one before "registered" and the new
one from then on, no version folder is left that the catalog does not reference, and a further
compact() and reopen keep the data equal to the model.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from flight_server.compactor.scheduler import STEPS

from .ingest_worker import (
    COLLECTION,
    check_collection,
    check_version_folders,
    model_after,
    snapshot,
    version_folders,
)

SEED = 11
N = 30
FIRST = 15  # with a previous version: compacted after batch FIRST
SETTINGS = {"compaction_enabled": False, "wal_segment_bytes": 8 * 1024}


@pytest.mark.parametrize("previous", [False, True], ids=["first-version", "with-previous"])
@pytest.mark.parametrize("step", STEPS)
def test_crash_at_compactor_step(
    spawn: Any, reopen: Any, tmp_path: Path, step: str, previous: bool
) -> None:
    path = tmp_path / "db"
    worker = spawn(
        {
            "path": str(path),
            "seed": SEED,
            "start": 1,
            "stop": N,
            "settings": SETTINGS,
            "compact_after": [FIRST] if previous else [],
            "crash_step": step,
        }
    )
    code, lines = worker.wait()
    assert code == 1 and lines[-1] == f"crash {step}", (code, lines[-3:], worker.stderr())
    assert [line for line in lines if line.startswith("a ")] == [f"a {n}" for n in range(1, N + 1)]
    want = model_after(SEED, N)
    old_version = 1 if previous else 0
    registered = STEPS.index(step) >= STEPS.index("registered")

    with reopen(path) as client:
        collection = client.get_collection(COLLECTION, embedding_function=None)
        stats = collection.stats()
        assert stats["version"] == old_version + registered, stats
        assert client._transport.collection(collection.id).log.last_seq == N  # one entry a batch
        check_collection(collection, want)
        check_version_folders(client, str(path), collection.id)
        built = collection.compact()
        assert built == (0 if registered else 1)  # a registered version covers the whole tail
        check_collection(collection, want)
        check_version_folders(client, str(path), collection.id)
        assert collection.stats()["tail_records"] == 0
        cid = collection.id

    with reopen(path) as client:
        collection = client.get_collection(COLLECTION, embedding_function=None)
        check_collection(collection, want)
        check_version_folders(client, str(path), cid)
        current = client._transport.catalog.current_version(cid)
        assert current is not None
        # Only the serving version needs to stay on disk once everything is compacted.
        assert version_folders(str(path), cid) == {current.path}


def test_reopen_after_crash_keeps_serving_writes(spawn: Any, reopen: Any, tmp_path: Path) -> None:
    """After a crash between "written" and "registered", new writes and compactions still work."""
    path = tmp_path / "db"
    worker = spawn(
        {
            "path": str(path),
            "seed": SEED,
            "start": 1,
            "stop": N,
            "settings": SETTINGS,
            "compact_after": [FIRST],
            "crash_step": "written",
        }
    )
    code, _ = worker.wait()
    assert code == 1, worker.stderr()
    worker = spawn(
        {"path": str(path), "seed": SEED, "start": N + 1, "stop": N + 10, "settings": SETTINGS}
    )
    code, lines = worker.wait()
    assert code == 0 and len(lines) == 10, worker.stderr()
    with reopen(path) as client:
        collection = client.get_collection(COLLECTION, embedding_function=None)
        check_collection(collection, model_after(SEED, N + 10))
        collection.compact()
        assert snapshot(collection) == model_after(SEED, N + 10)
        check_version_folders(client, str(path), collection.id)


def test_get_order_is_insertion_order_across_compaction(reopen: Any, tmp_path: Path) -> None:
    """Records come back in insertion order whether they sit in the version or in the log tail."""
    with reopen(tmp_path / "db") as client:
        collection = client.create_collection("order", embedding_function=None)
        collection.add(ids=["a", "b"], embeddings=[[0.0, 0.0], [1.0, 1.0]])
        collection.compact()
        collection.add(ids=["c"], embeddings=[[2.0, 2.0]])
        collection.update(ids=["a"], documents=["changed"])  # moves to the tail, keeps its place
        assert collection.get()["ids"] == ["a", "b", "c"]
