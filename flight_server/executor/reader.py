"""The query executor: get, query and count over a snapshot (version + log tail).

Unfiltered reads take rows by position from the memory-mapped version and the in-memory tail and
never touch SQL. Filters compile to parameterized DuckDB SQL over the same Arrow tables (scanned
zero-copy). Filtered KNN searches a small candidate set exactly and a large one through the HNSW
index with oversampling, falling back to exact search when that finds too few.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass

import duckdb
import numpy as np
import pyarrow as pa

from ..config import Settings
from ..schema import DOCUMENT, EMBEDDING, ID, LABEL, parse_meta_column
from ..versions.materialize import positions_in
from ..versions.store import POS, Version
from .doc_narrow import candidate_rows
from .filter_sql import compile_filters, relation_aliases
from .filters import NO_FILTERS, DocMatch, Filters
from .state import Snapshot
from .vector_search import exact_topk, index_candidates, merge_topk, rerank

DUCKDB_CONFIG: dict[str, str | bool | int | float | list[str]] = {
    "autoinstall_known_extensions": "false",
    "autoload_known_extensions": "false",
}
DISTANCE = "distance"


@dataclass(frozen=True)
class Rows:
    """Selected records: sorted version rows and tail rows."""

    version: np.ndarray
    tail: np.ndarray

    def __len__(self) -> int:
        return len(self.version) + len(self.tail)


class Executor:
    """Serves every read of every collection; stateless apart from a DuckDB connection."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self._duck = duckdb.connect(":memory:", config=DUCKDB_CONFIG)
        self._local = threading.local()
        self._tables: dict[str, tuple[Version, str, dict[str, str]]] = {}
        self._tables_lock = threading.Lock()

    def close(self) -> None:
        """Close the DuckDB connection."""
        self._duck.close()

    # Selection -----------------------------------------------------------------------
    def select(
        self,
        snap: Snapshot,
        ids: list[str] | None = None,
        filters: Filters = NO_FILTERS,
    ) -> Rows | None:
        """Rows matching ids and filters (None when nothing restricts the selection)."""
        if ids is None and not filters:
            return None
        allowed = ~snap.dead
        t_allowed = np.ones(snap.overlay.tail_rows, dtype=bool)
        if ids is not None:
            id_array = pa.array(ids, pa.string())
            by_id = np.zeros_like(allowed)
            if snap.version.num_rows:
                found = snap.version.positions(id_array)
                by_id[found[found >= 0]] = True
            allowed &= by_id
            t_allowed = np.zeros_like(t_allowed)
            found = positions_in(snap.tail, id_array)
            t_allowed[found[found >= 0]] = True
        if not filters:
            return Rows(np.flatnonzero(allowed), np.flatnonzero(t_allowed))
        v_rows = _doc_index_rows(snap.version, filters)
        if v_rows is None:
            v_rows = self._narrowed_filter(snap.version, filters)
        if v_rows is None:
            v_rows = self._version_filter(snap.version, filters)
        t_rows = self._filter(snap.tail_scan(), filters)
        return Rows(v_rows[allowed[v_rows]], t_rows[t_allowed[t_rows]])

    def _narrowed_filter(self, version: Version, filters: Filters) -> np.ndarray | None:
        """The SQL filter over only the rows the trigram index lets through (None: no narrowing)."""
        candidates = candidate_rows(version, filters)
        if candidates is None or len(candidates) == 0:
            return candidates
        subset = version.scan().drop_columns([EMBEDDING, LABEL]).take(pa.array(candidates))
        return self._filter(subset, filters)  # _pos keeps the version rows

    def _version_filter(self, version: Version, filters: Filters) -> np.ndarray:
        """Rows of a version matching the filters, from its native DuckDB table."""
        if version.num_rows == 0 or version.record is None:
            return np.empty(0, dtype=np.int64)
        name, aliases = self._version_table(version)
        expr, params = compile_filters(filters, aliases)
        found = (
            self._cursor()
            .execute(f'SELECT {POS} FROM "{name}" WHERE {expr}', params)
            .fetchnumpy()[POS]
        )
        return np.sort(np.asarray(found, dtype=np.int64))

    def _version_table(self, version: Version) -> tuple[str, dict[str, str]]:
        """The version's filterable columns as a DuckDB table, created once per version.

        A native table filters about twice as fast as registering the Arrow table per query.
        """
        assert version.record is not None
        collection_id = version.record.collection_id
        with self._tables_lock:
            entry = self._tables.get(collection_id)
            if entry is not None and entry[0] is version:
                return entry[1], entry[2]
            scan = version.scan().drop_columns([EMBEDDING, LABEL])
            aliases = relation_aliases(scan.column_names)
            name = f"v_{version.record.path}"
            cur = self._duck.cursor()
            cur.register("src", scan.rename_columns([aliases[n] for n in scan.column_names]))
            cur.execute(f'CREATE OR REPLACE TABLE "{name}" AS SELECT * FROM src')
            cur.unregister("src")
            if entry is not None and entry[1] != name:
                cur.execute(f'DROP TABLE IF EXISTS "{entry[1]}"')
            cur.close()
            self._tables[collection_id] = (version, name, aliases)
            return name, aliases

    def forget(self, collection_id: str) -> None:
        """Drop the filter table of a deleted collection."""
        with self._tables_lock:
            entry = self._tables.pop(collection_id, None)
            if entry is not None:
                self._duck.execute(f'DROP TABLE IF EXISTS "{entry[1]}"')

    def _filter(self, table: pa.Table | None, filters: Filters) -> np.ndarray:
        if table is None or table.num_rows == 0:
            return np.empty(0, dtype=np.int64)
        # DuckDB matches names case-insensitively: register under aliases so "s:A" and "s:a" differ
        aliases = relation_aliases(table.column_names)
        expr, params = compile_filters(filters, aliases)
        cur = self._cursor()
        cur.register("records", table.rename_columns([aliases[n] for n in table.column_names]))
        try:
            found = cur.execute(f"SELECT {POS} FROM records WHERE {expr}", params).fetchnumpy()[POS]
        finally:
            cur.unregister("records")
        return np.sort(np.asarray(found, dtype=np.int64))

    def _cursor(self) -> duckdb.DuckDBPyConnection:
        cur = getattr(self._local, "cursor", None)
        if cur is None:
            cur = self._local.cursor = self._duck.cursor()
        return cur

    # Reads ---------------------------------------------------------------------------
    def count(self, snap: Snapshot) -> int:
        """Live records."""
        return snap.count()

    def get(
        self,
        snap: Snapshot,
        ids: list[str] | None,
        filters: Filters,
        limit: int | None,
        offset: int | None,
        columns: set[str],
    ) -> pa.Table:
        """Matching records in insertion order, paged, with the requested columns."""
        rows = self.select(snap, ids, filters)
        if rows is None:
            rows = Rows(
                np.nonzero(~snap.dead)[0], np.arange(snap.overlay.tail_rows, dtype=np.int64)
            )
        return gather_refs(snap, page_by_label(snap, rows, offset or 0, limit), columns)

    def query(
        self,
        snap: Snapshot,
        queries: np.ndarray,
        k: int,
        rows: Rows | None,
        space: str,
        ef: int,
        columns: set[str],
    ) -> list[pa.Table]:
        """Per query embedding, the k nearest selected records with a `distance` column."""
        dist, refs = self.nearest(snap, queries, k, rows, space, ef)
        out = []
        for qi in range(len(queries)):
            ok = np.isfinite(dist[qi]) & (refs[qi] != -1)
            table = gather_refs(snap, refs[qi][ok], columns)
            out.append(table.append_column(DISTANCE, pa.array(dist[qi][ok], pa.float32())))
        return out

    def nearest(
        self,
        snap: Snapshot,
        queries: np.ndarray,
        k: int,
        rows: Rows | None,
        space: str,
        ef: int,
    ) -> tuple[np.ndarray, np.ndarray]:
        """(distances, references) of the k nearest selected records per query, ascending.

        References are version rows (>= 0) or tail rows r as -(r + 2); padding is (inf, -1).
        """
        nq = len(queries)
        if rows is None:
            vd, vr = self._version_knn(snap, queries, k, None, space, ef)
            td, tr = (
                exact_topk(queries, snap.tail_embeddings(), k, space)
                if snap.tail is not None
                else _none(nq, k)
            )
        else:
            vd, vr = self._version_knn(snap, queries, k, rows.version, space, ef)
            if len(rows.tail):
                td, tr = exact_topk(queries, snap.tail_embeddings()[rows.tail], k, space)
                tr = np.where(tr >= 0, rows.tail[np.maximum(tr, 0)], -1)
            else:
                td, tr = _none(nq, k)
        if snap.tail is None and rows is None:  # nothing but the version: no merge needed
            dist, refs = vd, vr
        else:
            dist, refs = merge_topk(vd, vr, td, np.where(tr >= 0, _tail_refs(tr), -1), k)
        return dist, refs

    def _version_knn(
        self,
        snap: Snapshot,
        queries: np.ndarray,
        k: int,
        candidates: np.ndarray | None,
        space: str,
        ef: int,
    ) -> tuple[np.ndarray, np.ndarray]:
        """(distances, version rows) of the k nearest live (and selected) version records."""
        version, dead = snap.version, snap.dead
        nq = len(queries)
        if version.num_rows == 0 or (candidates is not None and len(candidates) == 0):
            return _none(nq, k)
        exact_max = self.settings.exact_search_max_candidates
        small = version.num_rows <= self.settings.exact_search_max_rows
        if (
            version.index is None
            or small
            or (candidates is not None and len(candidates) <= exact_max)
        ):
            rows = candidates if candidates is not None else np.flatnonzero(~dead)
            if len(rows) == 0:
                return _none(nq, k)
            vectors = np.take(version.embeddings(), rows, axis=0)
            d, r = exact_topk(queries, vectors, k, space, version.sq_norms()[rows])
            return d, np.where(r >= 0, rows[np.maximum(r, 0)], -1)
        if candidates is None:  # no O(rows) mask per query: a 1M-row one cost ~0.2 ms
            refused, live = dead, version.num_rows - snap.dead_count
        else:
            refused = np.ones_like(dead)
            refused[candidates] = False
            live = len(refused) - int(np.count_nonzero(refused))

        def rows_of(keys: np.ndarray) -> np.ndarray:
            r = version.rows_of_labels(keys.reshape(-1)).reshape(keys.shape)
            return np.where(refused[np.maximum(r, 0)], -1, r)

        ratio = version.num_rows / max(live, 1)
        start = (
            int(k * ratio * (self.settings.filtered_oversample if candidates is not None else 1.0))
            + k
        )
        # at least 2k candidates (costless below ef) so the exact re-rank can improve on the index
        rows = index_candidates(version.index, queries, k, rows_of, max(start, 2 * k), ef)
        d, rows = rerank(queries, version.embeddings(), version.sq_norms(), rows, k, space)
        short = (rows >= 0).sum(axis=1) < min(k, live)
        if short.any() and candidates is not None:  # oversampling fell short: answer exactly
            vectors = np.take(version.embeddings(), candidates, axis=0)
            ed, er = exact_topk(queries[short], vectors, k, space, version.sq_norms()[candidates])
            d[short], rows[short] = ed, np.where(er >= 0, candidates[np.maximum(er, 0)], -1)
        return d, rows


