"""The compactor grows the HNSW index incrementally, and rebuilds it once removals pile up."""

from __future__ import annotations

from pathlib import Path

import fletchdb
import numpy as np
import pytest
from usearch.index import Index


def _restored_index(client: fletchdb.Client, collection: fletchdb.Collection) -> Index:
    engine = client._transport
    version = engine.collection(collection.id).state.version
    return Index.restore(engine.versions.index_path(collection.id, version.record.path))


@pytest.mark.parametrize(("fraction", "rebuilt"), [(0.2, True), (1.0, False)])
def test_rebuild_after_removals(tmp_path: Path, fraction: float, rebuilt: bool) -> None:
    settings = fletchdb.Settings(
        compaction_enabled=False, exact_search_max_rows=0, compaction_rebuild_fraction=fraction
    )
    client = fletchdb.PersistentClient(tmp_path, settings=settings)
    col = client.create_collection("rebuild")
    vectors = np.random.default_rng(3).random((400, 8), dtype=np.float32)
    col.add(ids=[f"r{i}" for i in range(400)], embeddings=vectors)
    col.compact()
    col.delete(ids=[f"r{i}" for i in range(0, 400, 3)])  # a third of the records
    col.compact()
    index = _restored_index(client, col)
    assert len(index) == col.count()
    holes = index.capacity - len(index)
    assert (holes == 0) == rebuilt
    deleted = {f"r{i}" for i in range(0, 400, 3)}
    found = col.query(query_embeddings=vectors[:20], n_results=10, include=[])["ids"]
    assert not deleted & {i for row in found for i in row}
    client.close()
