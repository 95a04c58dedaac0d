"""The client surface: lifecycle, collections, tenants and databases, persistence, the data-dir lock."""

from __future__ import annotations

import re
import subprocess
import sys
import time
import uuid
from pathlib import Path

import fletchdb
import numpy as np
import pytest
from fletchdb.errors import (
    ClosedError,
    InvalidArgumentError,
    NotAllowedError,
    NotFoundError,
    UniqueConstraintError,
)

from tests.api.conftest import engine_of

REPO = Path(__file__).resolve().parents[2]


# Lifecycle ---------------------------------------------------------------------------------------
def test_heartbeat_is_nanoseconds_since_epoch(client: fletchdb.Client) -> None:
    before = time.time_ns()
    beat = client.heartbeat()
    after = time.time_ns()
    assert type(beat) is int
    assert before <= beat <= after
    assert client.heartbeat() >= beat


def test_get_version_is_the_package_version(client: fletchdb.Client) -> None:
    version = client.get_version()
    assert isinstance(version, str)
    assert version == fletchdb.__version__
    assert re.fullmatch(r"\d+\.\d+\.\d+", version)


def test_get_max_batch_size_follows_settings(open_client, settings) -> None:
    assert open_client(settings(max_batch_rows=10)).get_max_batch_size() == 10


def test_close_is_idempotent_and_later_calls_raise_closed(open_client) -> None:
    c = open_client()
    col = c.create_collection("abc")
    c.close()
    c.close()
    with pytest.raises(ClosedError):
        c.heartbeat()
    with pytest.raises(ClosedError):
        c.list_collections()
    with pytest.raises(ClosedError):
        col.count()


@pytest.mark.local_only("reopens the data directory in this process")
def test_context_manager_closes_and_releases_the_directory(tmp_path: Path) -> None:
    with fletchdb.PersistentClient(path=tmp_path / "d") as c:
        c.create_collection("abc").add(ids=["x"], embeddings=[[1.0, 2.0]])
    with pytest.raises(ClosedError):
        c.heartbeat()
    with fletchdb.PersistentClient(path=tmp_path / "d") as again:  # the lock was released
        assert again.get_collection("abc").count() == 1


def test_context_manager_closes_on_error(open_client) -> None:
    with pytest.raises(RuntimeError), open_client() as c:
        raise RuntimeError("boom")
    with pytest.raises(ClosedError):
        c.heartbeat()


@pytest.mark.local_only("EphemeralClient's temporary storage is an in-process engine's")
def test_ephemeral_storage_is_removed_on_close() -> None:
    c = fletchdb.EphemeralClient()
    path = Path(c._transport.path)
    c.create_collection("abc").add(ids=["x"], embeddings=[[1.0, 2.0]])
    assert path.is_dir() and any(path.iterdir())
    c.close()
    assert not path.exists()


@pytest.mark.local_only("two EphemeralClients in this process, each with its own engine")
def test_ephemeral_clients_do_not_share_data(ephemeral: fletchdb.Client) -> None:
    ephemeral.create_collection("abc")
    other = fletchdb.EphemeralClient()
    try:
        assert other.count_collections() == 0
        assert Path(other._transport.path) != Path(ephemeral._transport.path)
    finally:
        other.close()


# Collections -------------------------------------------------------------------------------------
def _hnsw(col: fletchdb.Collection) -> dict:
    return col.configuration["hnsw"]


def test_default_configuration_is_chromas(client: fletchdb.Client) -> None:
    col = client.create_collection("plain")
    assert col.metadata is None
    hnsw = _hnsw(col)
    assert (hnsw["space"], hnsw["max_neighbors"]) == ("l2", 16)
    assert (hnsw["ef_construction"], hnsw["ef_search"]) == (100, 100)


