"""Read-only DuckDB SQL over a database's collections, in a sandbox (docs/sql.md).

Each query runs in a DuckDB database of its own for its duration (taken from a small pool of idle
ones; never the catalog's or the executor's): external access disabled (no files, no network, no
ATTACH, no INSTALL), configuration locked, extension autoload/autoinstall and community/unsigned
extensions off, Python replacement scans off, no temporary directory, and a memory limit. It must
be exactly one statement, and a SELECT (DuckDB's own parser decides). Only the collections the
query names (DuckDB's parse tree says which) are registered, as views over their snapshots, and
dropped before the database goes back to the pool, so no query ever sees another's tables.

A timer interrupts a query that runs past `sql_timeout_seconds`; the result stops at
`max_sql_result_rows` rows and `max_sql_result_bytes` bytes. Every failure is a FletchError: bad
SQL an InvalidArgumentError with DuckDB's message, a refused statement or file access a
NotAllowedError, a limit a QuotaError.
"""

from __future__ import annotations

import json
import re
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any, Protocol

import duckdb
import pyarrow as pa

from ..catalog.base import Catalog, CollectionRecord
from ..config import Settings
from ..errors import (
    ClosedError,
    FletchError,
    InternalError,
    InvalidArgumentError,
    NotAllowedError,
    QuotaError,
)
from .filter_sql import quote_identifier
from .sql_budget import SqlSlots, check_nesting, query_memory
from .sql_tables import SqlTable, snapshot_table
from .state import CollectionState

IDLE_DATABASES = 4  # sandbox databases kept for reuse (opening one costs ~15 ms)
BATCH_ROWS = 65_536  # rows per record batch of a result
MAIN_CATALOGS = ("", "memory")  # a table reference qualified with these names the sandbox's own
MAIN_SCHEMAS = ("", "main")

Params = list[Any] | tuple[Any, ...] | dict[str, Any] | None
Resolver = Callable[[list[str]], dict[str, SqlTable]]


def sandbox_config(settings: Settings) -> dict[str, str | bool | int | float | list[str]]:
    """DuckDB configuration of a sandbox database (locked once it is open)."""
    return {
        "enable_external_access": False,
        "autoinstall_known_extensions": False,
        "autoload_known_extensions": False,
        "allow_community_extensions": False,
        "allow_unsigned_extensions": False,
        "python_enable_replacements": False,
        "temp_directory": "",
        "memory_limit": f"{query_memory(settings)[0]}B",
        "lock_configuration": True,
    }


