"""Malformed tickets, commands, action bodies and criteria (Hypothesis) against a real server.

Three kinds of input for each entry point: arbitrary bytes, arbitrary JSON, and near-valid JSON (a
valid request with fields dropped, retyped, added or renamed, keys duplicated, text truncated).
The oracle is the protocol's own parser run locally: a request it refuses must come back as
INVALID_ARGUMENT (pyarrow.ArrowInvalid) with exactly the parser's message; a request it accepts
may succeed or fail with a typed error (invalid argument or a subclass such as quota_exceeded, or
not_found for a well-formed request naming a missing thing), never INTERNAL/UNKNOWN. After every
example the server still answers a heartbeat.
"""

from __future__ import annotations

import copy
import json
import os
from collections.abc import Callable
from typing import Any

import pyarrow as pa
import pyarrow.flight as flight
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from flight_server.errors import ERRORS_BY_CODE, FletchError, InvalidArgumentError
from flight_server.flight import protocol

from .conftest import wire_error

DIM = 4
MAX_REQUEST = 64 * 2**20
INVALID_CODES = frozenset(
    code for code, cls in ERRORS_BY_CODE.items() if issubclass(cls, InvalidArgumentError)
)
# Outcomes of a well-formed request. already_exists and not_allowed travel with status UNKNOWN
# (pyarrow's Flight server cannot send ALREADY_EXISTS or FAILED_PRECONDITION) but are typed errors
# about the request (create of an existing name; reset without allow_reset), not server faults.
WELL_FORMED_CODES = INVALID_CODES | {"not_found", "already_exists", "not_allowed"}
FUZZ = settings(
    deadline=None,
    max_examples=int(os.environ.get("FLETCHDB_FUZZ_EXAMPLES", "150")),
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)


# Strategies ----------------------------------------------------------------------------------
SCALARS = (
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**70), max_value=2**70)
    | st.floats(allow_nan=True, allow_infinity=True)
    | st.text(max_size=12)
    | st.sampled_from(["", "\x00", "../../etc/passwd", "default_tenant", "$eq", "*", "x" * 300])
)
JSON = st.recursive(
    SCALARS,
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4)
    ),
    max_leaves=12,
)
OPERATORS = ["$and", "$or", "$eq", "$ne", "$gt", "$gte", "$lt", "$lte", "$in", "$nin"]
DOC_OPERATORS = ["$contains", "$not_contains", "$regex", "$not_regex"]
FILTER_KEYS = st.sampled_from(OPERATORS + DOC_OPERATORS + ["n", "genre", "", "#id"]) | st.text(
    max_size=6
)
FILTER = st.recursive(
    SCALARS | st.sampled_from(["(", "[a-", "*", "\\", "a{99999}"]),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(FILTER_KEYS, inner, max_size=3),
    max_leaves=10,
)
VALUES = JSON | FILTER | st.lists(st.lists(SCALARS, max_size=5), max_size=3)


def _dicts(node: Any) -> list[dict[str, Any]]:
    """Every JSON object inside `node` (itself included)."""
    found: list[dict[str, Any]] = []
    if isinstance(node, dict):
        found.append(node)
        for value in node.values():
            found += _dicts(value)
    elif isinstance(node, list):
        for value in node:
            found += _dicts(value)
    return found


@st.composite
def near_valid(draw: st.DrawFn, templates: list[dict[str, Any]]) -> bytes:
    """A valid request with a few mutations (encoded as UTF-8 JSON, maybe not parseable)."""
    obj = copy.deepcopy(draw(st.sampled_from(templates)))
    for _ in range(draw(st.integers(1, 3))):
        node = draw(st.sampled_from(_dicts(obj)))
        keys = sorted(node)
        kind = draw(st.sampled_from(["drop", "set", "set", "add", "rename"]))
        if kind == "add" or not keys:
            node[draw(st.text(max_size=8))] = draw(VALUES)
            continue
        key = draw(st.sampled_from(keys))
        if kind == "drop":
            del node[key]
        elif kind == "set":
            node[key] = draw(VALUES)
        else:
            node[draw(st.text(max_size=8))] = node.pop(key)
    text = json.dumps(obj)
    damage = draw(st.sampled_from(["none", "none", "duplicate", "truncate", "non-utf8"]))
    if damage == "duplicate" and text.endswith("}") and len(text) > 2:
        text = text[:-1] + ', "v": 1}'
    elif damage == "truncate":
        text = text[: draw(st.integers(0, max(0, len(text) - 1)))]
    data = text.encode()
    if damage == "non-utf8":
        data = data[:-1] + b"\xff" + data[-1:]
    return data