def test_create_collection_with_configuration(client: fletchdb.Client) -> None:
    config = {"space": "ip", "max_neighbors": 12, "ef_construction": 64, "ef_search": 33}
    col = client.create_collection("cfg", configuration={"hnsw": config})
    assert {k: _hnsw(col)[k] for k in config} == config
    assert col.metadata is None
    fetched = client.get_collection("cfg")
    assert {k: _hnsw(fetched)[k] for k in config} == config


def test_create_collection_with_legacy_hnsw_metadata(client: fletchdb.Client) -> None:
    metadata = {
        "hnsw:space": "cosine",
        "hnsw:M": 8,
        "hnsw:construction_ef": 50,
        "hnsw:search_ef": 20,
        "topic": "news",
    }
    col = client.create_collection("legacy", metadata=metadata)
    expected = {"space": "cosine", "max_neighbors": 8, "ef_construction": 50, "ef_search": 20}
    assert {k: _hnsw(col)[k] for k in expected} == expected
    assert col.metadata == metadata
    fetched = client.get_collection("legacy")
    assert {k: _hnsw(fetched)[k] for k in expected} == expected
    assert fetched.metadata == metadata


def test_configuration_wins_over_legacy_metadata(client: fletchdb.Client) -> None:
    col = client.create_collection(
        "both", configuration={"hnsw": {"space": "ip"}}, metadata={"hnsw:space": "cosine"}
    )
    assert _hnsw(col)["space"] == "ip"  # as chromadb 1.5.9


def test_get_collection_returns_the_same_collection(client: fletchdb.Client) -> None:
    created = client.create_collection("abc", metadata={"k": 1})
    fetched = client.get_collection("abc")
    assert fetched == created
    assert (fetched.id, fetched.name, fetched.metadata) == (created.id, "abc", {"k": 1})
    assert fetched.configuration == created.configuration
    assert str(uuid.UUID(fetched.id)) == fetched.id


def test_get_or_create_creates_when_missing(client: fletchdb.Client) -> None:
    col = client.get_or_create_collection("fresh", metadata={"k": 1})
    assert col.metadata == {"k": 1}
    assert client.count_collections() == 1


def test_get_or_create_returns_existing_without_changing_it(client: fletchdb.Client) -> None:
    created = client.create_collection(
        "abc", metadata={"k": 1}, configuration={"hnsw": {"space": "cosine"}}
    )
    created.add(ids=["x"], embeddings=[[1.0, 2.0]])
    again = client.get_or_create_collection(
        "abc", metadata={"other": 2}, configuration={"hnsw": {"space": "ip"}}
    )
    assert again.id == created.id
    assert again.metadata == {"k": 1}
    assert _hnsw(again)["space"] == "cosine"
    assert again.count() == 1
    assert client.get_collection("abc").metadata == {"k": 1}
    assert client.count_collections() == 1


def test_list_collections_in_creation_order_with_limit_and_offset(
    client: fletchdb.Client,
) -> None:
    names = ["zeta", "alpha", "mid", "beta", "omega"]
    for i, name in enumerate(names):
        client.create_collection(name, metadata={"i": i})
    listed = client.list_collections()
    assert [c.name for c in listed] == names
    assert all(isinstance(c, fletchdb.Collection) for c in listed)
    assert [c.metadata for c in listed] == [{"i": i} for i in range(5)]
    assert [c.name for c in client.list_collections(limit=2)] == names[:2]
    assert [c.name for c in client.list_collections(offset=2)] == names[2:]
    assert [c.name for c in client.list_collections(limit=2, offset=1)] == names[1:3]
    assert client.list_collections(offset=5) == []
    assert client.list_collections(limit=0) == []


def test_list_collections_rejects_negative_limit_and_offset(client: fletchdb.Client) -> None:
    client.create_collection("abc")
    with pytest.raises(InvalidArgumentError):
        client.list_collections(limit=-1)
    with pytest.raises(InvalidArgumentError):
        client.list_collections(offset=-1)


