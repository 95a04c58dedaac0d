"""A compaction never takes the process down: its HNSW index memory is estimated and budgeted.

Over `max_compaction_memory_bytes` the compaction is refused with a MemoryBudgetError (a
QuotaError naming the estimate and the budget) before anything is built; the collection stays
readable from its log tail and the server keeps serving ([local] and [remote]).
"""

from __future__ import annotations

import logging
import threading

import numpy as np
import pytest
from fletchdb import Client
from fletchdb.errors import MemoryBudgetError, QuotaError

from flight_server.compactor.builder import (
    compaction_memory_budget,
    index_memory_estimate,
)
from flight_server.config import Settings
from tests.api.conftest import engine_of

CONFIG = {"hnsw": {"dtype": "f16", "max_neighbors": 16}}


def _vectors(n: int, dim: int = 16) -> np.ndarray:
    return np.random.default_rng(7).random((n, dim), dtype=np.float32)


def test_the_estimate_follows_vectors_dimension_m_and_dtype() -> None:
    # 1.25 x n x (dims x bytes + 8 M + 64): calibrated against usearch's RSS growth
    assert index_memory_estimate(1000, 16, CONFIG) == 1.25 * 1000 * (32 + 128 + 64)
    f32 = {"hnsw": {"dtype": "f32", "max_neighbors": 128}}
    assert index_memory_estimate(5000, 384, f32) == 1.25 * 5000 * (1536 + 1024 + 64)
    # issue 18's collection: M = 1,000,000 over 5,000 vectors, ~50 GB (it grew to 23 GB)
    huge = {"hnsw": {"dtype": "f16", "max_neighbors": 1_000_000}}
    assert index_memory_estimate(5000, 16, huge) > 40 * 10**9


def test_the_default_budget_is_half_the_memory() -> None:
    assert Settings().max_compaction_memory_bytes == 0
    assert compaction_memory_budget(Settings(max_compaction_memory_bytes=123)) == 123
    assert 2**28 < compaction_memory_budget(Settings()) < 2**50


def test_a_compaction_over_budget_is_refused_and_the_collection_still_serves(
    open_client, settings
) -> None:
    client: Client = open_client(
        settings(max_compaction_memory_bytes=2**20, compaction_enabled=False)
    )
    col = client.create_collection("big", configuration=CONFIG)
    vectors = _vectors(5000)
    col.add(ids=[f"r{i}" for i in range(5000)], embeddings=vectors)
    estimate = index_memory_estimate(5000, 16, {"hnsw": {**CONFIG["hnsw"]}})
    with pytest.raises(MemoryBudgetError) as info:
        col.compact()
    err = info.value
    assert isinstance(err, QuotaError)
    assert (err.limit, err.value, err.maximum) == ("max_compaction_memory_bytes", estimate, 2**20)
    assert str(err) == (
        "Estimated memory of the HNSW index of 5000 vectors x 16 (f16, M=16), in bytes, is "
        f"{estimate}, over the limit max_compaction_memory_bytes={2**20}"
    )
    assert col.count() == 5000 and col.stats()["version"] == 0
    hit = col.query(query_embeddings=vectors[1234:1235], n_results=1)
    assert hit["ids"] == [["r1234"]]
    assert client.heartbeat() > 0


def test_a_compaction_within_budget_runs(open_client, settings) -> None:
    client: Client = open_client(settings(compaction_enabled=False))
    col = client.create_collection("small", configuration={"hnsw": {"max_neighbors": 128}})
    col.add(ids=[f"r{i}" for i in range(300)], embeddings=_vectors(300))
    assert col.compact() == 1
    assert col.count() == 300


@pytest.mark.local_only("watches the engine's own compactor thread")
def test_the_background_compactor_logs_a_refusal_without_a_traceback(
    open_client, settings, caplog: pytest.LogCaptureFixture
) -> None:
    client: Client = open_client(
        settings(
            max_compaction_memory_bytes=2**16,
            compaction_tail_records=100,
            compaction_tail_seconds=0.0,
        )
    )
    col = client.create_collection("watched", configuration=CONFIG)
    compactor = engine_of(client).compactor
    with caplog.at_level(logging.WARNING, logger="flight_server.compactor.scheduler"):
        col.add(ids=[f"r{i}" for i in range(500)], embeddings=_vectors(500))
        pause = threading.Event()
        for _ in range(2000):  # until the thread has tried (no timing assumed)
            if isinstance(compactor.last_error, MemoryBudgetError):
                break
            compactor.nudge()
            pause.wait(0.01)
    assert isinstance(compactor.last_error, MemoryBudgetError)
    refusals = [r for r in caplog.records if "refused" in r.getMessage()]
    assert refusals and all(r.exc_info is None for r in refusals)
    assert col.count() == 500
