"""Query results on the wire: the per-query tables of one request stacked into one stream.

A query answers with one table per query embedding; on the wire they travel as one stream with a
`query_index` int32 column (0-based, ascending). Metadata columns that only some queries' results
have are null in the others, which reads back as an absent key.
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa

QUERY_INDEX = "query_index"


def stack_query_results(tables: list[pa.Table]) -> pa.Table:
    """One table: every query's rows in order, tagged with its query_index."""
    parts = [
        t.append_column(QUERY_INDEX, pa.array(np.full(t.num_rows, i, dtype=np.int32)))
        for i, t in enumerate(tables)
    ]
    return pa.concat_tables(parts, promote_options="permissive")


def split_query_results(table: pa.Table, n_queries: int) -> list[pa.Table]:
    """The per-query tables of a stacked result (without the query_index column)."""
    index = table.column(QUERY_INDEX).to_numpy()
    bounds = np.searchsorted(index, np.arange(n_queries + 1, dtype=np.int32))
    body = table.drop_columns([QUERY_INDEX])
    return [body.slice(int(a), int(b - a)) for a, b in zip(bounds[:-1], bounds[1:], strict=True)]
