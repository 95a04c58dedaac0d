"""FletchDB errors on the Flight wire, both ways: one table from status to what is raised.

A FletchError crosses as the Flight/gRPC status of its class (`WIRE_STATUS`) with a message that
is a JSON object `{"code", "name", "message", "details"}`; where pyarrow's Flight error class can
carry binary details the same JSON travels there too. The client reads the JSON back into the same
class with the same message, so local and remote errors are identical.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import pyarrow as pa
import pyarrow.flight as flight

from ..errors import (
    ERRORS_BY_CODE,
    AuthenticationError,
    AuthorizationError,
    FletchError,
    InternalError,
    InvalidArgumentError,
    UnavailableError,
    quote_input,
)

log = logging.getLogger("fletchdb.flight")


def _with_details(cls: type[flight.FlightError]) -> Callable[[str, bytes], Exception]:
    return lambda message, info: cls(message, extra_info=info)


def _plain(cls: type[Exception]) -> Callable[[str, bytes], Exception]:
    return lambda message, info: cls(message)


# ERROR_TABLE's status (the gRPC status meant) -> the exception whose status pyarrow's Flight
# server sends. pyarrow can send INVALID_ARGUMENT, NOT_FOUND, UNAUTHENTICATED, PERMISSION_DENIED,
# UNAVAILABLE, INTERNAL, CANCELLED, DEADLINE_EXCEEDED and UNKNOWN; the others travel as the
# closest of those, and the JSON message always carries the exact code.
WIRE_STATUS: dict[str, tuple[str, Callable[[str, bytes], Exception]]] = {
    "INVALID_ARGUMENT": ("INVALID_ARGUMENT", _plain(pa.ArrowInvalid)),
    "NOT_FOUND": ("NOT_FOUND", _plain(pa.ArrowKeyError)),
    "UNAUTHENTICATED": ("UNAUTHENTICATED", _with_details(flight.FlightUnauthenticatedError)),
    "PERMISSION_DENIED": ("PERMISSION_DENIED", _with_details(flight.FlightUnauthorizedError)),
    "RESOURCE_EXHAUSTED": ("UNAVAILABLE", _with_details(flight.FlightUnavailableError)),
    "UNAVAILABLE": ("UNAVAILABLE", _with_details(flight.FlightUnavailableError)),
    "INTERNAL": ("INTERNAL", _with_details(flight.FlightInternalError)),
    "DATA_LOSS": ("INTERNAL", _with_details(flight.FlightInternalError)),
    "ALREADY_EXISTS": ("UNKNOWN", _with_details(flight.FlightServerError)),
    "FAILED_PRECONDITION": ("UNKNOWN", _with_details(flight.FlightServerError)),
    "ABORTED": ("UNKNOWN", _with_details(flight.FlightServerError)),
    "UNKNOWN": ("UNKNOWN", _with_details(flight.FlightServerError)),
}


MAX_WIRE_MESSAGE_CHARS = 4096  # an error's message on the wire; gRPC refuses large statuses
MAX_WIRE_DETAIL_CHARS = 512  # one detail value, as JSON


def error_payload(exc: FletchError) -> bytes:
    """The JSON an error travels as (message and details capped: a status must stay small)."""
    body = {
        "code": exc.code,
        "name": exc.name(),
        "message": quote_input(exc.message(), MAX_WIRE_MESSAGE_CHARS),
        "details": {k: _small(v) for k, v in exc.details.items()},
    }
    return json.dumps(body, separators=(",", ":"), default=str).encode()


def _small(value: Any) -> Any:
    """A detail value as is when its JSON is short, else its capped text."""
    try:
        text = json.dumps(value, default=str)
    except (TypeError, ValueError):
        return quote_input(value, MAX_WIRE_DETAIL_CHARS)
    return (
        value if len(text) <= MAX_WIRE_DETAIL_CHARS else quote_input(value, MAX_WIRE_DETAIL_CHARS)
    )


def to_flight(exc: FletchError) -> Exception:
    """The Flight-side exception to raise for a FletchError."""
    payload = error_payload(exc)
    _, make = WIRE_STATUS.get(exc.status, WIRE_STATUS["UNKNOWN"])
    return make(payload.decode(), payload)


class ClientDisconnected(Exception):
    """The client went away while its stream was being read or answered: not a server error."""


@contextmanager
def client_stream(rpc: str) -> Iterator[None]:
    """Reads and writes of a call's own stream: an OSError there means the peer is gone."""
    try:
        yield
    except OSError as exc:  # pyarrow: "Unknown error writing metadata." once the client is gone
        raise ClientDisconnected(f"{rpc}: {exc}") from None


@contextmanager
def translated() -> Iterator[None]:
    """Server side: FletchErrors leave as Flight errors; anything else is logged and INTERNAL."""
    try:
        yield
    except FletchError as exc:
        raise to_flight(exc) from None
    except ClientDisconnected as exc:  # what was acknowledged stays written; nothing else
        log.info("client disconnected mid-stream (%s)", exc)
        raise flight.FlightCancelledError("The client disconnected") from None
    except (pa.ArrowInvalid, pa.ArrowTypeError) as exc:  # a malformed Arrow stream from the client
        raise to_flight(InvalidArgumentError(f"Malformed Arrow data: {exc}")) from None
    except flight.FlightError:
        raise
    except Exception:
        log.exception("internal error while serving a request")
        raise to_flight(InternalError("Internal error (the server log has the details)")) from None


def from_flight(exc: BaseException) -> FletchError:
    """Client side: the FletchError a Flight/Arrow exception carries (or the closest one)."""
    text = str(exc)
    start = text.find('{"code"')
    if start >= 0:
        try:
            body, _ = json.JSONDecoder().raw_decode(text, start)
            return rebuild(body["code"], body["message"], body.get("details") or {})
        except (ValueError, KeyError, TypeError):
            pass
    if isinstance(exc, flight.FlightUnauthenticatedError):
        return AuthenticationError(text)
    if isinstance(exc, flight.FlightUnauthorizedError):
        return AuthorizationError(text)
    if isinstance(exc, flight.FlightUnavailableError | flight.FlightTimedOutError):
        return UnavailableError(f"FletchDB server unavailable: {text}")
    return InternalError(f"Unexpected error from the FletchDB server: {text}")


def rebuild(code: str, message: str, details: dict[str, Any]) -> FletchError:
    """The error of `code` with exactly `message` and `details` (attributes restored too)."""
    cls = ERRORS_BY_CODE.get(code, FletchError)
    err = cls.__new__(cls)
    Exception.__init__(err, message)
    err.details = dict(details)
    for key, value in details.items():  # QuotaError.limit/value/maximum, RateLimitError.retry_after
        setattr(err, key, value)
    return err