def _doc_index_rows(version: Version, filters: Filters) -> np.ndarray | None:
    """Version rows for a lone `{"$contains": s}` from the trigram index (None: use SQL)."""
    doc = filters.document
    if filters.where is not None or not isinstance(doc, DocMatch) or doc.op != "$contains":
        return None
    index = version.doc_index()
    return None if index is None else index.search(doc.pattern)


def _none(nq: int, k: int) -> tuple[np.ndarray, np.ndarray]:
    return np.full((nq, k), np.inf, dtype=np.float32), np.full((nq, k), -1, dtype=np.int64)


def _tail_refs(rows: np.ndarray) -> np.ndarray:
    """Tail rows as references: version rows are >= 0, tail row r is -(r + 2) (-1 is none)."""
    return -(rows + 2)


def page_by_label(snap: Snapshot, rows: Rows, offset: int, limit: int | None) -> np.ndarray:
    """References to the page [offset, offset+limit) of the selected rows in label order."""
    end = None if limit is None else offset + limit
    if not len(rows.tail):
        return rows.version[offset:end]
    v = rows.version[:end]  # version rows are already in label order
    t_labels = snap.tail_labels()[rows.tail]
    t_order = np.argsort(t_labels, kind="stable")[:end]
    labels = np.concatenate([snap.version.labels[v], t_labels[t_order]])
    refs = np.concatenate([v, _tail_refs(rows.tail[t_order])])
    return refs[np.argsort(labels, kind="stable")[offset:end]]


