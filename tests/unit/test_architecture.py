"""Tests of the tree itself: layering, the settings table and the error table."""

from __future__ import annotations

import ast
import inspect
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


def _imports(path: Path) -> set[str]:
    tree = ast.parse(path.read_text())
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(a.name for a in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
            names.update(f"{node.module}.{a.name}" for a in node.names)
    return names


@pytest.mark.parametrize("package", ENGINE_PACKAGES)
def test_engine_packages_do_not_import_protocol_or_sdk(package: str) -> None:
    for path in (ROOT / "flight_server" / package).rglob("*.py"):
        bad = {n for n in _imports(path) if n.startswith(FORBIDDEN)}
        assert not bad, f"{path.relative_to(ROOT)} imports {sorted(bad)}"


def test_engine_modules_do_not_import_protocol_or_sdk() -> None:
    for path in (ROOT / "flight_server").glob("*.py"):
        bad = {n for n in _imports(path) if n.startswith(FORBIDDEN)}
        assert not bad, f"{path.relative_to(ROOT)} imports {sorted(bad)}"


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
