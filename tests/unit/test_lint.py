"""ruff (lint and format) and mypy on the engine stay clean, so CI enforces the style guide."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def _run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", *args], cwd=ROOT, capture_output=True, text=True)


def test_ruff_check() -> None:
    result = _run("ruff", "check", "flight_server", "sdk", "tests", "benchmarks")
    assert result.returncode == 0, result.stdout + result.stderr


def test_ruff_format() -> None:
    result = _run("ruff", "format", "--check", "flight_server", "sdk")
    assert result.returncode == 0, result.stdout + result.stderr


def test_mypy_engine() -> None:
    result = _run("mypy", "flight_server")
    assert result.returncode == 0, result.stdout + result.stderr
