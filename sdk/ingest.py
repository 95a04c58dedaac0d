"""Bulk writes from tables: `collection.add(table)` for Arrow, Polars, pandas, Parquet and streams.

The table is read in batches of `transfer_batch_rows` records (capped by max_batch_rows and
max_batch_bytes), each mapped column by column (`columns.canonical_batch`) and written as one
atomic write: locally through the engine, remotely as one DoPut stream acknowledged per batch.
Nothing iterates over rows in Python: the columns stay Arrow buffers from source to log.

Atomicity: each batch is all or nothing. When batch k fails, batches before it are durable and
stay; the error is the class the list API raises, with its message suffixed by the batch number,
the input row it started at and how many rows were written (`details["rows_written"]`).
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from itertools import groupby
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from flight_server.api import DOCUMENT, EMBEDDING, ID, Op, duplicate_ids_message

from .columns import canonical_batch, is_string_type
from .convert import normalize_embeddings
from .errors import DuplicateIDError, FletchError, InvalidArgumentError
from .prefetch import prefetched
from .transport import Transport

PROGRESS_MIN_ROWS = 100_000  # progress=None shows a bar (on a terminal) from this many records
Embed = Callable[[list[str]], Any]


@dataclass
class Source:
    """A table input: its batches, its size if known, and its ids if they can be read up front."""

    batches: Iterator[pa.RecordBatch]
    rows: int | None
    ids: pa.ChunkedArray | None
    what: str


def is_table_input(value: Any) -> bool:
    """Whether a positional `add`/`upsert`/`update` argument is a table rather than Chroma's ids.

    Tables: pyarrow Table/RecordBatch/RecordBatchReader, Polars and pandas DataFrames, objects
    with `__arrow_c_stream__`, a pathlib.Path (or os.PathLike), or a str that ends in ".parquet"
    and names an existing file. Any other str is an id, as in Chroma.
    """
    if isinstance(value, pa.Table | pa.RecordBatch | pa.RecordBatchReader | os.PathLike):
        return True
    if isinstance(value, str):
        return value.lower().endswith(".parquet") and os.path.isfile(value)
    return _frame_kind(value) is not None or hasattr(value, "__arrow_c_stream__")


def _frame_kind(value: Any) -> str | None:
    """ "polars", "polars-lazy" or "pandas" for DataFrames of those (without importing pandas)."""
    if isinstance(value, _loaded("polars", "DataFrame")):
        return "polars"
    if isinstance(value, _loaded("polars", "LazyFrame")):
        return "polars-lazy"
    if isinstance(value, _loaded("pandas", "DataFrame")):
        return "pandas"
    return None


def _loaded(module: str, name: str) -> type | tuple[()]:
    """`module.name` if that module is imported, else () (isinstance of nothing).

    Another thread may be importing the module right now: its entry in sys.modules then lacks the
    class, and no value can be an instance of a class that does not exist yet.
    """
    found = getattr(sys.modules.get(module), name, None)
    return found if isinstance(found, type) else ()


def open_source(value: Any, batch_rows: int) -> Source:
    """The batches of a table input (see is_table_input), read lazily where the input allows."""
    kind = _frame_kind(value)
    if kind == "pandas":
        value = pa.Table.from_pandas(value, preserve_index=False)
    elif kind == "polars":
        value = value.to_arrow()
    elif kind == "polars-lazy":
        value = value.collect().to_arrow()
    if isinstance(value, pa.RecordBatch):
        value = pa.Table.from_batches([value])
    if isinstance(value, pa.Table):
        ids = value.column(ID) if ID in value.column_names else None
        return Source(
            iter(value.to_batches(max_chunksize=batch_rows)), value.num_rows, ids, "table"
        )
    if isinstance(value, str | os.PathLike):
        return _parquet(Path(value), batch_rows)
    reader = value if isinstance(value, pa.RecordBatchReader) else _stream(value)
    return Source(iter(reader), None, None, "stream")


def _stream(value: Any) -> pa.RecordBatchReader:
    try:
        return pa.RecordBatchReader.from_stream(value)
    except (TypeError, pa.ArrowException) as exc:
        raise InvalidArgumentError(f"Cannot read {type(value).__name__} as Arrow: {exc}") from None


def _parquet(path: Path, batch_rows: int) -> Source:
    """A Parquet file read row group by row group; its id column is read first, alone."""
    if not path.is_file():
        raise InvalidArgumentError(f"Parquet file {str(path)!r} does not exist")
    try:
        pf = pq.ParquetFile(path)
        names = pf.schema_arrow.names
        ids = pf.read(columns=[ID]).column(ID) if ID in names else None
    except (pa.ArrowException, OSError) as exc:
        raise InvalidArgumentError(f"Cannot read {str(path)!r} as Parquet: {exc}") from None
    rows = pf.metadata.num_rows
    return Source(pf.iter_batches(batch_size=batch_rows), rows, ids, repr(str(path)))


def check_unique_ids(ids: pa.ChunkedArray | None, w: str) -> None:
    """Chroma's duplicate-id error for the whole input, before anything is written."""
    if ids is not None and pa.types.is_dictionary(ids.type):
        ids = ids.cast(ids.type.value_type)
    if ids is None or not is_string_type(ids.type):
        return  # absent or mistyped ids are the engine's to refuse, with its message
    valid = ids.drop_null().cast(pa.large_string())
    if pc.count_distinct(valid).as_py() == len(valid):
        return
    counts = pc.value_counts(valid)
    dups = counts.field("values").filter(pc.greater(counts.field("counts"), 1))
    raise DuplicateIDError(duplicate_ids_message(dups.to_pylist()) + w)


