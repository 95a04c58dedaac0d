"""Index versions: compare-and-set registration, log-offset fence, concurrent compactors."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest

from flight_server.catalog import DEFAULT_DATABASE, DEFAULT_TENANT, DuckDBCatalog, VersionRecord
from flight_server.errors import InvalidArgumentError, VersionConflictError


def new_collection(cat: DuckDBCatalog, name: str = "docs") -> str:
    """Create a collection in the default database and return its id."""
    return cat.create_collection(name, DEFAULT_TENANT, DEFAULT_DATABASE, {}, None)[0].id


def test_no_version_before_first_compaction(catalog: DuckDBCatalog) -> None:
    cid = new_collection(catalog)
    assert catalog.current_version(cid) is None
    assert catalog.version_paths(cid) == []
    assert catalog.current_version("not-a-collection") is None


def test_register_chain_replaces_older_versions(catalog: DuckDBCatalog) -> None:
    cid = new_collection(catalog)
    other = new_collection(catalog, "other")
    catalog.register_version(VersionRecord(other, 1, "other/v1", 3, 3), 0)
    v1 = VersionRecord(cid, 1, "docs/v1", 10, 10)
    catalog.register_version(v1, 0)
    assert catalog.current_version(cid) == v1
    assert catalog.version_paths(cid) == ["docs/v1"]
    v2 = VersionRecord(cid, 2, "docs/v2", 25, 20)
    catalog.register_version(v2, 1)
    assert catalog.current_version(cid) == v2
    assert catalog.version_paths(cid) == ["docs/v2"]
    v5 = VersionRecord(cid, 5, "docs/v5", 25, 20)  # numbers may skip; same offset is allowed
    catalog.register_version(v5, 2)
    assert catalog.current_version(cid) == v5
    assert sorted(catalog.all_version_paths()) == ["docs/v5", "other/v1"]
    assert catalog.current_version(other) == VersionRecord(other, 1, "other/v1", 3, 3)


def test_stale_expected_version_changes_nothing(catalog: DuckDBCatalog) -> None:
    cid = new_collection(catalog)
    v1 = VersionRecord(cid, 1, "v1", 10, 10)
    catalog.register_version(v1, 0)
    for expected in (0, 2, 7):
        with pytest.raises(VersionConflictError, match="is at version 1"):
            catalog.register_version(VersionRecord(cid, 8, f"stale-{expected}", 99, 99), expected)
    assert catalog.current_version(cid) == v1
    assert catalog.version_paths(cid) == ["v1"]


def test_log_offset_may_not_go_backwards(catalog: DuckDBCatalog) -> None:
    cid = new_collection(catalog)
    v1 = VersionRecord(cid, 1, "v1", 100, 100)
    catalog.register_version(v1, 0)
    with pytest.raises(VersionConflictError, match="behind the current version's 100"):
        catalog.register_version(VersionRecord(cid, 2, "v2", 99, 99), 1)
    assert catalog.current_version(cid) == v1
    assert catalog.version_paths(cid) == ["v1"]


def test_register_on_missing_collection_is_a_conflict(catalog: DuckDBCatalog) -> None:
    cid = new_collection(catalog)
    catalog.delete_collection("docs", DEFAULT_TENANT, DEFAULT_DATABASE)
    with pytest.raises(VersionConflictError, match="does not exist"):
        catalog.register_version(VersionRecord(cid, 1, "v1", 1, 1), 0)
    assert catalog.version_paths(cid) == []


def test_new_version_must_be_newer_than_expected(catalog: DuckDBCatalog) -> None:
    cid = new_collection(catalog)
    catalog.register_version(VersionRecord(cid, 1, "v1", 1, 1), 0)
    for number in (0, 1):
        with pytest.raises(InvalidArgumentError, match="must be greater"):
            catalog.register_version(VersionRecord(cid, number, "bad", 5, 5), 1)
    assert catalog.version_paths(cid) == ["v1"]


def race(handles: list[DuckDBCatalog], cid: str, expected: int, workers: int) -> dict[str, list]:
    """Let `workers` threads register version expected+1 at once; sort their outcomes."""
    barrier = threading.Barrier(workers)
    outcome: dict[str, list] = {"wins": [], "conflicts": [], "errors": []}

    def attempt(worker: int) -> None:
        path = f"r{expected}/w{worker}"
        new = VersionRecord(cid, expected + 1, path, expected, 1)
        barrier.wait()
        try:
            handles[worker % len(handles)].register_version(new, expected)
            outcome["wins"].append(path)
        except VersionConflictError:
            outcome["conflicts"].append(path)
        except BaseException as exc:  # reported by the caller's assertion
            outcome["errors"].append(exc)

    threads = [threading.Thread(target=attempt, args=(w,)) for w in range(workers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    return outcome


def test_concurrent_registers_one_winner_per_expected_version(catalog_path: Path) -> None:
    cat = DuckDBCatalog(catalog_path)
    second = DuckDBCatalog(catalog_path)  # a second handle on the same file joins the race
    try:
        cid = new_collection(cat)
        workers = 8
        for expected in range(5):
            outcome = race([cat, second], cid, expected, workers)
            assert outcome["errors"] == []
            assert len(outcome["wins"]) == 1, outcome
            assert len(outcome["conflicts"]) == workers - 1
            current = cat.current_version(cid)
            assert current is not None and current.version == expected + 1
            assert current.path == outcome["wins"][0]
            assert second.version_paths(cid) == [current.path]
    finally:
        second.close()
        cat.close()
