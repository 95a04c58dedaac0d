"""One error hierarchy for the whole engine, mapped once onto Chroma's names and Flight statuses.

Every class has a stable `code` (the wire identifier), the `chroma_name` Chroma reports for the same
condition, and the gRPC/Flight status it travels as. `ERROR_TABLE` is the single mapping; the Flight
layer and the remote client both read it, so an error raised in the engine arrives as the same class
with the same message on the other side.
"""

from __future__ import annotations

import reprlib
from typing import Any, ClassVar


class FletchError(Exception):
    """Base of every error FletchDB raises on purpose (Chroma's `ChromaError`)."""

    code: ClassVar[str] = "error"
    chroma_name: ClassVar[str] = "ChromaError"
    status: ClassVar[str] = "UNKNOWN"

    def __init__(self, message: str = "", **details: Any) -> None:
        super().__init__(message)
        self.details = details

    @classmethod
    def name(cls) -> str:
        """Chroma's name for this error (`ChromaError.name()`)."""
        return cls.chroma_name

    def message(self) -> str:
        """The human-readable message (`ChromaError.message()`)."""
        return str(self.args[0]) if self.args else ""


ChromaError = FletchError

MAX_QUOTED_CHARS = 200  # how much of a client's value an error message repeats
_REPR = reprlib.Repr()
_REPR.maxstring = _REPR.maxother = MAX_QUOTED_CHARS
_REPR.maxlist = _REPR.maxtuple = _REPR.maxdict = _REPR.maxset = 20


def quote_input(value: object, limit: int = MAX_QUOTED_CHARS, as_repr: bool = False) -> str:
    """`value` as text for an error message (a str as is, unless as_repr), cut to `limit`."""
    try:
        text = value if isinstance(value, str) and not as_repr else _REPR.repr(value)
    except ValueError:  # an int with more digits than str() converts
        return "<an int too long to print>"
    if len(text) <= limit:
        return text
    return f"{text[:limit]}... ({len(text)} characters)"


class InternalError(FletchError):
    """A bug or an unexpected condition inside FletchDB."""

    code = "internal"
    chroma_name = "InternalError"
    status = "INTERNAL"


class InvalidArgumentError(FletchError, ValueError):
    """A request argument is malformed (also a ValueError, as Chroma's validators raise)."""

    code = "invalid_argument"
    chroma_name = "InvalidArgumentError"
    status = "INVALID_ARGUMENT"


class InvalidDimensionException(InvalidArgumentError):
    """An embedding's dimension differs from the collection's."""

    code = "invalid_dimension"


class DuplicateIDError(InvalidArgumentError):
    """The same id appears twice in one write."""

    code = "duplicate_id"
    chroma_name = "DuplicateID"  # the key in chromadb.errors.error_types


class QuotaError(InvalidArgumentError):
    """A declared limit was exceeded; `limit`, `value` and `maximum` name it."""

    code = "quota_exceeded"
    chroma_name = "QuotaError"

    def __init__(self, limit: str, value: Any, maximum: Any, what: str = "") -> None:
        shown = quote_input(value)
        text = f"{what or limit} is {shown}, over the limit {limit}={maximum}"
        super().__init__(text, limit=limit, value=value, maximum=maximum)
        self.limit, self.value, self.maximum = limit, value, maximum


class BatchSizeExceededError(QuotaError):
    """A write batch has more records than allowed."""

    code = "batch_size_exceeded"
    chroma_name = "BatchSizeExceededError"


class NotFoundError(FletchError, ValueError):
    """A tenant, database or collection does not exist (or is not visible to the caller)."""

    code = "not_found"
    chroma_name = "NotFoundError"
    status = "NOT_FOUND"


class UniqueConstraintError(FletchError, ValueError):
    """A tenant, database or collection of that name already exists."""

    code = "already_exists"
    chroma_name = "UniqueConstraintError"
    status = "ALREADY_EXISTS"


class AuthenticationError(FletchError):
    """No valid credentials (Chroma's `ChromaAuthError`)."""

    code = "unauthenticated"
    chroma_name = "AuthError"
    status = "UNAUTHENTICATED"


class AuthorizationError(FletchError):
    """Valid credentials that do not permit the request."""

    code = "permission_denied"
    chroma_name = "AuthorizationError"
    status = "PERMISSION_DENIED"


class NotAllowedError(AuthorizationError):
    """The operation is disabled by configuration (e.g. `reset` without `allow_reset`)."""

    code = "not_allowed"
    chroma_name = "AuthorizationError"
    status = "FAILED_PRECONDITION"


