"""The three stores an engine runs on (catalog, logs, versions), built from a path or a URI.

`open_stores` is the one place that maps a location to implementations: a plain path or a
`file://` URI gives the local stores (DuckDB, log segments and version folders under one
directory). PostgreSQL and S3-compatible stores will be further schemes here; until they exist,
their URIs raise NotSupportedError naming the scheme. `Engine` takes the three as arguments.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import unquote, urlparse

from ..catalog.base import Catalog
from ..catalog.duckdb_catalog import DuckDBCatalog
from ..config import Settings
from ..errors import InvalidArgumentError, NotSupportedError
from ..versions.store import LocalVersionStore, VersionStore
from ..wal.base import LogStore
from ..wal.local import LocalLogStore
from ..wal.segment import make_dirs

CATALOG_FILE = "catalog.duckdb"
WAL_DIR = "wal"
VERSIONS_DIR = "versions"

# Schemes of the distributed mode's stores (DESIGN.md): named in the error until they exist.
PLANNED_SCHEMES = {
    "s3": "an S3-compatible object store for logs and versions",
    "postgresql": "a PostgreSQL catalog",
    "postgres": "a PostgreSQL catalog",
}
_SCHEME = re.compile(r"^([A-Za-z][A-Za-z0-9+.-]*)://")


@dataclass
class Stores:
    """A catalog, a log store and a version store that belong together."""

    catalog: Catalog
    logs: LogStore
    versions: VersionStore

    def close(self) -> None:
        """Close the logs and the catalog (the version store holds nothing open)."""
        self.logs.close()
        self.catalog.close()


def open_stores(location: str | Path, settings: Settings | None = None) -> Stores:
    """The stores at `location`: a directory path or `file://` URI (other schemes: see above)."""
    return local_stores(local_root(location), settings or Settings())


def local_root(location: str | Path) -> Path:
    """The directory a path or `file://` URI names; NotSupportedError for any other scheme."""
    if isinstance(location, Path):
        return location
    if not isinstance(location, str):
        raise InvalidArgumentError(
            f"A store location is a path or a URI, got {type(location).__name__}"
        )
    match = _SCHEME.match(location)
    if match is None:
        return Path(location)
    scheme = match.group(1).lower()
    if scheme == "file":
        parsed = urlparse(location)
        if parsed.netloc not in ("", "localhost"):
            raise InvalidArgumentError(
                f"A file:// store URI names a local path, not host [{parsed.netloc}]"
            )
        return Path(unquote(parsed.path))
    planned = PLANNED_SCHEMES.get(scheme)
    what = f" ({planned}) is planned for distributed mode but" if planned else ""
    raise NotSupportedError(
        f"Store URI scheme '{scheme}://'{what} is not supported yet: "
        "use a directory path or a file:// URI"
    )


def local_stores(
    root: Path,
    settings: Settings,
    catalog: Catalog | None = None,
    logs: LogStore | None = None,
    versions: VersionStore | None = None,
) -> Stores:
    """The local stores under `root`; a store passed in is used instead of the local one."""
    make_dirs(root)
    built: list[Catalog | LogStore] = []  # closed again if a later store fails to open
    try:
        if catalog is None:
            catalog = DuckDBCatalog(root / CATALOG_FILE)
            built.append(catalog)
        if logs is None:
            logs = LocalLogStore(root / WAL_DIR, segment_bytes=settings.wal_segment_bytes)
            built.append(logs)
        if versions is None:
            versions = LocalVersionStore(root / VERSIONS_DIR)
    except BaseException:
        for store in reversed(built):
            store.close()
        raise
    return Stores(catalog, logs, versions)
