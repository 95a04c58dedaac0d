"""Fixtures for the catalog tests: real DuckDB files under tmp_path."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from flight_server.catalog import DuckDBCatalog


@pytest.fixture
def catalog_path(tmp_path: Path) -> Path:
    """Where the test's catalog file lives (in a subfolder the catalog must create)."""
    return tmp_path / "data" / "catalog.duckdb"


@pytest.fixture
def catalog(catalog_path: Path) -> Iterator[DuckDBCatalog]:
    """An open catalog on a fresh file, closed after the test."""
    cat = DuckDBCatalog(catalog_path)
    yield cat
    cat.close()