def arbitrary_json(with_version: bool) -> st.SearchStrategy[bytes]:
    if not with_version:
        return JSON.map(lambda v: json.dumps(v).encode())
    objects = st.dictionaries(st.text(max_size=8), JSON, max_size=4)
    return objects.map(lambda d: json.dumps({"v": 1, **d}).encode())


def inputs(templates: list[dict[str, Any]]) -> st.SearchStrategy[bytes]:
    return st.one_of(
        st.binary(max_size=64),
        arbitrary_json(False),
        arbitrary_json(True),
        near_valid(templates),
        near_valid(templates),
    )


# The oracle -----------------------------------------------------------------------------------
def local_verdict(parse: Callable[[bytes], Any], data: bytes) -> str | None:
    """None if the protocol parser accepts `data`, else its refusal message."""
    try:
        parse(data)
    except InvalidArgumentError as exc:
        return exc.message()
    return None  # any other exception escapes: a parser bug the server would turn into INTERNAL


def check(
    parse: Callable[[bytes], Any], data: bytes, call: Callable[[], Any], fc: flight.FlightClient
) -> None:
    refusal = local_verdict(parse, data)
    try:
        call()
        error = None
    except (flight.FlightError, pa.ArrowException, OSError) as exc:
        error = exc
    where = f"request {data!r}"
    if refusal is not None:
        assert error is not None, f"{where} was accepted, but the parser says: {refusal}"
        body = wire_error(error)
        assert isinstance(error, pa.ArrowInvalid), f"{where}: {type(error).__name__} {body}"
        assert body["code"] in INVALID_CODES, f"{where}: {body}"
        assert body["message"] == refusal, where
    elif error is not None:
        body = wire_error(error)
        assert body["code"] in WELL_FORMED_CODES, f"{where}: {type(error).__name__} {body}"
        if body["code"] in INVALID_CODES:
            assert isinstance(error, pa.ArrowInvalid), f"{where}: {type(error).__name__}"
        if body["code"] == "not_found":
            assert isinstance(error, pa.ArrowKeyError), f"{where}: {type(error).__name__}"
        assert not isinstance(error, flight.FlightInternalError), where
    heartbeat(fc)


def heartbeat(fc: flight.FlightClient) -> None:
    results = list(fc.do_action(flight.Action("heartbeat", b""), OPTIONS[0]))
    assert json.loads(results[0].body.to_pybytes())["nanosecond heartbeat"] > 0


OPTIONS: list[flight.FlightCallOptions] = []


@pytest.fixture
def env(serve, mint, connect) -> Any:
    """A server with one collection of a few records; a raw admin Flight client; its id."""
    server = serve()
    token = mint(tenant="*", role="admin")
    client = connect(server, token)
    col = client.create_collection("docs")
    col.add(
        ids=["a", "b", "c"],
        embeddings=[[1.0, 0, 0, 0], [0, 1.0, 0, 0], [0, 0, 1.0, 0]],
        documents=["alpha", "beta", "gamma"],
        metadatas=[{"n": 1, "genre": "jazz"}, {"n": 2}, None],
    )
    client.create_collection("scratch")
    fc = flight.FlightClient(server.uri)
    OPTIONS[:] = [
        flight.FlightCallOptions(headers=[(b"authorization", f"Bearer {token}".encode())])
    ]
    yield fc, col.id
    fc.close()


def _vectors(rows: int) -> pa.Array:
    return pa.FixedSizeListArray.from_arrays(pa.array([0.5] * (rows * DIM), pa.float32()), DIM)


def _close_quietly(writer: Any) -> None:
    try:
        writer.close()
    except Exception:  # noqa: BLE001 - the call's own error is the one checked
        pass


def do_put(fc: flight.FlightClient, command: bytes, batch: pa.RecordBatch) -> None:
    descriptor = flight.FlightDescriptor.for_command(command)
    writer, reader = fc.do_put(descriptor, batch.schema, OPTIONS[0])
    try:
        writer.write_batch(batch)
        writer.done_writing()
        while reader.read() is not None:
            pass
    except BaseException:
        _close_quietly(writer)
        raise
    writer.close()


def do_exchange(fc: flight.FlightClient, command: bytes, batch: pa.RecordBatch) -> None:
    writer, reader = fc.do_exchange(flight.FlightDescriptor.for_command(command), OPTIONS[0])
    try:
        writer.begin(batch.schema)
        writer.write_batch(batch)
        writer.done_writing()
        reader.read_all()
    except BaseException:
        _close_quietly(writer)
        raise
    writer.close()


