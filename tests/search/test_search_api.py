"""collection.search over both clients: Knn, Bm25, Rrf (hybrid), where + rank, select, paging."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
from fletchdb import Bm25, Collection, K, Knn, Rrf, Search, SearchResult

from .reference import assert_ranking, bm25, ranked, rrf

DOCS = [
    "the quick brown fox jumps",
    "a lazy dog sleeps",
    "quick quick fox",
    "dogs and foxes",
    None,
    "Fox news: the QUICK fox!",
]
RNG = np.random.default_rng(7)
VECTORS = RNG.normal(size=(len(DOCS), 4)).astype(np.float32)
IDS = [f"d{i}" for i in range(len(DOCS))]
METAS = [{"g": i % 2, "name": f"n{i}"} for i in range(len(DOCS))]


def _fill(col: Collection) -> None:
    col.add(ids=IDS, embeddings=VECTORS, documents=DOCS, metadatas=METAS)


def _scored(result: SearchResult, i: int = 0) -> list[tuple[str, float]]:
    return list(zip(result["ids"][i], result["scores"][i], strict=True))


def _bm25_reference(query: str, keep: set[str] | None = None) -> list[tuple[str, float]]:
    scores = bm25(DOCS, query)
    if keep is not None:
        scores = {i: s for i, s in scores.items() if IDS[i] in keep}
    return [(IDS[i], s) for i, s in ranked(scores)]


@pytest.mark.parametrize("compact", [False, True])
def test_bm25_ranks_like_the_reference(collection: Collection, compact: bool) -> None:
    _fill(collection)
    if compact:
        collection.compact()
    result = collection.search(Search().rank(Bm25("quick fox")).select(K.SCORE, K.DOCUMENT))
    assert_ranking(_scored(result), _bm25_reference("quick fox"))
    assert result["documents"][0] == [DOCS[IDS.index(i)] for i in result["ids"][0]]


def test_knn_scores_are_distances_like_query(collection: Collection) -> None:
    _fill(collection)
    q = VECTORS[2] + 0.01
    got = collection.search(Search().rank(Knn(query=q.tolist(), limit=3)).select(K.SCORE))
    want = collection.query(query_embeddings=[q.tolist()], n_results=3, include=["distances"])
    assert got["ids"][0] == want["ids"][0]
    assert np.allclose(got["scores"][0], want["distances"][0], rtol=1e-6)


def test_rrf_of_knn_and_bm25_matches_the_reference(collection: Collection) -> None:
    _fill(collection)
    q = VECTORS[3].tolist()
    knn, text = Knn(query=q, limit=4), Bm25("fox dog", limit=4)
    lists = [collection.search(Search().rank(r))["ids"][0] for r in (knn, text)]
    for weights, defaults, k in [(None, [None, None], 60), ([2.0, 0.5], [10, 10], 5)]:
        ranks = [
            Knn(query=q, limit=4, default=defaults[0]),
            Bm25("fox dog", limit=4, default=defaults[1]),
        ]
        result = collection.search(Search().rank(Rrf(ranks, k=k, weights=weights)).select(K.SCORE))
        assert_ranking(_scored(result), rrf(lists, IDS, k=k, weights=weights, defaults=defaults))


def test_rrf_normalize_and_nesting(collection: Collection) -> None:
    _fill(collection)
    q = VECTORS[0].tolist()
    plain = Rrf([Knn(query=q, default=20), Bm25("fox", default=20)], weights=[3.0, 1.0])
    normalized = Rrf([Knn(query=q, default=20), Bm25("fox", default=20)], weights=[0.75, 0.25])
    a = collection.search(
        Search().rank(Rrf(plain.ranks, weights=[3.0, 1.0], normalize=True)).select(K.SCORE)
    )
    b = collection.search(Search().rank(normalized).select(K.SCORE))
    assert_ranking(_scored(a), _scored(b))
    nested = Rrf([plain, Bm25("dog", default=20)])
    inner = collection.search(Search().rank(plain))["ids"][0]
    dog = collection.search(Search().rank(Bm25("dog")))["ids"][0]
    got = collection.search(Search().rank(nested).select(K.SCORE))
    assert_ranking(_scored(got), rrf([inner, dog], IDS, defaults=[None, 20]))


def test_where_and_rank(collection: Collection) -> None:
    _fill(collection)
    keep = {IDS[i] for i in range(len(IDS)) if METAS[i]["g"] == 0}
    result = collection.search(Search().where(K("g") == 0).rank(Bm25("fox quick")).select(K.SCORE))
    assert_ranking(_scored(result), _bm25_reference("fox quick", keep))
    docs = collection.search(
        Search()
        .where(K.DOCUMENT.contains("fox") & (K("g") == 1))
        .rank(Bm25("quick"))
        .select(K.SCORE)
    )
    allowed = {IDS[i] for i, d in enumerate(DOCS) if d and "fox" in d and METAS[i]["g"] == 1}
    assert_ranking(_scored(docs), _bm25_reference("quick", allowed))
    by_id = collection.search(Search().where(K.ID.is_in(["d0", "d2"])).rank(Bm25("fox")))
    assert by_id["ids"][0] == ["d2", "d0"]
    regex = collection.search(Search().where(K.DOCUMENT.regex("^[a-z]+ (lazy|quick)")))
    assert regex["ids"][0] == ["d0", "d1", "d2"]


def test_no_rank_is_insertion_order_paged(collection: Collection) -> None:
    _fill(collection)
    result = collection.search(Search().limit(2, offset=1).select(K.SCORE, "name"))
    assert result["ids"] == [["d1", "d2"]]
    assert result["scores"] == [[None, None]]
    assert result["metadatas"] == [[{"name": "n1"}, {"name": "n2"}]]
    assert result.rows() == [
        [
            {"id": "d1", "metadata": {"name": "n1"}, "score": None},
            {"id": "d2", "metadata": {"name": "n2"}, "score": None},
        ]
    ]


def test_limit_offset_and_select_with_a_rank(collection: Collection) -> None:
    _fill(collection)
    full = collection.search(Search().rank(Bm25("fox quick dog", limit=10)).select(K.SCORE))
    page = collection.search(
        Search().rank(Bm25("fox quick dog", limit=10)).limit(2, offset=1).select_all()
    )
    assert page["ids"][0] == full["ids"][0][1:3]
    assert page["scores"][0] == full["scores"][0][1:3]
    rows = [IDS.index(i) for i in page["ids"][0]]
    assert page["documents"][0] == [DOCS[r] for r in rows]
    assert np.allclose(page["embeddings"][0], VECTORS[rows])
    assert page["metadatas"][0] == [METAS[r] for r in rows]
    assert page["select"] == [["#document", "#embedding", "#metadata", "#score"]]
    ids_only = collection.search(Search().rank(Bm25("fox")))
    assert ids_only["documents"] == [None] and ids_only["scores"] == [None]


def test_many_searches_in_one_call(collection: Collection) -> None:
    _fill(collection)
    searches = [
        Search().rank(Bm25("fox")).select(K.DOCUMENT),
        Search().where({"g": 1}).select("name"),
        Search().rank(Knn(query=VECTORS[1].tolist(), limit=2)).select(K.SCORE),
    ]
    together = collection.search(searches)
    for i, s in enumerate(searches):
        alone = collection.search(s)
        assert {k: v[i] for k, v in together.items()} == {k: v[0] for k, v in alone.items()}
    assert collection.search([]) == {k: [] for k in together}


def test_text_knn_uses_the_embedding_function(shared_client: Any) -> None:
    def embed(texts: list[str]) -> list[list[float]]:
        return [[float(len(t)), 1.0, 0.0, 0.0] for t in texts]

    col = shared_client.create_collection("text-knn", embedding_function=embed)
    col.add(ids=IDS[:4], documents=[d or "" for d in DOCS[:4]])
    got = col.search(Search().rank(Knn(query="abcdefghijklmnopqr", limit=1)))
    assert got["ids"] == [["d1"]]  # "a lazy dog sleeps" is 17 characters long
    shared_client.delete_collection("text-knn")


def test_results_follow_writes_in_the_tail(collection: Collection) -> None:
    _fill(collection)
    collection.compact()
    collection.delete(ids=["d2"])
    collection.update(ids=["d1"], embeddings=[VECTORS[1].tolist()], documents=["fox fox fox"])
    collection.add(ids=["new"], embeddings=[[0.0, 0.0, 0.0, 1.0]], documents=["a fox"])
    docs = {i: d for i, d in zip(IDS, DOCS, strict=True) if i != "d2"}
    docs["d1"], docs["new"] = "fox fox fox", "a fox"
    scores = bm25(list(docs.values()), "fox")
    want = [(list(docs)[i], s) for i, s in ranked(scores)]
    got = collection.search(Search().rank(Bm25("fox", limit=10)).select(K.SCORE))
    assert_ranking(_scored(got), want)
    collection.compact()
    assert_ranking(
        _scored(collection.search(Search().rank(Bm25("fox", limit=10)).select(K.SCORE))), want
    )
