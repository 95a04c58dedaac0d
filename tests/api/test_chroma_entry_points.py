"""What Chroma users write first: `chromadb.Client()`, `chromadb.HttpClient(...)`, `Settings` (issue 18).

`fletchdb.Client()` is chromadb.Client: in memory, or persistent at `persist_directory` when
`Settings(is_persistent=True)`. `fletchdb.HttpClient` raises NotSupportedError naming FlightClient
(FletchDB has no REST front yet). `fletchdb.config.Settings` takes FletchDB's settings and the
Chroma ones that apply. These are in-process entry points, so the tests are local only.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import fletchdb
import pytest
from fletchdb.config import Settings
from fletchdb.errors import InvalidArgumentError, NotAllowedError, NotSupportedError

from flight_server.engine import Engine


def _one_record(client: fletchdb.Client, name: str = "docs") -> fletchdb.Collection:
    col = client.get_or_create_collection(name, embedding_function=None)
    col.add(ids=["a"], embeddings=[[1.0, 0.0]], documents=["kept"])
    return col


def test_client_is_ephemeral_like_chromadb_client() -> None:
    """Storage is a temporary directory, removed on close; each Client() is its own."""
    client = fletchdb.Client()
    engine = client._transport
    assert isinstance(engine, Engine) and engine.path.name.startswith("fletchdb-")
    _one_record(client)
    with fletchdb.Client() as other:
        assert other.list_collections() == []
    client.close()
    assert not engine.path.exists()


def test_client_with_settings_positional_and_keyword() -> None:
    with (
        fletchdb.Client(Settings(allow_reset=True)) as c1,
        fletchdb.Client(settings=Settings(allow_reset=True, anonymized_telemetry=False)) as c2,
    ):
        _one_record(c1)
        assert c1.reset() is True and c2.reset() is True


def test_client_persistent_settings_survive_a_new_process(tmp_path: Path) -> None:
    """Settings(is_persistent=True, persist_directory=...) keeps data where it says."""
    data = tmp_path / "persisted"
    with fletchdb.Client(Settings(is_persistent=True, persist_directory=str(data))) as client:
        _one_record(client)
    code = (
        "import fletchdb, sys; c = fletchdb.PersistentClient(sys.argv[1]); "
        "print(c.get_collection('docs', embedding_function=None).get()['documents'])"
    )
    out = subprocess.run([sys.executable, "-c", code, str(data)], capture_output=True, text=True)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "['kept']"


def test_client_shares_the_engine_of_a_persistent_client(tmp_path: Path) -> None:
    path = tmp_path / "shared"
    with (
        fletchdb.PersistentClient(path) as p,
        fletchdb.Client(Settings(is_persistent=True, persist_directory=str(path))) as c,
    ):
        _one_record(p)
        assert c.get_collection("docs", embedding_function=None).count() == 1


def test_client_with_a_missing_tenant_raises_and_leaves_nothing_open(tmp_path: Path) -> None:
    path = tmp_path / "tenants"
    with pytest.raises(fletchdb.NotFoundError):
        fletchdb.Client(Settings(is_persistent=True, persist_directory=str(path)), tenant="nope")
    fletchdb.PersistentClient(path).close()  # the directory is free again (no leaked lock)


def test_persistent_client_takes_chroma_settings(tmp_path: Path) -> None:
    """`PersistentClient(path, settings=Settings(...))` as Chroma users pass it."""
    s = Settings(anonymized_telemetry=False, allow_reset=True)
    with fletchdb.PersistentClient(path=str(tmp_path / "p"), settings=s) as client:
        _one_record(client)
        assert client.reset() is True
    with fletchdb.PersistentClient(path=str(tmp_path / "q"), settings=Settings()) as client:
        with pytest.raises(NotAllowedError):
            client.reset()


def test_settings_are_one_class_under_both_names() -> None:
    assert fletchdb.Settings is fletchdb.config.Settings is Settings
    s = Settings(max_batch_rows=10, is_persistent=True)
    assert s.max_batch_rows == 10 and s.is_persistent and s.persist_directory == "./fletchdb_data"


def test_unknown_settings_name_both_lists() -> None:
    with pytest.raises(InvalidArgumentError, match="chroma_server_host") as info:
        Settings(chroma_server_host="localhost")
    assert "docs/settings.md" in str(info.value) and "is_persistent" in str(info.value)


@pytest.mark.parametrize("factory", [fletchdb.HttpClient, fletchdb.AsyncHttpClient])
def test_http_client_names_the_flight_client(factory: object) -> None:
    with pytest.raises(NotSupportedError) as info:
        factory("db.example.com", 8000, ssl=True, headers={"x": "y"})  # type: ignore[operator]
    message = str(info.value)
    assert "no REST (HTTP) front yet" in message
    assert "fletchdb.FlightClient('grpc+tls://db.example.com:8815', token=...)" in message
    assert isinstance(info.value, NotImplementedError)
    with pytest.raises(NotSupportedError, match="grpc://localhost:8815"):
        fletchdb.HttpClient()
