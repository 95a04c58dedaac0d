"""BM25 ranking matches a brute-force reference over the live collection, before and after
compaction, with adds, upserts, updates and deletes in the version and in the log tail."""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Any

import fletchdb
import numpy as np
from fletchdb import K, Search, Settings
from hypothesis import given, settings
from hypothesis import strategies as st

from .reference import assert_ranking, bm25, ranked

WORDS = ("fox", "Fox", "dog", "the", "a", "é", "北京", "x1", "fox-dog", "dog_fox", "ÉCOLE", "école")
SEPARATORS = (" ", " ", ", ", "! ", "\n")
IDS = tuple(f"r{i}" for i in range(8))
QUERIES = ("fox", "dog fox", "the", "école x1", "FOX fox", "北京 dog a", "nothing", "é")

docs = st.lists(st.sampled_from(WORDS), max_size=6).flatmap(
    lambda words: st.lists(
        st.sampled_from(SEPARATORS), min_size=len(words), max_size=len(words)
    ).map(lambda seps: "".join(w + s for w, s in zip(words, seps, strict=True)))
)
maybe_doc = st.one_of(st.none(), docs)
batch = st.lists(
    st.tuples(st.sampled_from(IDS), maybe_doc), min_size=1, max_size=4, unique_by=lambda t: t[0]
)
ops = st.lists(
    st.one_of(
        st.tuples(st.sampled_from(("add", "upsert", "update")), batch),
        st.tuples(
            st.just("delete"), st.lists(st.sampled_from(IDS), min_size=1, max_size=3, unique=True)
        ),
        st.tuples(st.just("compact"), st.none()),
    ),
    max_size=10,
)


class Model:
    """The live records in insertion order: id -> document (None = no document)."""

    def __init__(self) -> None:
        self.docs: dict[str, str | None] = {}

    def apply(self, op: str, arg: Any) -> None:
        if op == "delete":
            for rid in arg:
                self.docs.pop(rid, None)
            return
        for rid, doc in arg:
            exists = rid in self.docs
            if op == "add" and not exists:
                self.docs[rid] = doc
            elif op in ("update", "upsert") and exists:
                if doc is not None:  # an update without a document keeps the old one
                    self.docs[rid] = doc
            elif op == "upsert":
                self.docs[rid] = doc


def _write(col: fletchdb.Collection, op: str, arg: Any) -> None:
    if op == "delete":
        col.delete(ids=arg)
        return
    ids = [rid for rid, _ in arg]
    vectors = np.ones((len(ids), 2), dtype=np.float32)
    with_doc = [(rid, d) for rid, d in arg if d is not None]
    without = [rid for rid, d in arg if d is None]
    write = getattr(col, op)
    if op == "update":  # None documents are "not given": send them without a document
        if with_doc:
            docs = [d for _, d in with_doc]
            write(ids=[r for r, _ in with_doc], embeddings=vectors[: len(docs)], documents=docs)
        return
    if without:
        write(ids=without, embeddings=np.ones((len(without), 2), np.float32))
    if with_doc:
        write(
            ids=[r for r, _ in with_doc],
            embeddings=vectors[: len(with_doc)],
            documents=[d for _, d in with_doc],
        )


def _search(col: fletchdb.Collection, query: str, where: Any = None) -> list[tuple[str, float]]:
    s = Search().rank(fletchdb.Bm25(query, limit=100)).select(K.SCORE)
    if where is not None:
        s = s.where(where)
    result = col.search(s)
    return list(zip(result["ids"][0], result["scores"][0], strict=True))


def _reference(model: Model, query: str, keep: set[str] | None = None) -> list[tuple[str, float]]:
    ids = list(model.docs)
    scores = bm25(list(model.docs.values()), query)
    if keep is not None:
        scores = {i: s for i, s in scores.items() if ids[i] in keep}
    return [(ids[i], s) for i, s in ranked(scores)]


@settings(max_examples=40, deadline=None)
@given(
    st.lists(
        st.tuples(st.sampled_from(IDS), maybe_doc), min_size=1, max_size=8, unique_by=lambda t: t[0]
    ),
    ops,
    st.lists(st.sampled_from(QUERIES), min_size=1, max_size=3),
)
def test_bm25_matches_reference_before_and_after_compaction(
    first: list, steps: list, queries: list[str]
) -> None:
    # a compacted first batch, so that later writes mask version rows; adds and upserts of a
    # batch mixing records with and without documents go as two writes: the model follows
    steps = [("add", first), ("compact", None), *steps]
    with tempfile.TemporaryDirectory() as tmp:
        client = fletchdb.PersistentClient(Path(tmp), settings=Settings(compaction_enabled=False))
        try:
            col = client.create_collection("col")
            model = Model()
            for op, arg in steps:
                if op == "compact":
                    col.compact()
                    continue
                _write(col, op, arg)
                if op in ("add", "upsert"):
                    model.apply(op, [(r, d) for r, d in arg if d is None])
                    model.apply(op, [(r, d) for r, d in arg if d is not None])
                else:
                    model.apply(op, arg)
            for query in queries:
                assert_ranking(_search(col, query), _reference(model, query))
            col.compact()
            for query in queries:
                assert_ranking(_search(col, query), _reference(model, query))
        finally:
            client.close()


def test_where_restricts_results_not_statistics(tmp_path: Path) -> None:
    client = fletchdb.PersistentClient(tmp_path, settings=Settings(compaction_enabled=False))
    col = client.create_collection("col")
    documents = ["fox dog", "fox", "dog dog cat", "cat", "fox fox fox"]
    col.add(
        ids=[f"r{i}" for i in range(5)],
        embeddings=np.ones((5, 2), np.float32),
        documents=documents,
        metadatas=[{"g": i % 2} for i in range(5)],
    )
    model = Model()
    model.apply("add", list(zip([f"r{i}" for i in range(5)], documents, strict=True)))
    keep = {"r0", "r2", "r4"}
    for _ in range(2):
        assert_ranking(_search(col, "fox dog", {"g": 0}), _reference(model, "fox dog", keep))
        col.compact()
    client.close()
