"""Numbered SQL migrations (`NNNN_name.sql`), applied in order, each in its own transaction."""

from __future__ import annotations

import hashlib
import re
import threading
from dataclasses import dataclass
from importlib.resources import files
from typing import Any

from flight_server.catalog.queries import load_queries
from flight_server.errors import InternalError

CATALOG_MIGRATIONS = "flight_server._sql.catalog"
QUERIES_PACKAGE = "flight_server._sql.queries"
QUERIES_FILE = "catalog.sql"

_FILE_NAME = re.compile(r"^(?P<version>\d{4})_(?P<name>[a-z0-9_]+)\.sql$")
# Two catalogs opened on one file in one process share DuckDB's instance: migrate one at a time.
_MIGRATE_LOCK = threading.Lock()


@dataclass(frozen=True)
class Migration:
    """One migration file: its number, name, SQL text and checksum."""

    version: int
    name: str
    sql: str

    @property
    def checksum(self) -> str:
        """SHA-256 of the SQL text, recorded so an edited applied migration is noticed."""
        return hashlib.sha256(self.sql.encode("utf-8")).hexdigest()


def discover_migrations(package: str = CATALOG_MIGRATIONS) -> list[Migration]:
    """The migrations shipped in `package`, ordered by number; ValueError on a duplicate number."""
    found: dict[int, Migration] = {}
    for entry in files(package).iterdir():
        match = _FILE_NAME.match(entry.name)
        if not match:
            continue
        version = int(match.group("version"))
        if version in found:
            raise ValueError(f"two migrations numbered {version:04d} in {package}")
        sql = entry.read_text(encoding="utf-8")
        found[version] = Migration(version, entry.name, sql)
    return [found[v] for v in sorted(found)]


def applied_migrations(con: Any) -> dict[int, tuple[str, str]]:
    """{version: (file name, checksum)} of the migrations recorded in `schema_migrations`."""
    queries = load_queries(QUERIES_PACKAGE, QUERIES_FILE)
    rows = con.execute(queries["select_schema_migrations"]).fetchall()
    return {int(v): (str(n), str(c)) for v, n, c in rows}


def apply_migrations(con: Any, package: str = CATALOG_MIGRATIONS) -> list[int]:
    """Apply the pending migrations of `package` on DB-API connection `con`; return their numbers."""
    queries = load_queries(QUERIES_PACKAGE, QUERIES_FILE)
    migrations = discover_migrations(package)
    with _MIGRATE_LOCK:
        con.execute(queries["create_schema_migrations"])
        done = applied_migrations(con)
        _check_history(migrations, done)
        newly: list[int] = []
        for migration in migrations:
            if migration.version in done:
                continue
            con.execute("BEGIN TRANSACTION")
            try:
                con.execute(migration.sql)
                con.execute(
                    queries["insert_schema_migration"],
                    [migration.version, migration.name, migration.checksum],
                )
                con.execute("COMMIT")
            except BaseException as exc:
                con.execute("ROLLBACK")
                raise InternalError(f"catalog migration {migration.name} failed: {exc}") from exc
            newly.append(migration.version)
        return newly


def _check_history(migrations: list[Migration], done: dict[int, tuple[str, str]]) -> None:
    """Refuse a catalog written by newer code or whose applied migrations were edited."""
    known = {m.version: m for m in migrations}
    for version, (name, checksum) in sorted(done.items()):
        migration = known.get(version)
        if migration is None:
            raise InternalError(
                f"the catalog has migration {name}, which this FletchDB does not know: "
                "it was written by a newer version"
            )
        if migration.checksum != checksum:
            raise InternalError(f"catalog migration {name} was changed after it was applied")
