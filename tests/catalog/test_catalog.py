"""Tenants, databases and collections in the DuckDB catalog: CRUD, errors, pagination, persistence."""

from __future__ import annotations

import uuid
from pathlib import Path

import pytest

from flight_server.catalog import (
    DEFAULT_DATABASE,
    DEFAULT_DATABASE_ID,
    DEFAULT_TENANT,
    Catalog,
    CollectionRecord,
    DatabaseRecord,
    DuckDBCatalog,
    VersionRecord,
)
from flight_server.errors import (
    ClosedError,
    InvalidArgumentError,
    NotFoundError,
    UniqueConstraintError,
)

T, D = DEFAULT_TENANT, DEFAULT_DATABASE


def make(cat: Catalog, name: str, metadata: dict | None = None, **kw: object) -> CollectionRecord:
    """Create a collection in the default database."""
    config = {"hnsw": {"space": "l2"}}
    return cat.create_collection(name, T, D, config, metadata, **kw)[0]  # type: ignore[arg-type]


# Tenants and databases -------------------------------------------------------------------------
def test_defaults_exist_after_open(catalog: DuckDBCatalog, catalog_path: Path) -> None:
    assert catalog_path.exists()
    assert catalog.get_tenant(T) == T
    assert catalog.get_database(D, T) == DatabaseRecord(DEFAULT_DATABASE_ID, D, T)
    assert catalog.list_databases(T) == [DatabaseRecord(DEFAULT_DATABASE_ID, D, T)]
    assert catalog.list_collections(T, D) == []


def test_create_and_get_tenant(catalog: DuckDBCatalog) -> None:
    catalog.create_tenant("acme")
    assert catalog.get_tenant("acme") == "acme"
    with pytest.raises(UniqueConstraintError, match=r"^Tenant \[acme\] already exists$"):
        catalog.create_tenant("acme")
    with pytest.raises(NotFoundError, match=r"^Tenant \[nobody\] not found$"):
        catalog.get_tenant("nobody")
    with pytest.raises(InvalidArgumentError, match="Tenant name must be at least 3"):
        catalog.create_tenant("ab")


def test_create_get_and_list_databases(catalog: DuckDBCatalog) -> None:
    catalog.create_tenant("acme")
    made = catalog.create_database("sales", "acme")
    assert made.name == "sales" and made.tenant == "acme"
    assert str(uuid.UUID(made.id)) == made.id
    assert catalog.get_database("sales", "acme") == made
    # The same name in another tenant is a different database.
    other = catalog.create_database("sales", T)
    assert other.id != made.id
    with pytest.raises(UniqueConstraintError, match=r"^Database \[sales\] already exists$"):
        catalog.create_database("sales", "acme")
    with pytest.raises(NotFoundError, match=r"^Tenant \[nobody\] not found$"):
        catalog.create_database("sales", "nobody")
    with pytest.raises(InvalidArgumentError, match="Database name must be at least 3"):
        catalog.create_database("db", "acme")
    msg = r"^Database \[nope\] not found\. Are you sure it exists\?$"
    with pytest.raises(NotFoundError, match=msg):
        catalog.get_database("nope", "acme")
    with pytest.raises(NotFoundError):
        catalog.get_database("sales", "nobody")
    assert catalog.list_databases("acme") == [made]
    assert catalog.list_databases("nobody") == []


def test_list_databases_pagination_follows_creation_order(catalog: DuckDBCatalog) -> None:
    catalog.create_tenant("acme")
    names = ["zeta", "alpha", "mid", "beta", "omega"]  # not alphabetical: order is creation
    for name in names:
        catalog.create_database(name, "acme")
    listed = lambda **kw: [d.name for d in catalog.list_databases("acme", **kw)]  # noqa: E731
    assert listed() == names
    assert listed(limit=2) == names[:2]
    assert listed(limit=2, offset=2) == names[2:4]
    assert listed(offset=3) == names[3:]
    assert listed(limit=0) == []
    assert listed(offset=10) == []
    with pytest.raises(InvalidArgumentError, match="limit"):
        catalog.list_databases("acme", limit=-1)
    with pytest.raises(InvalidArgumentError, match="offset"):
        catalog.list_databases("acme", offset=-1)


def test_delete_database_removes_its_collections(catalog: DuckDBCatalog) -> None:
    catalog.create_database("doomed", T)
    ids = [catalog.create_collection(n, T, "doomed", {}, None)[0].id for n in ("c-1", "c-2")]
    kept = make(catalog, "c-1")  # same name in another database survives
    catalog.register_version(VersionRecord(ids[0], 1, "v1", 5, 5), 0)
    assert catalog.delete_database("doomed", T) == ids
    with pytest.raises(NotFoundError):
        catalog.get_database("doomed", T)
    for cid in ids:
        with pytest.raises(NotFoundError):
            catalog.get_collection_by_id(cid)
        assert catalog.version_paths(cid) == []
    assert catalog.get_collection("c-1", T, D) == kept
    with pytest.raises(NotFoundError, match=r"^Database \[doomed\] not found$"):
        catalog.delete_database("doomed", T)
    # The name is free again, and the new database starts empty.
    catalog.create_database("doomed", T)
    assert catalog.list_collections(T, "doomed") == []


