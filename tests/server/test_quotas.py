"""Every declared limit over a real server: a QuotaError naming limit, value and maximum, nothing written.

Each test starts a server with one small limit, drives a remote client past it, and checks that the
client receives the same QuotaError class a local client would (with `.limit`, `.value`,
`.maximum` and a message naming all three) and that the server wrote nothing of that request: the
collection's count and records are unchanged and the engine's log seq did not move.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import fletchdb
import numpy as np
import pytest

from flight_server.config import SETTINGS
from flight_server.errors import BatchSizeExceededError, QuotaError
from flight_server.executor.filters import count_predicates
from flight_server.flight.server import Server
from flight_server.schema import Op
from sdk.collection import Collection
from sdk.convert import to_write_batch
from sdk.flight_transport import FlightTransport

LIMITS = {s.name: s for s in SETTINGS if s.limit}


def _vectors(n: int, dim: int = 4, start: int = 0) -> np.ndarray:
    return np.arange(start * dim, (start + n) * dim, dtype=np.float32).reshape(n, dim) + 1.0


def _state(server: Server, col: Collection) -> tuple[int, int, dict[str, Any]]:
    """count, the engine's last log seq and every record of the collection."""
    seq = server.engine.collection(col.id).log.last_seq
    got = col.get(include=["embeddings", "documents", "metadatas"])
    got["embeddings"] = [list(map(float, e)) for e in got["embeddings"]]
    return col.count(), seq, got


def _assert_quota(
    exc: QuotaError, limit: str, maximum: Any, value: Any | None = None, cls: type = QuotaError
) -> None:
    assert type(exc) is cls, f"expected {cls.__name__}, got {type(exc).__name__}: {exc}"
    assert exc.limit == limit
    assert exc.maximum == maximum
    if value is not None:
        assert exc.value == value
    assert isinstance(exc.value, int) and exc.value > exc.maximum
    text = str(exc)
    assert limit in text and str(exc.value) in text and str(maximum) in text, text
    assert exc.details == {"limit": limit, "value": exc.value, "maximum": maximum}


@pytest.fixture
def remote(serve, mint, connect) -> Callable[..., tuple[Server, fletchdb.Client, Collection]]:
    """`remote(**limits)`: a server with those limits, an admin client and a collection of 2."""

    def make(**limits: Any) -> tuple[Server, fletchdb.Client, Collection]:
        server = serve(**limits)
        client = connect(server, mint())
        col = client.create_collection("quota")
        col.add(
            ids=["a", "b"],
            embeddings=_vectors(2),
            documents=["one", "two"],
            metadatas=[{"k": "v"}, {"n": 1}],
        )
        return server, client, col

    return make


# Write limits: (limit, small maximum, the offending call, the value the error names, class) ------
def _add(**kw: Any) -> Callable[[Collection], None]:
    return lambda col: col.add(**kw)


WRITE_CASES: list[tuple[str, int, Callable[[Collection], None], int | None, type]] = [
    (
        "max_batch_rows",
        3,
        _add(ids=["x1", "x2", "x3", "x4"], embeddings=_vectors(4, start=5)),
        4,
        BatchSizeExceededError,
    ),
    (
        "max_batch_bytes",
        100,
        _add(ids=[f"y{i}" for i in range(10)], embeddings=_vectors(10, start=5)),
        None,
        QuotaError,
    ),
    ("max_id_bytes", 8, _add(ids=["x" * 9], embeddings=_vectors(1, start=5)), 9, QuotaError),
    (
        "max_document_bytes",
        8,
        _add(ids=["d"], embeddings=_vectors(1, start=5), documents=["\u00e9" * 5]),  # 10 bytes
        10,
        QuotaError,
    ),
    (
        "max_metadata_keys",
        2,
        _add(ids=["m"], embeddings=_vectors(1, start=5), metadatas=[{"p": 1, "q": 2, "r": 3}]),
        3,
        QuotaError,
    ),
    (
        "max_metadata_value_bytes",
        4,
        _add(ids=["m"], embeddings=_vectors(1, start=5), metadatas=[{"s": "abcde"}]),
        5,
        QuotaError,
    ),
    (
        "max_metadata_value_bytes",  # string list values are counted element by element
        4,
        _add(ids=["m"], embeddings=_vectors(1, start=5), metadatas=[{"s": ["ab", "abcdef"]}]),
        6,
        QuotaError,
    ),
]