def _get_templates(cid: str) -> list[dict[str, Any]]:
    return [
        {"v": 1, "get": {"collection_id": cid}},
        {
            "v": 1,
            "get": {
                "collection_id": cid,
                "ids": ["a", "b"],
                "where": {"n": {"$gte": 1}},
                "where_document": {"$contains": "a"},
                "limit": 2,
                "offset": 0,
                "include": ["documents", "metadatas", "embeddings"],
            },
        },
        {
            "v": 1,
            "query": {
                "collection_id": cid,
                "n_results": 2,
                "embeddings": [[1.0, 0.0, 0.0, 0.0]],
                "where": {"$or": [{"n": 1}, {"genre": {"$in": ["jazz"]}}]},
                "where_document": {"$not_contains": "z"},
                "ids": ["a", "c"],
                "include": ["distances", "documents"],
            },
        },
    ]


# DoGet tickets -------------------------------------------------------------------------------------
def test_fuzz_doget_tickets(env) -> None:
    fc, cid = env
    parse = lambda data: protocol.parse_ticket(data, MAX_REQUEST)  # noqa: E731

    @FUZZ
    @given(inputs(_get_templates(cid)))
    def run(data: bytes) -> None:
        check(parse, data, lambda: fc.do_get(flight.Ticket(data), OPTIONS[0]).read_all(), fc)

    run()


# DoExchange commands ------------------------------------------------------------------------------
def test_fuzz_doexchange_commands(env) -> None:
    fc, cid = env
    parse = lambda data: protocol.parse_ticket(data, MAX_REQUEST, embeddings_inline=False)  # noqa: E731
    templates = [
        {"v": 1, "query": {"collection_id": cid, "n_results": 1}},
        {
            "v": 1,
            "query": {
                "collection_id": cid,
                "n_results": 3,
                "where": {"n": {"$ne": 2}},
                "where_document": {"$regex": "a.*"},
                "ids": ["a"],
                "include": ["distances", "embeddings", "metadatas"],
            },
        },
    ]
    batch = pa.record_batch({"embedding": _vectors(2)})

    @FUZZ
    @given(inputs(templates))
    def run(data: bytes) -> None:
        check(parse, data, lambda: do_exchange(fc, data, batch), fc)

    run()


# DoPut commands ---------------------------------------------------------------------------------------
def test_fuzz_doput_commands(env) -> None:
    fc, cid = env
    parse = lambda data: protocol.parse_put_command(data, MAX_REQUEST)  # noqa: E731
    templates = [
        {"v": 1, "op": "add", "collection_id": cid},
        {"v": 1, "op": "upsert", "collection_id": cid},
        {"v": 1, "op": "update", "collection_id": cid},
        {"v": 1, "op": "delete", "collection_id": cid, "where": {"n": {"$gt": 99}}},
        {"v": 1, "op": "delete", "collection_id": cid, "where_document": {"$contains": "zzz"}},
    ]
    batch = pa.record_batch({"id": ["fuzz"], "embedding": _vectors(1), "document": ["f"]})

    @FUZZ
    @given(inputs(templates))
    def run(data: bytes) -> None:
        check(parse, data, lambda: do_put(fc, data, batch), fc)

    run()


# DoAction bodies -------------------------------------------------------------------------------------
def _action_templates(cid: str) -> dict[str, dict[str, Any]]:
    scope = {"tenant": "default_tenant", "database": "default_database"}
    return {
        "heartbeat": {"v": 1},
        "version": {"v": 1},
        "limits": {"v": 1},
        "reset": {"v": 1},
        "create_tenant": {"v": 1, "name": "fuzz_tenant"},
        "get_tenant": {"v": 1, "name": "default_tenant"},
        "create_database": {"v": 1, "name": "fuzz_db", "tenant": "default_tenant"},
        "get_database": {"v": 1, "name": "default_database", "tenant": "default_tenant"},
        "list_databases": {"v": 1, "tenant": "default_tenant", "limit": 5, "offset": 0},
        "delete_database": {"v": 1, "name": "fuzz_db", "tenant": "default_tenant"},
        "create_collection": {
            "v": 1,
            "name": "fuzz_col",
            **scope,
            "configuration": {"hnsw": {"space": "cosine"}},
            "metadata": {"k": "v"},
            "get_or_create": True,
        },
        "get_collection": {"v": 1, "name": "docs", **scope},
        "list_collections": {"v": 1, **scope, "limit": 10, "offset": 0},
        "count_collections": {"v": 1, **scope},
        "modify_collection": {"v": 1, "collection_id": cid, "metadata": {"k": 1}},
        "delete_collection": {"v": 1, "name": "fuzz_col", **scope},
        "count": {"v": 1, "collection_id": cid},
        "compact": {"v": 1, "collection_id": cid},
        "stats": {"v": 1, "collection_id": cid},
    }


