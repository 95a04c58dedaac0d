"""The Flight service: descriptors, tickets and actions in, gateway calls out, Arrow streams back.

It only translates. Authentication happens in `AuthMiddlewareFactory.start_call`, before any
request body is read; every handler parses its request strictly (`protocol`), maps it to an
operation name (`operations`), calls the gateway with the caller's principal, and turns
FletchErrors into Flight errors (`errors.translated`). It talks to the gateway only.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.flight as flight

from ..catalog.base import CollectionRecord
from ..errors import AuthenticationError, InvalidArgumentError, QuotaError
from ..gateway.auth import DEV_PRINCIPAL, Principal, TokenVerifier
from ..gateway.gateway import ALL_PARTS, Gateway
from ..gateway.requests import get_arguments, query_arguments
from ..schema import EMBEDDING, ID, Op, one_array
from . import protocol
from .actions import collection_json, run_action
from .errors import client_stream, to_flight, translated
from .operations import ACTIONS, operation
from .results import stack_query_results

ALL_INCLUDE = list(ALL_PARTS)


class AuthMiddleware(flight.ServerMiddleware):
    """Carries the authenticated principal of one call."""

    def __init__(self, principal: Principal) -> None:
        self.principal = principal


class AuthMiddlewareFactory(flight.ServerMiddlewareFactory):
    """Verifies `authorization: Bearer <JWT>` as each call starts; no verifier = insecure dev."""

    def __init__(self, verifier: TokenVerifier | None) -> None:
        self.verifier = verifier

    def start_call(self, info: flight.CallInfo, headers: dict[str, list[Any]]) -> AuthMiddleware:
        if self.verifier is None:
            return AuthMiddleware(DEV_PRINCIPAL)
        values = headers.get("authorization") or [None]
        value = values[0].decode() if isinstance(values[0], bytes) else values[0]
        try:
            return AuthMiddleware(self.verifier.verify_header(value))
        except AuthenticationError as exc:
            raise to_flight(exc) from None


class StreamBudget:
    """Counts the Arrow bytes of one stream as it is read, against max_stream_bytes."""

    def __init__(self, maximum: int) -> None:
        self.maximum, self.total = maximum, 0

    def add(self, batch: pa.RecordBatch) -> None:
        """Count a batch; QuotaError once the stream passes the limit (the batch is not used)."""
        self.total += batch.get_total_buffer_size()
        if self.total > self.maximum:
            raise QuotaError("max_stream_bytes", self.total, self.maximum, "Bytes of the stream")


class FlightService(flight.FlightServerBase):
    """FletchDB's Flight RPCs over one gateway."""

    def __init__(
        self,
        gateway: Gateway,
        location: str,
        verifier: TokenVerifier | None,
        **server_options: Any,
    ) -> None:
        super().__init__(
            location, middleware={"auth": AuthMiddlewareFactory(verifier)}, **server_options
        )
        self.gateway = gateway
        self.settings = gateway.settings
        self.location = location

    @property
    def uri(self) -> str:
        """The URI clients connect to (with the port actually bound)."""
        scheme, _, rest = self.location.partition("://")
        host = rest.rsplit(":", 1)[0]
        return f"{scheme}://{host}:{self.port}"

    def _who(self, context: flight.ServerCallContext) -> Principal:
        middleware = context.get_middleware("auth")
        return middleware.principal if middleware is not None else DEV_PRINCIPAL

    # Actions ---------------------------------------------------------------------------
    def list_actions(self, context: flight.ServerCallContext) -> list[tuple[str, str]]:
        return [(op.name, op.help) for op in ACTIONS]

    def do_action(self, context: flight.ServerCallContext, action: flight.Action) -> list:
        with translated():
            body = action.body.to_pybytes() if action.body is not None else b""
            args = protocol.parse_action(action.type, body, self.settings.max_request_bytes)
            result = run_action(self.gateway, self._who(context), action.type, args)
            return [flight.Result(protocol.encode(result))]

    # Writes ----------------------------------------------------------------------------
    def do_put(
        self,
        context: flight.ServerCallContext,
        descriptor: flight.FlightDescriptor,
        reader: flight.MetadataRecordBatchReader,
        writer: flight.FlightMetadataWriter,
    ) -> None:
        with translated():
            args = protocol.parse_put_command(
                _command(descriptor, "DoPut"), self.settings.max_request_bytes
            )
            who, cid, op = self._who(context), args["collection_id"], Op[args["op"].upper()]
            self.gateway.collection(who, operation("DoPut", args["op"]), cid, charge=False)
            budget = StreamBudget(self.settings.max_stream_bytes)
            if op is Op.DELETE and (
                args["where"] is not None or args["where_document"] is not None
            ):
                self._delete_matching(who, args, reader, budget, writer)
                return
            for batch in _batches(reader, budget):
                seq = self.gateway.write(who, cid, op, batch)
                ack = {"seq": seq, "rows": batch.num_rows}
                with client_stream("DoPut"):
                    writer.write(pa.py_buffer(protocol.encode(ack)))

    def _delete_matching(
        self,
        who: Principal,
        args: dict[str, Any],
        reader: flight.MetadataRecordBatchReader,
        budget: StreamBudget,
        writer: flight.FlightMetadataWriter,
    ) -> None:
        batches = list(_batches(reader, budget))
        ids = None
        if batches:
            ids = pa.Table.from_batches(batches).column(ID).to_pylist()
        deleted = self.gateway.delete(
            who, args["collection_id"], ids, args["where"], args["where_document"]
        )
        with client_stream("DoPut"):
            writer.write(pa.py_buffer(protocol.encode({"deleted": deleted})))

    # Reads -----------------------------------------------------------------------------
    def do_get(
        self, context: flight.ServerCallContext, ticket: flight.Ticket
    ) -> flight.FlightDataStream:
        with translated():
            kind, args = protocol.parse_ticket(ticket.ticket, self.settings.max_request_bytes)
            who = self._who(context)
            if kind == "export":
                reader = self.gateway.export(who, args["collection_id"], args["batch_rows"])
                return flight.GeneratorStream(reader.schema, _translated_batches(reader))
            if kind == "get":
                table = self.gateway.get(who, args["collection_id"], **get_arguments(args))
            elif kind == "search":
                tables = self.gateway.search(who, args["collection_id"], args["searches"])
                table = stack_query_results(tables)
            elif kind == "sql":
                table = self.gateway.sql(
                    who, args["tenant"], args["database"], args["query"], args["params"]
                )
            else:
                embeddings = _json_matrix(args.pop("embeddings"))
                table = self._query(who, args, embeddings)
            return flight.RecordBatchStream(table)

    def do_exchange(
        self,
        context: flight.ServerCallContext,
        descriptor: flight.FlightDescriptor,
        reader: flight.MetadataRecordBatchReader,
        writer: flight.MetadataRecordBatchWriter,
    ) -> None:
        with translated():
            _, args = protocol.parse_ticket(
                _command(descriptor, "DoExchange"),
                self.settings.max_request_bytes,
                embeddings_inline=False,
            )
            who = self._who(context)
            query = operation("DoExchange", "query")
            self.gateway.collection(who, query, args["collection_id"], charge=False)
            batches = list(_batches(reader, StreamBudget(self.settings.max_stream_bytes)))
            table = self._query(who, args, _arrow_matrix(batches))
            with client_stream("DoExchange"):
                writer.begin(table.schema)
                writer.write_table(table)

    def _query(self, who: Principal, args: dict[str, Any], embeddings: np.ndarray) -> pa.Table:
        kwargs = query_arguments(args)
        return stack_query_results(
            self.gateway.query(who, args["collection_id"], embeddings, **kwargs)
        )

    # Flights ---------------------------------------------------------------------------
    def list_flights(
        self, context: flight.ServerCallContext, criteria: bytes
    ) -> Iterator[flight.FlightInfo]:
        with translated():
            args = protocol.parse_criteria(criteria or b"", self.settings.max_request_bytes)
            records = self.gateway.visible_collections(
                self._who(context), args["tenant"], args["database"]
            )
            infos = [self._flight_info(r) for r in records]
        yield from infos

    def get_flight_info(
        self, context: flight.ServerCallContext, descriptor: flight.FlightDescriptor
    ) -> flight.FlightInfo:
        with translated():
            record = self.gateway.collection_by_name(
                self._who(context), operation("GetFlightInfo", "flight_info"), *_path(descriptor)
            )
            return self._flight_info(record)

    def get_schema(
        self, context: flight.ServerCallContext, descriptor: flight.FlightDescriptor
    ) -> flight.SchemaResult:
        with translated():
            record = self.gateway.collection_by_name(
                self._who(context), operation("GetSchema", "schema"), *_path(descriptor)
            )
            return flight.SchemaResult(self.gateway.record_schema(record))

    def _flight_info(self, record: CollectionRecord) -> flight.FlightInfo:
        ticket = protocol.request(get={"collection_id": record.id, "include": ALL_INCLUDE})
        descriptor = flight.FlightDescriptor.for_path(record.tenant, record.database, record.name)
        return flight.FlightInfo(
            self.gateway.record_schema(record),
            descriptor,
            [flight.FlightEndpoint(ticket, [self.uri])],
            total_records=self.gateway.record_count(record),
            total_bytes=-1,
            app_metadata=protocol.encode(collection_json(record)),
        )