@pytest.mark.parametrize(
    ("limit", "maximum", "call", "value", "cls"),
    WRITE_CASES,
    ids=[f"{c[0]}-{i}" for i, c in enumerate(WRITE_CASES)],
)
def test_write_limit_refuses_the_whole_batch(remote, limit, maximum, call, value, cls) -> None:
    server, _, col = remote(**{limit: maximum})
    before = _state(server, col)
    with pytest.raises(QuotaError) as info:
        call(col)
    _assert_quota(info.value, limit, maximum, value, cls)
    assert _state(server, col) == before


@pytest.mark.parametrize("op", ["upsert", "update"])
def test_batch_rows_limit_holds_for_upsert_and_update(remote, op) -> None:
    server, _, col = remote(max_batch_rows=2)
    before = _state(server, col)
    with pytest.raises(BatchSizeExceededError) as info:
        getattr(col, op)(ids=["a", "b", "z"], embeddings=_vectors(3, start=7))
    _assert_quota(info.value, "max_batch_rows", 2, 3, BatchSizeExceededError)
    assert _state(server, col) == before


def test_dimension_limit(serve, mint, connect) -> None:
    server = serve(max_dimension=4)
    col = connect(server, mint()).create_collection("dims")
    with pytest.raises(QuotaError) as info:
        col.add(ids=["a"], embeddings=_vectors(1, dim=5))
    _assert_quota(info.value, "max_dimension", 4, 5)
    assert col.count() == 0
    assert server.engine.collection(col.id).log.last_seq == 0
    assert server.engine.collection(col.id).record.dimension is None  # not fixed by the refusal
    col.add(ids=["a"], embeddings=_vectors(1, dim=4))  # at the limit is allowed
    assert col.count() == 1


# Read limits --------------------------------------------------------------------------------
MANY = {"$and": [{"k": "v"}, {"n": 1}, {"n": {"$gt": 0}}]}


def test_where_predicates_limit_on_get_query_and_delete(remote) -> None:
    server, _, col = remote(max_where_predicates=2)
    value = count_predicates(MANY, None)
    assert value == 3
    before = _state(server, col)
    calls: list[Callable[[], Any]] = [
        lambda: col.get(where=MANY),
        lambda: col.query(query_embeddings=_vectors(1), n_results=1, where=MANY),
        lambda: col.get(where={"k": "v"}, where_document={"$and": [{"$contains": "o"}] * 2}),
        lambda: col.delete(where=MANY),
    ]
    for call in calls:
        with pytest.raises(QuotaError) as info:
            call()
        _assert_quota(info.value, "max_where_predicates", 2, 3)
    assert _state(server, col) == before
    assert col.get(where={"$and": [{"k": "v"}, {"n": 1}]})["ids"] == []  # 2 predicates pass


def test_where_depth_limit_on_get_query_and_delete(remote) -> None:
    server, _, col = remote(max_where_depth=2)
    deep = {"$and": [{"n": {"$gt": 0}}, {"k": "v"}]}  # $and > n > $gt: depth 3
    before = _state(server, col)
    calls: list[Callable[[], Any]] = [
        lambda: col.get(where=deep),
        lambda: col.query(query_embeddings=_vectors(1), n_results=1, where=deep),
        lambda: col.get(where_document={"$and": [{"$or": [{"$contains": "o"}]}]}),
        lambda: col.delete(where=deep),
    ]
    for call in calls:
        with pytest.raises(QuotaError) as info:
            call()
        _assert_quota(info.value, "max_where_depth", 2, 3)
    assert _state(server, col) == before
    assert col.get(where={"$and": [{"k": "v"}, {"n": 1}]})["ids"] == []  # depth 2 passes


def test_n_results_limit(remote) -> None:
    server, _, col = remote(max_n_results=3)
    with pytest.raises(QuotaError) as info:
        col.query(query_embeddings=_vectors(1), n_results=4)
    _assert_quota(info.value, "max_n_results", 3, 4)
    assert len(col.query(query_embeddings=_vectors(1), n_results=3)["ids"][0]) == 2