def test_action_templates_cover_every_action() -> None:
    assert set(_action_templates("x")) == set(protocol.ACTION_FIELDS)


def test_fuzz_doaction_bodies(env) -> None:
    fc, cid = env
    templates = _action_templates(cid)
    kinds = st.sampled_from(sorted(templates)) | st.text(max_size=10)

    @FUZZ
    @given(st.data())
    def run(data: st.DataObject) -> None:
        kind = data.draw(kinds)
        own = [templates[kind]] if kind in templates else list(templates.values())
        body = data.draw(st.one_of(st.just(b""), inputs(own)))
        parse = lambda b: protocol.parse_action(kind, b, MAX_REQUEST)  # noqa: E731
        call = lambda: list(fc.do_action(flight.Action(kind, body), OPTIONS[0]))  # noqa: E731
        check(parse, body, call, fc)

    run()


# ListFlights criteria -------------------------------------------------------------------------------
def test_fuzz_listflights_criteria(env) -> None:
    fc, _ = env
    parse = lambda data: protocol.parse_criteria(data, MAX_REQUEST)  # noqa: E731
    templates = [
        {"v": 1, "tenant": "default_tenant", "database": "default_database"},
        {"v": 1, "tenant": "default_tenant"},
        {"v": 1},
    ]

    @FUZZ
    @given(st.one_of(st.just(b""), inputs(templates)))
    def run(data: bytes) -> None:
        check(parse, data, lambda: list(fc.list_flights(data, OPTIONS[0])), fc)

    run()


# Flight descriptor paths (GetFlightInfo, GetSchema) ----------------------------------------------
def _parse_path(parts: list[bytes]) -> None:
    if len(parts) != 3:
        raise InvalidArgumentError(
            "A collection's flight descriptor is the path [tenant, database, collection]"
        )
    try:
        [p.decode() for p in parts]
    except UnicodeDecodeError:
        raise InvalidArgumentError("Descriptor path parts must be UTF-8") from None


def test_fuzz_descriptor_paths(env) -> None:
    fc, _ = env
    # path parts are protobuf strings: gRPC itself refuses non-UTF-8 ones before any handler runs
    # (test_non_utf8_path_parts_are_refused_by_the_transport), so these are text
    segment = st.text(max_size=12).map(str.encode) | st.sampled_from(
        [b"default_tenant", b"default_database", b"docs"]
    )

    @FUZZ
    @given(st.lists(segment, min_size=0, max_size=4), st.booleans())
    def run(parts: list[bytes], schema: bool) -> None:
        descriptor = flight.FlightDescriptor.for_path(*parts)
        rpc = fc.get_schema if schema else fc.get_flight_info
        check(
            lambda _: _parse_path(parts), b"/".join(parts), lambda: rpc(descriptor, OPTIONS[0]), fc
        )

    run()


# Descriptors of the wrong kind, and pinned examples ----------------------------------------------
def test_put_and_exchange_need_a_command_descriptor(env) -> None:
    fc, cid = env
    descriptor = flight.FlightDescriptor.for_path("default_tenant", "default_database", "docs")
    batch = pa.record_batch({"id": ["p"], "embedding": _vectors(1)})
    for rpc in ("DoPut", "DoExchange"):
        with pytest.raises(pa.ArrowInvalid, match="needs a command descriptor"):
            if rpc == "DoPut":
                writer, _ = fc.do_put(descriptor, batch.schema, OPTIONS[0])
            else:
                writer, _ = fc.do_exchange(descriptor, OPTIONS[0])
            try:
                if rpc == "DoExchange":
                    writer.begin(batch.schema)
                writer.write_batch(batch)
                writer.done_writing()
            finally:
                writer.close()
    heartbeat(fc)


def test_ticket_errors_are_fletch_errors() -> None:
    # the parser's refusals are typed FletchErrors (InvalidArgumentError), never anything else
    for data in (b"", b"[]", b"{}", b'{"v": true, "get": {}}', b'{"v": 1, "v": 1}', b"\xff"):
        with pytest.raises(FletchError) as info:
            protocol.parse_ticket(data, MAX_REQUEST)
        assert isinstance(info.value, InvalidArgumentError)


