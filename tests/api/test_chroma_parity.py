"""The same calls against real chromadb 1.5.9 and FletchDB give the same results and errors.

parity_scenario.py runs the cases (parity_cases.py, parity_cases_ext.py) in subprocesses: with
chromadb in its own virtual environment (benchmarks/compare/envs.py makes it on first use in
~/.cache/fletchdb-bench/chroma-venv; chromadb is never a dependency of FletchDB), with
fletchdb's PersistentClient ("local") and with a FlightClient of a real Flight server on
loopback ("remote"). Each runner writes, exits, and a fresh process reopens the same data
(a fresh server, remotely) to run REOPEN_CASES.

Modes: "same" = equal outcome (floats within 1e-5 relative: distances); "prefix" = FletchDB's
error class has Chroma's class name in its MRO (a user's `except` still catches it) and its
message starts with Chroma's (FletchDB appends detail); "class" = the class only (Chroma's
wording comes from Rust's regex crate); "stricter" = Chroma accepts the input and mangles it
(docs/chroma-compat.md), FletchDB refuses it with an InvalidArgumentError; "chroma-bug" = Chroma
crashes with an internal exception (IndexError, AttributeError, a Rust panic, a log it can no
longer read), FletchDB gives a typed error or the result. Local against remote: every outcome identical, FLETCH_CASES too.
"""

from __future__ import annotations

import importlib.util
import json
import math
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from tests.api.parity_cases import BASE_CASES, FLETCH_CASES
from tests.api.parity_cases_ext import (
    ERROR_CASES,
    REOPEN_CASES,
    STRICTER_CASES,
    WHERE_CASES,
    WRITE_CASES,
)

REPO = Path(__file__).resolve().parents[2]
SCENARIO = Path(__file__).with_name("parity_scenario.py")
FINAL = ("final-state", "col.get(include=['embeddings', 'documents', 'metadatas'])", "same")
CASES = [*BASE_CASES, *WHERE_CASES, *WRITE_CASES, *ERROR_CASES, FINAL, *STRICTER_CASES]
CHROMA_CRASHES = {"IndexError", "AttributeError", "PanicException"}
CHROMA_BROKEN = "Error in compaction: Failed to pull logs from the log store"

# Where FletchDB still differs from chromadb 1.5.9 (xfail, strict): none are left.
KNOWN_DIFFERENCES: dict[str, pytest.MarkDecorator] = {}
# Where a FlightClient still differs from local mode: none are left.
KNOWN_REMOTE_DIFFERENCES: dict[str, pytest.MarkDecorator] = {}

needs_chroma = pytest.mark.slow  # the first run builds the Chroma venv (pip, a few minutes)


@pytest.fixture(scope="session")
def chroma_python() -> Path:
    """The Chroma venv's interpreter, made on first use by the benchmarks' one venv helper."""
    spec = importlib.util.spec_from_file_location("envs", REPO / "benchmarks/compare/envs.py")
    assert spec is not None and spec.loader is not None
    envs = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(envs)
    return Path(envs.chroma_python())


def _run(python: Path, which: str, path: Path, phase: str, cases: list[Any]) -> dict[str, Any]:
    """One scenario process: its outcomes by case name."""
    env = {**os.environ, "ANONYMIZED_TELEMETRY": "False", "PYTHONPATH": str(REPO)}
    proc = subprocess.run(
        [str(python), str(SCENARIO), which, str(path), phase],
        input=json.dumps([[name, source] for name, source, *_ in cases]),
        capture_output=True,
        text=True,
        env=env,
        cwd=path.parent if which == "chroma" else REPO,
        timeout=300,
    )
    assert proc.returncode == 0, f"{which} {phase} failed:\n{proc.stderr}"
    return dict(json.loads(proc.stdout))


def _both_phases(python: Path, which: str, path: Path, cases: list[Any]) -> dict[str, Any]:
    """Write, then reopen in a fresh process: all outcomes of one runner."""
    return {
        **_run(python, which, path, "write", cases),
        **_run(python, which, path, "reopen", REOPEN_CASES),
    }


@pytest.fixture(scope="module")
def fletch_outcomes(tmp_path_factory: pytest.TempPathFactory) -> dict[str, dict[str, Any]]:
    """Outcomes of the "local" and "remote" runners (CASES, then FLETCH_CASES, then reopen)."""
    cases = [*CASES, *((name, source, "") for name, source in FLETCH_CASES)]
    python = Path(sys.executable)
    return {
        w: _both_phases(python, w, tmp_path_factory.mktemp(w) / "data", cases)
        for w in ("local", "remote")
    }


