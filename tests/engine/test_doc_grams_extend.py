"""Each version's `$contains` trigram table, extended from the previous one, equals a full build."""

from __future__ import annotations

import tempfile

import fletchdb
import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from flight_server.schema import DOCUMENT
from flight_server.versions import doc_index

WORDS = st.sampled_from(["alpha", "beta", "gamma", "ab", "délta", "中文字", ""])
DOC = st.one_of(st.none(), st.lists(WORDS, max_size=4).map(" ".join))
IDS = st.integers(0, 30).map(lambda i: f"id{i}")
STEP = st.tuples(
    st.sampled_from(["add", "upsert", "update", "delete", "add_no_docs"]),
    st.lists(st.tuples(IDS, DOC), min_size=1, max_size=8, unique_by=lambda p: p[0]),
)


def _apply(col: fletchdb.Collection, op: str, pairs: list[tuple[str, str | None]]) -> None:
    ids = [i for i, _ in pairs]
    docs = [d for _, d in pairs]
    vectors = np.random.default_rng(len(ids)).random((len(ids), 4), dtype=np.float32)
    if op == "delete":
        col.delete(ids=ids)
    elif op == "add_no_docs":
        col.add(ids=ids, embeddings=vectors)
    else:  # Chroma refuses None inside a documents list: those records get no document
        kept = [k for k, d in enumerate(docs) if d is not None]
        if kept:
            getattr(col, op)(
                ids=[ids[k] for k in kept],
                embeddings=vectors[kept],
                documents=[docs[k] for k in kept],
            )


@settings(max_examples=40, deadline=None)
@given(steps=st.lists(STEP, min_size=1, max_size=6))
def test_extended_trigram_table_equals_full_build(steps: list) -> None:
    with tempfile.TemporaryDirectory() as path:
        client = fletchdb.PersistentClient(
            path, settings=fletchdb.Settings(compaction_enabled=False)
        )
        col = client.create_collection("grams", embedding_function=None)
        engine = client._transport
        for op, pairs in steps:
            _apply(col, op, pairs)
            col.compact()
            version = engine.collection(col.id).state.version
            if version.doc_grams is not None:
                expected = doc_index.build(version.records[DOCUMENT])
                assert version.doc_grams.equals(expected), (op, pairs)
        client.close()
