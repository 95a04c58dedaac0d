"""Tests of the tree itself: layering, the settings table and the error table."""

from __future__ import annotations

import ast
import inspect
import sys
from pathlib import Path

import pytest

from flight_server import errors
from flight_server.config import SETTINGS, settings_markdown

ROOT = Path(__file__).resolve().parents[2]
ENGINE_PACKAGES = ["arguments", "catalog", "wal", "executor", "compactor", "versions", "engine"]
FORBIDDEN = (
    "pyarrow.flight",
    "jwt",
    "fletchdb",
    "sdk",
    "flight_server.flight",
    "flight_server.gateway",
)


# Entry points and server assembly: they may import the protocol and gateway layers.
# api.py is the SDK's facade: the client side's door, so it re-exports the protocol's helpers.
ENTRY_POINTS = {"cli.py", "__main__.py", "serve.py", "api.py"}
FACADE = "flight_server.api"


def _module_name(path: Path) -> str:
    """The dotted module name of a file of the tree (a package's __init__ is the package)."""
    parts = list(path.resolve().relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _imports(path: Path, module: str | None = None) -> set[str]:
    """Absolute names a file imports, relative imports resolved against its own package."""
    tree = ast.parse(path.read_text())
    module = module if module is not None else _module_name(path)
    is_package = path.name == "__init__.py"
    package = module.split(".") if is_package else module.split(".")[:-1]
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(a.name for a in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level == 0:
                base = node.module or ""
            else:
                keep = len(package) - (node.level - 1)
                assert keep > 0, f"{path}: relative import beyond the top-level package"
                base = ".".join(package[:keep] + ([node.module] if node.module else []))
            names.add(base)
            names.update(f"{base}.{a.name}" for a in node.names)
    return names


def test_relative_imports_are_resolved(tmp_path: Path) -> None:
    source = tmp_path / "fake.py"
    source.write_text(
        "from ..flight import service\nfrom . import base\nfrom .base import X\nimport os\n"
    )
    names = _imports(source, "flight_server.catalog.fake")
    assert {"flight_server.flight", "flight_server.flight.service"} <= names
    assert {"flight_server.catalog.base", "flight_server.catalog.base.X", "os"} <= names
    init = tmp_path / "__init__.py"
    init.write_text("from .gateway import auth\nfrom .. import sdk\n")
    names = _imports(init, "flight_server.wal")
    assert {"flight_server.wal.gateway.auth", "flight_server.sdk"} <= names
    assert any(n.startswith(FORBIDDEN) for n in _imports(source, "flight_server.catalog.fake"))


@pytest.mark.parametrize("package", ENGINE_PACKAGES)
def test_engine_packages_do_not_import_protocol_or_sdk(package: str) -> None:
    for path in (ROOT / "flight_server" / package).rglob("*.py"):
        bad = {n for n in _imports(path) if n.startswith(FORBIDDEN)}
        assert not bad, f"{path.relative_to(ROOT)} imports {sorted(bad)}"


def test_engine_modules_do_not_import_protocol_or_sdk() -> None:
    for path in (ROOT / "flight_server").glob("*.py"):
        if path.name in ENTRY_POINTS:
            continue
        bad = {n for n in _imports(path) if n.startswith(FORBIDDEN)}
        assert not bad, f"{path.relative_to(ROOT)} imports {sorted(bad)}"


def test_sdk_imports_the_engine_only_through_the_facade() -> None:
    """sdk/ sees flight_server through flight_server.api (sdk/errors.py re-exports the errors)."""
    for path in (ROOT / "sdk").rglob("*.py"):
        allowed = {FACADE, "flight_server.errors"} if path.name == "errors.py" else {FACADE}
        bad = {
            n
            for n in _imports(path)
            if n.split(".")[0] == "flight_server"
            and n != "flight_server"
            and not any(n == a or n.startswith(a + ".") for a in allowed)
        }
        assert not bad, f"{path.relative_to(ROOT)} imports {sorted(bad)}; use {FACADE}"


def test_settings_doc_is_generated_from_the_table() -> None:
    doc = (ROOT / "docs" / "settings.md").read_text()
    assert doc == settings_markdown(), "regenerate docs/settings.md from flight_server.config"


def test_every_limit_is_in_the_readme() -> None:
    readme = (ROOT / "README.md").read_text()
    missing = [s.name for s in SETTINGS if s.limit and f"`{s.name}`" not in readme]
    assert not missing, f"limits missing from README.md: {missing}"


def test_setting_names_are_unique_and_helped() -> None:
    names = [s.name for s in SETTINGS]
    assert len(names) == len(set(names))
    assert all(s.help.strip() for s in SETTINGS)


def test_every_error_class_has_a_row() -> None:
    classes = {
        obj
        for _, obj in inspect.getmembers(errors, inspect.isclass)
        if issubclass(obj, errors.FletchError) and obj.__module__ == errors.__name__
    }
    assert classes == set(errors.ERROR_TABLE)
    codes = [c.code for c in errors.ERROR_TABLE]
    assert len(codes) == len(set(codes)), "error codes must be unique"
    assert all(c.chroma_name and c.status for c in errors.ERROR_TABLE)


# The engine wires the components: engine -> {catalog, wal, compactor, executor, recovery}.
# Below it no arrow may point up or sideways between compactor and executor, and recovery (which
# builds the executor's read state on open) may use the executor, never the reverse. The units
# are packages, or top-level modules that play a package's part.
UNITS = {
    "engine": ("flight_server.engine.core", "flight_server.engine.catalog_methods"),
    "stores": ("flight_server.engine.stores",),
    "recovery": ("flight_server.engine.recovery",),
    "compactor": ("flight_server.compactor",),
    "executor": ("flight_server.executor",),
    "versions": ("flight_server.versions",),
    "wal": ("flight_server.wal",),
    "catalog": ("flight_server.catalog",),
}
ABOVE_STORES = {"engine", "stores", "recovery", "compactor", "executor"}
FORBIDDEN_ARROWS = {
    "compactor": {"executor", "recovery", "stores", "engine"},
    "executor": {"compactor", "recovery", "stores", "engine"},
    "recovery": {"compactor", "stores", "engine"},
    "stores": {"recovery", "compactor", "executor", "engine"},
    "versions": ABOVE_STORES,
    "wal": ABOVE_STORES | {"catalog", "versions"},
    "catalog": ABOVE_STORES | {"wal", "versions"},
}


def _unit(name: str) -> str | None:
    """The unit a dotted module (or imported name) belongs to."""
    for unit, prefixes in UNITS.items():
        if any(name == p or name.startswith(p + ".") for p in prefixes):
            return unit
    return None


def _unit_files(unit: str) -> list[Path]:
    files = []
    for prefix in UNITS[unit]:
        base = ROOT.joinpath(*prefix.split("."))
        files += sorted(base.rglob("*.py")) if base.is_dir() else [base.with_suffix(".py")]
    return files


def arrows(unit: str) -> dict[str, set[str]]:
    """Other units imported by each file of `unit` (file -> units)."""
    found = {}
    for path in _unit_files(unit):
        targets = {_unit(n) for n in _imports(path)} - {None, unit}
        if targets:
            found[str(path.relative_to(ROOT))] = {t for t in targets if t is not None}
    return found


@pytest.mark.parametrize("unit", sorted(FORBIDDEN_ARROWS))
def test_no_forbidden_arrows(unit: str) -> None:
    assert _unit_files(unit), f"no files for {unit}"
    bad = {f: t & FORBIDDEN_ARROWS[unit] for f, t in arrows(unit).items()}
    bad = {f: sorted(t) for f, t in bad.items() if t}
    assert not bad, f"{unit} must not import {sorted(FORBIDDEN_ARROWS[unit])}: {bad}"


def test_the_engine_reaches_every_component() -> None:
    imported = set().union(*arrows("engine").values())
    assert {"catalog", "wal", "compactor", "executor", "recovery"} <= imported


def test_the_arrow_check_bites(tmp_path: Path) -> None:
    source = tmp_path / "scheduler.py"
    source.write_text(
        "from ..executor.state import CollectionState\nfrom ..engine.recovery import x\n"
    )
    units = {_unit(n) for n in _imports(source, "flight_server.compactor.scheduler")}
    assert {"executor", "recovery"} <= units & FORBIDDEN_ARROWS["compactor"]


def test_ci_runs_the_readme_test_command() -> None:
    ci = (ROOT / ".ci" / "run").read_text().strip().splitlines()[-1]
    assert ci in (ROOT / "README.md").read_text(), ".ci/run must call the README's test command"


# Nothing is ever evaluated or unpickled: no eval/exec, ast.literal_eval, pickle or allow_pickle=True.
UNSAFE_NAMES = {"eval", "exec", "literal_eval"}


def _unsafe_uses(path: Path) -> list[str]:
    found: list[str] = []
    for node in ast.walk(ast.parse(path.read_text())):
        where = f"{path.relative_to(ROOT)}:{getattr(node, 'lineno', '?')}"
        if isinstance(node, ast.Name) and node.id in UNSAFE_NAMES:
            found.append(f"{where} {node.id}")
        elif isinstance(node, ast.Attribute) and (
            node.attr in UNSAFE_NAMES or "pickle" in node.attr.lower()
        ):
            found.append(f"{where} .{node.attr}")
        elif isinstance(node, ast.Import | ast.ImportFrom):
            modules = [a.name for a in node.names]
            if isinstance(node, ast.ImportFrom):
                modules = [node.module or ""] + [f"{node.module}.{a.name}" for a in node.names]
            for name in modules:
                if "pickle" in name.lower() or name.split(".")[-1] in UNSAFE_NAMES:
                    found.append(f"{where} import {name}")
        elif isinstance(node, ast.keyword) and node.arg == "allow_pickle":
            if not (isinstance(node.value, ast.Constant) and node.value.value is False):
                found.append(f"{where} allow_pickle=...")
    return found


def test_no_eval_literal_eval_or_pickle() -> None:
    files = [p for d in ("flight_server", "sdk") for p in sorted((ROOT / d).rglob("*.py"))]
    assert len(files) > 20
    found = [use for path in files for use in _unsafe_uses(path)]
    assert not found, f"eval, literal_eval or pickle used: {found}"


def test_the_unsafe_use_check_bites(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sys.modules[__name__], "ROOT", tmp_path)
    bad = tmp_path / "bad.py"
    bad.write_text(
        "import pickle\nimport ast\nfrom ast import literal_eval\nimport numpy as np\n"
        "eval('1')\nast.literal_eval('1')\nnp.load('x', allow_pickle=True)\n"
        "import pandas\npandas.read_pickle('x')\n"
    )
    found = " ".join(_unsafe_uses(bad))
    for needle in ("import pickle", "literal_eval", " eval", "allow_pickle", "read_pickle"):
        assert needle in found, (needle, found)
    good = tmp_path / "good.py"
    good.write_text("import numpy as np\nnp.load('x', allow_pickle=False)\n# eval pickle\n")
    assert _unsafe_uses(good) == []


# The gateway is every front's policy: it knows operation names, never a protocol's vocabulary.
FLIGHT_WORDS = ("DoAction", "DoPut", "DoGet", "DoExchange", "ListFlights", "GetFlightInfo")


def test_gateway_imports_no_front_and_names_no_flight_rpc() -> None:
    for path in (ROOT / "flight_server" / "gateway").rglob("*.py"):
        bad = {
            n for n in _imports(path) if n.startswith(("pyarrow.flight", "flight_server.flight"))
        }
        assert not bad, f"{path.relative_to(ROOT)} imports {sorted(bad)}"
        words = [w for w in (*FLIGHT_WORDS, "GetSchema", "ListActions") if w in path.read_text()]
        assert not words, f"{path.relative_to(ROOT)} names Flight RPCs: {words}"


def test_every_flight_call_maps_to_an_operation() -> None:
    from flight_server.flight import protocol
    from flight_server.flight.operations import FLIGHT_OPERATIONS
    from flight_server.gateway.policy import OPERATIONS_BY_NAME

    kinds = {
        "DoAction": set(protocol.ACTION_FIELDS),
        "DoPut": set(protocol.WRITE_OPS),
        "DoGet": set(protocol.TICKET_KINDS),
    }
    for rpc, expected in kinds.items():
        assert {k for r, k in FLIGHT_OPERATIONS if r == rpc} == expected, rpc
    assert {r for r, _ in FLIGHT_OPERATIONS} == {*kinds, *FLIGHT_WORDS[3:], "GetSchema"}
    assert all(name in OPERATIONS_BY_NAME for name in FLIGHT_OPERATIONS.values())
