"""Full-text tables in index versions: written by the compactor, read by mmap, and versions
written before they existed (no fts.arrow) still serve the same results."""

from __future__ import annotations

from pathlib import Path

import fletchdb
import numpy as np
import pyarrow as pa
from fletchdb import Bm25, K, Search, Settings

from flight_server.executor.fts_index import FtsIndex, build
from flight_server.versions.store import FTS_FILE

DOCS = ["the fox", "a dog and a fox", "Fox! FOX?", None, "", "北京 fox dog"]


def _open(path: Path) -> fletchdb.Client:
    return fletchdb.PersistentClient(path, settings=Settings(compaction_enabled=False))


def _search(col: fletchdb.Collection) -> dict:
    return col.search(Search().rank(Bm25("fox dog", limit=10)).select(K.SCORE))


def test_postings_table_format() -> None:
    table = build(pa.array(DOCS))
    assert table.schema.field("term").type == pa.dictionary(pa.int32(), pa.string())
    rows = list(
        zip(
            table["term"].to_pylist(),
            table["row"].to_pylist(),
            table["tf"].to_pylist(),
            strict=True,
        )
    )
    assert rows == sorted(rows, key=lambda r: (r[0].encode(), r[1]))  # by term bytes, then row
    assert ("fox", 2, 2) in rows and ("a", 1, 2) in rows and ("北京", 5, 1) in rows
    index = FtsIndex(table, len(DOCS))
    assert index.doc_len.tolist() == [2, 5, 2, 0, 0, 3]
    assert [r.tolist() for r in index.postings("fox")] == [[0, 1, 2, 5], [1, 1, 2, 1]]
    assert [len(p) for p in index.postings("cat")] == [0, 0]


def test_compaction_writes_the_table_and_old_versions_still_load(tmp_path: Path) -> None:
    client = _open(tmp_path)
    col = client.create_collection("fts")
    ids = [f"r{i}" for i in range(len(DOCS))]
    for i, doc in enumerate(DOCS):  # one write per record: None documents stay absent
        kw = {"documents": [doc]} if doc is not None else {}
        col.add(ids=[ids[i]], embeddings=np.ones((1, 2), np.float32), **kw)
    before = _search(col)
    col.compact()
    folders = list((tmp_path / "versions" / col.id).iterdir())
    assert len(folders) == 1 and (folders[0] / FTS_FILE).is_file()
    assert _search(col) == before
    client.close()

    (folders[0] / FTS_FILE).unlink()  # as a version written before full-text tables
    client = _open(tmp_path)
    col = client.get_collection("fts")
    assert _search(col) == before
    col.add(ids=["late"], embeddings=np.ones((1, 2), np.float32), documents=["fox fox dog"])
    col.delete(ids=["r1"])
    after = _search(col)
    col.compact()  # the next version has the table again
    folders = list((tmp_path / "versions" / col.id).iterdir())
    assert (folders[0] / FTS_FILE).is_file()
    assert _search(col) == after
    client.close()
