"""Checks of a collection's own metadata (create and modify), with chromadb 1.5.9's errors.

At create, Chroma converts the dict in its Rust bindings, which raise TypeError; at modify, its
Python `validate_update_metadata` runs first (ValueError, TypeError for a key). FletchDB refuses
two things Chroma accepts: non-finite floats (Chroma keeps NaN, which JSON cannot hold) and ints
beyond int64 (Chroma turns them into lossy floats). docs/chroma-compat.md lists both.
"""

from __future__ import annotations

from typing import Any

from flight_server.api import Op, validate_collection_metadata

from .convert import _metadata_arrays
from .errors import InvalidArgumentError, InvalidArgumentTypeError

_SCALARS = (str, int, float)  # bool is an int
_NOT_A_VALUE = "argument 'metadata': Cannot convert Python object to MetadataValue"
_BAD_LIST = (
    "argument 'metadata': Cannot convert Python list to MetadataValue: mixed or unsupported "
    "element types"
)


def check_collection_metadata(metadata: Any, op: Op) -> None:
    """Chroma's checks of a collection's metadata (Op.ADD: create, Op.UPDATE: modify)."""
    if metadata is None:
        return
    if op is Op.ADD:
        if metadata == {}:
            raise InvalidArgumentError("Validation error: metadata: Metadata cannot be empty")
        if isinstance(metadata, dict):
            _check_convertible(metadata)
    _metadata_arrays([metadata], 1, op, "")  # Chroma's messages first
    validate_collection_metadata(metadata, allow_none=op is Op.UPDATE)  # then the engine's rules


def _check_convertible(metadata: dict[Any, Any]) -> None:
    """The TypeErrors of Chroma's Rust conversion of a new collection's metadata."""
    for key, value in metadata.items():
        if not isinstance(key, str):
            raise InvalidArgumentTypeError(
                f"argument 'metadata': '{type(key).__name__}' object cannot be converted to "
                "'PyString'"
            )
        if isinstance(value, list):
            kinds = {bool if isinstance(v, bool) else type(v) for v in value}
            if len(kinds) > 1 or not kinds <= {str, int, float, bool}:
                raise InvalidArgumentTypeError(_BAD_LIST)
        elif not isinstance(value, _SCALARS):
            raise InvalidArgumentTypeError(_NOT_A_VALUE)
