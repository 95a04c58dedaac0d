"""Applying log entries to records, column by column: the one place Chroma's write semantics live.

Used by the query executor (the log tail on top of the current version, for consistent reads) and
by the compactor (folding the tail into the next version). Semantics, as chromadb 1.5.9:
- add of an id that exists is ignored; the first of several adds of one id wins;
- update of a missing id is ignored; update merges: a given embedding/document replaces the old,
  metadata keys are merged, an unset (`x:<key>`) removes the key;
- upsert is update for existing ids and add for new ones;
- delete of a missing id is ignored.
Work is per batch (pyarrow.compute and numpy over whole columns); no per-record Python loops.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Protocol

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from ..schema import (
    DOCUMENT,
    EMBEDDING,
    ID,
    LABEL,
    UNSET_TAG,
    Op,
    labels_for,
    one_array,
    parse_meta_column,
)
from ..wal.base import LogEntry


class BaseRows(Protocol):
    """What materialization needs of an index version."""

    records: pa.Table

    def positions(self, ids: pa.Array) -> np.ndarray:
        """Row of each id in `records` (-1 where absent)."""
        ...


@dataclass(frozen=True)
class Overlay:
    """The log tail applied on a version: live tail records, and version rows they mask."""

    tail: pa.Table | None
    dead: np.ndarray
    upto_seq: int

    @property
    def tail_rows(self) -> int:
        """Number of live tail records."""
        return 0 if self.tail is None else self.tail.num_rows


def empty_overlay(base_rows: int, upto_seq: int) -> Overlay:
    """An overlay that changes nothing."""
    return Overlay(None, np.zeros(base_rows, dtype=bool), upto_seq)


def apply_entries(overlay: Overlay, base: BaseRows, entries: Iterable[LogEntry]) -> Overlay:
    """A new overlay with `entries` (seq > overlay.upto_seq, in order) applied; inputs unchanged."""
    tail, dead, upto = overlay.tail, overlay.dead.copy(), overlay.upto_seq
    todo = [e for e in entries if e.seq > upto]
    for op, batch, labels in _coalesce_adds(todo):
        tail = _apply(op, batch, labels, tail, dead, base)
    if todo:
        upto = todo[-1].seq
    if tail is not None and tail.num_rows == 0:
        tail = None
    return Overlay(tail, dead, upto)


def _coalesce_adds(entries: Sequence[LogEntry]) -> list[tuple[Op, pa.Table, pa.Array]]:
    """Consecutive ADD entries merged into one (first add of an id wins); others as they are."""
    groups: list[tuple[Op, pa.Table, pa.Array]] = []
    run: list[LogEntry] = []

    def flush() -> None:
        if not run:
            return
        table = pa.concat_tables(
            [pa.Table.from_batches([e.batch]) for e in run], promote_options="default"
        )
        labels = pa.concat_arrays([labels_for(e.seq, e.batch.num_rows) for e in run])
        if len(run) > 1:
            first = pc.index_in(table[ID], value_set=one_array(table[ID]))
            keep = np.asarray(first) == np.arange(table.num_rows)
            if not keep.all():  # filter copies every column: skip it when nothing is dropped
                table, labels = table.filter(pa.array(keep)), labels.filter(pa.array(keep))
        groups.append((Op.ADD, table, labels))
        run.clear()

    for entry in entries:
        if entry.op == Op.ADD:
            run.append(entry)
            continue
        flush()
        table = pa.Table.from_batches([entry.batch])
        groups.append((entry.op, table, labels_for(entry.seq, entry.batch.num_rows)))
    flush()
    return groups


def _apply(
    op: Op,
    batch: pa.Table,
    labels: pa.Array,
    tail: pa.Table | None,
    dead: np.ndarray,
    base: BaseRows,
) -> pa.Table | None:
    """Apply one (coalesced) write; `dead` is updated in place, the new tail returned."""
    ids = one_array(batch[ID])
    t_pos = positions_in(tail, ids)
    v_pos = base.positions(ids) if len(dead) else np.full(len(ids), -1, dtype=np.int64)
    in_t = t_pos >= 0
    in_v = ~in_t & (v_pos >= 0)
    in_v[in_v] = ~dead[v_pos[in_v]]
    exists = in_t | in_v

    keep_tail = None
    parts: list[pa.Table] = []
    if op == Op.DELETE or (op in (Op.UPDATE, Op.UPSERT) and exists.any()):
        if tail is not None:
            keep_tail = np.ones(tail.num_rows, dtype=bool)
            keep_tail[t_pos[in_t]] = False
        dead[v_pos[in_v]] = True
    if op in (Op.UPDATE, Op.UPSERT) and exists.any():
        old_parts = []
        if tail is not None and in_t.any():
            old_parts.append(tail.take(pa.array(t_pos[in_t])))
        if in_v.any():
            old_parts.append(base.records.take(pa.array(v_pos[in_v])))
        old = pa.concat_tables(old_parts, promote_options="default")
        order = np.concatenate([np.nonzero(in_t)[0], np.nonzero(in_v)[0]])
        parts.append(merge_records(old, batch.take(pa.array(order))))
    if op == Op.ADD or op == Op.UPSERT:
        new = ~exists
        if new.all():  # the common bulk add: the batch's buffers are shared, not copied
            parts.append(_as_records(batch, labels))
        elif new.any():
            mask = pa.array(new)
            parts.append(_as_records(batch.filter(mask), labels.filter(mask)))

    if keep_tail is not None and tail is not None:
        tail = tail.filter(pa.array(keep_tail))
    if parts:
        tail = pa.concat_tables(
            ([tail] if tail is not None else []) + parts, promote_options="default"
        )
    return tail


def positions_in(tail: pa.Table | None, ids: pa.Array) -> np.ndarray:
    """Row of each id in `tail` (-1 where absent)."""
    if tail is None or tail.num_rows == 0:
        return np.full(len(ids), -1, dtype=np.int64)
    found = pc.index_in(ids, value_set=one_array(tail[ID]))
    return np.asarray(found.fill_null(-1), dtype=np.int64)


def _as_records(batch: pa.Table, labels: pa.Array) -> pa.Table:
    """A write batch as record rows: unset columns dropped, labels attached."""
    keep = [n for n in batch.column_names if not n.startswith(UNSET_TAG + ":")]
    table = batch.select(keep)
    return table.add_column(1, LABEL, labels)


def merge_records(old: pa.Table, update: pa.Table) -> pa.Table:
    """Row i of `old` updated by row i of `update` (given fields replace, metadata keys merge)."""
    n = old.num_rows
    columns: dict[str, pa.ChunkedArray | pa.Array] = {ID: old[ID], LABEL: old[LABEL]}
    for name in (EMBEDDING, DOCUMENT):
        if name in update.column_names or name in old.column_names:
            columns[name] = _replace_where_given(old, update, name)
    old_keys = _meta_by_key(old.column_names)
    upd_keys = _meta_by_key(update.column_names)
    for key in sorted(set(old_keys) | set(upd_keys)):
        names = sorted(set(old_keys.get(key, [])) | set(upd_keys.get(key, [])) - {_unset(key)})
        if key not in upd_keys:
            columns.update({c: old[c] for c in names})
            continue
        touched = _touched(update, upd_keys[key], key)
        for c in names:
            typ = (update.schema.field(c) if c in update.column_names else old.schema.field(c)).type
            new = update[c] if c in update.column_names else pa.nulls(n, typ)
            was = old[c] if c in old.column_names else pa.nulls(n, typ)
            columns[c] = pc.if_else(touched, new, was)
    return pa.table(columns)


def _replace_where_given(old: pa.Table, update: pa.Table, name: str) -> pa.ChunkedArray | pa.Array:
    if name not in update.column_names:
        return old[name]
    given = pc.is_valid(update[name])
    if name not in old.column_names:
        return update[name]
    return pc.if_else(given, update[name], old[name].cast(update[name].type))


def _touched(update: pa.Table, names: list[str], key: str) -> pa.ChunkedArray | pa.Array:
    """Rows of `update` that set or unset `key`."""
    flags = [pc.is_valid(update[c]) for c in names if c != _unset(key)]
    if _unset(key) in update.column_names:
        flags.append(pc.fill_null(update[_unset(key)], False))
    result = flags[0]
    for f in flags[1:]:
        result = pc.or_(result, f)
    return result


def _unset(key: str) -> str:
    return f"{UNSET_TAG}:{key}"


def _meta_by_key(names: list[str]) -> dict[str, list[str]]:
    """Metadata and unset column names grouped by key."""
    out: dict[str, list[str]] = {}
    for name in names:
        parsed = parse_meta_column(name)
        if parsed:
            out.setdefault(parsed[1], []).append(name)
    return out


def fold(base: BaseRows, overlay: Overlay) -> pa.Table:
    """The full record table after the overlay: live base rows and tail records, sorted by label."""
    live = base.records.filter(pa.array(~overlay.dead)) if len(overlay.dead) else base.records
    if overlay.tail is None:
        return live
    # an empty base may predate the collection's dimension: its schema is not the tail's
    parts = [live, overlay.tail] if live.num_rows else [overlay.tail]
    merged = pa.concat_tables(parts, promote_options="default")
    labels = one_array(merged[LABEL])
    if len(labels) < 2 or pc.all(pc.less(labels[:-1], labels[1:])).as_py():
        return merged  # adds only: tail labels follow the version's, so no reordering copy
    return merged.take(pc.sort_indices(labels))