# Collections -----------------------------------------------------------------------------------
def test_create_and_get_collection(catalog: DuckDBCatalog) -> None:
    record, created = catalog.create_collection(
        "docs", T, D, {"hnsw": {"space": "cosine"}}, {"topic": "x", "n": 3, "f": 1.5, "ok": True}
    )
    assert created
    assert record.name == "docs" and record.tenant == T and record.database == D
    assert record.dimension is None
    assert record.configuration == {"hnsw": {"space": "cosine"}}
    assert record.metadata == {"topic": "x", "n": 3, "f": 1.5, "ok": True}
    assert str(uuid.UUID(record.id)) == record.id
    assert catalog.get_collection("docs", T, D) == record
    assert catalog.get_collection_by_id(record.id) == record
    with pytest.raises(UniqueConstraintError, match=r"^Collection \[docs\] already exists$"):
        make(catalog, "docs")


def test_missing_collections_use_chromas_message(catalog: DuckDBCatalog) -> None:
    with pytest.raises(NotFoundError, match=r"^Collection \[ghost\] does not exist$"):
        catalog.get_collection("ghost", T, D)
    missing = str(uuid.uuid4())
    with pytest.raises(NotFoundError, match=rf"^Collection \[{missing}\] does not exist$"):
        catalog.get_collection_by_id(missing)
    with pytest.raises(NotFoundError, match=r"^Collection \[ghost\] does not exist$"):
        catalog.delete_collection("ghost", T, D)
    with pytest.raises(NotFoundError, match=rf"^Collection \[{missing}\] does not exist$"):
        catalog.update_collection(missing, name="new-name")
    with pytest.raises(NotFoundError):
        catalog.set_dimension(missing, 3)


def test_collection_names_are_scoped_by_tenant_and_database(catalog: DuckDBCatalog) -> None:
    catalog.create_tenant("acme")
    catalog.create_database(D, "acme")
    catalog.create_database("other", T)
    a = make(catalog, "shared")
    b, _ = catalog.create_collection("shared", "acme", D, {}, None)
    c, _ = catalog.create_collection("shared", T, "other", {}, None)
    assert len({a.id, b.id, c.id}) == 3
    assert catalog.get_collection("shared", "acme", D) == b
    with pytest.raises(NotFoundError):
        catalog.get_collection("shared", "acme", "other")


def test_create_collection_in_missing_database(catalog: DuckDBCatalog) -> None:
    with pytest.raises(NotFoundError, match=r"^Database \[nope\] does not exist$"):
        catalog.create_collection("abc", T, "nope", {}, None)
    with pytest.raises(NotFoundError, match=r"^Database \[default_database\] does not exist$"):
        catalog.create_collection("abc", "nobody", D, {}, None)


def test_create_collection_validates_name_and_json(catalog: DuckDBCatalog) -> None:
    with pytest.raises(InvalidArgumentError, match="Expected a name containing 3-512"):
        make(catalog, "x")
    with pytest.raises(InvalidArgumentError, match="JSON"):
        make(catalog, "abc", {"bad": object()})
    assert catalog.count_collections(T, D) == 0


def test_get_or_create_returns_existing_unchanged(catalog: DuckDBCatalog) -> None:
    first = make(catalog, "docs", {"v": 1})
    again, created = catalog.create_collection(
        "docs", T, D, {"hnsw": {"space": "ip"}}, {"v": 2}, get_or_create=True
    )
    assert not created
    assert again == first  # Chroma's sysdb returns the stored collection, metadata untouched
    assert catalog.get_collection("docs", T, D) == first  # and stores nothing new
    fresh, created = catalog.create_collection("fresh", T, D, {}, {"v": 3}, get_or_create=True)
    assert created and fresh.metadata == {"v": 3}


def test_list_and_count_collections(catalog: DuckDBCatalog) -> None:
    names = [f"col-{i}" for i in (5, 1, 9, 3, 7, 2)]
    made = [make(catalog, n) for n in names]
    assert catalog.count_collections(T, D) == 6
    assert catalog.list_collections(T, D) == made
    assert [c.name for c in catalog.list_collections(T, D, limit=4, offset=1)] == names[1:5]
    assert [c.name for c in catalog.list_collections(T, D, offset=5)] == names[5:]
    assert catalog.list_collections(T, D, limit=0) == []
    assert catalog.list_collections(T, "nope") == []
    assert catalog.count_collections(T, "nope") == 0
    assert catalog.list_all_collections() == made
    with pytest.raises(InvalidArgumentError):
        catalog.list_collections(T, D, limit=True)