def test_count_and_delete_collections(client: fletchdb.Client) -> None:
    assert client.count_collections() == 0
    for name in ("one", "two", "three"):
        client.create_collection(name)
    assert client.count_collections() == 3
    client.delete_collection("two")
    assert client.count_collections() == 2
    assert [c.name for c in client.list_collections()] == ["one", "three"]
    with pytest.raises(NotFoundError, match=re.escape("Collection [two] does not exist")):
        client.get_collection("two")


def test_delete_collection_removes_its_records_and_files(client: fletchdb.Client) -> None:
    col = client.create_collection("abc")
    col.add(ids=["x", "y"], embeddings=[[1.0, 2.0], [3.0, 4.0]])
    col.compact()
    root = engine_of(client).path
    assert (root / "wal" / col.id).exists()
    client.delete_collection("abc")
    assert not (root / "wal" / col.id).exists()
    assert not (root / "versions" / col.id).exists()
    again = client.create_collection("abc")
    assert again.id != col.id
    assert again.count() == 0
    again.add(ids=["x"], embeddings=[[1.0, 2.0, 3.0]])  # a new dimension is fine
    assert again.count() == 1


def test_reset_is_refused_by_default(client: fletchdb.Client) -> None:
    col = client.create_collection("abc")
    col.add(ids=["x"], embeddings=[[1.0]])
    with pytest.raises(NotAllowedError, match="allow_reset"):
        client.reset()
    assert client.count_collections() == 1
    assert client.get_collection("abc").count() == 1


def test_reset_with_allow_reset_deletes_everything(open_client, settings) -> None:
    c = open_client(settings(allow_reset=True))
    c.create_collection("abc").add(ids=["x"], embeddings=[[1.0, 2.0]])
    c.create_tenant("acme")
    c.create_database("sales", tenant="acme")
    c.create_database("extra")
    assert c.reset() is True
    assert c.count_collections() == 0
    assert [d["name"] for d in c.list_databases()] == ["default_database"]
    with pytest.raises(NotFoundError):
        c.get_tenant("acme")
    col = c.create_collection("abc")  # still usable, and a new dimension is fine
    col.add(ids=["y"], embeddings=[[1.0, 2.0, 3.0]])
    assert col.count() == 1


@pytest.mark.local_only("reopens the data directory with Settings passed to PersistentClient")
def test_reset_survives_reopen(tmp_path: Path, settings) -> None:
    s = settings(allow_reset=True)
    with fletchdb.PersistentClient(path=tmp_path / "d", settings=s) as c:
        c.create_collection("abc").add(ids=["x"], embeddings=[[1.0]])
        c.reset()
    with fletchdb.PersistentClient(path=tmp_path / "d", settings=s) as c:
        assert c.count_collections() == 0


# Tenants and databases ---------------------------------------------------------------------------
def test_tenants_and_databases(client: fletchdb.Client) -> None:
    assert client.tenant == "default_tenant" and client.database == "default_database"
    client.create_tenant("acme")
    assert client.get_tenant("acme") == {"name": "acme"}
    client.create_database("sales", tenant="acme")
    client.create_database("support", tenant="acme")
    db = client.get_database("sales", tenant="acme")
    assert set(db) == {"id", "name", "tenant"}
    assert (db["name"], db["tenant"]) == ("sales", "acme")
    uuid.UUID(str(db["id"]))
    listed = client.list_databases(tenant="acme")
    assert [d["name"] for d in listed] == ["sales", "support"]
    assert [d["name"] for d in client.list_databases(limit=1, tenant="acme")] == ["sales"]
    assert [d["name"] for d in client.list_databases(offset=1, tenant="acme")] == ["support"]
    assert [d["name"] for d in client.list_databases()] == ["default_database"]
    client.delete_database("support", tenant="acme")
    with pytest.raises(NotFoundError):
        client.get_database("support", tenant="acme")
    assert [d["name"] for d in client.list_databases(tenant="acme")] == ["sales"]


