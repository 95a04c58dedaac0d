"""The whole engine (log, materialization, compactor, executor, reopen) against the reference model.

A hypothesis state machine drives one persistent collection through add, upsert, update, delete
(by ids and by filters), on-demand compaction and close/reopen, with a small id alphabet so that
writes hit existing and missing ids. After every step the full contents (ids in insertion order,
embeddings, metadatas, documents) and unfiltered top-k queries must match the model. It runs
with the background compactor compacting every few records, and with it off.
"""

from __future__ import annotations

import functools
import os
import shutil
import tempfile
from collections.abc import Callable
from typing import Any

import fletchdb
import pytest
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, rule

from tests.support.model import CollectionModel, check_query, check_records
from tests.support.strategies import (
    KEYS,
    documents,
    metadata_values,
    metadatas,
    where_document_filters,
    where_filters,
)

NAME = "props"
IDS = tuple(f"id{i}" for i in range(10))
id_lists = st.lists(st.sampled_from(IDS), min_size=1, max_size=5, unique=True)

# metadata for add (no None values; Chroma refuses an empty dict) and for update/upsert
add_metadatas = metadatas().map(lambda m: m or None)
update_metadatas = st.one_of(
    st.none(),
    st.dictionaries(
        st.sampled_from(list(KEYS)), st.one_of(st.none(), metadata_values), max_size=4
    ).map(lambda m: m or None),
)


@functools.cache
def embeddings(dim: int) -> st.SearchStrategy[list[float]]:
    """Finite float32 vectors on a 1/500 grid in [-2, 2] (ties likely), never all zero."""

    def build(coords: list[int]) -> list[float]:
        vector = [c / 500 for c in coords]
        if not any(coords):
            vector[0] = 1.0
        return vector

    return st.lists(st.integers(-1000, 1000), min_size=dim, max_size=dim).map(build)


@functools.cache
def filter_args() -> st.SearchStrategy[dict[str, Any]]:
    """where and/or where_document (at least one)."""
    return st.one_of(
        st.builds(lambda w: {"where": w}, where_filters()),
        st.builds(lambda d: {"where_document": d}, where_document_filters()),
        st.builds(
            lambda w, d: {"where": w, "where_document": d},
            where_filters(),
            where_document_filters(),
        ),
    )


def write_args(draw: Callable[..., Any], op: str, ids: list[str], dim: int) -> dict[str, Any]:
    """Keyword arguments of an add/upsert/update of `ids`: embeddings, maybe metadatas/documents.

    Embeddings are always given to add and upsert (there is no embedding function); an update
    may leave them out, and then gives str documents (Chroma refuses None ones without embeddings).
    """
    n = len(ids)
    args: dict[str, Any] = {"ids": ids}
    args["embeddings"] = draw(st.lists(embeddings(dim), min_size=n, max_size=n), "embeddings")
    meta = add_metadatas if op == "add" else update_metadatas
    if draw(st.booleans(), "with metadatas"):
        args["metadatas"] = draw(st.lists(meta, min_size=n, max_size=n), "metadatas")
    if draw(st.booleans(), "with documents"):
        args["documents"] = draw(st.lists(documents, min_size=n, max_size=n), "documents")
    if op == "update" and len(args) > 2 and draw(st.booleans(), "without embeddings"):
        del args["embeddings"]
        if "documents" in args:
            args["documents"] = [d if d is not None else "" for d in args["documents"]]
    return args


