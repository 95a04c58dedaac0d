"""Numbered migrations and the named-query loader."""

from __future__ import annotations

import itertools
from pathlib import Path

import duckdb
import pytest

from flight_server.catalog import DuckDBCatalog
from flight_server.catalog.migrations import (
    CATALOG_MIGRATIONS,
    applied_migrations,
    apply_migrations,
    discover_migrations,
)
from flight_server.catalog.queries import load_queries, parse_queries
from flight_server.errors import InternalError

_counter = itertools.count()


@pytest.fixture
def make_package(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):  # type: ignore[no-untyped-def]
    """Write {file name: SQL} into a fresh importable package and return its dotted name."""
    root = tmp_path / "pkgs"
    root.mkdir()
    monkeypatch.syspath_prepend(str(root))

    def make(files: dict[str, str]) -> tuple[str, Path]:
        name = f"fletch_test_migrations_{next(_counter)}_{tmp_path.name}".replace("-", "_")
        folder = root / name
        folder.mkdir()
        (folder / "__init__.py").write_text("")
        for file_name, sql in files.items():
            (folder / file_name).write_text(sql)
        return name, folder

    return make


def tables(con: duckdb.DuckDBPyConnection) -> set[str]:
    """Names of the tables in the main schema."""
    rows = con.execute("SELECT table_name FROM information_schema.tables").fetchall()
    return {str(r[0]) for r in rows}


def test_catalog_migrations_are_numbered_from_one() -> None:
    found = discover_migrations(CATALOG_MIGRATIONS)
    assert [m.version for m in found] == list(range(1, len(found) + 1))
    assert found[0].name == "0001_init.sql"
    assert "CREATE TABLE collections" in found[0].sql


def test_migrations_applied_once(catalog_path: Path) -> None:
    first = DuckDBCatalog(catalog_path)
    expected = [m.version for m in discover_migrations()]
    assert first.applied_migrations == expected
    first.close()
    second = DuckDBCatalog(catalog_path)
    assert second.applied_migrations == []
    second.close()
    con = duckdb.connect(str(catalog_path))
    try:
        rows = con.execute(
            "SELECT version, name FROM schema_migrations ORDER BY version"
        ).fetchall()
        assert rows == [(m.version, m.name) for m in discover_migrations()]
        assert {"tenants", "databases", "collections", "index_versions"} <= tables(con)
    finally:
        con.close()


def test_apply_in_numeric_order_skipping_other_files(make_package) -> None:  # type: ignore[no-untyped-def]
    package, _ = make_package(
        {
            "0010_c.sql": "INSERT INTO t VALUES (10);",
            "0002_b.sql": "INSERT INTO t VALUES (2);",
            "0001_a.sql": "CREATE TABLE t (x INTEGER);\nINSERT INTO t VALUES (1);",
            "notes.sql": "this is not a migration",
            "0003_x.txt": "nor is this",
        }
    )
    con = duckdb.connect(":memory:")
    assert apply_migrations(con, package) == [1, 2, 10]
    assert con.execute("SELECT x FROM t ORDER BY rowid").fetchall() == [(1,), (2,), (10,)]
    assert apply_migrations(con, package) == []
    assert sorted(applied_migrations(con)) == [1, 2, 10]


def test_failed_migration_rolls_back_and_is_retried(make_package) -> None:  # type: ignore[no-untyped-def]
    package, folder = make_package(
        {
            "0001_a.sql": "CREATE TABLE a (x INTEGER);",
            "0002_b.sql": "CREATE TABLE b (x INTEGER);\nINSERT INTO missing_table VALUES (1);",
        }
    )
    con = duckdb.connect(":memory:")
    with pytest.raises(InternalError, match="0002_b.sql failed"):
        apply_migrations(con, package)
    assert list(applied_migrations(con)) == [1]
    assert "a" in tables(con) and "b" not in tables(con)  # 0002's DDL was rolled back
    (folder / "0002_b.sql").write_text("CREATE TABLE b (x INTEGER);")
    assert apply_migrations(con, package) == [2]
    assert "b" in tables(con)


def test_edited_applied_migration_is_refused(make_package) -> None:  # type: ignore[no-untyped-def]
    package, folder = make_package({"0001_a.sql": "CREATE TABLE a (x INTEGER);"})
    con = duckdb.connect(":memory:")
    apply_migrations(con, package)
    (folder / "0001_a.sql").write_text("CREATE TABLE a (x BIGINT);")
    with pytest.raises(InternalError, match="0001_a.sql was changed after it was applied"):
        apply_migrations(con, package)


def test_catalog_from_newer_code_is_refused(make_package) -> None:  # type: ignore[no-untyped-def]
    package, folder = make_package({"0001_a.sql": "CREATE TABLE a (x INTEGER);"})
    con = duckdb.connect(":memory:")
    (folder / "0002_b.sql").write_text("CREATE TABLE b (x INTEGER);")
    apply_migrations(con, package)
    (folder / "0002_b.sql").unlink()
    with pytest.raises(InternalError, match="newer version"):
        apply_migrations(con, package)


def test_duplicate_migration_numbers_are_refused(make_package) -> None:  # type: ignore[no-untyped-def]
    package, _ = make_package({"0001_a.sql": "SELECT 1;", "0001_b.sql": "SELECT 2;"})
    with pytest.raises(ValueError, match="two migrations numbered 0001"):
        discover_migrations(package)


# Named queries ---------------------------------------------------------------------------------
def test_parse_queries() -> None:
    text = """
-- a file comment
-- name: first
SELECT 1;

-- name: second
-- a comment inside the section is dropped
SELECT *
FROM t
WHERE x = ?
"""
    assert parse_queries(text) == {"first": "SELECT 1", "second": "SELECT *\nFROM t\nWHERE x = ?"}


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("-- name: a\nSELECT 1\n-- name: a\nSELECT 2", "duplicate query name 'a'"),
        ("-- name: a\n-- name: b\nSELECT 1", "query 'a' is empty"),
        ("-- name: bad-name\nSELECT 1", "invalid query name 'bad-name'"),
    ],
)
def test_parse_queries_rejects_bad_files(text: str, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        parse_queries(text)


def test_catalog_queries_load_and_prepare() -> None:
    queries = load_queries("flight_server._sql.queries", "catalog.sql")
    assert {"select_collection_by_name", "advance_current_version", "list_databases"} <= set(
        queries
    )
    queries.clear()  # callers get a copy; the cached parse is untouched
    assert load_queries("flight_server._sql.queries", "catalog.sql")
    con = duckdb.connect(":memory:")
    for migration in discover_migrations():
        con.execute(migration.sql)
    for sql in load_queries("flight_server._sql.queries", "catalog.sql").values():
        # Every named query binds against the schema: EXPLAIN checks tables, columns and types.
        if sql.startswith("CREATE"):
            con.execute(sql)
        else:
            con.execute(f"EXPLAIN {sql}", [None] * sql.count("?"))
