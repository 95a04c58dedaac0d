"""A catalog file is owned by one process: a second one gets DataDirLockedError, fast."""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

import pytest

from flight_server.catalog import DEFAULT_DATABASE, DEFAULT_TENANT, DuckDBCatalog
from flight_server.errors import DataDirLockedError

TRY_OPEN = """
import sys
from flight_server.catalog import DuckDBCatalog
from flight_server.errors import DataDirLockedError
try:
    DuckDBCatalog(sys.argv[1]).close()
except DataDirLockedError as exc:
    print("LOCKED", exc)
    sys.exit(3)
print("OPENED")
"""

HOLD_OPEN = """
import sys
from flight_server.catalog import DuckDBCatalog
cat = DuckDBCatalog(sys.argv[1])
print("READY", flush=True)
sys.stdin.read()  # hold the file until the parent closes our stdin
cat.close()
"""


def test_second_process_gets_data_dir_locked(catalog: DuckDBCatalog, catalog_path: Path) -> None:
    started = time.monotonic()
    result = subprocess.run(
        [sys.executable, "-c", TRY_OPEN, str(catalog_path)],
        capture_output=True,
        text=True,
        timeout=60,
    )
    elapsed = time.monotonic() - started
    assert result.returncode == 3, result.stderr
    assert result.stdout.startswith("LOCKED")
    assert str(catalog_path) in result.stdout  # the message names the file
    assert "in use by another process" in result.stdout
    assert elapsed < 30  # DuckDB refuses at once; no waiting on the lock
    # The owner is unaffected.
    assert catalog.get_database(DEFAULT_DATABASE, DEFAULT_TENANT).name == DEFAULT_DATABASE


def test_this_process_gets_data_dir_locked_while_another_holds_it(catalog_path: Path) -> None:
    DuckDBCatalog(catalog_path).close()  # create the file
    holder = subprocess.Popen(
        [sys.executable, "-c", HOLD_OPEN, str(catalog_path)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout is not None and holder.stdin is not None
        assert holder.stdout.readline().strip() == "READY"
        with pytest.raises(DataDirLockedError) as info:
            DuckDBCatalog(catalog_path)
        assert str(catalog_path) in str(info.value)
        assert "Could not set lock" in str(info.value)  # DuckDB's own reason, with the PID
        assert info.value.details == {"path": str(catalog_path)}
        holder.stdin.close()
        assert holder.wait(timeout=60) == 0
    finally:
        if holder.poll() is None:
            holder.kill()
            holder.wait(timeout=60)
    # Once the holder is gone the file opens again, data intact.
    reopened = DuckDBCatalog(catalog_path)
    assert reopened.applied_migrations == []
    reopened.close()


def test_unrelated_io_errors_are_not_reported_as_locks(tmp_path: Path) -> None:
    not_a_db = tmp_path / "garbage.duckdb"
    not_a_db.write_bytes(b"this is not a duckdb file" * 100)
    with pytest.raises(Exception) as info:
        DuckDBCatalog(not_a_db)
    assert not isinstance(info.value, DataDirLockedError)
