"""The engine runs on the stores it is given: injected stores, the URI factory and its refusals."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pyarrow as pa
import pytest

from flight_server.catalog import DuckDBCatalog
from flight_server.config import Settings
from flight_server.engine import Engine
from flight_server.engine.stores import Stores, local_root, open_stores
from flight_server.errors import ClosedError, InvalidArgumentError, NotSupportedError
from flight_server.schema import Op
from flight_server.versions.store import LocalVersionStore
from flight_server.wal import LocalLogStore

SETTINGS = Settings(compaction_enabled=False)
DIM = 4


def _batch(start: int, count: int) -> pa.RecordBatch:
    rng = np.random.default_rng(start)
    flat = pa.array(rng.random(count * DIM, dtype=np.float32))
    return pa.record_batch(
        {
            "id": pa.array([f"r{i}" for i in range(start, start + count)]),
            "embedding": pa.FixedSizeListArray.from_arrays(flat, DIM),
            "document": pa.array([f"doc {i}" for i in range(start, start + count)]),
        }
    )


def _observe(engine: Engine, collection_id: str) -> tuple[object, ...]:
    """What a reader sees: the count, a KNN result and a filtered get."""
    query = np.full((1, DIM), 0.5, dtype=np.float32)
    [hits] = engine.query(collection_id, query, n_results=5)
    got = engine.get(collection_id, where_document={"$contains": "doc 1"})
    return (
        engine.count(collection_id),
        hits["id"].to_pylist(),
        np.round(hits["distance"].to_numpy(), 5).tolist(),
        sorted(got["id"].to_pylist()),
    )


def _session(engine: Engine) -> tuple[str, tuple[object, ...]]:
    """Add, compact, add a tail, delete: return the collection id and what a reader sees."""
    record = engine.create_collection("docs")
    engine.write(record.id, Op.ADD, _batch(0, 40))
    assert engine.compact(record.id) == 1
    engine.write(record.id, Op.ADD, _batch(40, 10))
    engine.delete(record.id, ["r3", "r41"], None, None)
    return record.id, _observe(engine, record.id)


def _injected(path: Path) -> Engine:
    stores = open_stores(f"file://{path}", SETTINGS)
    return Engine(
        path, SETTINGS, catalog=stores.catalog, logs=stores.logs, versions=stores.versions
    )


def test_injected_stores_behave_like_the_default_ones(tmp_path: Path) -> None:
    default = Engine(tmp_path / "default", SETTINGS)
    default_id, expected = _session(default)
    default.close()
    injected = _injected(tmp_path / "injected")
    injected_id, seen = _session(injected)
    assert seen == expected
    injected.close()
    reopened = _injected(tmp_path / "injected")  # the version and the log tail recover
    assert _observe(reopened, injected_id) == expected
    assert reopened.stats(injected_id)["tail_records"] == 12
    reopened.close()
    again = Engine(tmp_path / "default", SETTINGS)
    assert _observe(again, default_id) == expected
    again.close()


def test_the_engine_uses_and_closes_the_stores_it_is_given(tmp_path: Path) -> None:
    stores = Stores(
        DuckDBCatalog(tmp_path / "elsewhere.duckdb"),
        LocalLogStore(tmp_path / "logs-elsewhere"),
        LocalVersionStore(tmp_path / "versions-elsewhere"),
    )
    engine = Engine(
        tmp_path / "dir",
        SETTINGS,
        catalog=stores.catalog,
        logs=stores.logs,
        versions=stores.versions,
    )
    assert (engine.catalog, engine.logs, engine.versions) == (
        stores.catalog,
        stores.logs,
        stores.versions,
    )
    record = engine.create_collection("docs")
    engine.write(record.id, Op.ADD, _batch(0, 5))
    engine.compact(record.id)
    assert stores.logs.collection_ids() == {record.id} == stores.versions.collection_ids()
    assert not (tmp_path / "dir" / "catalog.duckdb").exists()  # no local default was built
    assert not (tmp_path / "dir" / "wal").exists()
    engine.close()
    with pytest.raises(ClosedError):
        stores.logs.open(record.id)


@pytest.mark.parametrize(
    ("uri", "scheme"),
    [
        ("s3://bucket/fletch", "s3"),
        ("postgresql://user@127.0.0.1:5432/fletch", "postgresql"),
        ("postgres://127.0.0.1/fletch", "postgres"),
        ("gs://bucket/x", "gs"),
    ],
)
def test_other_schemes_are_refused_by_name(tmp_path: Path, uri: str, scheme: str) -> None:
    with pytest.raises(NotSupportedError, match=f"scheme '{scheme}://'"):
        open_stores(uri, SETTINGS)


def test_file_uris_and_paths_name_local_directories(tmp_path: Path) -> None:
    assert local_root(f"file://{tmp_path}/a%20b") == tmp_path / "a b"
    assert local_root(f"file://localhost{tmp_path}") == tmp_path
    assert local_root(str(tmp_path)) == local_root(tmp_path) == tmp_path
    with pytest.raises(InvalidArgumentError, match="not host"):
        local_root("file://server/share")
    stores = open_stores(f"file://{tmp_path}/data")
    assert {"catalog.duckdb", "wal", "versions"} <= {p.name for p in (tmp_path / "data").iterdir()}
    stores.close()


def test_a_bad_setting_fails_the_open_with_a_typed_error(tmp_path: Path) -> None:
    with pytest.raises(InvalidArgumentError, match="segment_bytes"):
        open_stores(tmp_path, Settings(wal_segment_bytes=0))


def test_reopen_deletes_version_folders_the_catalog_does_not_name(tmp_path: Path) -> None:
    engine = Engine(tmp_path, SETTINGS)
    record = engine.create_collection("docs")
    engine.write(record.id, Op.ADD, _batch(0, 5))
    engine.compact(record.id)
    registered = engine.collection(record.id).state.version.record.path
    engine.close()
    folder = tmp_path / "versions" / record.id
    for leftover in (".tmp-0123abcd", "0123abcd"):  # a half-written and an unregistered version
        (folder / leftover).mkdir()
        (folder / leftover / "records.arrow").write_bytes(b"partial")
    reopened = Engine(tmp_path, SETTINGS)
    assert reopened.count(record.id) == 5
    assert [p.name for p in folder.iterdir()] == [registered]
    reopened.close()
