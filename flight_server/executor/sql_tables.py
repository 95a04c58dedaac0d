"""Collections as SQL tables: one snapshot's live records as a DuckDB relation, zero-copy.

A collection's table has the columns `id` VARCHAR, `document` VARCHAR, `embedding` FLOAT[dim]
(DuckDB's fixed-size ARRAY, so array_cosine_similarity / array_distance / array_inner_product
apply) and one column per metadata key, in key order. The stored typed columns of a key
(`flight_server.schema`) become one column:

- one type: that type (VARCHAR, BIGINT, DOUBLE, BOOLEAN, or a list VARCHAR[] ... BOOLEAN[]);
- ints and floats: DOUBLE (lists of ints and of floats: DOUBLE[]);
- any other mix (say str and int, or bool and int): JSON, each value as its JSON text.

A key named like id/document/embedding, or equal to another key but for ASCII case (DuckDB names
are case-insensitive), is shown as `<key>~1` (`~2`, ...), as the executor's filter relations do.

Which columns a key has, and their types, follow from the live records only: a typed column whose
values were all deleted or replaced is left out. The relation scans the memory-mapped version and
the in-memory log tail as they are (one Arrow table of their chunks, no copy); rows the tail
deleted or superseded are filtered out in DuckDB by a `live` mask column, so only the columns a
query reads are ever touched.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from ..schema import DOCUMENT, EMBEDDING, ID, LABEL, UNSET_TAG, empty_records, parse_meta_column
from .filter_sql import quote_identifier, relation_aliases
from .state import Snapshot

SQL_TYPES = {
    "s": "VARCHAR",
    "i": "BIGINT",
    "f": "DOUBLE",
    "b": "BOOLEAN",
    "ls": "VARCHAR[]",
    "li": "BIGINT[]",
    "lf": "DOUBLE[]",
    "lb": "BOOLEAN[]",
}
NUMERIC_MERGES = {
    frozenset({"i", "f"}): ("f", "DOUBLE"),
    frozenset({"li", "lf"}): ("lf", "DOUBLE[]"),
}
LIVE = "live"  # the mask column's (internal) name: false where the tail masks a version row
RESERVED = (ID, DOCUMENT, EMBEDDING)


@dataclass(frozen=True)
class SqlTable:
    """A collection as DuckDB sees it: Arrow data (internal column names), projection, filter."""

    arrow: pa.Table
    select: str
    where: str | None
    columns: tuple[str, ...]  # the table's column names as SQL shows them


def snapshot_table(snap: Snapshot, dimension: int | None) -> SqlTable:
    """The live records of a snapshot as a SqlTable (no record data is copied)."""
    data = _live_parts(snap, dimension)
    alias = {name: f"c{i}" for i, name in enumerate(data.column_names)}
    arrow = data.rename_columns([alias[n] for n in data.column_names])
    keys: dict[str, dict[str, str]] = {}
    for name in data.column_names:
        parsed = parse_meta_column(name)
        if parsed is not None and parsed[0] != UNSET_TAG:
            keys.setdefault(parsed[1], {})[parsed[0]] = alias[name]
    names = column_names(list(keys))
    emb_type = f"FLOAT[{dimension}]" if dimension else "FLOAT[]"
    items = [
        (ID, alias[ID]),
        (DOCUMENT, alias.get(DOCUMENT, "CAST(NULL AS VARCHAR)")),
        (EMBEDDING, alias.get(EMBEDDING, f"CAST(NULL AS {emb_type})")),
    ]
    items += [(names[key], key_expression(keys[key])) for key in sorted(keys)]
    select = ", ".join(f"{expr} AS {quote_identifier(name)}" for name, expr in items)
    where = f"{alias[LIVE]} IS NOT FALSE" if LIVE in alias else None
    return SqlTable(arrow, select, where, tuple(name for name, _ in items))


def _live_parts(snap: Snapshot, dimension: int | None) -> pa.Table:
    """The version (with a live mask if the tail masks rows of it) and the tail, as one table.

    Metadata columns without a value in any live record are left out, so a table's columns and
    their types follow from the live records alone (not from values since deleted or replaced).
    """
    parts: list[tuple[pa.Table, np.ndarray | None]] = []
    version = snap.version.records
    if version.num_rows:
        live = ~snap.dead
        if live.all():
            parts.append((version, None))
        elif live.any():
            parts.append((version.append_column(LIVE, pa.array(live, pa.bool_())), live))
    if snap.tail is not None and snap.tail.num_rows:
        parts.append((snap.tail, None))
    if not parts:
        parts.append((empty_records(dimension), None))
    keep = set().union(*(_valued_columns(t, live) for t, live in parts))
    tables = [
        t.select([n for n in t.column_names if n != LABEL and (not _is_meta(n) or n in keep)])
        for t, _ in parts
    ]
    if len(tables) == 1:
        return tables[0]
    return pa.concat_tables(tables, promote_options="default")


def _is_meta(name: str) -> bool:
    return parse_meta_column(name) is not None


def _valued_columns(table: pa.Table, live: np.ndarray | None) -> set[str]:
    """Metadata columns of `table` with a value in at least one live row (all rows if no mask)."""
    out = set()
    for name in table.column_names:
        if not _is_meta(name):
            continue
        col = table.column(name)
        if col.null_count == len(col):
            continue
        if live is None or col.null_count == 0:
            out.add(name)
        elif np.any(live & pc.is_valid(col).to_numpy(zero_copy_only=False)):
            out.add(name)
    return out


def key_expression(typed: dict[str, str]) -> str:
    """The SQL expression of one metadata key from its typed columns (tag -> column)."""
    tags = frozenset(typed)
    if len(tags) == 1:
        return typed[next(iter(tags))]
    if tags in NUMERIC_MERGES:
        wide, sql_type = NUMERIC_MERGES[tags]
        narrow = next(iter(tags - {wide}))
        return f"COALESCE({typed[wide]}, CAST({typed[narrow]} AS {sql_type}))"
    parts = ", ".join(f"to_json({typed[t]})" for t in sorted(tags))
    return f"CAST(COALESCE({parts}) AS JSON)"


def column_names(keys: list[str]) -> dict[str, str]:
    """Metadata key -> its SQL column name (unique ignoring ASCII case, never id/document/...)."""
    aliases = relation_aliases([*RESERVED, *sorted(keys)])
    return {key: aliases[key] for key in keys}
