"""The SQL sandbox: read-only, no files or network, configuration locked, one tenant's database.

Every test runs [local] and [remote] (a real Flight server): refusals are typed FletchErrors with
the same message both ways, nothing is written, and the server keeps serving afterwards.
"""

from __future__ import annotations

import uuid
from pathlib import Path

import fletchdb
import pyarrow as pa
import pytest
from fletchdb.errors import InvalidArgumentError, NotAllowedError

from tests.api.conftest import engine_of

# statement -> the statement type DuckDB's parser gives it ({col} is a collection's name)
REFUSED_STATEMENTS = {
    "COPY {col} TO '{tmp}/out.csv'": "COPY",
    "COPY (SELECT 1) TO '{tmp}/out.parquet' (FORMAT parquet)": "COPY",
    "EXPORT DATABASE '{tmp}/export'": "EXPORT",
    "ATTACH '{tmp}/other.duckdb' AS other": "ATTACH",
    "DETACH memory": "DETACH",
    "INSTALL httpfs": "LOAD",
    "LOAD json": "LOAD",
    "SET threads = 1": "SET",
    "SET enable_external_access = true": "SET",
    "RESET memory_limit": "SET",
    "USE memory": "SET",
    "PRAGMA enable_profiling": "PRAGMA",
    "CALL pragma_version()": "CALL",
    "CHECKPOINT": "CALL",
    "INSERT INTO {col} (id) VALUES ('intruder')": "INSERT",
    "UPDATE {col} SET document = 'changed'": "UPDATE",
    "DELETE FROM {col}": "DELETE",
    "CREATE TABLE t AS SELECT * FROM {col}": "CREATE",
    "CREATE OR REPLACE VIEW {col} AS SELECT 1 AS id": "CREATE",
    "CREATE MACRO leak() AS 1": "CREATE",
    "CREATE SECRET s (TYPE s3, KEY_ID 'k', SECRET 's')": "CREATE",
    "DROP VIEW {col}": "DROP",
    "ALTER VIEW {col} RENAME TO x": "ALTER",
    "BEGIN TRANSACTION": "TRANSACTION",
    "VACUUM": "VACUUM",
    "EXPLAIN SELECT * FROM {col}": "EXPLAIN",
    "PREPARE p AS SELECT 1": "PREPARE",
    "PIVOT {col} ON document": "MULTI",
}

# SELECTs that would reach files or the network
NO_ACCESS = [
    "SELECT * FROM read_csv('/etc/passwd')",
    "SELECT * FROM read_csv_auto('/etc/passwd', header = false)",
    "SELECT * FROM read_text('/etc/passwd')",
    "SELECT * FROM read_blob('/etc/hostname')",
    "SELECT * FROM glob('/etc/*')",
    "SELECT * FROM read_json('/etc/os-release')",
    "SELECT * FROM read_parquet('https://example.com/x.parquet')",
    "SELECT * FROM read_csv('{tmp}/data/catalog.duckdb')",
    "SELECT * FROM sniff_csv('/etc/passwd')",
    "SELECT * FROM 'victim.csv'",
]


@pytest.fixture
def target(client: fletchdb.Client) -> fletchdb.Collection:
    col = client.create_collection("victim")
    col.add(ids=["a", "b"], embeddings=[[1.0], [2.0]], documents=["one", "two"])
    return col


def _contents(client: fletchdb.Client, col: fletchdb.Collection) -> object:
    return (
        col.get(include=["documents", "embeddings"])["ids"],
        col.count(),
        [c.name for c in client.list_collections()],
    )


@pytest.mark.parametrize("statement", sorted(REFUSED_STATEMENTS))
def test_statements_other_than_one_select_are_refused(
    client, target, tmp_path: Path, statement: str
) -> None:
    before = _contents(client, target)
    text = statement.format(col=target.name, tmp=tmp_path)
    with pytest.raises(NotAllowedError) as info:
        client.sql(text)
    kind = REFUSED_STATEMENTS[statement]
    assert str(info.value) == (
        f"SQL over collections is read-only: {kind} statements are refused "
        "(only a single SELECT is allowed)"
    )
    assert info.value.details == {"statement": kind}
    assert _contents(client, target) == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["data"]  # no file was written
    assert client.sql(f"SELECT count(*) AS n FROM {target.name}").to_pylist() == [{"n": 2}]


@pytest.mark.parametrize("query", NO_ACCESS)
def test_selects_cannot_reach_files_or_the_network(
    client, target, tmp_path: Path, query: str
) -> None:
    with pytest.raises(NotAllowedError) as info:
        client.sql(query.format(tmp=tmp_path))
    message = str(info.value)
    assert message.startswith("SQL over collections has no file or network access: ")
    assert "disabled by configuration" in message
    assert "root:" not in message  # nothing of the file leaks into the message
    assert client.heartbeat() > 0


def test_a_quoted_path_is_only_a_missing_table(client) -> None:
    with pytest.raises(InvalidArgumentError) as info:
        client.sql("SELECT * FROM '/etc/passwd'")
    assert (
        str(info.value) == "SQL error: Catalog Error: Table with name /etc/passwd does not exist!"
    )


def test_more_than_one_statement_is_refused(client, target) -> None:
    for text in (f"SELECT 1; DELETE FROM {target.name}", "SELECT 1; SELECT 2", "", "-- none"):
        with pytest.raises(InvalidArgumentError, match="exactly one statement, got [02]"):
            client.sql(text)
    assert target.count() == 2


