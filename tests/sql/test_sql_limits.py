"""client.sql's limits: result rows and bytes, the time budget and DuckDB memory ([local] and [remote]).

Each violation is a QuotaError naming the limit, the value and the maximum; the engine (and the
server) keep serving, and the next query runs in a clean sandbox.
"""

from __future__ import annotations

import fletchdb
import pytest
from fletchdb.errors import InvalidArgumentError, QuotaError


def _check(error: QuotaError, limit: str, maximum: object) -> None:
    assert isinstance(error, InvalidArgumentError)
    assert (error.limit, error.maximum) == (limit, maximum)
    assert error.details == {"limit": limit, "value": error.value, "maximum": maximum}
    assert f"over the limit {limit}={maximum}" in str(error)


def test_max_sql_result_rows(open_client, settings) -> None:
    client = open_client(settings(max_sql_result_rows=10))
    assert client.sql("SELECT * FROM range(10)").num_rows == 10
    with pytest.raises(QuotaError) as info:
        client.sql("SELECT * FROM range(11)")
    _check(info.value, "max_sql_result_rows", 10)
    assert info.value.value == 11
    assert str(info.value) == "Rows of the SQL result is 11, over the limit max_sql_result_rows=10"
    with pytest.raises(QuotaError):
        client.sql("SELECT * FROM range(1000000000000)")  # stops reading at the limit
    assert client.sql("SELECT 1 AS one").to_pylist() == [{"one": 1}]


def test_max_sql_result_bytes(open_client, settings) -> None:
    client = open_client(settings(max_sql_result_bytes=100_000))
    assert client.sql("SELECT range AS x FROM range(1000)").num_rows == 1000  # 8 kB
    with pytest.raises(QuotaError) as info:
        client.sql("SELECT range AS x FROM range(100000)")  # 800 kB
    _check(info.value, "max_sql_result_bytes", 100_000)
    assert info.value.value > 100_000
    assert client.sql("SELECT 1 AS one").to_pylist() == [{"one": 1}]


def test_sql_timeout_seconds(open_client, settings) -> None:
    client = open_client(settings(sql_timeout_seconds=0.2))
    col = client.create_collection("ccc")
    col.add(ids=["a"], embeddings=[[1.0]])
    # days of work: only the interrupt can end it
    with pytest.raises(QuotaError) as info:
        client.sql("SELECT count(*) FROM range(1000000000000000) a, ccc")
    _check(info.value, "sql_timeout_seconds", 0.2)
    assert info.value.value >= 0.2
    assert str(info.value).startswith("Seconds of the SQL query is ")
    assert client.sql("SELECT count(*) AS n FROM ccc").to_pylist() == [{"n": 1}]


def test_max_sql_memory_bytes(open_client, settings) -> None:
    maximum = 64 * 2**20
    client = open_client(settings(max_sql_memory_bytes=maximum))
    assert client.sql("SELECT current_setting('memory_limit') AS m").to_pylist() == [
        {"m": "64.0 MiB"}
    ]
    with pytest.raises(QuotaError) as info:  # a sort of ~800 MB, with nowhere to spill
        client.sql("SELECT range::VARCHAR || 'padding' AS s FROM range(50000000) ORDER BY s DESC")
    _check(info.value, "max_sql_memory_bytes", maximum)
    assert info.value.value == f"more than {maximum}"
    assert client.sql("SELECT 1 AS one").to_pylist() == [{"one": 1}]


def test_the_server_reports_the_sql_limits(open_client, settings) -> None:
    client: fletchdb.Client = open_client(settings(max_sql_result_rows=7))
    limits = client._transport.settings
    assert limits.max_sql_result_rows == 7
    assert limits.sql_timeout_seconds == 30.0