@pytest.fixture(scope="module")
def chroma_outcomes(
    chroma_python: Path, tmp_path_factory: pytest.TempPathFactory
) -> dict[str, Any]:
    """Outcomes of chromadb 1.5.9 on CASES, then reopen."""
    return _both_phases(chroma_python, "chroma", tmp_path_factory.mktemp("chroma") / "data", CASES)


def _close(a: Any, b: Any) -> bool:
    """Equal, except that floats may differ by 1e-5 relative (float32 distances)."""
    if isinstance(a, float) and isinstance(b, float):
        return (math.isnan(a) and math.isnan(b)) or math.isclose(a, b, rel_tol=1e-5, abs_tol=1e-6)
    if isinstance(a, list) and isinstance(b, list):
        return len(a) == len(b) and all(_close(x, y) for x, y in zip(a, b, strict=True))
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(_close(a[k], b[k]) for k in a)
    return type(a) is type(b) and a == b


def _compatible(chroma: dict[str, Any], fletch: dict[str, Any], mode: str) -> None:
    if mode == "stricter":
        assert "ok" in chroma, f"chromadb now refuses it ({chroma}): make this case 'same'"
        assert "InvalidArgumentError" in fletch.get("error", []), f"FletchDB accepted: {fletch}"
        return
    if mode == "chroma-bug":
        crash = chroma.get("error", [""])[0] in CHROMA_CRASHES
        assert crash or chroma.get("message") == CHROMA_BROKEN, chroma
        assert "ok" in fletch or "FletchError" in fletch["error"], fletch
        return
    if "ok" in chroma:
        assert _close(fletch, chroma), f"FletchDB {fletch}\n!= chromadb {chroma}"
        return
    assert "error" in fletch, f"chromadb raised {chroma}, FletchDB returned {fletch}"
    chroma_class = chroma["error"][0]
    assert chroma_class in fletch["error"], (
        f"chromadb raises {chroma_class}; FletchDB's {fletch['error'][0]} is not one "
        f"(MRO {fletch['error']})"
    )
    if mode == "same":
        assert fletch["message"] == chroma["message"]
    elif mode == "prefix":
        assert fletch["message"].startswith(chroma["message"]), (fletch, chroma)


def _params(names_modes: list[tuple[str, str]], known: dict[str, Any]) -> list[Any]:
    return [
        pytest.param(name, check, id=name, marks=[known[name]] if name in known else [])
        for name, check in names_modes
    ]


@needs_chroma
@pytest.mark.parametrize(
    ("name", "check"), _params([(n, m) for n, _, m in [*CASES, *REOPEN_CASES]], KNOWN_DIFFERENCES)
)
def test_same_as_chroma(
    chroma_outcomes: dict[str, Any],
    fletch_outcomes: dict[str, Any],
    mode: str,
    name: str,
    check: str,
) -> None:
    _compatible(chroma_outcomes[name], fletch_outcomes[mode][name], check)


@needs_chroma
def test_result_shapes_match_chroma(
    chroma_outcomes: dict[str, Any], fletch_outcomes: dict[str, Any], mode: str
) -> None:
    """The Get/QueryResult key order and the container and dtype of every field."""
    for name in ("get-all", "get-missing-embeddings", "query-all", "peek", "w-query", "r-query"):
        assert chroma_outcomes[name]["ok"]["keys"] == fletch_outcomes[mode][name]["ok"]["keys"]
        assert _close(fletch_outcomes[mode][name], chroma_outcomes[name]), name


@needs_chroma
def test_error_names_table_matches_chroma(chroma_outcomes: dict[str, Any]) -> None:
    """The names test_errors_nothing_written.py checks against are chromadb's error_types."""
    from tests.api.test_errors_nothing_written import CHROMA_ERROR_NAMES

    assert set(chroma_outcomes["__error_types__"]["ok"]) == CHROMA_ERROR_NAMES


@pytest.mark.parametrize(
    ("name", "check"),
    _params([(c[0], "") for c in [*CASES, *FLETCH_CASES, *REOPEN_CASES]], KNOWN_REMOTE_DIFFERENCES),
)
def test_remote_same_as_local(fletch_outcomes: dict[str, Any], name: str, check: str) -> None:
    """Results and errors (class MRO, message, details) of a FlightClient equal local mode's."""
    local, remote = fletch_outcomes["local"][name], fletch_outcomes["remote"][name]
    assert remote == local or _close(remote, local) and "ok" in local, (remote, local)