def test_the_configuration_is_locked_down(client) -> None:
    got = client.sql(
        "SELECT current_setting('enable_external_access') AS ext, "
        "current_setting('lock_configuration') AS locked, "
        "current_setting('autoload_known_extensions') AS autoload, "
        "current_setting('autoinstall_known_extensions') AS autoinstall, "
        "current_setting('allow_community_extensions') AS community, "
        "current_setting('allow_unsigned_extensions') AS unsigned, "
        "current_setting('python_enable_replacements') AS replacements, "
        "current_setting('temp_directory') AS temp"
    ).to_pylist()
    assert got == [
        {"ext": False, "locked": True, "autoload": False, "autoinstall": False,
         "community": False, "unsigned": False, "replacements": False, "temp": ""}
    ]  # fmt: skip


def test_python_objects_are_not_scanned(client) -> None:
    leak = pa.table({"secret": ["s3cr3t"]})  # a replacement scan would find this local
    with pytest.raises(InvalidArgumentError, match="Table with name leak does not exist"):
        client.sql("SELECT * FROM leak")
    assert leak.num_rows == 1


def test_the_catalog_and_filter_tables_are_not_visible(client, target) -> None:
    target.get(where={"x": 1})  # makes the executor build its filter table
    for name in ("collections", "tenants", "databases", "versions", "segments"):
        with pytest.raises(InvalidArgumentError, match=f"Table with name {name} does not exist"):
            client.sql(f"SELECT * FROM {name}")
    views = client.sql("SELECT view_name FROM duckdb_views() WHERE NOT internal")
    assert views.num_rows == 0
    tables = client.sql("SELECT table_name FROM duckdb_tables()")
    assert tables.num_rows == 0


def test_a_query_sees_only_the_collections_it_names(client, target) -> None:
    other = client.create_collection("bystander")
    other.add(ids=["z"], embeddings=[[1.0]])
    client.sql("SELECT * FROM bystander")
    got = client.sql(
        "SELECT view_name FROM duckdb_views() JOIN victim ON true WHERE NOT internal"
    ).column("view_name")
    assert set(got.to_pylist()) == {"victim"}


def test_another_tenants_collection_is_a_missing_table(client, target) -> None:
    client.create_tenant("other_tenant")
    client.create_database("default_database", tenant="other_tenant")
    client.set_tenant("other_tenant")
    client.create_collection("secret_col").add(ids=["s"], embeddings=[[1.0]], documents=["s3"])
    client.set_tenant("default_tenant")
    with pytest.raises(InvalidArgumentError) as hidden:
        client.sql("SELECT * FROM secret_col")
    with pytest.raises(InvalidArgumentError) as missing:
        client.sql("SELECT * FROM absent_col")
    assert type(hidden.value) is type(missing.value)
    assert str(hidden.value).replace("secret_col", "X") == str(missing.value).replace(
        "absent_col", "X"
    )
    assert "secret" not in str(missing.value)
    client.set_tenant("other_tenant")
    assert client.sql("SELECT document FROM secret_col").to_pylist() == [{"document": "s3"}]
    with pytest.raises(InvalidArgumentError, match="Table with name victim does not exist"):
        client.sql("SELECT * FROM victim")


@pytest.mark.parametrize(
    ("query", "params", "fragment"),
    [
        ("SELEC id FROM victim", None, 'Parser Error: syntax error at or near "SELEC"'),
        ("SELECT nope FROM victim", None, 'Referenced column "nope" not found'),
        ("SELECT no_such_fn(id) FROM victim", None, "no_such_fn does not exist"),
        ("SELECT id FROM victim WHERE id = ?", None, "parameter"),
        ("SELECT id FROM victim WHERE id = ?", [1, 2], "parameter"),
        ("SELECT id FROM victim WHERE id = $name", {"other": 1}, "name"),
        ("SELECT 'x'::INTEGER", None, "Conversion Error"),
        ("SELECT embedding + 1 FROM victim", None, "Binder Error"),
    ],
)
def test_bad_sql_is_an_invalid_argument_with_duckdbs_message(
    client, target, query: str, params: object, fragment: str
) -> None:
    with pytest.raises(InvalidArgumentError) as info:
        client.sql(query, params)  # type: ignore[arg-type]
    assert type(info.value) is InvalidArgumentError
    assert str(info.value).startswith("SQL error: ")
    assert fragment in str(info.value)
    assert "Traceback" not in str(info.value)


@pytest.mark.parametrize(
    ("params", "fragment"),
    [
        ({1, 2}, "must be a list"),
        ("abc", "must be a list"),
        ({1: "x"}, "must be a list"),
        ([float("nan")], "not a finite number"),
        ({"q": [1.0, float("inf")]}, "not a finite number"),
        ([object()], "parameters are JSON values"),
    ],
)
def test_parameters_must_be_json_values(client, target, params: object, fragment: str) -> None:
    with pytest.raises(InvalidArgumentError, match=fragment):
        client.sql("SELECT ?", params)  # type: ignore[arg-type]


def test_the_query_must_be_a_string(client) -> None:
    with pytest.raises(InvalidArgumentError, match="must be a string, got bytes"):
        client.sql(b"SELECT 1")  # type: ignore[arg-type]


def test_a_missing_database_is_not_found(client) -> None:
    client.create_database(f"gone{uuid.uuid4().hex[:6]}")
    engine = engine_of(client)
    with pytest.raises(fletchdb.errors.NotFoundError, match=r"Database \[nope\] not found"):
        engine.sql("SELECT 1", None, "default_tenant", "nope")
    with pytest.raises(fletchdb.errors.NotFoundError, match=r"Database \[default_database\]"):
        engine.sql("SELECT 1", None, "no_tenant", "default_database")