def _command(descriptor: flight.FlightDescriptor, rpc: str) -> bytes:
    if descriptor.descriptor_type != flight.DescriptorType.CMD:
        raise InvalidArgumentError(f"{rpc} needs a command descriptor (versioned JSON)")
    return bytes(descriptor.command)


def _path(descriptor: flight.FlightDescriptor) -> list[str]:
    path = descriptor.path if descriptor.descriptor_type == flight.DescriptorType.PATH else None
    if not path or len(path) != 3:
        raise InvalidArgumentError(
            "A collection's flight descriptor is the path [tenant, database, collection]"
        )
    try:
        return [p.decode() if isinstance(p, bytes) else str(p) for p in path]
    except UnicodeDecodeError:
        raise InvalidArgumentError("Descriptor path parts must be UTF-8") from None


def _batches(
    reader: flight.MetadataRecordBatchReader, budget: StreamBudget
) -> Iterator[pa.RecordBatch]:
    """The record batches of a client stream, each counted against the stream budget."""
    while True:
        try:
            with client_stream("reading the client's stream"):
                chunk = reader.read_chunk()
        except StopIteration:
            return
        if chunk.data is None:  # a metadata-only message
            continue
        budget.add(chunk.data)
        yield chunk.data


def _translated_batches(reader: pa.RecordBatchReader) -> Iterator[pa.RecordBatch]:
    """The batches of a stream produced after the handler returned, errors as Flight errors."""
    with translated():
        yield from reader


