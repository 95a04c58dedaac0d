"""Bad searches fail with a typed error naming the value, the same over both clients, and nothing
reaches the engine half-done."""

from __future__ import annotations

from typing import Any

import pytest
from fletchdb import Bm25, Collection, K, Knn, Rrf, Search
from fletchdb.errors import InvalidArgumentError, InvalidDimensionException

from flight_server.errors import QuotaError

BAD: list[tuple[Any, type[Exception], str]] = [
    (Search().rank({"$magic": {}}), InvalidArgumentError, "Unknown ranker '$magic'"),
    (Search().rank(Bm25("")), InvalidArgumentError, "Bm25 query '' has no terms"),
    (Search().rank(Bm25("... !!")), InvalidArgumentError, "Bm25 query '... !!' has no terms"),
    (
        Search().rank(Bm25("fox", limit=0)),
        InvalidArgumentError,
        "Bm25 limit must be an int >= 1, got 0",
    ),
    (Search().rank(Knn(query=[1.0, 0.0], limit=-3)), InvalidArgumentError, "got -3"),
    (Search().rank(Knn(query=[1.0, 0.0, 0.0])), InvalidDimensionException, "dimension of 2, got 3"),
    (Search().rank(Knn(query=[float("nan"), 0.0])), InvalidArgumentError, "finite numbers"),
    (Search().rank(Knn(query=[1.0, 0.0], key="sparse")), InvalidArgumentError, "'sparse'"),
    (
        Search().rank(Bm25("fox", b=1.5)),
        InvalidArgumentError,
        "b must be a number in [0, 1], got 1.5",
    ),
    (Search().rank(Bm25("fox", k1=-1)), InvalidArgumentError, "k1 must be a number >= 0, got -1"),
    (Search().rank(Rrf([])), InvalidArgumentError, "Rrf ranks must be a non-empty list"),
    (
        Search().rank(Rrf([Bm25("fox")], weights=[1.0, 2.0])),
        InvalidArgumentError,
        "1 ranks but 2 weights",
    ),
    (
        Search().rank(Rrf([Bm25("fox")], k=0)),
        InvalidArgumentError,
        "Rrf k must be an int >= 1, got 0",
    ),
    (
        Search().rank(Rrf([Bm25("fox")], weights=[0.0], normalize=True)),
        InvalidArgumentError,
        "sum to 0",
    ),
    (Search().rank(Rrf([Bm25("fox")], weights=[-1.0])), InvalidArgumentError, "got [-1.0]"),
    (Search().limit(-1), InvalidArgumentError, "Search limit must be null or an int >= 0, got -1"),
    (Search().limit(3, offset=-2), InvalidArgumentError, "offset must be an int >= 0, got -2"),
    (Search().select("#nope"), InvalidArgumentError, "Unknown select key '#nope'"),
    (Search().where({"g": {"$bad": 1}}), InvalidArgumentError, "$bad"),
    (Search().where(K.DOCUMENT.regex("(")), InvalidArgumentError, "Regex syntax errror"),
    ("not a search", InvalidArgumentError, "takes a Search or a list of Search objects"),
]


@pytest.mark.parametrize(("search", "cls", "text"), BAD, ids=[b[2][:40] for b in BAD])
def test_bad_search_is_a_typed_error(
    collection: Collection, search: Any, cls: type[Exception], text: str
) -> None:
    collection.add(ids=["a"], embeddings=[[1.0, 0.0]], documents=["fox"])
    with pytest.raises(cls) as info:
        collection.search(search)
    assert type(info.value) is cls
    assert text in str(info.value)


@pytest.mark.parametrize(
    ("limit", "search"),
    [
        ("max_text_query_terms", Search().rank(Bm25("a b c d"))),
        ("max_search_ranks", Search().rank(Rrf([Bm25("a"), Bm25("b"), Bm25("c")]))),
        ("max_n_results", Search().rank(Bm25("fox", limit=4))),
        ("max_get_limit", Search().limit(4)),
        ("max_searches", [Search()] * 4),
    ],
)
def test_search_limits(open_client: Any, limit: str, search: Any) -> None:
    from fletchdb import Settings

    client = open_client(Settings(**{limit: 3}))
    col = client.create_collection("limits")
    col.add(ids=["a"], embeddings=[[1.0, 0.0]], documents=["fox"])
    with pytest.raises(QuotaError) as info:
        col.search(search)
    assert (info.value.limit, info.value.value, info.value.maximum) == (limit, 4, 3)