def test_get_limit(remote) -> None:
    server, _, col = remote(max_get_limit=5)
    with pytest.raises(QuotaError) as info:
        col.get(limit=6)
    _assert_quota(info.value, "max_get_limit", 5, 6)
    assert col.get(limit=5)["ids"] == ["a", "b"]


def test_query_embeddings_limit(remote) -> None:
    server, _, col = remote(max_query_embeddings=2)
    with pytest.raises(QuotaError) as info:
        col.query(query_embeddings=_vectors(3), n_results=1)
    _assert_quota(info.value, "max_query_embeddings", 2, 3)
    assert len(col.query(query_embeddings=_vectors(2), n_results=1)["ids"]) == 2


@pytest.mark.parametrize(
    ("limit", "plans"),
    [
        ("max_searches", [{}] * 3),
        ("max_search_ranks", [{"rank": {"$rrf": {"ranks": [{"$bm25": {"query": "one"}}] * 2}}}]),
        ("max_text_query_terms", [{"rank": {"$bm25": {"query": "one two one three"}}}]),
    ],
)
def test_search_limits(remote, limit: str, plans: list[dict[str, Any]]) -> None:
    """Enforced by the server itself (the plans go over the raw transport, past the SDK)."""
    server, client, col = remote(**{limit: 2})
    with pytest.raises(QuotaError) as info:
        client._transport.search(col.id, plans)
    _assert_quota(info.value, limit, 2, 3)
    allowed = plans[:2] if limit == "max_searches" else [{}]
    assert len(client._transport.search(col.id, allowed)) == len(allowed)


# Server quotas ------------------------------------------------------------------------------
def _batch(ids: list[str], start: int) -> Any:
    return to_write_batch(Op.ADD, ids, _vectors(len(ids), start=start), documents=ids)


def test_stream_bytes_keeps_the_acknowledged_batches(serve, mint) -> None:
    batches = [_batch([f"s{b}-{i}" for i in range(4)], start=4 * b) for b in range(3)]
    size = batches[0].get_total_buffer_size()
    maximum = int(size * 2.5)  # the third batch takes the stream past it
    server = serve(max_stream_bytes=maximum)
    transport = FlightTransport(server.uri, mint())
    try:
        record = transport.create_collection(
            "stream", None, None, False, "default_tenant", "default_database"
        )
        acks: list[tuple[int, int]] = []
        with pytest.raises(QuotaError) as info:
            transport.write_stream(
                record.id,
                Op.ADD,
                batches,
                batches[0].schema,
                lambda seq, rows: acks.append((seq, rows)),
            )
        _assert_quota(info.value, "max_stream_bytes", maximum)
        assert info.value.value > 2 * size
        assert [rows for _, rows in acks] == [4, 4]
        assert server.engine.collection(record.id).log.last_seq == acks[-1][0]
        assert transport.count(record.id) == 8
        kept = (
            transport.get(record.id, None, None, None, None, None, set()).column("id").to_pylist()
        )
        assert kept == [f"s{b}-{i}" for b in range(2) for i in range(4)]
        # a new stream starts a new budget
        assert len(transport.write_stream(record.id, Op.ADD, batches[2:], batches[0].schema)) == 1
        assert transport.count(record.id) == 12
    finally:
        transport.close()


def test_stream_bytes_limit_on_a_query_exchange(remote) -> None:
    server, _, col = remote(max_stream_bytes=1000)
    with pytest.raises(QuotaError) as info:
        col.query(query_embeddings=_vectors(100), n_results=1)  # 1,600 bytes of floats
    _assert_quota(info.value, "max_stream_bytes", 1000)
    assert len(col.query(query_embeddings=_vectors(10), n_results=1)["ids"]) == 10


def test_stream_bytes_limit_on_a_filtered_delete(remote) -> None:
    server, _, col = remote(max_stream_bytes=2000)
    before = _state(server, col)
    ids = [f"id-{i:04d}" for i in range(300)] + ["a"]
    with pytest.raises(QuotaError) as info:
        col.delete(ids=ids, where={"k": "v"})
    _assert_quota(info.value, "max_stream_bytes", 2000)
    assert _state(server, col) == before


