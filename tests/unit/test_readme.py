"""The README's Python examples run as written (the server example against a real server)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from flight_server.config import Settings
from flight_server.flight.server import start_server

README = Path(__file__).resolve().parents[2] / "README.md"
BLOCKS = re.findall(r"```python\n(.*?)```", README.read_text(), flags=re.S)
DEFAULT_URI = "grpc://127.0.0.1:8815"
TOKEN_LINE = re.compile(r'^token = ".*?"', flags=re.M)


@pytest.mark.parametrize("number", range(len(BLOCKS)))
def test_readme_python_block_runs(
    number: int, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    source = BLOCKS[number]
    if "FlightClient(" in source:  # the server quickstart: a real server on a free port
        server = start_server(Settings(path=str(tmp_path / "served"), port=0))
        assert DEFAULT_URI in source and TOKEN_LINE.search(source)
        source = TOKEN_LINE.sub(f"token = {server.dev_token!r}", source)
        source = source.replace(DEFAULT_URI, server.uri)
        try:
            exec(
                compile(source, f"README.md[python block {number}]", "exec"),
                {"__name__": "__readme__"},
            )
        finally:
            server.close()
        return
    exec(compile(source, f"README.md[python block {number}]", "exec"), {"__name__": "__readme__"})
