"""Local mode's errors for arguments the Flight wire cannot carry as given.

The protocol refuses values of the wrong JSON type, and JSON cannot carry NaN, infinities or numpy
scalars. Where local mode raises its own error for such a value, these raise that error (same
class, same message) before anything is sent, so local and remote clients fail alike.
"""

from __future__ import annotations

from typing import Any

from flight_server.api import (
    INVALID_WHERE,
    Settings,
    request,
    resolve_configuration,
    update_configuration,
    validate_where,
    validate_where_document,
)
from flight_server.api import hnsw_section as _hnsw_section

from .errors import FletchError, InvalidArgumentError


def check_configuration_type(configuration: Any) -> None:
    """Local mode's error for a configuration that is not a dict."""
    if configuration is not None and not isinstance(configuration, dict):
        _hnsw_section(configuration)  # raises local mode's error


def unencodable(action: str, args: dict[str, Any], exc: Exception) -> FletchError:
    """Local mode's error for action arguments that are not JSON (NaN, numpy scalars)."""
    configuration = args.get("configuration")
    if action == "create_collection":
        resolve_configuration(configuration, args.get("metadata"), Settings())
    elif action == "modify_collection" and configuration:
        update_configuration(resolve_configuration(None, None, Settings()), configuration)
    return InvalidArgumentError(f"Expected a JSON-serializable dict: {exc}")


def filter_request(
    where: dict[str, Any] | None, where_document: dict[str, Any] | None, /, **fields: Any
) -> bytes:
    """A request carrying filters; local mode's error for filter values that are not JSON."""
    try:
        return request(**fields)
    except (TypeError, ValueError):
        if where:
            validate_where(where)
        if where_document:
            validate_where_document(where_document)
        raise InvalidArgumentError(INVALID_WHERE) from None
