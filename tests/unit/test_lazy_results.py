"""get()/query() results convert from Arrow on first access, and look like plain dicts from every side."""

from __future__ import annotations

import copy
import json
import pickle
from collections.abc import Callable
from typing import Any

import numpy as np
import pyarrow as pa
import pytest

from sdk import results, search_result
from sdk.frames import GetResult
from sdk.lazy_dict import Deferred, LazyDict
from sdk.results import get_result, query_result
from tests.support.calls import calls_to

INCLUDE = ["metadatas", "documents", "distances"]


def _table(n: int = 3) -> pa.Table:
    return pa.table(
        {
            "id": [f"r{i}" for i in range(n)],
            "document": [f"doc {i}" for i in range(n)],
            "s:color": ["red", None, "blue"][:n],
            "i:year": [1990 + i for i in range(n)],
            "distance": pa.array(np.arange(n, dtype=np.float32) / 4),
        }
    )


def _query() -> LazyDict:
    return query_result([_table(), _table(2)], INCLUDE)


def _eager(result: LazyDict) -> dict[str, Any]:
    """What the result was before conversion was lazy: every value built, a plain dict."""
    return {key: result[key] for key in list(dict.keys(result))}


def test_nothing_converts_until_read() -> None:
    counts = calls_to(_query, results.metadatas_from_table, results._documents)
    assert counts == {"metadatas_from_table": 0, "_documents": 0}


def test_reading_a_key_converts_that_value_once() -> None:
    result = _query()

    def read_twice() -> None:
        assert result["metadatas"] == result["metadatas"]

    counts = calls_to(read_twice, results.metadatas_from_table, results._documents)
    assert counts == {"metadatas_from_table": 2, "_documents": 0}  # one call per query table


WHOLE_DICT_VIEWS: dict[str, Callable[[LazyDict], Any]] = {
    "dict()": dict,
    "unpacked": lambda r: {**r},
    "items": lambda r: list(r.items()),
    "values": lambda r: list(r.values()),
    "iteration": lambda r: [(k, r[k]) for k in r],
    "repr": repr,
    "json": lambda r: json.dumps(r),
    "copy": copy.copy,
    "deepcopy": copy.deepcopy,
    "get": lambda r: [r.get(k) for k in ("ids", "metadatas", "missing")],
    "len and in": lambda r: (len(r), "distances" in r, "missing" in r),
    "update": lambda r: (r.update({"extra": 1}), dict(r))[1],
    "pop": lambda r: (r.pop("documents"), dict(r)),
}


@pytest.mark.parametrize("view", WHOLE_DICT_VIEWS.values(), ids=WHOLE_DICT_VIEWS.keys())
def test_a_lazy_result_reads_as_its_eager_dict(view: Callable[[Any], Any]) -> None:
    eager = _eager(_query())
    got, want = view(_query()), view(dict(eager))
    assert got == want if not isinstance(got, str) else got == want


def test_equality_either_side_and_between_lazy_results() -> None:
    eager = _eager(_query())
    assert _query() == eager and eager == _query() and _query() == _query()
    assert _query() != {**eager, "ids": []}


def test_assignment_wins_over_the_deferred_value() -> None:
    result = _query()
    result["ids"] = ["mine"]
    assert result["ids"] == ["mine"] and dict(result)["ids"] == ["mine"]
    del result["metadatas"]
    assert "metadatas" not in dict(result)


def test_get_result_keeps_chroma_keys_and_arrow() -> None:
    result = get_result(_table(), ["documents"])
    assert isinstance(result, GetResult)
    assert list(result) == [
        "ids",
        "embeddings",
        "documents",
        "uris",
        "included",
        "data",
        "metadatas",
    ]
    assert result["metadatas"] is None and result["documents"] == ["doc 0", "doc 1", "doc 2"]
    assert result.to_arrow().column_names == ["id", "document"]


def test_a_built_result_pickles_like_a_dict() -> None:
    plain = LazyDict({"a": Deferred(lambda: [1, 2]), "b": None})
    assert pickle.loads(pickle.dumps(plain)) == {"a": [1, 2], "b": None}


def test_search_results_convert_on_read_too() -> None:
    table = _table().append_column("score", pa.array([0.5, 0.25, 0.125]))
    selects = [["#document", "#score", "color"]]
    made = calls_to(lambda: search_result._result([table], selects), results.metadatas_from_table)
    assert made == {"metadatas_from_table": 0}
    result = search_result._result([table], selects)
    assert result.scores == [[0.5, 0.25, 0.125]] and result["embeddings"] == [None]
    assert result.rows()[0][1] == {
        "id": "r1",
        "document": "doc 1",
        "metadata": {"year": 1991},
        "score": 0.25,
    }
    assert json.loads(json.dumps({k: v for k, v in result.items() if k != "embeddings"}))
