"""A request's `where` and `where_document` are parsed once in the engine, however many tables
(version, narrowed subset, tail) its filter runs over."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import fletchdb
import numpy as np
import pytest

from flight_server.executor.filters import parse_where, parse_where_document
from tests.support.calls import calls_to

WHERE = {"$and": [{"n": {"$gte": 10}}, {"#document": {"$contains": "fox"}}]}
DOCUMENT = {"$contains": "jumps"}
ONCE = {"parse_where": 1, "parse_where_document": 1}


@pytest.fixture
def collection(tmp_path: Path) -> Iterator[fletchdb.Collection]:
    """A compacted version (with its trigram index) and a log tail, so every filter path runs."""
    settings = fletchdb.Settings(compaction_enabled=False, exact_search_max_rows=0)
    client = fletchdb.PersistentClient(tmp_path, settings=settings)
    col = client.create_collection("once", embedding_function=None)
    docs = [f"the {'fox' if i % 7 else 'dog'} jumps over {i}" for i in range(300)]
    vectors = np.random.default_rng(1).random((300, 4), dtype=np.float32)
    meta = [{"n": i} for i in range(300)]
    col.add(ids=[str(i) for i in range(200)], embeddings=vectors[:200], documents=docs[:200],
            metadatas=meta[:200])  # fmt: skip
    col.compact()
    col.add(ids=[str(i) for i in range(200, 300)], embeddings=vectors[200:], documents=docs[200:],
            metadatas=meta[200:])  # fmt: skip
    yield col
    client.close()


def _parses(call: object) -> dict[str, int]:
    return calls_to(call, parse_where, parse_where_document)  # type: ignore[arg-type]


def test_query_parses_each_filter_once(collection: fletchdb.Collection) -> None:
    q = np.ones((1, 4), np.float32)
    result = collection.query(query_embeddings=q, where=WHERE, where_document=DOCUMENT)
    assert len(result["ids"][0]) == 10
    call = lambda: collection.query(query_embeddings=q, where=WHERE, where_document=DOCUMENT)  # noqa: E731
    assert _parses(call) == ONCE


def test_get_and_delete_parse_each_filter_once(collection: fletchdb.Collection) -> None:
    assert _parses(lambda: collection.get(where=WHERE, where_document=DOCUMENT)) == ONCE
    assert _parses(lambda: collection.delete(where=WHERE, where_document=DOCUMENT)) == ONCE
    assert collection.get(where=WHERE)["ids"] == []


def test_search_parses_each_filter_once_in_the_engine(collection: fletchdb.Collection) -> None:
    search = fletchdb.Search().where(fletchdb.Key("n") >= 10).limit(5)
    counts = _parses(lambda: collection.search(search))
    # the SDK checks a plan's filters as the engine does (so both clients fail alike): one more
    assert counts == {"parse_where": 2, "parse_where_document": 0}