def test_update_collection(catalog: DuckDBCatalog) -> None:
    rec = make(catalog, "old-name", {"a": 1})
    other = make(catalog, "taken")
    renamed = catalog.update_collection(rec.id, name="new-name")
    assert renamed.name == "new-name" and renamed.metadata == {"a": 1} and renamed.id == rec.id
    assert catalog.get_collection("new-name", T, D) == renamed
    with pytest.raises(NotFoundError):
        catalog.get_collection("old-name", T, D)
    with pytest.raises(UniqueConstraintError, match=r"^Collection \[taken\] already exists$"):
        catalog.update_collection(rec.id, name="taken", metadata={"lost": True})
    assert catalog.get_collection_by_id(rec.id) == renamed  # nothing of the failed update stuck
    assert catalog.get_collection_by_id(other.id) == other
    with pytest.raises(InvalidArgumentError, match="Expected a name containing"):
        catalog.update_collection(rec.id, name="!!")
    same = catalog.update_collection(rec.id, name="new-name")  # renaming to itself is fine
    assert same == renamed
    updated = catalog.update_collection(rec.id, metadata={"b": 2}, configuration={"hnsw": {}})
    assert updated.metadata == {"b": 2}  # replaced, not merged
    assert updated.configuration == {"hnsw": {}}
    assert catalog.update_collection(rec.id) == updated


def test_set_dimension_only_once(catalog: DuckDBCatalog) -> None:
    rec = make(catalog, "vecs")
    assert catalog.set_dimension(rec.id, 384) == 384
    assert catalog.set_dimension(rec.id, 128) == 384
    assert catalog.get_collection_by_id(rec.id).dimension == 384
    for bad in (0, -1, 1.5, True):
        with pytest.raises(InvalidArgumentError):
            catalog.set_dimension(rec.id, bad)  # type: ignore[arg-type]


def test_delete_collection(catalog: DuckDBCatalog) -> None:
    rec = make(catalog, "gone")
    catalog.register_version(VersionRecord(rec.id, 1, "v1", 10, 10), 0)
    assert catalog.delete_collection("gone", T, D) == rec.id
    with pytest.raises(NotFoundError):
        catalog.get_collection_by_id(rec.id)
    assert catalog.current_version(rec.id) is None
    assert catalog.version_paths(rec.id) == []
    again = make(catalog, "gone")  # the name can be reused, with a new id
    assert again.id != rec.id


# Lifecycle -------------------------------------------------------------------------------------
def test_persistence_across_reopen(catalog_path: Path) -> None:
    cat = DuckDBCatalog(catalog_path)
    cat.create_tenant("acme")
    db = cat.create_database("sales", "acme")
    rec, _ = cat.create_collection("docs", "acme", "sales", {"k": [1, 2]}, {"m": "x"})
    cat.set_dimension(rec.id, 8)
    cat.register_version(VersionRecord(rec.id, 1, "idx/1", 41, 40), 0)
    cat.close()
    with pytest.raises(ClosedError):
        cat.get_tenant("acme")
    cat.close()  # idempotent

    reopened = DuckDBCatalog(catalog_path)
    try:
        assert reopened.applied_migrations == []
        assert reopened.get_tenant("acme") == "acme"
        assert reopened.get_database("sales", "acme") == db
        got = reopened.get_collection("docs", "acme", "sales")
        assert (
            got.dimension == 8 and got.configuration == {"k": [1, 2]} and got.metadata == {"m": "x"}
        )
        assert reopened.current_version(rec.id) == VersionRecord(rec.id, 1, "idx/1", 41, 40)
        assert reopened.list_databases(T) == [DatabaseRecord(DEFAULT_DATABASE_ID, D, T)]
    finally:
        reopened.close()


def test_reset(catalog: DuckDBCatalog) -> None:
    catalog.create_tenant("acme")
    catalog.create_database("sales", "acme")
    rec = make(catalog, "docs")
    catalog.register_version(VersionRecord(rec.id, 1, "v1", 1, 1), 0)
    catalog.reset()
    with pytest.raises(NotFoundError):
        catalog.get_tenant("acme")
    with pytest.raises(NotFoundError):
        catalog.get_collection_by_id(rec.id)
    assert catalog.all_version_paths() == []
    assert catalog.get_database(D, T).id == DEFAULT_DATABASE_ID
    assert catalog.list_collections(T, D) == []
    make(catalog, "docs")  # usable afterwards


def test_in_memory_catalogs_are_independent() -> None:
    a, b = DuckDBCatalog(":memory:"), DuckDBCatalog(":memory:")
    try:
        make(a, "only-in-a")
        assert b.count_collections(T, D) == 0
    finally:
        a.close()
        b.close()


def test_two_catalogs_on_one_file_in_one_process_stay_coherent(catalog_path: Path) -> None:
    a = DuckDBCatalog(catalog_path)
    b = DuckDBCatalog(catalog_path)
    try:
        rec = make(a, "docs")
        assert b.get_collection("docs", T, D) == rec  # both lookups cached in b now
        assert b.get_collection_by_id(rec.id) == rec
        a.update_collection(rec.id, name="renamed")
        assert b.get_collection_by_id(rec.id).name == "renamed"  # a's write cleared b's cache
        with pytest.raises(NotFoundError):
            b.get_collection("docs", T, D)
    finally:
        a.close()
        b.close()