class SqlSandbox:
    """Runs SQL over collections in pooled, locked-down DuckDB databases."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.slots = SqlSlots(settings)
        self._idle: list[duckdb.DuckDBPyConnection] = []
        self._lock = threading.Lock()
        self._closed = False

    def close(self) -> None:
        """Close the idle databases (queries still running close theirs when done)."""
        with self._lock:
            self._closed = True
            idle, self._idle = self._idle, []
        for db in idle:
            db.close()

    def run(self, query: str, params: Params, resolve: Resolver) -> pa.Table:
        """The result of one read-only SELECT; `resolve` gives the tables of the names it uses."""
        check_arguments(query, params)
        check_nesting(query, int(self.settings.max_sql_nesting))
        with self.slots.slot():
            return self._run(query, params, resolve)

    def _run(self, query: str, params: Params, resolve: Resolver) -> pa.Table:
        db = self._checkout()
        cur = db.cursor()
        views: list[str] = []
        try:
            with _duckdb_errors(self.settings):
                check_statement(cur, query)
                for name, table in resolve(referenced_tables(cur, query)).items():
                    _create_view(cur, name, table)
                    views.append(name)
            return self._execute(cur, query, params)
        finally:
            clean = _drop_views(cur, views)
            cur.close()
            self._checkin(db, clean)

    def _execute(self, cur: duckdb.DuckDBPyConnection, query: str, params: Params) -> pa.Table:
        """Run the query under the time budget, reading at most the allowed rows and bytes."""
        s = self.settings
        timer = _Timer(float(s.sql_timeout_seconds), cur)
        with timer, _duckdb_errors(s, timer):
            rel = cur.sql(query, params=params) if params is not None else cur.sql(query)
            rel = rel.limit(int(s.max_sql_result_rows) + 1)
            reader = rel.to_arrow_reader(BATCH_ROWS)
            batches = list(_bounded(reader, s.max_sql_result_rows, s.max_sql_result_bytes))
            return pa.Table.from_batches(batches, reader.schema)

    def _checkout(self) -> duckdb.DuckDBPyConnection:
        with self._lock:
            if self._closed:
                raise ClosedError("This client has been closed")
            if self._idle:
                return self._idle.pop()
        return duckdb.connect(":memory:", config=sandbox_config(self.settings))

    def _checkin(self, db: duckdb.DuckDBPyConnection, clean: bool) -> None:
        with self._lock:
            if clean and not self._closed and len(self._idle) < IDLE_DATABASES:
                self._idle.append(db)
                return
        db.close()


def check_arguments(query: Any, params: Any) -> None:
    """Refuse a query that is not a string, or parameters that are not a list or an object."""
    if not isinstance(query, str):
        raise InvalidArgumentError(f"The SQL query must be a string, got {type(query).__name__}")
    if params is None or isinstance(params, list | tuple):
        return
    if isinstance(params, dict) and all(isinstance(k, str) for k in params):
        return
    raise InvalidArgumentError(
        "SQL params must be a list (for ? and $1 placeholders) or a dict with string keys "
        f"(for $name placeholders), got {type(params).__name__}"
    )


def check_statement(cur: duckdb.DuckDBPyConnection, query: str) -> None:
    """Exactly one statement, and a SELECT (as DuckDB's parser classifies it)."""
    statements = cur.extract_statements(query)
    if len(statements) != 1:
        raise InvalidArgumentError(
            f"SQL over collections takes exactly one statement, got {len(statements)}"
        )
    kind = statements[0].type
    if kind != duckdb.StatementType.SELECT:
        name = getattr(kind, "name", str(kind))
        raise NotAllowedError(
            f"SQL over collections is read-only: {name} statements are refused "
            "(only a single SELECT is allowed)",
            statement=name,
        )


def referenced_tables(cur: duckdb.DuckDBPyConnection, query: str) -> list[str]:
    """Unqualified (or main-schema) table names a SELECT refers to, from DuckDB's parse tree."""
    (text,) = cur.execute("SELECT json_serialize_sql(?::VARCHAR)", [query]).fetchall()[0]
    try:
        tree = json.loads(text)
    except (ValueError, RecursionError):
        raise InvalidArgumentError("The SQL query is nested too deeply") from None
    if tree.get("error"):
        raise InvalidArgumentError(f"SQL error: {tree.get('error_message', 'cannot parse')}")
    names: list[str] = []
    for node in _walk(tree):
        if node.get("type") != "BASE_TABLE":
            continue
        catalog, schema = node.get("catalog_name") or "", node.get("schema_name") or ""
        name = node.get("table_name")
        if isinstance(name, str) and catalog in MAIN_CATALOGS and schema in MAIN_SCHEMAS:
            if name not in names:
                names.append(name)
    return names


def _walk(tree: Any) -> Iterator[dict[str, Any]]:
    """Every JSON object of a parse tree (iteratively: trees can be deep)."""
    stack = [tree]
    while stack:
        node = stack.pop()
        if isinstance(node, dict):
            yield node
            stack.extend(node.values())
        elif isinstance(node, list):
            stack.extend(node)


def _create_view(cur: duckdb.DuckDBPyConnection, name: str, table: SqlTable) -> None:
    """A view `name` over the table's Arrow data (the scan is anonymous: nothing else to name)."""
    rel = cur.from_arrow(table.arrow)
    if table.where is not None:
        rel = rel.filter(table.where)
    rel.project(table.select).create_view(name, replace=False)


def _drop_views(cur: duckdb.DuckDBPyConnection, views: list[str]) -> bool:
    """Drop the query's views; False if that failed (the database is then not reused)."""
    try:
        for name in views:
            cur.execute(f"DROP VIEW IF EXISTS {quote_identifier(name)}")
    except duckdb.Error:
        return False
    return True


def _bounded(
    reader: pa.RecordBatchReader, max_rows: int, max_bytes: int
) -> Iterator[pa.RecordBatch]:
    """The reader's batches, refusing a result past max_rows rows or max_bytes bytes."""
    rows = size = 0
    for batch in reader:
        rows += batch.num_rows
        size += batch.get_total_buffer_size()
        if rows > max_rows:
            raise QuotaError("max_sql_result_rows", rows, max_rows, "Rows of the SQL result")
        if size > max_bytes:
            raise QuotaError("max_sql_result_bytes", size, max_bytes, "Bytes of the SQL result")
        yield batch


class _Timer:
    """Interrupts a cursor's query once `seconds` pass (0: never); remembers whether it did."""

    def __init__(self, seconds: float, cur: duckdb.DuckDBPyConnection) -> None:
        self.seconds = seconds
        self.fired = False
        self._cur = cur
        self._timer: threading.Timer | None = None
        self._started = 0.0

    def _fire(self) -> None:
        self.fired = True
        self._cur.interrupt()

    def elapsed(self) -> float:
        """Seconds since the timer started."""
        return time.monotonic() - self._started

    def __enter__(self) -> _Timer:
        self._started = time.monotonic()
        if self.seconds > 0:
            self._timer = threading.Timer(self.seconds, self._fire)
            self._timer.daemon = True
            self._timer.start()
        return self

    def __exit__(self, *exc: object) -> None:
        if self._timer is not None:
            self._timer.cancel()


@contextmanager
def _duckdb_errors(settings: Settings, timer: _Timer | None = None) -> Iterator[None]:
    """DuckDB and parameter-binding exceptions raised as FletchErrors (FletchErrors pass)."""
    try:
        yield
    except FletchError:
        raise
    except duckdb.Error as exc:
        raise translate(exc, settings, timer) from None
    except (TypeError, ValueError, OverflowError) as exc:  # unbindable parameters
        raise InvalidArgumentError(f"SQL params cannot be bound: {exc}") from None


def translate(exc: duckdb.Error, settings: Settings, timer: _Timer | None) -> FletchError:
    """The FletchError for a DuckDB exception, with DuckDB's message."""
    text = str(exc).strip()
    if isinstance(exc, duckdb.InterruptException):
        if timer is not None and timer.fired:
            limit = settings.sql_timeout_seconds
            return QuotaError(
                "sql_timeout_seconds", round(timer.elapsed(), 3), limit, "Seconds of the SQL query"
            )
        return InternalError("The SQL query was interrupted")
    if isinstance(exc, duckdb.OutOfMemoryException):
        maximum, limit = query_memory(settings)
        return QuotaError(limit, f"more than {maximum}", maximum, "Memory of the SQL query")
    if isinstance(exc, duckdb.PermissionException):
        return NotAllowedError(
            f"SQL over collections has no file or network access: {text}", statement="SELECT"
        )
    if isinstance(exc, duckdb.InternalException | duckdb.FatalException):
        return InternalError(f"DuckDB failed on the SQL query: {text}")
    if isinstance(exc, duckdb.CatalogException):  # suggestions name the sandbox's system views
        text = _SUGGESTION.sub("", text).strip()
    return InvalidArgumentError(f"SQL error: {text}")


_SUGGESTION = re.compile(r'\s*Did you mean "[^"\n]*"\?')


# Which collections a query names --------------------------------------------------------------
class OpenTable(Protocol):
    """What SQL needs of an open collection (the engine's OpenCollection)."""

    @property
    def record(self) -> CollectionRecord:
        """The collection's catalog row."""
        ...

    @property
    def state(self) -> CollectionState:
        """The collection's read state."""
        ...


def resolve_tables(
    catalog: Catalog,
    open_collection: Callable[[str], OpenTable],
    tenant: str,
    database: str,
    names: list[str],
) -> dict[str, SqlTable]:
    """The tables of the collections of one database that `names` refer to, by collection name.

    A name is a collection's exact name, or else the one collection equal to it ignoring ASCII
    case (DuckDB's rule for identifiers). Names that are no collection of this database are left
    out, so DuckDB reports them as it reports any missing table.
    """

    def find(name: str) -> CollectionRecord | None:
        try:
            return catalog.get_collection(name, tenant, database)
        except FletchError:
            return None

    records = match_collections(names, find, lambda: catalog.list_collections(tenant, database))
    tables = {}
    for name, record in records.items():
        handle = open_collection(record.id)
        tables[name] = snapshot_table(handle.state.snapshot(), handle.record.dimension)
    return tables


def match_collections(
    names: list[str],
    find: Callable[[str], CollectionRecord | None],
    listing: Callable[[], list[CollectionRecord]],
) -> dict[str, CollectionRecord]:
    """Collection name -> record for each name that refers to a collection (see resolve_tables)."""
    chosen: dict[str, CollectionRecord] = {}  # folded name -> record
    everything: list[CollectionRecord] | None = None
    for name in names:
        record = find(name)
        if record is None:
            everything = listing() if everything is None else everything
            matches = [r for r in everything if _fold(r.name) == _fold(name)]
            if len(matches) > 1:
                found = ", ".join(f"[{r.name}]" for r in matches)
                raise InvalidArgumentError(
                    f"Table {name} matches several collections ignoring case ({found}): "
                    "write one's exact name"
                )
            record = matches[0] if matches else None
        if record is None:
            continue
        other = chosen.setdefault(_fold(record.name), record)
        if other.id != record.id:
            first, second = sorted([other.name, record.name])
            raise InvalidArgumentError(
                f"Collections [{first}] and [{second}] differ only in case, and SQL names "
                "ignore case: one query cannot use both"
            )
    return {r.name: r for r in chosen.values()}


def _fold(name: str) -> str:
    """ASCII lower case, as DuckDB compares identifiers."""
    return name.translate(_ASCII_LOWER)


_ASCII_LOWER = str.maketrans("ABCDEFGHIJKLMNOPQRSTUVWXYZ", "abcdefghijklmnopqrstuvwxyz")
