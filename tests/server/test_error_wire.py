"""Every error class crosses the Flight wire as itself: same class, message, details, attributes.

A tiny purpose-built Flight server (as pyarrow's own tests use) raises `to_flight(error)` for the
action named after each class of `ERROR_TABLE`; a plain pyarrow client catches what arrives, checks
the gRPC status it came as, and `from_flight` must rebuild the original error exactly. Last, errors
of the real FletchDB server are compared with those of a local client for the same mistakes.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import fletchdb
import numpy as np
import pyarrow as pa
import pyarrow.flight as flight
import pytest

from flight_server import errors as E
from flight_server.flight.errors import WIRE_STATUS, from_flight, to_flight

# A message with what could trip a codec: quotes of both kinds, a newline, non-ASCII, JSON text.
TRICKY = 'it\'s "quoted"\nnaïve ✓ {"code": "fake"} \\ end'


def _example(cls: type[E.FletchError]) -> E.FletchError:
    """One instance of each class, with details where the class carries them."""
    if cls is E.BatchSizeExceededError:
        return cls("max_batch_rows", 100_001, 100_000, "Batch size")
    if cls is E.QuotaError:
        return cls("max_document_bytes", 2_000_000, 1_048_576, f"Document of {TRICKY}")
    if cls is E.RateLimitError:
        return cls(
            "Rate limit exceeded; retry after 0.250 s",
            retry_after=0.25,
            limit="rate_read_per_second",
            maximum=5000.0,
        )
    if cls is E.MemoryBudgetError:
        return cls("max_compaction_memory_bytes", 9 * 2**30, 8 * 2**30, "HNSW index memory")
    if cls is E.ServerBusyError:
        return cls.of("sql_max_concurrent", 4, 10.0, "SQL query")
    if cls is E.CorruptLogError:
        return cls("Corrupt frame", segment="00000001.wal", offset=4096)
    return cls(f"{cls.__name__}: {TRICKY}")


EXAMPLES = {cls.code: _example(cls) for cls in E.ERROR_TABLE}

# The pyarrow exception class each gRPC status arrives as on the client.
PYARROW_CLASS: dict[str, type[Exception]] = {
    "INVALID_ARGUMENT": pa.ArrowInvalid,
    "NOT_FOUND": pa.ArrowKeyError,
    "UNAUTHENTICATED": flight.FlightUnauthenticatedError,
    "PERMISSION_DENIED": flight.FlightUnauthorizedError,
    "UNAVAILABLE": flight.FlightUnavailableError,
    "INTERNAL": flight.FlightInternalError,
    "UNKNOWN": flight.FlightServerError,
}


class RaisingServer(flight.FlightServerBase):
    """do_action(<error code>) raises that example error as the Flight layer sends it."""

    def do_action(self, context: flight.ServerCallContext, action: flight.Action) -> Iterator:
        raise to_flight(EXAMPLES[action.type])

    def do_get(self, context: flight.ServerCallContext, ticket: flight.Ticket) -> Any:
        raise to_flight(EXAMPLES[ticket.ticket.decode()])


@pytest.fixture(scope="module")
def wire() -> Iterator[flight.FlightClient]:
    with RaisingServer("grpc://127.0.0.1:0") as server:
        client = flight.FlightClient(f"grpc://127.0.0.1:{server.port}")
        yield client
        client.close()


def _received(client: flight.FlightClient, code: str, rpc: str = "action") -> Exception:
    try:
        if rpc == "action":
            list(client.do_action(flight.Action(code, b"")))
        else:
            client.do_get(flight.Ticket(code.encode())).read_all()
    except Exception as exc:
        return exc
    raise AssertionError(f"{code}: nothing was raised")


def _assert_same(got: E.FletchError, sent: E.FletchError) -> None:
    assert type(got) is type(sent)
    assert str(got) == str(sent)
    assert got.message() == sent.message()
    assert got.name() == sent.name()
    assert got.details == sent.details
    for key, value in sent.details.items():
        assert getattr(got, key) == value == getattr(sent, key, value)


@pytest.mark.parametrize("code", list(EXAMPLES))
@pytest.mark.parametrize("rpc", ["action", "get"])
def test_every_error_class_crosses_the_wire_as_itself(wire, code: str, rpc: str) -> None:
    sent = EXAMPLES[code]
    got = from_flight(_received(wire, code, rpc))
    _assert_same(got, sent)


def test_quota_and_rate_attributes_survive() -> None:
    quota = EXAMPLES["quota_exceeded"]
    assert isinstance(quota, E.QuotaError)
    rebuilt = from_flight(to_flight(quota))
    assert isinstance(rebuilt, E.QuotaError) and isinstance(rebuilt, ValueError)
    assert (rebuilt.limit, rebuilt.value, rebuilt.maximum) == (
        "max_document_bytes",
        2_000_000,
        1_048_576,
    )
    rate = from_flight(to_flight(EXAMPLES["rate_limited"]))
    assert isinstance(rate, E.RateLimitError) and rate.retry_after == 0.25


@pytest.mark.parametrize("size", [2**20, 8 * 2**20])
def test_an_error_quoting_megabytes_still_crosses_as_itself(size: int) -> None:
    # a 2 MB regex came back as a gRPC resource-exhausted InternalError: the status is capped
    big = E.InvalidArgumentError("Regex syntax error: " + "x" * size, pattern="y" * size)
    with RaisingServer("grpc://127.0.0.1:0") as server:
        EXAMPLES["big"] = big
        client = flight.FlightClient(f"grpc://127.0.0.1:{server.port}")
        try:
            got = from_flight(_received(client, "big"))
        finally:
            client.close()
            del EXAMPLES["big"]
    assert type(got) is E.InvalidArgumentError
    assert got.message().startswith("Regex syntax error: xxxx")
    assert got.message().endswith(f"({size + 20} characters)")
    assert len(got.message()) < 5000 and len(got.details["pattern"]) < 600


def test_every_status_has_a_wire_row() -> None:
    for cls in E.ERROR_TABLE:
        assert cls.status in WIRE_STATUS, (
            f"{cls.__name__}.status {cls.status} has no WIRE_STATUS row"
        )
    for sent_as, _ in WIRE_STATUS.values():
        assert sent_as in PYARROW_CLASS, f"pyarrow cannot send {sent_as}"


@pytest.mark.parametrize("code", list(EXAMPLES))
def test_the_grpc_status_sent(wire, code: str) -> None:
    sent = EXAMPLES[code]
    sent_as = WIRE_STATUS[sent.status][0]
    exc = _received(wire, code)
    assert type(exc) is PYARROW_CLASS[sent_as], f"{code}: {type(exc).__name__}"


@pytest.mark.parametrize(
    ("status", "expected"),
    [
        ("INVALID_ARGUMENT", pa.ArrowInvalid),
        ("NOT_FOUND", pa.ArrowKeyError),
        ("UNAUTHENTICATED", flight.FlightUnauthenticatedError),
        ("PERMISSION_DENIED", flight.FlightUnauthorizedError),
        ("UNAVAILABLE", flight.FlightUnavailableError),
        ("RESOURCE_EXHAUSTED", flight.FlightUnavailableError),
        ("INTERNAL", flight.FlightInternalError),
        ("DATA_LOSS", flight.FlightInternalError),
        ("UNKNOWN", flight.FlightServerError),
        ("ALREADY_EXISTS", flight.FlightServerError),
    ],
)
def test_main_statuses_arrive_as_the_pyarrow_class(wire, status: str, expected: type) -> None:
    code = next(c for c, e in EXAMPLES.items() if e.status == status)
    assert type(_received(wire, code)) is expected


def test_foreign_flight_errors_map_to_the_closest_class() -> None:
    assert type(from_flight(flight.FlightUnauthenticatedError("no"))) is E.AuthenticationError
    assert type(from_flight(flight.FlightUnauthorizedError("no"))) is E.AuthorizationError
    assert type(from_flight(flight.FlightUnavailableError("down"))) is E.UnavailableError
    assert type(from_flight(flight.FlightTimedOutError("slow"))) is E.UnavailableError
    assert type(from_flight(flight.FlightServerError("?"))) is E.InternalError
    assert type(from_flight(flight.FlightServerError('{"code": not json'))) is E.InternalError


# The real server against a local client --------------------------------------------------------
def _error_of(call: Any, *args: Any) -> E.FletchError:
    try:
        call(*args)
    except E.FletchError as exc:
        return exc
    raise AssertionError("nothing was raised")


def test_remote_errors_equal_local_ones(serve, mint, connect) -> None:
    server = serve()
    remote = connect(server, mint(tenant="*"))  # reset needs every tenant
    local = fletchdb.EphemeralClient()
    try:
        vectors = np.eye(3, dtype=np.float32)
        mistakes: list[Any] = [
            lambda c: c.get_collection("missing"),
            lambda c: c.create_collection("docs"),
            lambda c: c.get_collection("docs").add(ids=["a", "a"], embeddings=vectors[:2]),
            lambda c: c.get_collection("docs").add(ids=["z"], embeddings=[[1.0, 2.0]]),
            lambda c: c.get_collection("docs").get(where={"n": {"$bad": 1}}),
            lambda c: c.get_collection("docs").query(query_embeddings=[[1.0, 2.0]], n_results=1),
            lambda c: c.get_database("nowhere"),
            lambda c: c.reset(),
        ]
        for client in (remote, local):
            client.create_collection("docs").add(ids=["a", "b", "c"], embeddings=vectors)
        for mistake in mistakes:
            want = _error_of(mistake, local)
            got = _error_of(mistake, remote)
            assert type(got) is type(want), (got, want)
            assert str(got) == str(want)
            assert got.details == want.details
    finally:
        local.close()
