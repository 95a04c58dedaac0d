"""Immutable index versions: how they are written (crash-safe) and loaded for reading (mmap).

A version is a folder `<root>/<collection_id>/<name>/` holding `records.arrow` (an Arrow IPC file:
the record table sorted by label), `docgrams.arrow` and `fts.arrow` (the `$contains` trigram index
and the full-text postings) and, once vectors exist, `index.usearch`. It is written under a
temporary name, every file fsynced, then renamed into place and the parent fsynced, so a crash
leaves either no folder or a complete one. Storage goes through `pyarrow.fs`; fsync and rename use
the OS directly because `pyarrow.fs` exposes neither.
"""

from __future__ import annotations

import os
import uuid
from abc import ABC, abstractmethod
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.fs as pafs
from usearch.index import Index

from ..catalog.base import VersionRecord
from ..schema import DOCUMENT, EMBEDDING, ID, LABEL, empty_records, one_array
from ..wal.segment import make_dirs
from .doc_index import DocIndex

RECORDS_FILE = "records.arrow"
INDEX_FILE = "index.usearch"
DOC_INDEX_FILE = "docgrams.arrow"
FTS_FILE = "fts.arrow"  # full-text postings (term, row, tf), see executor/fts_index.py
TEMP_PREFIX = ".tmp-"
POS = "_pos"


def with_positions(table: pa.Table) -> pa.Table:
    """`table` plus a `_pos` int64 column numbering its rows (for SQL filters)."""
    return table.append_column(POS, pa.array(np.arange(table.num_rows, dtype=np.int64)))


class Version:
    """One version loaded for reading: the record table memory-mapped and the HNSW index as a view."""

    def __init__(
        self,
        record: VersionRecord | None,
        records: pa.Table,
        index: Index | None,
        doc_grams: pa.Table | None = None,
        fts: pa.Table | None = None,
    ) -> None:
        self.record = record
        self.records = records
        self.index = index
        self._doc_grams = doc_grams
        self.fts = fts  # None for a version written before full-text tables existed
        self.cache: dict[str, Any] = {}  # objects derived from the files, built on first use
        self._doc_index: DocIndex | None = None
        self.labels = _numpy(records[LABEL], np.uint64)
        self._id_rows: dict[str, int] | None = None
        self._embeddings: np.ndarray | None = None
        self._scan: pa.Table | None = None
        self._sq_norms: np.ndarray | None = None

    def scan(self) -> pa.Table:
        """The record table with a `_pos` column, for SQL filters (built once)."""
        if self._scan is None:
            self._scan = with_positions(self.records)
        return self._scan

    @classmethod
    def empty(cls, dimension: int | None) -> Version:
        """The version of a collection that was never compacted."""
        return cls(None, empty_records(dimension), None)

    @property
    def log_offset(self) -> int:
        """Last log seq this version covers (0 for none)."""
        return self.record.log_offset if self.record else 0

    @property
    def number(self) -> int:
        """Version number (0 for none)."""
        return self.record.version if self.record else 0

    @property
    def num_rows(self) -> int:
        """Records in this version."""
        return self.records.num_rows

    def positions(self, ids: pa.Array) -> np.ndarray:
        """Row of each id (-1 where absent); the id map is built on first use."""
        if self._id_rows is None:
            self._id_rows = dict(
                zip(self.records[ID].to_pylist(), range(self.num_rows), strict=True)
            )
        get = self._id_rows.get
        return np.fromiter((get(i, -1) for i in ids.to_pylist()), dtype=np.int64, count=len(ids))

    def embeddings(self) -> np.ndarray:
        """All embeddings as an (n, dim) float32 array (zero-copy from the mapped file)."""
        if self._embeddings is None:
            col = self.records[EMBEDDING]
            dim = col.type.list_size
            flat = one_array(col).flatten() if self.num_rows else pa.array([], pa.float32())
            self._embeddings = _numpy(flat, np.float32).reshape(-1, dim)
        return self._embeddings

    @property
    def doc_grams(self) -> pa.Table | None:
        """The `$contains` trigram table as stored (None for a version written without one)."""
        return self._doc_grams

    def doc_index(self) -> DocIndex | None:
        """The `$contains` trigram index, if the compactor built one."""
        if self._doc_index is None and self._doc_grams is not None:
            self._doc_index = DocIndex(self._doc_grams, self.records[DOCUMENT])
        return self._doc_index

    def sq_norms(self) -> np.ndarray:
        """Squared L2 norm of every embedding (computed once)."""
        if self._sq_norms is None:
            emb = self.embeddings()
            self._sq_norms = np.einsum("ij,ij->i", emb, emb)
        return self._sq_norms

    def rows_of_labels(self, keys: np.ndarray) -> np.ndarray:
        """Row of each label (-1 where absent)."""
        if not self.num_rows:
            return np.full(len(keys), -1, dtype=np.int64)
        rows = np.minimum(np.searchsorted(self.labels, keys), self.num_rows - 1)
        return np.where(self.labels[rows] == keys, rows, -1)