def test_request_bytes_limit(remote) -> None:
    server, client, col = remote(max_request_bytes=2000)
    before = _state(server, col)
    long_ids = [f"{i:08d}" for i in range(300)]  # > 3,000 bytes of JSON
    big = {"k": "x" * 3000}
    calls: list[Callable[[], Any]] = [
        lambda: col.get(ids=long_ids),  # DoGet ticket
        lambda: col.query(query_embeddings=_vectors(1), n_results=1, ids=long_ids),  # DoExchange
        lambda: col.delete(where=big),  # DoPut command
        lambda: client.create_collection("big", metadata=big),  # DoAction body
    ]
    for call in calls:
        with pytest.raises(QuotaError) as info:
            call()
        _assert_quota(info.value, "max_request_bytes", 2000)
    assert _state(server, col) == before
    assert client.count_collections() == 1


def test_collections_per_tenant(serve, mint, connect) -> None:
    server = serve(max_collections_per_tenant=2)
    client = connect(server, mint(tenant="*"))
    client.create_collection("one")
    client.create_database("other")
    client.set_database("other")
    client.create_collection("two")  # counted across the tenant's databases
    with pytest.raises(QuotaError) as info:
        client.create_collection("three")
    _assert_quota(info.value, "max_collections_per_tenant", 2, 3)
    assert "default_tenant" in str(info.value)
    with pytest.raises(QuotaError):
        client.get_or_create_collection("three")
    assert client.get_or_create_collection("two").name == "two"  # an existing one is no new one
    assert client.count_collections() == 1
    client.set_database("default_database")
    assert [c.name for c in client.list_collections()] == ["one"]
    # another tenant has its own quota
    client.create_tenant("tenant2")
    client.create_database("default_database", tenant="tenant2")
    client.set_tenant("tenant2")
    client.create_collection("one")
    client.create_collection("two")
    with pytest.raises(QuotaError):
        client.create_collection("three")
    # deleting one frees room
    client.delete_collection("two")
    client.create_collection("three")


def test_records_per_collection(remote) -> None:
    server, client, col = remote(max_records_per_collection=3)
    before = _state(server, col)
    with pytest.raises(QuotaError) as info:
        col.add(ids=["x", "y"], embeddings=_vectors(2, start=5))
    _assert_quota(info.value, "max_records_per_collection", 3, 4)
    with pytest.raises(QuotaError) as info:
        col.upsert(ids=["x", "y"], embeddings=_vectors(2, start=5))
    _assert_quota(info.value, "max_records_per_collection", 3, 4)
    assert _state(server, col) == before
    bare = client.get_collection(col.name, embedding_function=None)  # documents alone: kept
    bare.update(ids=["a", "b"], documents=["uno", "dos"])  # updates add no records
    col.add(ids=["x"], embeddings=_vectors(1, start=5))
    assert col.count() == 3
    col.delete(ids=["a"])
    col.upsert(ids=["y"], embeddings=_vectors(1, start=6))
    assert col.count() == 3


def test_every_limit_is_tested_here() -> None:
    tested = {c[0] for c in WRITE_CASES} | {
        "max_dimension",
        "max_where_predicates",
        "max_where_depth",
        "max_n_results",
        "max_get_limit",
        "max_query_embeddings",
        "max_searches",
        "max_search_ranks",
        "max_text_query_terms",
        "max_stream_bytes",
        "max_request_bytes",
        "max_collections_per_tenant",
        "max_records_per_collection",
    }
    rates = {n for n in LIMITS if n.startswith("rate_")}  # tests/server/test_rate_limits.py
    sql = {  # tests/sql/test_sql_limits.py, local and over a server
        "max_sql_result_rows",
        "max_sql_result_bytes",
        "sql_timeout_seconds",
        "max_sql_memory_bytes",
        # tests/sql/test_sql_budget.py
        "sql_memory_bytes",
        "sql_max_concurrent",
        "sql_queue_seconds",
        "max_sql_nesting",
    }
    hnsw = {n for n in LIMITS if n.startswith("max_hnsw_")}  # tests/server/test_hnsw_limits.py
    hnsw.add("max_compaction_memory_bytes")  # tests/server/test_compaction_budget.py
    assert tested | rates | sql | hnsw == set(LIMITS)