def test_duplicate_and_invalid_tenant_and_database_names(client: fletchdb.Client) -> None:
    client.create_tenant("acme")
    with pytest.raises(UniqueConstraintError, match=re.escape("Tenant [acme] already exists")):
        client.create_tenant("acme")
    client.create_database("sales", tenant="acme")
    with pytest.raises(UniqueConstraintError, match=re.escape("Database [sales] already exists")):
        client.create_database("sales", tenant="acme")
    with pytest.raises(InvalidArgumentError):
        client.create_tenant("ab")
    with pytest.raises(InvalidArgumentError):
        client.create_database("ab")
    with pytest.raises(NotFoundError, match=re.escape("Tenant [nope] not found")):
        client.get_tenant("nope")
    with pytest.raises(NotFoundError, match=re.escape("Database [nope] not found")):
        client.get_database("nope")
    with pytest.raises(NotFoundError):
        client.delete_database("nope")
    assert [d["name"] for d in client.list_databases(tenant="acme")] == ["sales"]


def test_set_tenant_and_database_scope_collections(client: fletchdb.Client) -> None:
    client.create_collection("shared").add(ids=["x"], embeddings=[[1.0]])
    client.create_tenant("acme")
    client.create_database("sales", tenant="acme")
    client.set_tenant("acme", "sales")
    assert (client.tenant, client.database) == ("acme", "sales")
    assert client.count_collections() == 0
    other = client.create_collection("shared")  # same name, other database
    assert other.count() == 0 and other.tenant == "acme" and other.database == "sales"
    client.set_tenant("default_tenant")
    assert client.database == "default_database"
    assert client.get_collection("shared").count() == 1
    client.create_database("second")
    client.set_database("second")
    assert (client.tenant, client.database) == ("default_tenant", "second")
    assert client.count_collections() == 0


def test_set_tenant_and_database_missing_raise_chromas_not_found(client: fletchdb.Client) -> None:
    with pytest.raises(NotFoundError) as info:
        client.set_tenant("nope")
    assert str(info.value) == "Tenant [nope] not found"
    with pytest.raises(NotFoundError) as info:
        client.set_tenant("default_tenant", database="nope")
    assert str(info.value) == "Database [nope] not found. Are you sure it exists?"
    with pytest.raises(NotFoundError) as info:
        client.set_database("nope")
    assert str(info.value) == "Database [nope] not found. Are you sure it exists?"
    assert (client.tenant, client.database) == ("default_tenant", "default_database")


def test_client_for_missing_tenant_or_database_raises(open_client, tmp_path: Path) -> None:
    with pytest.raises(NotFoundError, match=re.escape("Tenant [nope] not found")):
        open_client(path=tmp_path / "a", tenant="nope")
    with pytest.raises(NotFoundError, match=re.escape("Database [nope] not found")):
        open_client(path=tmp_path / "b", database="nope")


def test_delete_database_deletes_its_collections(client: fletchdb.Client) -> None:
    client.create_database("temp")
    client.set_database("temp")
    col = client.create_collection("abc")
    col.add(ids=["x"], embeddings=[[1.0]])
    client.set_database("default_database")
    client.delete_database("temp")
    with pytest.raises(NotFoundError):
        col.count()
    assert not (engine_of(client).path / "wal" / col.id).exists()


