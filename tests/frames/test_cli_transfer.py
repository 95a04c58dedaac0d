"""`fletchdb export` / `fletchdb import` against a data directory and against a real server."""

from __future__ import annotations

import os
from pathlib import Path

import fletchdb
import numpy as np
import pytest

from flight_server.cli import main
from tests.api.conftest import TOKEN, start

from .test_ingest import assert_same_records


@pytest.fixture(autouse=True)
def _clean_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in list(os.environ):
        if name.startswith("FLETCHDB_"):
            monkeypatch.delenv(name)


def _fill(path: Path) -> None:
    with fletchdb.PersistentClient(path) as client:
        col = client.create_collection("docs", metadata={"team": "a"})
        n = 50
        col.add(
            ids=[f"r{i}" for i in range(n)],
            embeddings=np.random.default_rng(0).random((n, 3)),
            metadatas=[{"i": i} for i in range(n)],
            documents=[f"doc {i}" for i in range(n)],
        )


def test_export_and_import_a_data_directory(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    data, backup = tmp_path / "data", tmp_path / "docs.parquet"
    _fill(data)
    assert main(["export", "--path", str(data), "docs", str(backup)]) == 0
    assert capsys.readouterr().out.strip() == f"exported 50 records of docs to {backup}"
    assert (
        main(["import", "--path", str(data), str(backup), "--name", "docs-copy", "--progress"]) == 0
    )
    captured = capsys.readouterr()
    assert captured.out.strip() == "imported 50 records into docs-copy"
    assert "import docs-copy" in captured.err and "50/50" in captured.err  # the tqdm bar
    with fletchdb.PersistentClient(data) as client:
        copy = client.get_collection("docs-copy")
        assert_same_records(copy, client.get_collection("docs"))
        assert copy.metadata == {"team": "a"}


def test_export_and_import_over_flight(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    data, backup = tmp_path / "data", tmp_path / "docs.parquet"
    _fill(data)
    assert main(["export", "--path", str(data), "docs", str(backup), "--no-progress"]) == 0
    server = start(tmp_path / "server")
    try:
        remote = ["--uri", server.uri, "--token", TOKEN]
        assert main(["import", *remote, str(backup)]) == 0
        assert main(["export", *remote, "docs", str(tmp_path / "again.parquet")]) == 0
        with fletchdb.FlightClient(server.uri, TOKEN) as client:
            assert client.get_collection("docs").count() == 50
        capsys.readouterr()
        # errors are one line on stderr and exit status 2, as for the other subcommands
        assert main(["import", *remote, str(backup)]) == 2
        assert (
            capsys.readouterr().err.strip() == "fletchdb: error: Collection [docs] already exists"
        )
        assert main(["export", "--uri", server.uri, "--token", "bad", "docs", "x.parquet"]) == 2
        assert "fletchdb: error:" in capsys.readouterr().err
        assert main(["export", *remote, "--tenant", "nobody", "docs", "x.parquet"]) == 2
    finally:
        server.close()
    assert not (Path.cwd() / "x.parquet").exists()
    with fletchdb.PersistentClient(tmp_path / "check") as client:
        first = client.import_collection(backup, "first")
        second = client.import_collection(tmp_path / "again.parquet", "second")
        assert_same_records(second, first)


def test_export_needs_exactly_one_of_path_and_uri(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        main(["export", "docs", "x.parquet"])
    with pytest.raises(SystemExit):
        main(["export", "--path", "d", "--uri", "grpc://127.0.0.1:1", "docs", "x.parquet"])
    assert "one of the arguments --path --uri is required" in capsys.readouterr().err
