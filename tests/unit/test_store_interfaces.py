"""The store ABCs are complete: what the engine calls on a store is declared on its interface."""

from __future__ import annotations

import ast
import inspect
from pathlib import Path

import pytest

from flight_server.catalog.base import Catalog
from flight_server.catalog.duckdb_catalog import DuckDBCatalog
from flight_server.versions.store import LocalVersionStore, VersionStore
from flight_server.wal.base import CollectionLog, LogStore
from flight_server.wal.collection import LocalCollectionLog
from flight_server.wal.local import LocalLogStore

ROOT = Path(__file__).resolve().parents[2]
PACKAGE = ROOT / "flight_server"
# Where the stores are implemented (they may use their own internals).
STORE_FILES = {"versions/store.py", "engine/stores.py"}
STORE_PACKAGES = {"catalog", "wal"}

# The name an engine-side module reaches a store by -> the interface it must use.
RECEIVERS: dict[str, type] = {
    "catalog": Catalog,
    "logs": LogStore,
    "versions": VersionStore,
    "store": VersionStore,
    "log": CollectionLog,
}
# Public members of a local implementation that are not on its interface: used only by the
# store's own tests and code, never by the engine (the scan below checks that).
LOCAL_EXTRAS: dict[type, set[str]] = {
    DuckDBCatalog: {"all_version_paths"},
    LocalLogStore: {"root"},
    LocalCollectionLog: {"closed", "stats", "segments", "roll", "raise_floor"},
    LocalVersionStore: set(),
}
IMPLEMENTATIONS = [
    (DuckDBCatalog, Catalog),
    (LocalLogStore, LogStore),
    (LocalCollectionLog, CollectionLog),
    (LocalVersionStore, VersionStore),
]


def _engine_files() -> list[Path]:
    files = []
    for path in sorted(PACKAGE.rglob("*.py")):
        parts = path.relative_to(PACKAGE).parts
        if parts[0] in STORE_PACKAGES or "/".join(parts) in STORE_FILES:
            continue
        files.append(path)
    return files


def store_uses(path: Path) -> set[tuple[str, str, int]]:
    """(receiver, member, line) of each `x.catalog.m`, `catalog.m`, `self.store.m`, `h.log.m`."""
    uses = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if not isinstance(node, ast.Attribute):
            continue
        value = node.value
        if isinstance(value, ast.Attribute) and value.attr in RECEIVERS:
            uses.add((value.attr, node.attr, node.lineno))
        # a bare `log` is the module's logger, not a CollectionLog
        elif isinstance(value, ast.Name) and value.id in RECEIVERS and value.id != "log":
            uses.add((value.id, node.attr, node.lineno))
    return uses


def _public(cls: type) -> set[str]:
    return {
        name
        for name, member in inspect.getmembers(cls)
        if not name.startswith("_") and (callable(member) or isinstance(member, property))
    }


def test_the_engine_calls_stores_only_through_their_interfaces() -> None:
    files = _engine_files()
    assert any(p.name == "core.py" for p in files) and any(p.name == "scheduler.py" for p in files)
    bad, seen = [], set()
    for path in files:
        for receiver, member, line in store_uses(path):
            seen.add(receiver)
            if member not in RECEIVERS[receiver].__abstractmethods__:
                where = f"{path.relative_to(ROOT)}:{line}"
                bad.append(f"{where} {receiver}.{member} is not on {RECEIVERS[receiver].__name__}")
    assert not bad, bad
    assert seen == set(RECEIVERS), f"the scan found no uses of {set(RECEIVERS) - seen}"


def test_the_scan_bites(tmp_path: Path) -> None:
    source = tmp_path / "bad.py"
    source.write_text("engine.logs.root\nself.store._dir('x')\ncatalog.get_tenant('t')\n")
    found = {(r, m) for r, m, _ in store_uses(source)}
    assert found == {("logs", "root"), ("store", "_dir"), ("catalog", "get_tenant")}


@pytest.mark.parametrize(("local", "base"), IMPLEMENTATIONS, ids=lambda c: c.__name__)
def test_local_implementations_add_only_known_extras(local: type, base: type) -> None:
    assert issubclass(local, base) and inspect.isabstract(base)
    assert not inspect.isabstract(local)
    assert _public(base) == set(base.__abstractmethods__), "every interface member is abstract"
    assert _public(local) - set(base.__abstractmethods__) == LOCAL_EXTRAS[local]