class EngineMachine(RuleBasedStateMachine):
    """One collection in a PersistentClient, mirrored by a CollectionModel."""

    overrides: dict[str, Any] = {}
    background = False

    def __init__(self) -> None:
        super().__init__()
        self.path = tempfile.mkdtemp(prefix="fletch-sm-")
        self.client: Any = None
        self.drawn: dict[str, Any] = {}

    def _open(self) -> None:
        self.client = fletchdb.PersistentClient(
            self.path, settings=fletchdb.Settings(**self.overrides, **self.drawn)
        )

    @initialize(
        dim=st.sampled_from([4, 8, 16]),
        space=st.sampled_from(["l2", "cosine", "ip"]),
        indexed_filters=st.booleans(),
        data=st.data(),
    )
    def setup(self, dim: int, space: str, indexed_filters: bool, data: st.DataObject) -> None:
        if indexed_filters:  # filtered KNN on versions goes through HNSW (+ exact fallback)
            self.drawn["exact_search_max_candidates"] = 0
        self._open()
        self.collection = self.client.create_collection(  # no embedding function, as the model
            NAME, configuration={"hnsw": {"space": space}}, embedding_function=None
        )
        self.model = CollectionModel(dim, space)
        self.queries = data.draw(st.lists(embeddings(dim), min_size=2, max_size=2), "queries")

    def teardown(self) -> None:
        if self.client is not None:
            self.client.close()
        shutil.rmtree(self.path, ignore_errors=True)

    # Writes ----------------------------------------------------------------------------
    @rule(data=st.data())
    def add(self, data: st.DataObject) -> None:
        args = write_args(data.draw, "add", data.draw(id_lists, "ids"), self.model.dim)
        self.collection.add(**args)
        self.model.add(**args)

    @rule(data=st.data())
    def upsert(self, data: st.DataObject) -> None:
        args = write_args(data.draw, "upsert", data.draw(id_lists, "ids"), self.model.dim)
        self.collection.upsert(**args)
        self.model.upsert(**args)

    @rule(data=st.data())
    def update(self, data: st.DataObject) -> None:
        args = write_args(data.draw, "update", data.draw(id_lists, "ids"), self.model.dim)
        self.collection.update(**args)
        self.model.update(**args)

    @rule(ids=id_lists)
    def delete(self, ids: list[str]) -> None:
        self.collection.delete(ids=ids)
        self.model.delete(ids)

    @rule(data=st.data())
    def delete_where(self, data: st.DataObject) -> None:
        filters = data.draw(filter_args(), "filters")
        ids = data.draw(st.none() | id_lists, "ids")
        self.collection.delete(ids=ids, **filters)
        self.model.delete_where(ids, **filters)

    @rule()
    def compact(self) -> None:
        self.collection.compact()
        stats = self.collection.stats()
        assert stats["tail_records"] == 0, stats
        assert stats["indexed_records"] == self.model.count(), stats

    @rule(now=st.sampled_from([False, False, True]))
    def reopen(self, now: bool) -> None:
        if not now:  # opening an engine costs ~0.1 s: reopen on a third of the draws
            return
        self.client.close()
        self._open()
        self.collection = self.client.get_collection(NAME, embedding_function=None)

    # Reads -----------------------------------------------------------------------------
    def _exact(self) -> bool:
        """Whether KNN can be checked as exact: no HNSW index is (or may become) involved."""
        return not self.background and self.collection.stats()["indexed_records"] == 0

    @rule(data=st.data())
    def get_filtered(self, data: st.DataObject) -> None:
        filters = data.draw(st.just({}) | filter_args(), "filters")
        ids = data.draw(st.none() | id_lists, "ids")
        limit = data.draw(st.none() | st.integers(0, 12), "limit")
        offset = data.draw(st.none() | st.integers(0, 12), "offset")
        got = self.collection.get(
            ids=ids,
            limit=limit,
            offset=offset,
            include=["embeddings", "metadatas", "documents"],
            **filters,
        )
        check_records(
            self.model, got, self.model.get_ids(ids, limit=limit, offset=offset, **filters)
        )

    @rule(data=st.data())
    def query_filtered(self, data: st.DataObject) -> None:
        filters = data.draw(st.just({}) | filter_args(), "filters")
        ids = data.draw(st.none() | id_lists, "ids")
        k = data.draw(st.integers(1, 12), "k")
        queries = data.draw(st.lists(embeddings(self.model.dim), min_size=1, max_size=3))
        check_query(
            self.collection, self.model, queries, k, ids=ids, exact=self._exact(), **filters
        )

    @invariant()
    def matches_model(self) -> None:
        if self.client is None:
            return
        assert self.collection.count() == self.model.count()
        got = self.collection.get(include=["embeddings", "metadatas", "documents"])
        check_records(self.model, got, [id_ for id_, _ in self.model.ordered()])
        check_query(self.collection, self.model, self.queries, 10, exact=self._exact())


class BackgroundCompaction(EngineMachine):
    """The compactor thread folds the tail every few records, concurrently with the steps."""

    overrides = {"compaction_tail_records": 3, "compaction_tail_seconds": 0.01}
    background = True


class ManualCompaction(EngineMachine):
    """No background compactor: versions change only in the compact rule (and never on reopen)."""

    overrides = {"compaction_enabled": False}


SETTINGS = settings(
    max_examples=35,
    stateful_step_count=30,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
TestBackgroundCompaction = BackgroundCompaction.TestCase
TestBackgroundCompaction.settings = SETTINGS
TestManualCompaction = ManualCompaction.TestCase
TestManualCompaction.settings = SETTINGS


# The long variants (about 10 minutes each) run only when asked for: FLETCHDB_LONG_PROPERTY=1.
LONG = pytest.mark.skipif(
    not os.environ.get("FLETCHDB_LONG_PROPERTY"), reason="set FLETCHDB_LONG_PROPERTY=1 to run"
)


class _Long:
    settings = settings(SETTINGS, max_examples=300, stateful_step_count=50)


@LONG
@pytest.mark.slow
class TestBackgroundCompactionLong(_Long, BackgroundCompaction.TestCase):
    """More and longer runs (about 10 minutes)."""


@LONG
@pytest.mark.slow
class TestManualCompactionLong(_Long, ManualCompaction.TestCase):
    """More and longer runs (about 10 minutes)."""
