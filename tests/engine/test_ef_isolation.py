"""Concurrent searches of one HNSW index at different ef each get the results of their own ef."""

from __future__ import annotations

import threading

import numpy as np
import pytest
from usearch.index import Index

from flight_server.executor.vector_search import index_candidates

K = 10
EFS = (1, 500)
ROUNDS = 150


@pytest.fixture(scope="module")
def index() -> tuple[Index, np.ndarray]:
    """A sparsely connected index on which ef 1 and ef 500 find different neighbours."""
    rng = np.random.default_rng(7)
    vectors = rng.random((3000, 32), dtype=np.float32)
    index = Index(ndim=32, metric="l2sq", dtype="f32", connectivity=4, expansion_add=16)
    index.add(np.arange(len(vectors), dtype=np.uint64), vectors, threads=1)
    return index, rng.random((4, 32), dtype=np.float32)


def _search(index: Index, queries: np.ndarray, ef: int) -> np.ndarray:
    rows = index_candidates(index, queries, K, lambda keys: keys.astype(np.int64), K, ef)
    return np.sort(rows, axis=1)


def test_ef_changes_the_results(index: tuple[Index, np.ndarray]) -> None:
    idx, queries = index
    low, high = (_search(idx, queries, ef) for ef in EFS)
    assert not np.array_equal(low, high), "the fixture must make ef matter"


def test_parallel_queries_at_different_ef_each_get_their_own(
    index: tuple[Index, np.ndarray],
) -> None:
    idx, queries = index
    expected = {ef: _search(idx, queries, ef) for ef in EFS}
    barrier = threading.Barrier(len(EFS))
    wrong: dict[int, int] = dict.fromkeys(EFS, 0)

    def run(ef: int) -> None:
        for _ in range(ROUNDS):
            barrier.wait()
            if not np.array_equal(_search(idx, queries, ef), expected[ef]):
                wrong[ef] += 1

    threads = [threading.Thread(target=run, args=(ef,)) for ef in EFS]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert wrong == dict.fromkeys(EFS, 0), f"rounds with another query's ef: {wrong}"