# Persistence -------------------------------------------------------------------------------------
@pytest.mark.local_only("reopens the data directory in this process")
@pytest.mark.parametrize("compact", [False, True], ids=["log-tail", "compacted"])
def test_persistent_client_keeps_everything_across_reopen(tmp_path: Path, compact: bool) -> None:
    path = tmp_path / "d"
    vectors = np.arange(12, dtype=np.float32).reshape(4, 3) / 7
    with fletchdb.PersistentClient(path=path) as c:
        col = c.create_collection(
            "keep",
            metadata={"hnsw:space": "cosine", "topic": "t"},
            configuration={"hnsw": {"ef_search": 42}},
        )
        col.add(
            ids=["a", "b", "c", "d"],
            embeddings=vectors,
            documents=["da", "db", None, "dd"],
            metadatas=[{"k": 1}, {"k": 2.5, "s": "x"}, None, {"l": ["p", "q"], "b": False}],
        )
        col.update(ids=["b"], metadatas=[{"s": None}])
        col.delete(ids=["d"])
        col.modify(name="kept", metadata={"topic": "u", "hnsw:M": 16})
        c.create_collection("second")
        c.create_tenant("acme")
        c.create_database("sales", tenant="acme")
        if compact:
            col.compact()
        expected = col.get(include=["embeddings", "documents", "metadatas"])
        expected_config = col.configuration
    with fletchdb.PersistentClient(path=path) as c:
        assert [x.name for x in c.list_collections()] == ["kept", "second"]
        col = c.get_collection("kept")
        assert col.metadata == {"topic": "u", "hnsw:M": 16}
        assert col.configuration == expected_config
        assert col.configuration["hnsw"]["space"] == "cosine"
        assert col.configuration["hnsw"]["ef_search"] == 42
        got = col.get(include=["embeddings", "documents", "metadatas"])
        assert got["ids"] == ["a", "b", "c"] == expected["ids"]
        np.testing.assert_array_equal(got["embeddings"], vectors[:3].astype(np.float64))
        assert got["documents"] == ["da", "db", None]
        assert got["metadatas"] == [{"k": 1}, {"k": 2.5}, None] == expected["metadatas"]
        assert col.count() == 3
        assert c.get_database("sales", tenant="acme")["name"] == "sales"
        nearest = col.query(query_embeddings=vectors[1], n_results=1)
        assert nearest["ids"] == [["b"]]
        with pytest.raises(InvalidArgumentError, match="dimension of 3, got 2"):
            col.add(ids=["e"], embeddings=[[1.0, 2.0]])  # the dimension persisted too


# The data directory lock ------------------------------------------------------------------------
TRY_OPEN = """
import sys, time
import fletchdb
from fletchdb.errors import DataDirLockedError
start = time.monotonic()
try:
    fletchdb.PersistentClient(path=sys.argv[1]).close()
except DataDirLockedError as exc:
    print("LOCKED", round(time.monotonic() - start, 3), exc)
    sys.exit(3)
print("OPENED")
"""


def _try_open_elsewhere(path: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", TRY_OPEN, str(path)],
        capture_output=True,
        text=True,
        timeout=60,
        cwd=REPO,
    )


@pytest.mark.local_only("the data directory lock of an in-process engine (DataDirLockedError)")
def test_second_process_gets_data_dir_locked_immediately(tmp_path: Path) -> None:
    path = tmp_path / "d"
    with fletchdb.PersistentClient(path=path) as c:
        c.create_collection("abc").add(ids=["x"], embeddings=[[1.0]])
        result = _try_open_elsewhere(path)
        assert result.returncode == 3, result.stdout + result.stderr
        _, seconds, message = result.stdout.split(" ", 2)
        assert float(seconds) < 2.0  # refused at once, no waiting on the lock
        assert str(path) in message
        assert c.get_collection("abc").count() == 1  # the holder is unaffected
    result = _try_open_elsewhere(path)  # released on close
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout.strip() == "OPENED"


@pytest.mark.local_only("two PersistentClients of one path share one in-process engine")
def test_second_client_on_the_same_path_in_this_process_shares_the_data(tmp_path: Path) -> None:
    first = fletchdb.PersistentClient(path=tmp_path / "d")
    try:
        first.create_collection("abc").add(ids=["x"], embeddings=[[1.0]])
        second = fletchdb.PersistentClient(path=tmp_path / "d")
        assert second.get_collection("abc").count() == 1
        second.close()
        assert first.get_collection("abc").count() == 1
    finally:
        first.close()
