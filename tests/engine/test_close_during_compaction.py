"""close() during a background build abandons it at the next check: prompt, nothing lost or left."""

from __future__ import annotations

import threading
from pathlib import Path

import fletchdb
import numpy as np

from tests.crash.bulk_workload import COLLECTION, bulk_batch, check_store
from tests.crash.ingest_worker import check_version_folders

BATCHES = 30


def test_close_abandons_a_running_build(tmp_path: Path) -> None:
    off = fletchdb.Settings(compaction_enabled=False)
    client = fletchdb.PersistentClient(str(tmp_path), settings=off)
    collection = client.create_collection(COLLECTION, embedding_function=None)
    for n in range(1, BATCHES + 1):
        collection.add(**bulk_batch(n))
    client.close()

    on = fletchdb.Settings(compaction_tail_records=1, compaction_tail_seconds=0.01)
    client = fletchdb.PersistentClient(str(tmp_path), settings=on)
    compactor = client._transport.compactor
    steps: list[str] = []
    inside = threading.Event()

    def hold_until_stopping(step: str) -> None:
        steps.append(step)
        if step == "progress" and not inside.is_set():  # the build's first check
            inside.set()
            with compactor._wake:  # stay inside the build until close() asked it to stop
                compactor._wake.wait_for(lambda: compactor._stopping)

    compactor.on_step = hold_until_stopping
    assert inside.wait(timeout=120), "the compactor never started"
    client.close()
    assert compactor._thread is None and compactor.last_error is None
    assert steps == ["progress"], steps  # abandoned at the next check: nothing built or written

    client = fletchdb.PersistentClient(str(tmp_path), settings=off)
    try:
        collection = client.get_collection(COLLECTION, embedding_function=None)
        assert collection.stats()["version"] == 0
        check_version_folders(client, str(tmp_path), collection.id)
        check_store(collection, set(range(1, BATCHES + 1)))
        assert np.isclose(collection.count(), BATCHES * 200)
    finally:
        client.close()