def write_table(
    transport: Transport,
    collection_id: str,
    op: Op,
    value: Any,
    *,
    embed: Embed | None = None,
    others: dict[str, Any] | None = None,
    progress: bool | None = None,
    batch_size: int | None = None,
    desc: str | None = None,
    **unknown: Any,
) -> int:
    """Write a table input as batches of one op; return the records written.

    `others` are the list API's other arguments, which must be None with a table (its columns
    carry everything); `unknown` are Chroma's other keywords (uris, images), None here too.
    """
    w = f" in {op.name.lower()}."
    given = sorted(k for k, v in {**(others or {}), **unknown}.items() if v is not None)
    if given:
        raise InvalidArgumentError(
            f"A table argument carries every column (id, embedding, document, metadata): "
            f"pass it alone, without {', '.join(given)}{w}"
        )
    settings = transport.settings
    rows = batch_rows_for(batch_size, settings.transfer_batch_rows, settings.max_batch_rows)
    source = open_source(value, rows)
    check_unique_ids(source.ids, w)
    if source.rows == 0:
        raise InvalidArgumentError(f"Expected IDs to be a non-empty list, got 0 IDs{w}")
    batches = _prepared(source, op, rows, settings.max_batch_bytes, embed)
    bar = progress_bar(progress, source.rows, desc or f"{op.name.lower()} {source.what}")
    done = {"rows": 0, "batches": 0}

    def acked(_seq: int, n: int) -> None:
        done["rows"] += n
        done["batches"] += 1
        bar.update(n)

    try:
        for schema, group in groupby(batches, key=lambda b: b.schema):
            transport.write_stream(collection_id, op, group, schema, acked)
    except FletchError as exc:
        raise _located(exc, done["batches"], done["rows"]) from None
    finally:
        bar.close()
    if done["batches"] == 0:
        raise InvalidArgumentError(f"Expected IDs to be a non-empty list, got 0 IDs{w}")
    return done["rows"]


def batch_rows_for(given: int | None, default: int, maximum: int) -> int:
    """Rows per batch: `given` (an int > 0) or the default, at most `maximum`."""
    if given is None:
        return max(1, min(default, maximum))
    if isinstance(given, bool) or not isinstance(given, int) or given < 1:
        raise InvalidArgumentError(f"batch_size must be an int > 0, got {given!r}")
    return min(given, maximum)


