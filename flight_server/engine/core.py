"""The engine: catalog, log, executor, compactor and version store wired for one data directory.

Everything a client (the local SDK, or the Flight gateway) does goes through `Engine`. It speaks
Arrow (write batches in, record tables out) and raises only `FletchError`s.
"""

from __future__ import annotations

import atexit
import shutil
import tempfile
import threading
import time
import weakref
from collections.abc import Callable, Iterable
from dataclasses import replace
from functools import partial
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa

from ..arguments.query_args import query_matrix
from ..arguments.validate import validate_write_batch
from ..catalog.base import DEFAULT_DATABASE, DEFAULT_TENANT, Catalog
from ..catalog.names import check_name_types
from ..compactor.scheduler import Compactor
from ..config import Settings
from ..errors import (
    InvalidArgumentError,
    NotAllowedError,
    NotFoundError,
    QuotaError,
)
from ..executor.filters import (
    NO_FILTERS,
    Filters,
    check_depth_limit,
    check_predicate_limit,
    parse_filters,
)
from ..executor.fts_index import build as build_fts
from ..executor.reader import DISTANCE, Executor
from ..executor.search_plan import parse_plan
from ..executor.sql import Params, SqlSandbox, resolve_tables
from ..executor.text_search import SearchRunner
from ..executor.transfer import export_reader
from ..schema import EMBEDDING, ID, Op
from ..versions.store import VersionStore
from ..wal.base import LogEntry, LogStore
from ..wal.segment import make_dirs
from .catalog_methods import CatalogMethods
from .recovery import OpenCollection, lock_data_dir, open_collection, unlock_data_dir
from .stores import local_stores

VERSION = "0.1.0"
RESET_MESSAGE = (
    "Reset is disabled by config "
    "(to enable it, set allow_reset=True in Settings or FLETCHDB_ALLOW_RESET=true)"
)