def test_non_utf8_path_parts_are_refused_by_the_transport(env) -> None:
    fc, _ = env
    descriptor = flight.FlightDescriptor.for_path(b"\x80", b"default_database", b"docs")
    with pytest.raises(flight.FlightInternalError):  # protobuf: a string field must be UTF-8
        fc.get_flight_info(descriptor, OPTIONS[0])
    heartbeat(fc)


def _nested(depth: int, leaf: str) -> str:
    """`{"$and": [{"$and": [... leaf ..., leaf]}, leaf]}`, `depth` levels deep (as JSON text)."""
    return '{"$and":[' * depth + leaf + ("," + leaf + "]}") * depth


WHERE_LEAF = '{"n":1}'
RAW = "@raw@"


def raw(obj: dict[str, Any], text: str) -> str:
    """`obj` as JSON with the string RAW replaced by the JSON text `text`."""
    return json.dumps(obj).replace(json.dumps(RAW), text)


DOCUMENT_LEAF = '{"$contains":"x"}'


@pytest.mark.parametrize(
    ("depth", "code"),
    [
        (60, None),  # fine
        (200, "quota_exceeded"),  # over max_where_depth=64
        (2000, "invalid_argument"),  # deeper than the JSON parser goes
    ],
)
def test_deeply_nested_filters_with_the_default_limits(env, depth: int, code: str | None) -> None:
    fc, cid = env
    ticket = raw({"v": 1, "get": {"collection_id": cid, "where": RAW}}, _nested(depth, WHERE_LEAF))
    try:
        fc.do_get(flight.Ticket(ticket.encode()), OPTIONS[0]).read_all()
        assert code is None
    except pa.ArrowInvalid as exc:
        assert wire_error(exc)["code"] == code
    heartbeat(fc)


def test_filters_nested_deeper_than_the_stack_are_invalid_not_internal(serve, mint) -> None:
    # Pinned: with max_where_predicates raised, a well-formed filter 450 levels deep (still within
    # the JSON parser's depth) overflowed the filter validator's recursion and came back INTERNAL.
    # max_where_depth now refuses it (measured without recursion) at every entry point.
    server = serve(max_where_predicates=100_000)
    token = mint(tenant="*", role="admin")
    OPTIONS[:] = [
        flight.FlightCallOptions(headers=[(b"authorization", f"Bearer {token}".encode())])
    ]
    fc = flight.FlightClient(server.uri)
    try:
        body = b'{"v":1,"name":"deep","tenant":"default_tenant","database":"default_database"}'
        result = list(fc.do_action(flight.Action("create_collection", body), OPTIONS[0]))
        cid = json.loads(result[0].body.to_pybytes())["id"]
        add = json.dumps({"v": 1, "op": "add", "collection_id": cid}).encode()
        do_put(fc, add, pa.record_batch({"id": ["a"], "embedding": _vectors(1)}))
        where, document = _nested(450, WHERE_LEAF), _nested(450, DOCUMENT_LEAF)
        get = raw({"v": 1, "get": {"collection_id": cid, "where": RAW}}, where)
        query = {"collection_id": cid, "n_results": 1, "where_document": RAW}
        inline = raw({"v": 1, "query": {**query, "embeddings": [[1, 1, 1, 1]]}}, document)
        exchange = raw({"v": 1, "query": query}, document)
        delete = raw({"v": 1, "op": "delete", "collection_id": cid, "where": RAW}, where)
        calls: dict[str, Callable[[], Any]] = {
            "DoGet get": lambda: fc.do_get(flight.Ticket(get.encode()), OPTIONS[0]).read_all(),
            "DoGet query": lambda: fc.do_get(flight.Ticket(inline.encode()), OPTIONS[0]).read_all(),
            "DoExchange": lambda: do_exchange(
                fc, exchange.encode(), pa.record_batch({"embedding": _vectors(1)})
            ),
            "DoPut delete": lambda: do_put(fc, delete.encode(), pa.record_batch({"id": ["zz"]})),
        }
        for name, call in calls.items():
            with pytest.raises(pa.ArrowInvalid) as info:
                call()
            error = wire_error(info.value)
            assert error["code"] == "quota_exceeded", name
            assert error["details"]["limit"] == "max_where_depth", name
            heartbeat(fc)
    finally:
        fc.close()
