"""The one interface between the SDK and a FletchDB engine, local or remote.

`flight_server.engine.Engine` implements it in-process; the Flight client implements it over the
network. Arguments and results are Arrow and plain Python, so both sides stay columnar.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any, Protocol

import numpy as np
import pyarrow as pa

from flight_server.api import CollectionRecord, DatabaseRecord, Op, Settings


class Transport(Protocol):
    """What a client needs from an engine; `Engine` is the local implementation."""

    @property
    def settings(self) -> Settings: ...  # the limits requests are held to

    def heartbeat(self) -> int: ...
    def reset(self) -> None: ...
    def close(self) -> None: ...
    def create_tenant(self, name: str) -> None: ...
    def get_tenant(self, name: str) -> str: ...
    def create_database(self, name: str, tenant: str) -> DatabaseRecord: ...
    def get_database(self, name: str, tenant: str) -> DatabaseRecord: ...
    def list_databases(
        self, tenant: str, limit: int | None, offset: int | None
    ) -> list[DatabaseRecord]: ...
    def delete_database(self, name: str, tenant: str) -> None: ...
    def create_collection(
        self,
        name: str,
        configuration: dict[str, Any] | None,
        metadata: dict[str, Any] | None,
        get_or_create: bool,
        tenant: str,
        database: str,
    ) -> CollectionRecord: ...
    def get_collection(self, name: str, tenant: str, database: str) -> CollectionRecord: ...
    def list_collections(
        self, tenant: str, database: str, limit: int | None, offset: int | None
    ) -> list[CollectionRecord]: ...
    def count_collections(self, tenant: str, database: str) -> int: ...
    def modify_collection(
        self,
        collection_id: str,
        name: str | None,
        metadata: dict[str, Any] | None,
        configuration: dict[str, Any] | None,
    ) -> CollectionRecord: ...
    def delete_collection(self, name: str, tenant: str, database: str) -> None: ...
    def write(self, collection_id: str, op: Op, batch: pa.RecordBatch) -> int: ...
    def write_stream(
        self,
        collection_id: str,
        op: Op,
        batches: Iterable[pa.RecordBatch],
        schema: pa.Schema,
        on_ack: Callable[[int, int], None] | None = None,
    ) -> list[int]: ...  # each batch one atomic write, in order; on_ack(seq, rows) per batch
    def delete(
        self,
        collection_id: str,
        ids: list[str] | None,
        where: dict[str, Any] | None,
        where_document: dict[str, Any] | None,
    ) -> int: ...
    def count(self, collection_id: str) -> int: ...
    def get(
        self,
        collection_id: str,
        ids: list[str] | None,
        where: dict[str, Any] | None,
        where_document: dict[str, Any] | None,
        limit: int | None,
        offset: int | None,
        columns: set[str],
    ) -> pa.Table: ...
    def query(
        self,
        collection_id: str,
        embeddings: np.ndarray,
        n_results: int,
        where: dict[str, Any] | None,
        where_document: dict[str, Any] | None,
        ids: list[str] | None,
        columns: set[str],
    ) -> list[pa.Table]: ...
    def export(
        self, collection_id: str, batch_rows: int | None = None
    ) -> pa.RecordBatchReader: ...  # every live record of one snapshot, in insertion order
    def search(
        self, collection_id: str, searches: list[dict[str, Any]]
    ) -> list[pa.Table]: ...  # docs/search.md
    def sql(
        self,
        query: str,
        params: list[Any] | tuple[Any, ...] | dict[str, Any] | None,
        tenant: str,
        database: str,
    ) -> pa.Table: ...  # one read-only SELECT over a database's collections (docs/sql.md)
    def compact(self, collection_id: str) -> int: ...
    def stats(self, collection_id: str) -> dict[str, Any]: ...