class Engine(CatalogMethods):
    """All five components in one process over one data directory."""

    def __init__(
        self,
        path: str | Path | None = None,
        settings: Settings | None = None,
        *,
        catalog: Catalog | None = None,
        logs: LogStore | None = None,
        versions: VersionStore | None = None,
    ) -> None:
        """Lock `path` (a temporary directory when None) and run on the stores given, else local ones."""
        self.settings = settings or Settings()
        self.ephemeral = path is None
        self.path = Path(tempfile.mkdtemp(prefix="fletchdb-")) if path is None else Path(path)
        make_dirs(self.path)
        if self.ephemeral:  # removed on close, or at interpreter exit if never closed
            self._cleanup = weakref.finalize(self, shutil.rmtree, str(self.path), True)
        self._lock_file = lock_data_dir(self.path)
        try:
            stores = local_stores(self.path, self.settings, catalog, logs, versions)
        except BaseException:  # e.g. an unreadable catalog: do not keep the directory locked
            unlock_data_dir(self._lock_file)
            raise
        # the engine owns its stores from here on: close() closes them, injected or not
        self.catalog, self.logs, self.versions = stores.catalog, stores.logs, stores.versions
        self.executor = Executor(self.settings)
        self.sql_sandbox = SqlSandbox(self.settings)
        self._open: dict[str, OpenCollection] = {}
        self._open_lock = threading.Lock()
        self._closed = False
        self.compactor = Compactor(
            self.catalog, self.versions, self.settings, self._targets, build_fts
        )
        # A daemon thread still inside usearch or DuckDB when the interpreter finalizes is killed
        # there, and C++ aborts ("terminate called without an active exception"). So an engine
        # left open closes itself at exit, while threads still run; the weakref keeps no engine alive.
        self._exit_hook = partial(_close_at_exit, weakref.ref(self))
        atexit.register(self._exit_hook)
        try:  # tails left by the last run get compacted
            for collection_id in sorted(self.logs.collection_ids()):
                self._try_open(collection_id)
        except BaseException:  # e.g. CorruptLogError: do not keep the directory locked
            self.close()
            raise
        self.compactor.start()

    # Lifecycle -----------------------------------------------------------------------
    def close(self) -> None:
        """Stop the compactor, close logs and the catalog, release the directory."""
        if self._closed:
            return
        self._closed = True
        atexit.unregister(self._exit_hook)
        self.compactor.stop()
        with self._open_lock:
            for handle in self._open.values():
                handle.log.close()
            self._open.clear()
        self.logs.close()
        self.executor.close()
        self.sql_sandbox.close()
        self.catalog.close()
        unlock_data_dir(self._lock_file)
        if self.ephemeral:
            self._cleanup()

    def heartbeat(self) -> int:
        """Nanoseconds since the epoch (Chroma's heartbeat)."""
        self._check_open()
        return time.time_ns()

    def reset(self) -> None:
        """Delete everything (only with allow_reset)."""
        self._check_open()
        if not self.settings.allow_reset:
            raise NotAllowedError(RESET_MESSAGE)
        self.compactor.stop()
        with self._open_lock:
            for handle in self._open.values():
                handle.log.close()
            self._open.clear()
        for collection_id in self.logs.collection_ids() | self.versions.collection_ids():
            self._drop_files(collection_id)
        self.catalog.reset()
        self.compactor = Compactor(
            self.catalog, self.versions, self.settings, self._targets, build_fts
        )
        self.compactor.start()

    # Opening collections --------------------------------------------------------------
    def collection(self, collection_id: str) -> OpenCollection:
        """The open collection (opened and recovered on first use)."""
        self._check_open()
        with self._open_lock:
            handle = self._open.get(collection_id)
            if handle is None:
                handle = self._open[collection_id] = self._open_collection(collection_id)
            return handle

    def _try_open(self, collection_id: str) -> None:
        try:
            self.collection(collection_id)
        except NotFoundError:  # files of a collection whose delete was interrupted
            self._drop_files(collection_id)

    def _open_collection(self, collection_id: str) -> OpenCollection:
        return open_collection(self.catalog, self.versions, self.logs, collection_id)

    def _targets(self) -> list[OpenCollection]:
        with self._open_lock:
            return list(self._open.values())

    # Writes ---------------------------------------------------------------------------
    def write(self, collection_id: str, op: Op, batch: pa.RecordBatch) -> int:
        """Validate and durably log one write batch; return its log seq once reads see it."""
        handle = self.collection(collection_id)
        dimension = handle.record.dimension
        batch = validate_write_batch(op, batch, dimension, self.settings)
        if (
            dimension is None
            and EMBEDDING in batch.schema.names
            and batch.column(EMBEDDING).null_count < batch.num_rows
        ):
            given = batch.schema.field(EMBEDDING).type.list_size
            with handle.write_lock:
                fixed = self.catalog.set_dimension(collection_id, given)
                handle.record = replace(handle.record, dimension=fixed)
            if fixed != given:
                batch = validate_write_batch(op, batch, fixed, self.settings)
        seq = handle.log.append(op, batch)
        handle.state.appended(LogEntry(seq, op, batch))
        if handle.state.tail_size()[0] >= self.settings.compaction_tail_records:
            self.compactor.nudge()
        return seq

    def write_stream(
        self,
        collection_id: str,
        op: Op,
        batches: Iterable[pa.RecordBatch],
        schema: pa.Schema | None = None,
        on_ack: Callable[[int, int], None] | None = None,
    ) -> list[int]:
        """Write batches in order, each one atomic write; on_ack(seq, rows) as each is visible."""
        seqs = []
        for batch in batches:
            seqs.append(self.write(collection_id, op, batch))
            if on_ack is not None:
                on_ack(seqs[-1], batch.num_rows)
        return seqs

    def delete(
        self,
        collection_id: str,
        ids: list[str] | None,
        where: dict[str, Any] | None,
        where_document: dict[str, Any] | None,
    ) -> int:
        """Delete by ids and/or filters; return how many ids the delete named (as Chroma)."""
        handle = self.collection(collection_id)
        if ids is not None and not where and not where_document:
            if ids:
                batch = pa.record_batch({ID: pa.array(ids, pa.string())})
                self.write(collection_id, Op.DELETE, batch)
            return len(ids)
        if ids is None and not where and not where_document:
            raise InvalidArgumentError(
                "You must provide either ids, where, or where_document to delete."
            )
        filters = self._parse_filters(where, where_document)
        snap = handle.state.snapshot()
        matched = self.executor.get(snap, ids, filters, None, None, set())
        if matched.num_rows:
            batch = pa.record_batch({ID: matched[ID].combine_chunks()})
            self.write(collection_id, Op.DELETE, batch)
        return matched.num_rows

    # Reads ----------------------------------------------------------------------------
    def count(self, collection_id: str) -> int:
        """Live records in a collection."""
        return self.collection(collection_id).state.snapshot().count()

    def get(
        self,
        collection_id: str,
        ids: list[str] | None = None,
        where: dict[str, Any] | None = None,
        where_document: dict[str, Any] | None = None,
        limit: int | None = None,
        offset: int | None = None,
        columns: frozenset[str] | set[str] = frozenset({"documents", "metadatas"}),
    ) -> pa.Table:
        """Matching records in insertion order, with columns from {embedding, document, metadatas}."""
        handle = self.collection(collection_id)
        filters = self._parse_filters(where, where_document)
        if limit is not None and limit > self.settings.max_get_limit:
            raise QuotaError("max_get_limit", limit, self.settings.max_get_limit, "limit")
        snap = handle.state.snapshot()
        return self.executor.get(snap, ids, filters, limit, offset, _columns(columns))

    def query(
        self,
        collection_id: str,
        embeddings: np.ndarray,
        n_results: int = 10,
        where: dict[str, Any] | None = None,
        where_document: dict[str, Any] | None = None,
        ids: list[str] | None = None,
        columns: frozenset[str] | set[str] = frozenset({"documents", "metadatas"}),
    ) -> list[pa.Table]:
        """The n_results nearest records per query embedding, each table with a `distance` column."""
        handle = self.collection(collection_id)
        filters = self._parse_filters(where, where_document)
        queries = query_matrix(embeddings, handle.record.dimension, n_results, self.settings)
        snap = handle.state.snapshot()
        if snap.count() == 0:  # nothing to search: one empty result per query, as Chroma
            empty = self.executor.get(snap, [], NO_FILTERS, 0, 0, _columns(columns))
            empty = empty.append_column(DISTANCE, pa.array([], pa.float32()))
            return [empty] * len(queries)
        rows = self.executor.select(snap, ids, filters)
        hnsw = handle.record.configuration["hnsw"]
        return self.executor.query(
            snap, queries, n_results, rows, hnsw["space"], hnsw["ef_search"], _columns(columns)
        )

    def search(self, collection_id: str, searches: list[dict[str, Any]]) -> list[pa.Table]:
        """Run search plans (docs/search.md) on one snapshot: per plan, a table with `score`."""
        handle = self.collection(collection_id)
        if not isinstance(searches, list):
            raise InvalidArgumentError(
                f"Expected a list of searches, got {type(searches).__name__}"
            )
        if len(searches) > self.settings.max_searches:
            raise QuotaError("max_searches", len(searches), self.settings.max_searches, "Searches")
        plans = [parse_plan(s, handle.record.dimension, self.settings) for s in searches]
        filters = [self._parse_filters(plan.where, plan.where_document) for plan in plans]
        hnsw = handle.record.configuration["hnsw"]
        runner = SearchRunner(
            self.executor, handle.state.snapshot(), hnsw["space"], hnsw["ef_search"]
        )
        return [runner.run(plan, f) for plan, f in zip(plans, filters, strict=True)]

    def _parse_filters(
        self, where: dict[str, Any] | None, where_document: dict[str, Any] | None
    ) -> Filters:
        """The request's filters checked against the limits and parsed, once for the request."""
        check_depth_limit(where, where_document, self.settings.max_where_depth)
        filters = parse_filters(where, where_document)
        check_predicate_limit(where, where_document, self.settings.max_where_predicates)
        return filters

    def compact(self, collection_id: str) -> int:
        """Fold the whole log tail into index versions now; return how many versions were built."""
        handle = self.collection(collection_id)
        built = 0
        while self.compactor.run_once(handle):
            built += 1
        return built

    def export(self, collection_id: str, batch_rows: int | None = None) -> pa.RecordBatchReader:
        """Every live record of one snapshot, in insertion order, in batches (see transfer.py)."""
        handle = self.collection(collection_id)
        maximum = self.settings.max_batch_rows
        if isinstance(batch_rows, int) and batch_rows > maximum:
            raise QuotaError("max_batch_rows", batch_rows, maximum, "batch_rows of the export")
        rows = min(self.settings.transfer_batch_rows, maximum) if batch_rows is None else batch_rows
        return export_reader(handle.state.snapshot(), handle.record, rows, VERSION)

    def sql(
        self,
        query: str,
        params: Params = None,
        tenant: str = DEFAULT_TENANT,
        database: str = DEFAULT_DATABASE,
    ) -> pa.Table:
        """One read-only DuckDB SELECT over the collections of a database as tables (docs/sql.md)."""
        self._check_open()
        check_name_types(tenant=tenant, database=database)
        self.catalog.get_database(database, tenant)
        return self.sql_sandbox.run(
            query,
            params,
            lambda names: resolve_tables(self.catalog, self.collection, tenant, database, names),
        )

    def stats(self, collection_id: str) -> dict[str, Any]:
        """Version number, log offset, tail size and record count of a collection."""
        handle = self.collection(collection_id)
        tail_records, tail_age = handle.state.tail_size()
        version = handle.state.version
        return {
            "version": version.number,
            "log_offset": version.log_offset,
            "indexed_records": version.num_rows,
            "tail_records": tail_records,
            "tail_age_seconds": tail_age,
            "count": self.count(collection_id),
        }


def _close_at_exit(ref: weakref.ref[Engine]) -> None:
    """atexit: close an engine nobody closed (stops the compactor before threads are frozen)."""
    engine = ref()
    if engine is not None:
        engine.close()


def _columns(include: frozenset[str] | set[str]) -> set[str]:
    """Executor column names for Chroma include names."""
    names = {"embeddings": EMBEDDING, "documents": "document", "metadatas": "metadatas"}
    return {names.get(i, i) for i in include}
