"""client.sql's parameters, checked the same way for the local engine and the wire (docs/sql.md).

Parameter values are JSON values (None, bool, int, finite float, str, lists and string-keyed
dicts of them), so that a query behaves the same locally and over Flight, where parameters travel
in the JSON ticket; numpy arrays and scalars are taken as the lists and numbers they hold.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from flight_server.api import check_sql_arguments

from .errors import InvalidArgumentError

SqlParams = list[Any] | tuple[Any, ...] | dict[str, Any] | None


def sql_params(query: Any, params: Any) -> SqlParams:
    """Parameters as JSON values (numpy values converted); InvalidArgumentError otherwise."""
    check_sql_arguments(query, None)
    if params is None:
        return None
    if isinstance(params, dict) and all(isinstance(k, str) for k in params):
        return {k: _plain(v, k) for k, v in params.items()}
    if isinstance(params, list | tuple):
        return [_plain(v, f"${i + 1}") for i, v in enumerate(params)]
    raise InvalidArgumentError(
        "SQL params must be a list (for ? and $1 placeholders) or a dict with string keys "
        f"(for $name placeholders), got {type(params).__name__}"
    )


def _plain(value: Any, where: str) -> Any:
    if isinstance(value, np.ndarray | np.generic):
        value = value.tolist()
    if value is None or isinstance(value, bool | int | str):
        return value
    if isinstance(value, float):
        if not math.isfinite(value):
            raise InvalidArgumentError(f"SQL parameter {where} is {value}, not a finite number")
        return value
    if isinstance(value, list | tuple):
        return [_plain(v, where) for v in value]
    if isinstance(value, dict) and all(isinstance(k, str) for k in value):
        return {k: _plain(v, where) for k, v in value.items()}
    raise InvalidArgumentError(
        f"SQL parameter {where} is a {type(value).__name__}; parameters are JSON values "
        "(None, bool, int, float, str, lists and dicts of them)"
    )
