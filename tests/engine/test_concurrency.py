"""Many writers and readers on one collection while the compactor runs: every acknowledged write
is visible to the next read, writes share fsyncs, and nothing is lost or duplicated."""

from __future__ import annotations

import threading
from pathlib import Path

import fletchdb
import numpy as np

THREADS = 6
WRITES = 25


def test_concurrent_writers_read_their_writes(tmp_path: Path) -> None:
    settings = fletchdb.Settings(compaction_tail_records=40, compaction_tail_seconds=0.01)
    client = fletchdb.PersistentClient(tmp_path, settings=settings)
    col = client.create_collection("concurrency")
    errors: list[BaseException] = []
    barrier = threading.Barrier(THREADS)

    def writer(t: int) -> None:
        rng = np.random.default_rng(t)
        try:
            barrier.wait()
            for i in range(WRITES):
                ids = [f"t{t}-{i}-{j}" for j in range(3)]
                col.add(
                    ids=ids,
                    embeddings=rng.random((3, 8), dtype=np.float32),
                    metadatas=[{"t": t}] * 3,
                )
                got = col.get(ids=ids, include=[])["ids"]
                assert sorted(got) == sorted(ids), (t, i, got)
                if i % 5 == 0:
                    col.update(ids=[ids[0]], metadatas=[{"t": t, "updated": True}])
                    assert col.get(ids=[ids[0]])["metadatas"][0]["updated"] is True
        except BaseException as exc:  # surfaced below
            errors.append(exc)

    threads = [threading.Thread(target=writer, args=(t,)) for t in range(THREADS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not errors, errors[0]
    assert col.count() == THREADS * WRITES * 3
    log = client._transport.collection(col.id).log
    assert log.stats.appends >= THREADS * WRITES
    for t in range(THREADS):
        assert len(col.get(where={"t": t}, include=[])["ids"]) == WRITES * 3
        assert (
            len(col.get(where={"$and": [{"updated": True}, {"t": t}]}, include=[])["ids"])
            == WRITES // 5
        )
    client.close()

    reopened = fletchdb.PersistentClient(tmp_path, settings=settings)
    again = reopened.get_collection("concurrency")
    assert again.count() == THREADS * WRITES * 3
    reopened.close()


def test_reads_are_not_blocked_by_a_running_compaction(tmp_path: Path) -> None:
    client = fletchdb.PersistentClient(
        tmp_path, settings=fletchdb.Settings(compaction_enabled=False)
    )
    col = client.create_collection("busy")
    rng = np.random.default_rng(1)
    col.add(ids=[f"a{i}" for i in range(3000)], embeddings=rng.random((3000, 32), dtype=np.float32))
    engine = client._transport
    entered, release = threading.Event(), threading.Event()

    def pause(step: str) -> None:
        if step == "built":
            entered.set()
            release.wait(timeout=60)

    engine.compactor.on_step = pause
    compaction = threading.Thread(target=col.compact)
    compaction.start()
    assert entered.wait(timeout=60)
    # the compactor is parked mid-build: reads and writes still go through
    assert col.count() == 3000
    col.add(ids=["late"], embeddings=rng.random((1, 32), dtype=np.float32))
    assert col.get(ids=["late"], include=[])["ids"] == ["late"]
    release.set()
    compaction.join()
    assert col.count() == 3001
    assert col.stats()["tail_records"] == 0
    client.close()


def test_a_failed_open_releases_the_directory(tmp_path: Path) -> None:
    (tmp_path / "catalog.duckdb").write_bytes(b"this is not a DuckDB file" * 100)
    kept: list[BaseException] = []  # a caller that keeps the error keeps its traceback alive
    for _ in range(2):  # the second attempt must see the same error, not DataDirLockedError
        try:
            fletchdb.PersistentClient(tmp_path)
        except fletchdb.errors.DataDirLockedError:
            raise AssertionError("the failed open kept the directory locked") from None
        except Exception as exc:
            kept.append(exc)
        else:
            raise AssertionError("a corrupt catalog file opened")
