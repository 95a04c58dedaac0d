"""Backups: a whole collection to one Parquet file and back, locally or over Flight.

The file holds every live record (id, embedding, document, one column per metadata key, named as
results name them: `columns.display_names`) in insertion order, and the collection's name,
configuration, metadata and dimension as JSON under the Parquet key-value metadata key
`fletchdb.export` (`flight_server.transfer.describe`). It is written to a temporary name in the
same folder, fsynced and renamed, so a failed export never leaves a half file under the name.
Import creates the collection (under a new name if asked) and streams the rows in with `add`.
"""

from __future__ import annotations

import os
import uuid
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pyarrow as pa
import pyarrow.parquet as pq

from flight_server.api import EMBEDDING, Op, parse_description

from .columns import display_names
from .errors import FletchError, InvalidArgumentError
from .ingest import batch_rows_for, progress_bar, write_table

if TYPE_CHECKING:
    from .client import Client
    from .collection import Collection

COMPRESSION = "zstd"  # for ids, documents and metadata; embeddings are stored uncompressed


def export_collection(
    collection: Collection,
    path: str | os.PathLike[str],
    *,
    progress: bool | None = None,
    batch_size: int | None = None,
) -> int:
    """Write every live record of `collection` (one snapshot) to a Parquet file; return the count."""
    transport = collection._transport
    settings = transport.settings
    rows = batch_rows_for(batch_size, settings.transfer_batch_rows, settings.max_batch_rows)
    target = Path(path)
    if target.is_dir():
        raise InvalidArgumentError(f"Export target {str(target)!r} is a directory, not a file")
    reader = transport.export(collection.id, rows)
    described = parse_description(reader.schema.metadata)
    total = described["count"] if described else None
    names = display_names(reader.schema.names)
    schema = pa.schema(
        [f.with_name(n) for f, n in zip(reader.schema, names, strict=True)],
        metadata=reader.schema.metadata,
    )
    tmp = target.with_name(f".{target.name}.tmp-{uuid.uuid4().hex}")
    bar = progress_bar(progress, total, f"export {collection.name}")
    written = 0
    try:
        with pq.ParquetWriter(tmp, schema, **_writer_options(schema)) as writer:
            for batch in reader:
                writer.write_batch(pa.RecordBatch.from_arrays(batch.columns, schema=schema))
                written += batch.num_rows
                bar.update(batch.num_rows)
        _fsync(tmp)
        os.replace(tmp, target)
    except OSError as exc:
        raise InvalidArgumentError(f"Cannot write {str(target)!r}: {exc}") from None
    finally:
        bar.close()
        tmp.unlink(missing_ok=True)
    return written


def _writer_options(schema: pa.Schema) -> dict[str, Any]:
    """Parquet options: embeddings stored plain (floats neither repeat nor compress much)."""
    return {
        "compression": {n: "none" if n == EMBEDDING else COMPRESSION for n in schema.names},
        "use_dictionary": [n for n in schema.names if n != EMBEDDING],
        "write_statistics": [n for n in schema.names if n != EMBEDDING],
    }


def _fsync(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def read_description(path: str | os.PathLike[str]) -> dict[str, Any] | None:
    """The collection description a Parquet export carries (None for another Parquet file)."""
    target = Path(path)
    if not target.is_file():
        raise InvalidArgumentError(f"Parquet file {str(target)!r} does not exist")
    try:
        schema = pq.read_schema(target)
    except (pa.ArrowException, OSError) as exc:
        raise InvalidArgumentError(f"Cannot read {str(target)!r} as Parquet: {exc}") from None
    return parse_description(schema.metadata)


def import_collection(
    client: Client,
    path: str | os.PathLike[str],
    name: str | None = None,
    *,
    progress: bool | None = None,
    batch_size: int | None = None,
) -> Collection:
    """Create a collection from a Parquet file (an export, or any table with id and embedding).

    The name, configuration and metadata come from the export unless `name` overrides the name;
    a Parquet file that is not an export needs `name`. If anything fails, the collection this
    call created is deleted again, so an import either completes or leaves nothing behind.
    """
    described = read_description(path) or {}
    target = name if name is not None else described.get("name")
    if target is None:
        raise InvalidArgumentError(
            f"{str(path)!r} is not a FletchDB export (no fletchdb.export metadata): pass a name"
        )
    collection = client.create_collection(
        target,
        configuration=described.get("configuration"),
        metadata=described.get("metadata"),
    )
    try:
        if pq.ParquetFile(path).metadata.num_rows:
            write_table(
                collection._transport,
                collection.id,
                Op.ADD,
                Path(path),
                progress=progress,
                batch_size=batch_size,
                desc=f"import {target}",
            )
    except BaseException:
        _drop(client, target)
        raise
    return collection


def _drop(client: Client, name: str) -> None:
    """Delete a half-imported collection; the import's own error is the one reported."""
    try:
        client.delete_collection(name)
    except FletchError:
        pass