def _numpy(array: pa.Array | pa.ChunkedArray, dtype: Any) -> np.ndarray:
    if isinstance(array, pa.ChunkedArray):
        array = one_array(array)
    if len(array) == 0:
        return np.empty(0, dtype=dtype)
    return np.asarray(array.to_numpy(zero_copy_only=array.null_count == 0), dtype=dtype)


class VersionStore(ABC):
    """Where version files live: a local folder now, object storage in distributed mode."""

    @abstractmethod
    def write(
        self,
        collection_id: str,
        records: pa.Table,
        index: Index | None,
        doc_grams: pa.Table | None = None,
        fts: pa.Table | None = None,
    ) -> str:
        """Durably write a new version under a fresh name and return that name."""

    @abstractmethod
    def load(self, collection_id: str, record: VersionRecord) -> Version:
        """Open a registered version for reading."""

    @abstractmethod
    def index_path(self, collection_id: str, name: str) -> str:
        """Local path of a version's index file (for the compactor to restore a mutable copy)."""

    @abstractmethod
    def names(self, collection_id: str) -> list[str]:
        """Every version folder present for a collection, finished or not."""

    @abstractmethod
    def delete(self, collection_id: str, name: str) -> None:
        """Delete one version (readers holding its memory maps keep working)."""

    @abstractmethod
    def drop(self, collection_id: str) -> None:
        """Delete every version of a collection."""

    @abstractmethod
    def collection_ids(self) -> set[str]:
        """Ids of every collection that has version files here."""


class LocalVersionStore(VersionStore):
    """Versions as folders on the local file system."""

    def __init__(self, root: str | Path) -> None:
        self.root = Path(root)
        self.fs = pafs.LocalFileSystem()
        make_dirs(self.root)

    def _dir(self, collection_id: str, name: str = "") -> str:
        return str(self.root / collection_id / name) if name else str(self.root / collection_id)

    def write(
        self,
        collection_id: str,
        records: pa.Table,
        index: Index | None,
        doc_grams: pa.Table | None = None,
        fts: pa.Table | None = None,
    ) -> str:
        name = uuid.uuid4().hex
        tmp, final = self._dir(collection_id, TEMP_PREFIX + name), self._dir(collection_id, name)
        make_dirs(self._dir(collection_id))  # durable: the catalog will name a folder inside it
        self.fs.create_dir(tmp)
        self._write_table(f"{tmp}/{RECORDS_FILE}", records)
        if doc_grams is not None:
            self._write_table(f"{tmp}/{DOC_INDEX_FILE}", doc_grams)
        if fts is not None:
            self._write_table(f"{tmp}/{FTS_FILE}", fts)
        if index is not None:
            index.save(f"{tmp}/{INDEX_FILE}")
            _fsync_path(f"{tmp}/{INDEX_FILE}")
        _fsync_path(tmp)
        self.fs.move(tmp, final)
        _fsync_path(self._dir(collection_id))
        return name

    def load(self, collection_id: str, record: VersionRecord) -> Version:
        folder = self._dir(collection_id, record.path)
        records = _read_table(f"{folder}/{RECORDS_FILE}")
        index_file = f"{folder}/{INDEX_FILE}"
        index = Index.restore(index_file, view=True) if os.path.exists(index_file) else None
        grams_file = f"{folder}/{DOC_INDEX_FILE}"
        doc_grams = _read_table(grams_file) if os.path.exists(grams_file) else None
        fts_file = f"{folder}/{FTS_FILE}"
        fts = _read_table(fts_file) if os.path.exists(fts_file) else None
        return Version(record, records, index, doc_grams, fts)

    def _write_table(self, path: str, table: pa.Table) -> None:
        with self.fs.open_output_stream(path) as sink:
            with pa.ipc.new_file(sink, table.schema) as writer:
                writer.write_table(table)
        _fsync_path(path)

    def index_path(self, collection_id: str, name: str) -> str:
        return f"{self._dir(collection_id, name)}/{INDEX_FILE}"

    def names(self, collection_id: str) -> list[str]:
        selector = pafs.FileSelector(self._dir(collection_id), allow_not_found=True)
        infos = self.fs.get_file_info(selector)
        return [i.base_name for i in infos if i.type == pafs.FileType.Directory]

    def delete(self, collection_id: str, name: str) -> None:
        path = self._dir(collection_id, name)
        if self.fs.get_file_info(path).type != pafs.FileType.NotFound:
            self.fs.delete_dir(path)

    def drop(self, collection_id: str) -> None:
        path = self._dir(collection_id)
        if self.fs.get_file_info(path).type != pafs.FileType.NotFound:
            self.fs.delete_dir(path)

    def collection_ids(self) -> set[str]:
        selector = pafs.FileSelector(str(self.root), allow_not_found=True)
        infos = self.fs.get_file_info(selector)
        return {i.base_name for i in infos if i.type == pafs.FileType.Directory}


def _read_table(path: str) -> pa.Table:
    """An Arrow IPC file, memory-mapped (zero-copy)."""
    with pa.memory_map(path) as source:
        return pa.ipc.open_file(source).read_all()


def _fsync_path(path: str) -> None:
    """fsync a file or a directory by path."""
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