class RateLimitError(FletchError):
    """A per-tenant rate limit was hit; `retry_after` seconds is a hint."""

    code = "rate_limited"
    chroma_name = "RateLimitError"
    status = "RESOURCE_EXHAUSTED"

    def __init__(self, message: str = "", retry_after: float = 0.0, **details: Any) -> None:
        super().__init__(message, retry_after=retry_after, **details)
        self.retry_after = retry_after


class UnavailableError(FletchError):
    """The server cannot be reached, or is shutting down; retrying may succeed."""

    code = "unavailable"
    chroma_name = "InternalError"
    status = "UNAVAILABLE"


class DataDirLockedError(FletchError):
    """Another process holds the data directory."""

    code = "data_dir_locked"
    chroma_name = "InternalError"
    status = "UNAVAILABLE"


class CorruptLogError(FletchError):
    """A write-ahead-log frame before the tail failed its checksum; `segment` and `offset` name it."""

    code = "corrupt_log"
    chroma_name = "InternalError"
    status = "DATA_LOSS"


class VersionConflictError(FletchError):
    """An index version was registered against a stale previous version or log position."""

    code = "version_conflict"
    chroma_name = "InternalError"
    status = "ABORTED"


class ClosedError(FletchError):
    """The client or engine was closed."""

    code = "closed"
    chroma_name = "InternalError"
    status = "FAILED_PRECONDITION"


# ImportError too, so `except ImportError` works; FletchError.name() comes first in the MRO.
class MissingDependencyError(FletchError, ImportError):  # type: ignore[misc]
    """An optional package a call needs is not installed; the message names the extra to install."""

    code = "missing_dependency"
    chroma_name = "InternalError"
    status = "FAILED_PRECONDITION"


# Chroma raises builtins for some bad arguments (its Rust bindings' TypeError/OverflowError); these
# keep that builtin in the MRO, so `except TypeError` catches FletchDB's as it catches Chroma's.
class InvalidArgumentTypeError(InvalidArgumentError, TypeError):
    """An argument of the wrong type where Chroma raises TypeError (n_results=0, limit='1', ...)."""

    code = "invalid_argument_type"


class InvalidArgumentOverflowError(InvalidArgumentError, OverflowError):
    """An integer out of range where Chroma raises OverflowError (limit=-1, n_results=2**64)."""

    code = "invalid_argument_overflow"


class NotSupportedError(FletchError, NotImplementedError):
    """A Chroma entry point FletchDB does not offer (yet); the message names the alternative."""

    code = "not_supported"
    chroma_name = "InternalError"
    status = "FAILED_PRECONDITION"


class MemoryBudgetError(QuotaError):
    """A job would need more memory than its budget allows (e.g. compaction's HNSW index)."""

    code = "memory_budget_exceeded"
    chroma_name = "QuotaError"


class ServerBusyError(UnavailableError):
    """Every slot of a server-wide budget stayed taken for the whole wait; `limit` names it."""

    code = "server_busy"

    def __init__(self, message: str = "", **details: Any) -> None:
        super().__init__(message, **details)
        self.limit = details.get("limit")
        self.maximum = details.get("maximum")

    @classmethod
    def of(cls, limit: str, maximum: Any, waited: float, what: str) -> ServerBusyError:
        """The error for `limit` (of `maximum` slots) after `waited` seconds in the queue."""
        text = f"{what}: all {maximum} slots of {limit} stayed busy for {waited:g} s; retry later"
        return cls(text, limit=limit, maximum=maximum, waited=waited)


# Defined here, not derived by introspection, so that adding a class without a row is a visible diff
# (tests/unit/test_errors.py checks that every subclass has one).
ERROR_TABLE: tuple[type[FletchError], ...] = (
    FletchError,
    InternalError,
    InvalidArgumentError,
    InvalidDimensionException,
    DuplicateIDError,
    QuotaError,
    BatchSizeExceededError,
    NotFoundError,
    UniqueConstraintError,
    NotAllowedError,
    AuthenticationError,
    AuthorizationError,
    RateLimitError,
    UnavailableError,
    DataDirLockedError,
    CorruptLogError,
    VersionConflictError,
    ClosedError,
    MissingDependencyError,
    InvalidArgumentTypeError,
    InvalidArgumentOverflowError,
    NotSupportedError,
    MemoryBudgetError,
    ServerBusyError,
)

ERRORS_BY_CODE: dict[str, type[FletchError]] = {cls.code: cls for cls in ERROR_TABLE}
