"""Every notebook in notebooks/ runs top to bottom in a real Jupyter kernel (nbclient), with a plot.

Each runs in a fresh temporary working directory with this interpreter's ipykernel (so the venv's
packages), a per-cell timeout, and fails on the first cell that raises. Outputs are not written back.
"""

from __future__ import annotations

import sys
from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient

NOTEBOOKS = sorted((Path(__file__).resolve().parents[2] / "notebooks").glob("*.ipynb"))
CELL_TIMEOUT_S = 180


def _images(notebook: nbformat.NotebookNode) -> int:
    """How many PNG images the executed notebook's outputs hold."""
    return sum(
        "image/png" in output.get("data", {})
        for cell in notebook.cells
        if cell.cell_type == "code"
        for output in cell.get("outputs", [])
    )


def test_there_are_notebooks() -> None:
    assert any(p.name == "quickstart.ipynb" for p in NOTEBOOKS)


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_notebook_runs(path: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    notebook = nbformat.read(path, as_version=4)
    nbformat.validate(notebook)
    monkeypatch.setenv("MPLBACKEND", "module://matplotlib_inline.backend_inline")
    client = NotebookClient(
        notebook,
        timeout=CELL_TIMEOUT_S,
        kernel_name="python3",  # ipykernel's own spec: this interpreter, sys.executable
        resources={"metadata": {"path": str(tmp_path)}},
    )
    client.execute()  # raises CellExecutionError naming the cell and the traceback
    assert _images(notebook) >= 1, f"{path.name} shows no plot"


def test_the_kernel_is_this_interpreter(tmp_path: Path) -> None:
    notebook = nbformat.v4.new_notebook(
        cells=[nbformat.v4.new_code_cell("import sys; sys.executable")]
    )
    NotebookClient(notebook, timeout=60, kernel_name="python3").execute(cwd=str(tmp_path))
    assert notebook.cells[0].outputs[0]["data"]["text/plain"] == repr(sys.executable)