def _json_matrix(rows: list[list[float]]) -> np.ndarray:
    try:
        return np.asarray(rows, dtype=np.float32)
    except (TypeError, ValueError, OverflowError):
        raise InvalidArgumentError(
            "Expected query embeddings to be a list of lists of numbers of equal length"
        ) from None


def _arrow_matrix(batches: list[pa.RecordBatch]) -> np.ndarray:
    """Query embeddings from DoExchange batches: one `embedding` fixed_size_list<float> column."""
    if not batches:
        raise InvalidArgumentError("DoExchange query needs a batch with an embedding column")
    table = pa.Table.from_batches(batches)
    if EMBEDDING not in table.schema.names:
        raise InvalidArgumentError("DoExchange query batches need an 'embedding' column")
    column = one_array(table.column(EMBEDDING))
    typ = column.type
    if not pa.types.is_fixed_size_list(typ) or not pa.types.is_floating(typ.value_type):
        raise InvalidArgumentError(
            f"The embedding column must be fixed_size_list<float32>[dim], got {typ}"
        )
    if column.null_count or column.values.null_count:
        raise InvalidArgumentError("Query embeddings must not be null")
    flat = column.flatten().to_numpy(zero_copy_only=False).astype(np.float32, copy=False)
    return flat.reshape(len(column), typ.list_size)
