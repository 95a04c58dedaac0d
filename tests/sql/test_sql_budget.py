"""client.sql's server-wide budget: query slots and the memory they share ([local] and [remote]).

Four concurrent reader queries once held 4.15 GiB, because the memory cap was per query only. Now
at most `sql_max_concurrent` run at once, each with sql_memory_bytes / sql_max_concurrent, and a
query that finds no slot within `sql_queue_seconds` is refused with a ServerBusyError.
The slots are held here by the test itself (the server runs in this process), so nothing depends
on how long a query takes.
"""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor
from contextlib import ExitStack

import fletchdb
import pytest
from fletchdb.errors import QuotaError, ServerBusyError, UnavailableError

from flight_server.config import Settings
from flight_server.executor.sql_budget import SqlSlots, query_memory
from tests.api.conftest import engine_of


def _slots(client: fletchdb.Client) -> SqlSlots:
    return engine_of(client).sql_sandbox.slots


def test_each_query_gets_its_share_of_the_memory(open_client, settings) -> None:
    client = open_client(settings(sql_memory_bytes=256 * 2**20, sql_max_concurrent=4))
    assert client.sql("SELECT current_setting('memory_limit') AS m").to_pylist() == [
        {"m": "64.0 MiB"}
    ]
    with pytest.raises(QuotaError) as info:  # a sort of ~800 MB, with nowhere to spill
        client.sql("SELECT range::VARCHAR || 'padding' AS s FROM range(50000000) ORDER BY s DESC")
    assert (info.value.limit, info.value.maximum) == ("sql_memory_bytes", 64 * 2**20)
    assert client.sql("SELECT 1 AS one").to_pylist() == [{"one": 1}]


def test_the_defaults_bound_all_queries_together() -> None:
    s = Settings()
    assert query_memory(s) == (512 * 2**20, "sql_memory_bytes")
    assert query_memory(s)[0] * s.sql_max_concurrent <= s.sql_memory_bytes
    assert query_memory(s.replace(max_sql_memory_bytes=2**20)) == (2**20, "max_sql_memory_bytes")


def test_a_query_without_a_free_slot_is_refused(open_client, settings) -> None:
    client = open_client(settings(sql_max_concurrent=2, sql_queue_seconds=0.05))
    slots = _slots(client)
    with ExitStack() as held:
        for _ in range(2):
            held.enter_context(slots.slot())
        with pytest.raises(ServerBusyError) as info:
            client.sql("SELECT 1 AS one")
    err = info.value
    assert isinstance(err, UnavailableError)
    assert (err.code, err.limit, err.maximum) == ("server_busy", "sql_max_concurrent", 2)
    assert str(err) == (
        "SQL query: all 2 slots of sql_max_concurrent stayed busy for 0.05 s; retry later"
    )
    assert client.sql("SELECT 1 AS one").to_pylist() == [{"one": 1}]  # freed: it runs again


def test_a_queued_query_runs_once_a_slot_frees(open_client, settings) -> None:
    client = open_client(settings(sql_max_concurrent=1, sql_queue_seconds=60.0))
    slots = _slots(client)
    waited = threading.Event()
    with ThreadPoolExecutor(1) as pool:
        with slots.slot():
            future = pool.submit(client.sql, "SELECT 42 AS answer")
            while slots.waiting == 0 and not future.done():  # until it queues (no timing)
                waited.wait(0.005)
            assert slots.waiting == 1 and slots.running == 1
        assert future.result(timeout=60).to_pylist() == [{"answer": 42}]


def test_parallel_queries_never_pass_the_slots(open_client, settings) -> None:
    client = open_client(settings(sql_max_concurrent=2, sql_queue_seconds=60.0))
    col = client.create_collection("nums")
    col.add(ids=[str(i) for i in range(100)], embeddings=[[float(i)] for i in range(100)])
    query = "SELECT count(*) AS n FROM nums, range(20000)"
    with ThreadPoolExecutor(6) as pool:
        results = list(pool.map(lambda _: client.sql(query).to_pylist(), range(12)))
    assert results == [[{"n": 2_000_000}]] * 12
    slots = _slots(client)
    assert 1 <= slots.peak <= 2 and slots.running == 0 and slots.waiting == 0


def test_sql_max_concurrent_must_be_positive(settings) -> None:
    with pytest.raises(fletchdb.errors.InvalidArgumentError, match="sql_max_concurrent"):
        SqlSlots(settings(sql_max_concurrent=0))


@pytest.mark.parametrize("opens", [257, 3000, 50_000])
def test_unclosed_parentheses_are_refused_before_duckdb_parses_them(
    open_client, settings, opens: int
) -> None:
    # found by tests/server/test_abuse.py: DuckDB's parser took 1.3 GB for 3,000 unclosed `(`
    # and tens of GB for 50,000, which the kernel's OOM killer ended (server and all)
    client = open_client(settings())
    with pytest.raises(QuotaError) as info:
        client.sql("SELECT " + "(" * opens + "1")
    assert (info.value.limit, info.value.value, info.value.maximum) == (
        "max_sql_nesting",
        opens,
        256,
    )
    assert client.sql("SELECT " + "(" * 256 + "1" + ")" * 256 + " AS one").to_pylist() == [
        {"one": 1}
    ]


def test_parentheses_inside_quotes_do_not_count(open_client, settings) -> None:
    client = open_client(settings())
    text = "(" * 1000
    got = client.sql(f'SELECT \'{text}\' AS s, "{text[:10]}" FROM (SELECT 1 AS "{text[:10]}")')
    assert got.column("s").to_pylist() == [text]
