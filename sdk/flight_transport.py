"""The remote transport: the `Transport` interface over Arrow Flight, and `FlightClient`.

Writes stream as record batches (DoPut, one acknowledgement per batch), query embeddings travel
as a record batch (DoExchange), results come back as Arrow streams, and catalog calls are
DoActions. Server errors come back as the same FletchError classes and messages as local mode.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.flight as flight

from flight_server.api import (
    DEFAULT_DATABASE,
    DEFAULT_TENANT,
    EMBEDDING,
    GET_INCLUDE,
    ID,
    QUERY_INCLUDE,
    Op,
    Settings,
    from_flight,
    request,
    split_query_results,
)

from .client import Client
from .errors import ClosedError, InvalidArgumentError
from .flight_catalog import RemoteCatalogMethods
from .remote_args import filter_request, unencodable

TOKEN_VARIABLE = "FLETCHDB_TOKEN"


@contextmanager
def remote_errors() -> Iterator[None]:
    """Flight and Arrow exceptions of a call, raised as the FletchError they carry."""
    try:
        yield
    except (flight.FlightError, pa.ArrowException) as exc:
        raise from_flight(exc) from None


class FlightTransport(RemoteCatalogMethods):
    """A FletchDB server reached over Arrow Flight (`grpc://` or `grpc+tls://`)."""

    def __init__(
        self,
        uri: str,
        token: str | None = None,
        *,
        tls_root_certs: bytes | None = None,
        cert_chain: bytes | None = None,
        private_key: bytes | None = None,
        override_hostname: str | None = None,
        timeout: float | None = None,
    ) -> None:
        self.uri = uri
        try:  # no connection is made here: a failure is the URI's or the certificates' fault
            self._client = flight.FlightClient(
                uri,
                tls_root_certs=tls_root_certs,
                cert_chain=cert_chain,
                private_key=private_key,
                override_hostname=override_hostname,
            )
        except (pa.ArrowException, TypeError, ValueError) as exc:
            raise InvalidArgumentError(
                f"Cannot use {uri!r} as a FletchDB server address (expected grpc://host:port "
                f"or grpc+tls://host:port): {exc}"
            ) from None
        headers = [(b"authorization", f"Bearer {token}".encode())] if token else []
        # results are realigned to 64 bytes as they arrive (once), so Polars and numpy take the
        # buffers zero-copy; Flight delivers them at arbitrary 8-byte offsets
        aligned = pa.ipc.IpcReadOptions(ensure_alignment=pa.ipc.Alignment.At64Byte)
        self._options = flight.FlightCallOptions(
            headers=headers, timeout=timeout, read_options=aligned
        )
        self._settings: Settings | None = None
        self._closed = False

    # Plumbing --------------------------------------------------------------------------
    @property
    def _flight(self) -> flight.FlightClient:
        """The Flight connection; ClosedError once closed (as the local engine raises)."""
        if self._closed:
            raise ClosedError("This client has been closed")
        return self._client

    def action(self, action: str, /, **args: Any) -> Any:
        """One DoAction call; its JSON result."""
        try:
            body = request(**args)
        except (TypeError, ValueError) as exc:
            raise unencodable(action, args, exc) from None
        with remote_errors():
            call = flight.Action(action, body)
            results = list(self._flight.do_action(call, self._options))
        return json.loads(results[0].body.to_pybytes()) if results else None

    def _read(self, ticket: bytes) -> pa.Table:
        with remote_errors():
            return self._flight.do_get(flight.Ticket(ticket), self._options).read_all()

    @property
    def settings(self) -> Settings:
        """The server's request limits, as Settings (fetched once)."""
        if self._settings is None:
            self._settings = Settings(**self.action("limits"))
        return self._settings

    # Lifecycle -----------------------------------------------------------------------
    def heartbeat(self) -> int:
        """Server time in nanoseconds."""
        return int(self.action("heartbeat")["nanosecond heartbeat"])

    def reset(self) -> None:
        """Delete everything on the server (admin of every tenant, allow_reset)."""
        self.action("reset")

    def close(self) -> None:
        """Close the connection."""
        self._closed = True
        self._client.close()

    # Writes ---------------------------------------------------------------------------
    def write(self, collection_id: str, op: Op, batch: pa.RecordBatch) -> int:
        """One atomic write; its log seq once durable."""
        return self.write_stream(collection_id, op, [batch], batch.schema)[0]

    def write_stream(
        self,
        collection_id: str,
        op: Op,
        batches: Iterable[pa.RecordBatch],
        schema: pa.Schema,
        on_ack: Callable[[int, int], None] | None = None,
    ) -> list[int]:
        """Stream batches of one schema, each an atomic write; their log seqs, in order.

        `on_ack(seq, rows)` is called as each batch is acknowledged (durable on the server).
        """
        command = request(op=Op(op).name.lower(), collection_id=collection_id)

        def acknowledged(ack: dict[str, Any]) -> None:
            if on_ack is not None:
                on_ack(int(ack["seq"]), int(ack["rows"]))

        acks = self._put(command, schema, batches, acknowledged)
        return [int(ack["seq"]) for ack in acks]

    def _put(
        self,
        command: bytes,
        schema: pa.Schema,
        batches: Iterable[pa.RecordBatch],
        on_ack: Callable[[dict[str, Any]], None] | None,
    ) -> list[dict[str, Any]]:
        """One DoPut; with on_ack, one ack is awaited after each batch, else all come at the end."""
        acks: list[dict[str, Any]] = []
        with remote_errors():
            writer, reader = self._flight.do_put(
                flight.FlightDescriptor.for_command(command), schema, self._options
            )
            try:
                for batch in batches:
                    writer.write_batch(batch)
                    if on_ack is not None:  # lockstep: the batch is durable before the next goes
                        acks.append(json.loads(reader.read().to_pybytes()))
                        on_ack(acks[-1])
                writer.done_writing()
                while (message := reader.read()) is not None:
                    acks.append(json.loads(message.to_pybytes()))
            finally:
                writer.close()
        return acks

    def delete(
        self,
        collection_id: str,
        ids: list[str] | None,
        where: dict[str, Any] | None,
        where_document: dict[str, Any] | None,
    ) -> int:
        """Delete by ids and/or filters; how many ids the delete named (as Chroma)."""
        if where is None and where_document is None:
            if ids is None or not ids:  # as the engine: nothing named, nothing written
                return self._delete_filtered(collection_id, ids, {}, None)
            batch = pa.record_batch({ID: pa.array(ids, pa.string())})
            self.write(collection_id, Op.DELETE, batch)
            return len(ids)
        return self._delete_filtered(collection_id, ids, where, where_document)

    def _delete_filtered(
        self,
        collection_id: str,
        ids: list[str] | None,
        where: dict[str, Any] | None,
        where_document: dict[str, Any] | None,
    ) -> int:
        command = filter_request(
            where,
            where_document,
            op="delete",
            collection_id=collection_id,
            where=where,
            where_document=where_document,
        )
        schema = pa.schema([pa.field(ID, pa.string())])
        batches = [] if ids is None else [pa.record_batch({ID: pa.array(ids, pa.string())})]
        (ack,) = self._put(command, schema, batches, None)
        return int(ack["deleted"])

    # Reads ----------------------------------------------------------------------------
    def count(self, collection_id: str) -> int:
        """Live records in a collection."""
        return int(self.action("count", collection_id=collection_id)["count"])

    def get(
        self,
        collection_id: str,
        ids: list[str] | None,
        where: dict[str, Any] | None,
        where_document: dict[str, Any] | None,
        limit: int | None,
        offset: int | None,
        columns: set[str],
    ) -> pa.Table:
        """Matching records in insertion order (a DoGet stream)."""
        ticket = filter_request(
            where,
            where_document,
            get={
                "collection_id": collection_id,
                "ids": ids,
                "where": where,
                "where_document": where_document,
                "limit": limit,
                "offset": offset,
                "include": sorted(set(columns) & GET_INCLUDE),
            },
        )
        return self._read(ticket)

    def query(
        self,
        collection_id: str,
        embeddings: np.ndarray,
        n_results: int,
        where: dict[str, Any] | None,
        where_document: dict[str, Any] | None,
        ids: list[str] | None,
        columns: set[str],
    ) -> list[pa.Table]:
        """The n_results nearest records per query; embeddings travel as Arrow (DoExchange)."""
        queries = np.ascontiguousarray(embeddings, dtype=np.float32)
        if queries.ndim == 1:
            queries = queries.reshape(1, -1)
        command = filter_request(
            where,
            where_document,
            query={
                "collection_id": collection_id,
                "n_results": n_results,
                "where": where,
                "where_document": where_document,
                "ids": ids,
                "include": sorted(set(columns) & QUERY_INCLUDE),
            },
        )
        width = queries.shape[1] if queries.ndim == 2 else 0
        vectors = pa.FixedSizeListArray.from_arrays(pa.array(queries.reshape(-1)), width)
        batch = pa.record_batch({EMBEDDING: vectors})
        with remote_errors():
            writer, reader = self._flight.do_exchange(
                flight.FlightDescriptor.for_command(command), self._options
            )
            with writer:
                writer.begin(batch.schema)
                writer.write_batch(batch)
                writer.done_writing()
                table = reader.read_all()
        return split_query_results(table, len(queries))

    def export(self, collection_id: str, batch_rows: int | None = None) -> pa.RecordBatchReader:
        """Every live record of one server-side snapshot, streamed batch by batch (DoGet)."""
        ticket = request(export={"collection_id": collection_id, "batch_rows": batch_rows})
        with remote_errors():
            stream = self._flight.do_get(flight.Ticket(ticket), self._options)
            schema = stream.schema

        def batches() -> Iterator[pa.RecordBatch]:
            with remote_errors():
                while True:
                    try:
                        chunk = stream.read_chunk()
                    except StopIteration:
                        return
                    if chunk.data is not None:
                        yield chunk.data

        return pa.RecordBatchReader.from_batches(schema, batches())

    def search(self, collection_id: str, searches: list[dict[str, Any]]) -> list[pa.Table]:
        """Search plans (docs/search.md) in one DoGet; one result table per plan."""
        try:
            ticket = request(search={"collection_id": collection_id, "searches": searches})
        except (TypeError, ValueError) as exc:
            raise unencodable("search", {"searches": searches}, exc) from None
        return split_query_results(self._read(ticket), len(searches))

    def compact(self, collection_id: str) -> int:
        """Index the log tail now; versions built."""
        return int(self.action("compact", collection_id=collection_id)["versions_built"])

    def stats(self, collection_id: str) -> dict[str, Any]:
        """Version, log offset, tail size and record count."""
        return dict(self.action("stats", collection_id=collection_id))

    def sql(
        self,
        query: str,
        params: list[Any] | tuple[Any, ...] | dict[str, Any] | None,
        tenant: str,
        database: str,
    ) -> pa.Table:
        """One read-only SELECT over a database's collections (a DoGet sql ticket, streamed)."""
        body = {"query": query, "params": params, "tenant": tenant, "database": database}
        try:
            ticket = request(sql=body)
        except (TypeError, ValueError) as exc:
            raise unencodable("sql", body, exc) from None
        return self._read(ticket)


def FlightClient(  # noqa: N802 - a factory named like Chroma's clients
    uri: str = "grpc://127.0.0.1:8815",
    token: str | None = None,
    tenant: str = DEFAULT_TENANT,
    database: str = DEFAULT_DATABASE,
    **options: Any,
) -> Client:
    """A client of a FletchDB server, with exactly the local API.

    `token` defaults to $FLETCHDB_TOKEN. Options: tls_root_certs, cert_chain and private_key
    (PEM bytes, for grpc+tls:// and mutual TLS), override_hostname, timeout (seconds per call).
    """
    transport = FlightTransport(uri, token or os.environ.get(TOKEN_VARIABLE), **options)
    try:
        return Client(transport, tenant, database)
    except BaseException:
        transport.close()
        raise
