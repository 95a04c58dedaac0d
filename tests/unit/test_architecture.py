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
ENGINE_PACKAGES = ["catalog", "wal", "executor", "compactor"]
FORBIDDEN = (
    "pyarrow.flight",
    "jwt",
    "fletchdb",
    "sdk",
    "flight_server.flight",
    "flight_server.gateway",
)


# Entry points that start the server: they may import the protocol and gateway layers.
# api.py is the SDK's facade: the client side's door, so it re-exports the protocol's helpers.
ENTRY_POINTS = {"cli.py", "__main__.py", "api.py"}
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
