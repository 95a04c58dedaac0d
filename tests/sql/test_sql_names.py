"""Which collections a query names (DuckDB's parse tree), and that only those are materialized."""

from __future__ import annotations

from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor

import duckdb
import fletchdb
import pyarrow as pa
import pytest
from fletchdb.errors import InvalidArgumentError

from flight_server.config import Settings
from flight_server.executor.sql import (
    SqlSandbox,
    match_collections,
    referenced_tables,
    sandbox_config,
)
from flight_server.executor.sql_tables import SqlTable


@pytest.fixture
def cursor() -> Iterator[duckdb.DuckDBPyConnection]:
    db = duckdb.connect(":memory:", config=sandbox_config(Settings()))
    yield db.cursor()
    db.close()


@pytest.mark.parametrize(
    ("query", "names"),
    [
        ("SELECT 1", []),
        ("SELECT * FROM docs", ["docs"]),
        ('SELECT * FROM "My.Docs-1"', ["My.Docs-1"]),
        ("SELECT * FROM a JOIN b USING (id)", ["a", "b"]),
        ("SELECT (SELECT count(*) FROM s) FROM t WHERE id IN (SELECT id FROM u)", ["s", "t", "u"]),
        ("WITH x AS (SELECT * FROM base) SELECT * FROM x", ["base", "x"]),
        ("SELECT * FROM main.docs, memory.main.more", ["docs", "more"]),
        ("SELECT * FROM other_schema.docs, other_db.main.more", []),
        ("SELECT * FROM a, LATERAL (SELECT * FROM b WHERE b.x = a.x)", ["a", "b"]),
        ("SELECT * FROM docs UNION ALL SELECT * FROM docs", ["docs"]),
        ("SELECT * FROM range(3)", []),
        ("FROM docs", ["docs"]),
    ],
)
def test_referenced_tables(cursor, query: str, names: list[str]) -> None:
    assert sorted(referenced_tables(cursor, query)) == sorted(names)


def test_a_deeply_nested_query_is_parsed_without_recursion(cursor) -> None:
    query = "SELECT " + "(" * 200 + "1" + ")" * 200 + " FROM t"
    assert referenced_tables(cursor, query) == ["t"]


def test_only_the_named_collections_are_resolved() -> None:
    asked: list[list[str]] = []

    def resolve(names: list[str]) -> dict[str, SqlTable]:
        asked.append(sorted(names))
        arrow = pa.table({"c0": ["a", "b"]})
        return {n: SqlTable(arrow, 'c0 AS "id"', None, ("id",)) for n in names if n != "absent"}

    sandbox = SqlSandbox(Settings())
    try:
        assert sandbox.run("SELECT count(*) AS n FROM t1", None, resolve).to_pylist() == [{"n": 2}]
        got = sandbox.run("SELECT * FROM t2 JOIN t3 USING (id) ORDER BY id", None, resolve)
        assert got.column("id").to_pylist() == ["a", "b"]
        with pytest.raises(InvalidArgumentError, match="Table with name absent does not exist"):
            sandbox.run("SELECT * FROM absent", None, resolve)
        assert sandbox.run("SELECT 42 AS x", None, resolve).to_pylist() == [{"x": 42}]
    finally:
        sandbox.close()
    assert asked == [["t1"], ["t2", "t3"], ["absent"], []]


def test_a_database_with_many_collections_reads_only_the_named_one(tmp_path) -> None:
    client = fletchdb.PersistentClient(tmp_path / "data")
    for i in range(30):
        client.create_collection(f"col{i:02d}", embedding_function=None).add(
            ids=["a"], embeddings=[[float(i)]]
        )
    client.close()
    client = fletchdb.PersistentClient(
        tmp_path / "data", settings=Settings(compaction_enabled=False)
    )
    try:
        engine = client._transport

        def snapshotted() -> set[str]:
            return {h.record.name for h in engine._open.values() if h.state._snapshot is not None}

        assert snapshotted() == set()
        assert client.sql("SELECT embedding[1] AS e FROM col17").to_pylist() == [{"e": 17.0}]
        assert snapshotted() == {"col17"}
    finally:
        client.close()


def test_match_collections_prefers_the_exact_name() -> None:
    from flight_server.catalog.base import CollectionRecord

    def record(name: str) -> CollectionRecord:
        return CollectionRecord(
            id=name + "-id",
            name=name,
            tenant="t",
            database="d",
            dimension=None,
            configuration={},
            metadata=None,
        )

    everything = [record("Docs"), record("docs"), record("Other")]
    exact = {r.name: r for r in everything}
    listed: list[int] = []

    def listing() -> list[CollectionRecord]:
        listed.append(1)
        return everything

    assert match_collections(["docs"], exact.get, listing) == {"docs": exact["docs"]}
    assert listed == []  # an exact name needs no listing
    assert match_collections(["OTHER", "nope"], exact.get, listing) == {"Other": exact["Other"]}
    with pytest.raises(InvalidArgumentError, match="matches several collections"):
        match_collections(["DOCS"], exact.get, listing)


def test_concurrent_queries_of_two_tenants_see_only_their_own_rows() -> None:
    client = fletchdb.EphemeralClient()
    try:
        client.create_tenant("tenant2")
        client.create_database("default_database", tenant="tenant2")
        engine = client._transport
        for tenant in ("default_tenant", "tenant2"):
            client.set_tenant(tenant)
            rows = 500 if tenant == "tenant2" else 300
            client.create_collection("items", embedding_function=None).add(
                ids=[f"{tenant}-{i}" for i in range(rows)], embeddings=[[1.0]] * rows
            )
        expected = {"default_tenant": 300, "tenant2": 500}

        def run(tenant: str) -> tuple[str, list[dict[str, object]]]:
            query = "SELECT count(*) AS n, count(DISTINCT split_part(id, '-', 1)) AS t FROM items"
            return tenant, engine.sql(query, None, tenant, "default_database").to_pylist()

        with ThreadPoolExecutor(4) as pool:
            results = list(pool.map(run, ["default_tenant", "tenant2"] * 20))
        for tenant, rows in results:
            assert rows == [{"n": expected[tenant], "t": 1}], tenant
        assert len(engine.sql_sandbox._idle) <= 4
    finally:
        client.close()
