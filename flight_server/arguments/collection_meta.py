"""Engine-side checks of a collection's own metadata, for any client (the SDK checks first).

A collection's metadata is a dict of str keys to str, int (int64), finite float, bool, or a
non-empty list of one of those; `None` (remove the key) only when modifying. Chroma 1.5.9 keeps
NaN and turns ints beyond int64 into floats; FletchDB refuses both (docs/chroma-compat.md).
A raw Flight client could otherwise store nested dicts, which no filter or SQL column can hold.
"""

from __future__ import annotations

import math
from typing import Any

from ..errors import InvalidArgumentError, InvalidArgumentOverflowError, InvalidArgumentTypeError

INT64_MIN, INT64_END = -(2**63), 2**63
_SCALARS = (bool, int, float, str)


def int64_message(key: str, value: int) -> str:
    """Why an int metadata value is refused (Chroma would store it as a lossy float)."""
    text = str(value)
    shown = text if len(text) <= 60 else text[:57] + "..."
    return (
        f"Expected metadata int value for key '{key}' to fit in 64 bits "
        f"({INT64_MIN} to {INT64_END - 1}), got {shown}"
    )


def finite_message(key: str, value: float) -> str:
    """Why a NaN or infinite metadata value is refused."""
    return f"Expected metadata float value for key '{key}' to be finite, got {value}"


def validate_collection_metadata(metadata: Any, allow_none: bool) -> None:
    """Raise a typed error unless `metadata` is None or a valid collection metadata dict."""
    if metadata is None:
        return
    if not isinstance(metadata, dict):
        raise InvalidArgumentTypeError(
            f"Expected collection metadata to be a dict, got {type(metadata).__name__}"
        )
    for key, value in metadata.items():
        if not isinstance(key, str):
            raise InvalidArgumentTypeError(
                f"Expected metadata key to be a str, got {key!r} which is a {type(key).__name__}"
            )
        if isinstance(value, list):
            kinds = {type(v) for v in value}
            if len(kinds) != 1 or not kinds <= set(_SCALARS):
                raise InvalidArgumentError(
                    f"Expected metadata list value for key '{key}' to be non-empty and contain "
                    f"only str, int, float, or bool, all of one type, got {value!r:.200}"
                )
            for item in value:
                _check_scalar(key, item)
        elif value is not None or not allow_none:
            _check_scalar(key, value)


def _check_scalar(key: str, value: Any) -> None:
    if not isinstance(value, _SCALARS):
        raise InvalidArgumentTypeError(
            f"Expected metadata value for key '{key}' to be a str, int, float, bool or a list of "
            f"them, got {value!r:.200} which is a {type(value).__name__}"
        )
    if isinstance(value, float) and not math.isfinite(value):
        raise InvalidArgumentError(finite_message(key, value))
    if isinstance(value, int) and not isinstance(value, bool):
        if not INT64_MIN <= value < INT64_END:
            raise InvalidArgumentOverflowError(int64_message(key, value))
