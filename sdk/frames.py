"""get()/query() results: Chroma's dicts that also convert to Arrow, Polars and pandas.

`GetResult` and `QueryResult` are `dict`s with exactly Chroma's keys and values, each value
converted from Arrow on first access (`lazy_dict.py`); they keep the tables the transport returned. `.to_arrow()` builds one `pyarrow.Table` from
them (no Python lists involved): `id`, then `distance` (query), `document`, `embedding` and the
metadata columns, as included; a query's table starts with `query_index` (0-based, ascending;
within one query rows are nearest first). Metadata columns are named by key (see
`columns.display_names`); columns null in every row of the result are left out.

Conversions are zero-copy where Arrow allows: `to_arrow()` renames and selects columns only, and
`to_polars()` hands the buffers to Polars (`rechunk=False`). Remote results are realigned to 64
bytes once, as they arrive (`flight_transport`). Strings are the exception: Polars keeps them in
its own string-view layout, so string columns are copied once.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
import pyarrow as pa

from flight_server.api import DOCUMENT, EMBEDDING, ID, UNSET_TAG, parse_meta_column

from .columns import DISTANCE, QUERY_INDEX, display_names
from .errors import MissingDependencyError
from .lazy_dict import LazyDict

PANDAS_MISSING = (
    "to_pandas() needs pandas, which is an optional extra: pip install 'fletchdb[pandas]'"
)


class _Frames(LazyDict):
    """A result dict (values converted on first access) that converts to Arrow, Polars, pandas."""

    def __init__(self, fields: dict[str, Any], build: Callable[[], pa.Table]) -> None:
        super().__init__(fields)
        self._build, self._arrow = build, None

    def to_arrow(self) -> pa.Table:
        """The result as one pyarrow.Table (built once, then cached)."""
        if self._arrow is None:
            self._arrow = self._build()
        return self._arrow

    def to_polars(self) -> Any:
        """The result as a polars.DataFrame (the Arrow buffers, without a copy where possible)."""
        import polars as pl

        return pl.from_arrow(self.to_arrow(), rechunk=False)

    def to_pandas(self, **kwargs: Any) -> Any:
        """The result as a pandas.DataFrame; kwargs go to pyarrow's Table.to_pandas.

        `types_mapper=pandas.ArrowDtype` keeps the Arrow buffers (no copy); the default converts
        to numpy-backed columns, with each embedding a numpy array.
        """
        try:
            import pandas  # noqa: F401
        except ImportError:
            raise MissingDependencyError(PANDAS_MISSING) from None
        return self.to_arrow().to_pandas(**kwargs)


class GetResult(_Frames):
    """Chroma's GetResult dict, plus to_arrow / to_polars / to_pandas."""

    def __init__(self, fields: dict[str, Any], table: pa.Table, include: Sequence[str]) -> None:
        super().__init__(fields, lambda: _frame(_as_table(table), tuple(include)))


class QueryResult(_Frames):
    """Chroma's QueryResult dict, plus to_arrow / to_polars / to_pandas (one table, query_index)."""

    def __init__(
        self, fields: dict[str, Any], tables: Sequence[pa.Table], include: Sequence[str]
    ) -> None:
        super().__init__(fields, lambda: _frame(_stacked(list(tables)), tuple(include)))


def _stacked(tables: list[pa.Table]) -> pa.Table:
    """Every query's rows in order, tagged with a query_index column."""
    parts = [
        _as_table(t).append_column(QUERY_INDEX, pa.array(np.full(t.num_rows, i, dtype=np.int32)))
        for i, t in enumerate(tables)
    ]
    return pa.concat_tables(parts, promote_options="permissive")


def _as_table(records: pa.Table | pa.RecordBatch) -> pa.Table:
    return records if isinstance(records, pa.Table) else pa.Table.from_batches([records])


def _frame(table: pa.Table, include: Sequence[str]) -> pa.Table:
    """The included columns of a record table, in result order, metadata named by key."""
    names = table.column_names
    keep = [QUERY_INDEX] if QUERY_INDEX in names else []
    keep.append(ID)
    wanted = (
        (DISTANCE, "distances"),
        (DOCUMENT, "documents"),
        (EMBEDDING, "embeddings"),
    )
    keep += [name for name, item in wanted if item in include and name in names]
    if "metadatas" in include:
        keep += [
            name
            for name in names
            if (parsed := parse_meta_column(name)) is not None
            and parsed[0] != UNSET_TAG
            and table.column(name).null_count < table.num_rows
        ]
    selected = table.select(keep)
    return selected.rename_columns(display_names(selected.column_names))