def gather_refs(snap: Snapshot, refs: np.ndarray, columns: set[str]) -> pa.Table:
    """The records `refs` point at, in that order, with the requested columns."""
    is_v = refs >= 0
    table = gather(snap, refs[is_v], -(refs[~is_v] + 2), columns)
    if is_v.all() or not is_v.any():
        return table
    # gather puts version rows first: put every row back at its place in `refs`
    order = np.concatenate([np.flatnonzero(is_v), np.flatnonzero(~is_v)])
    return table.take(pa.array(np.argsort(order, kind="stable")))


def gather(snap: Snapshot, v_rows: np.ndarray, t_rows: np.ndarray, columns: set[str]) -> pa.Table:
    """Version rows then tail rows as one table with the requested columns."""
    parts = []
    if len(v_rows):
        parts.append(_select(snap.version.records, columns).take(pa.array(v_rows)))
    if len(t_rows) and snap.tail is not None:
        parts.append(_select(snap.tail, columns).take(pa.array(t_rows)))
    if not parts:
        return _select(snap.version.records, columns).slice(0, 0)
    if len(parts) == 1:
        return parts[0]
    return pa.concat_tables(parts, promote_options="default")


def _select(table: pa.Table, columns: set[str]) -> pa.Table:
    """id, then embedding/document/metadata columns when requested ("metadatas" = every metadata column)."""
    keep = [ID]
    for name in table.column_names:
        if name in (EMBEDDING, DOCUMENT) and name in columns:
            keep.append(name)
        elif "metadatas" in columns and parse_meta_column(name) and name != LABEL:
            keep.append(name)
    return table.select(keep)
