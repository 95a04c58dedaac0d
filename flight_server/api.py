"""The SDK's only door into the engine: every server name `sdk/` (`import fletchdb`) may use.

Names here are light to import. What needs DuckDB or usearch (the engine, SQL and search-plan
checks, export descriptions) is behind a function that imports it on first call, so
`import fletchdb` and a `FlightClient` do not load the engine. `tests/unit/test_architecture.py`
checks that `sdk/` imports `flight_server` only through this module (and `flight_server.errors`,
re-exported by `sdk/errors.py`).
"""

from __future__ import annotations

from importlib.metadata import version as _dist_version
from typing import TYPE_CHECKING, Any

from .arguments.collection_config import _hnsw_section as hnsw_section
from .arguments.collection_config import resolve_configuration, update_configuration
from .arguments.collection_meta import int64_message, validate_collection_metadata
from .arguments.pages import page_params
from .arguments.validate import (
    INCONSISTENT_DIMENSIONS,
    RESERVED_METADATA_KEY,
    duplicate_ids_message,
)
from .catalog.base import DEFAULT_DATABASE, DEFAULT_TENANT, CollectionRecord, DatabaseRecord
from .catalog.names import check_name_types
from .config import Settings
from .executor.filters import (
    INVALID_WHERE,
    check_depth_limit,
    validate_where,
    validate_where_document,
)
from .executor.filters import _client_check_where as client_check_where
from .executor.filters import _client_check_where_document as client_check_where_document
from .flight.errors import from_flight
from .flight.protocol import GET_INCLUDE, QUERY_INCLUDE, request
from .flight.results import split_query_results
from .schema import (
    DOCUMENT,
    EMBEDDING,
    ID,
    LABEL,
    META_TAGS,
    UNSET_TAG,
    Op,
    meta_column,
    parse_meta_column,
)

if TYPE_CHECKING:
    from pathlib import Path

    from .engine import Engine
    from .executor.search_plan import SearchPlan

VERSION = _dist_version("fletchdb")  # pyproject's; tests check it equals engine.VERSION

__all__ = [
    "DEFAULT_DATABASE",
    "DEFAULT_TENANT",
    "DOCUMENT",
    "EMBEDDING",
    "GET_INCLUDE",
    "ID",
    "INCONSISTENT_DIMENSIONS",
    "INVALID_WHERE",
    "LABEL",
    "META_TAGS",
    "QUERY_INCLUDE",
    "RESERVED_METADATA_KEY",
    "UNSET_TAG",
    "VERSION",
    "CollectionRecord",
    "DatabaseRecord",
    "Op",
    "Settings",
    "check_depth_limit",
    "check_name_types",
    "check_sql_arguments",
    "client_check_where",
    "client_check_where_document",
    "duplicate_ids_message",
    "from_flight",
    "hnsw_section",
    "int64_message",
    "meta_column",
    "open_engine",
    "page_params",
    "parse_description",
    "parse_meta_column",
    "parse_search_plan",
    "request",
    "resolve_configuration",
    "split_query_results",
    "update_configuration",
    "validate_collection_metadata",
    "validate_where",
    "validate_where_document",
]


def open_engine(path: str | Path | None, settings: Settings | None) -> Engine:
    """An in-process engine (imports DuckDB and usearch: only local clients call this)."""
    from .engine import Engine

    return Engine(path, settings)


def check_sql_arguments(query: Any, params: Any) -> None:
    """The engine's check of a SQL query's argument types, run client-side."""
    from .executor.sql import check_arguments

    check_arguments(query, params)


def parse_search_plan(plan: Any, dimension: int | None, settings: Settings) -> SearchPlan:
    """A `collection.search` plan checked as the engine checks it."""
    from .executor.search_plan import parse_plan

    return parse_plan(plan, dimension, settings)


def parse_description(metadata: dict[bytes, bytes] | None) -> dict[str, Any] | None:
    """The export description in a schema's metadata (None: not a FletchDB export)."""
    from .executor.transfer import parse_description as parse

    return parse(metadata)