def _prepared(
    source: Source, op: Op, rows: int, max_bytes: int, embed: Embed | None
) -> Iterator[pa.RecordBatch]:
    """Canonical write batches of at most `rows` records and about half of max_bytes each."""
    batches = _read(source)
    if source.what != "table":  # decoding a file or a stream overlaps with writing
        batches = prefetched(batches)
    for batch in _rebatched(batches, rows):
        canonical = canonical_batch(batch)
        if embed is not None and EMBEDDING not in canonical.schema.names:
            canonical = _embedded(canonical, embed, op)
        yield from _split_by_bytes(canonical, max_bytes // 2)


def _read(source: Source) -> Iterator[pa.RecordBatch]:
    """The source's batches; read errors (a bad file, a failing stream) as InvalidArgumentError."""
    try:
        yield from source.batches
    except (pa.ArrowException, OSError) as exc:
        raise InvalidArgumentError(f"Cannot read {source.what}: {exc}") from None


def _rebatched(batches: Iterable[pa.RecordBatch], rows: int) -> Iterator[pa.RecordBatch]:
    """Batches of exactly `rows` records (the last may be shorter): small ones are joined."""
    pending: list[pa.RecordBatch] = []
    size = 0
    for batch in batches:
        if pending and not batch.schema.equals(pending[0].schema):
            yield from _slices(_concat(pending), rows)
            pending, size = [], 0
        pending.append(batch)
        size += batch.num_rows
        if size >= rows:
            joined = _concat(pending)
            full = (size // rows) * rows
            yield from _slices(joined.slice(0, full), rows)
            rest = joined.slice(full)
            pending, size = ([rest] if rest.num_rows else []), rest.num_rows
    if size:
        yield from _slices(_concat(pending), rows)


def _concat(batches: list[pa.RecordBatch]) -> pa.RecordBatch:
    """Batches of one schema as one batch (one copy, only when there are several)."""
    if len(batches) == 1:
        return batches[0]
    return pa.Table.from_batches(batches).combine_chunks().to_batches()[0]


def _slices(batch: pa.RecordBatch, rows: int) -> Iterator[pa.RecordBatch]:
    for start in range(0, batch.num_rows, rows):
        yield batch.slice(start, rows)


def _split_by_bytes(batch: pa.RecordBatch, max_bytes: int) -> Iterator[pa.RecordBatch]:
    """`batch` in equal slices of at most about `max_bytes` (one slice when it is small)."""
    nbytes = batch.nbytes
    if nbytes <= max_bytes or batch.num_rows <= 1:
        yield batch
        return
    per_row = max(1, nbytes // batch.num_rows)
    yield from _slices(batch, max(1, max_bytes // per_row))


def _embedded(batch: pa.RecordBatch, embed: Embed, op: Op) -> pa.RecordBatch:
    """The batch with embeddings computed from its documents by the collection's function."""
    if DOCUMENT not in batch.schema.names:
        return batch  # nothing to embed: the engine reports the missing embeddings
    vectors = normalize_embeddings(embed(batch.column(DOCUMENT).to_pylist()), op.name.lower())
    column = pa.FixedSizeListArray.from_arrays(pa.array(vectors.reshape(-1)), vectors.shape[1])
    return batch.append_column(EMBEDDING, column)


def _located(exc: FletchError, batches: int, rows: int) -> FletchError:
    """The error of a failed batch, saying where the load stopped once earlier batches are in."""
    exc.details = {**exc.details, "rows_written": rows, "batch": batches + 1}
    if rows:
        text = (
            f"{exc.args[0] if exc.args else ''} (batch {batches + 1} of the load, from input row "
            f"{rows}: the {rows} records before it were written and stay)"
        )
        exc.args = (text, *exc.args[1:])
    return exc


def progress_bar(progress: bool | None, total: int | None, desc: str) -> Any:
    """A tqdm bar on stderr: always (True), never (False), or for long loads on a terminal (None)."""
    from tqdm import tqdm

    if progress is None:  # tqdm's disable=None shows the bar only on a terminal
        short = total is not None and total < PROGRESS_MIN_ROWS
        disable: bool | None = True if short else None
    else:
        disable = not progress
    return tqdm(total=total, desc=desc, unit=" records", disable=disable)
