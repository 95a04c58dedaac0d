"""Fixtures for the API tests: real clients on real files under tmp_path, closed after each test.

Every client fixture (`client`, `ephemeral`, `open_client`, `shared_client`, `collection`) runs in
two modes, the test ids ending in [local] or [remote]: a PersistentClient in this process, or a
FlightClient of a real Flight server started here (127.0.0.1, port 0, HS256 auth, an admin token of
every tenant) over the same kind of data directory and with the same Settings. The results and
errors of both must be identical. Helpers that look inside the engine (`engine_of`, `last_seq`,
`state`) reach the local engine, or the server's engine for a remote client.

A test that is about the in-process engine only (two clients sharing one engine, the data
directory lock, reopening a path, EphemeralClient storage) is marked `local_only(reason)`: its
remote variant is reported as skipped with that reason.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import fletchdb
import pytest
from fletchdb import Client, Collection, Settings

from flight_server.engine import Engine
from flight_server.flight.server import Server, start_server
from flight_server.gateway.auth import ALL, mint_token

MODES = ("local", "remote")
SECRET = "a" * 40  # the HS256 secret of the servers started here
TOKEN = mint_token(SECRET.encode(), tenant=ALL, role="admin", databases=ALL)

# remote client -> the server it talks to (so tests can read the server-side engine)
SERVERS: dict[Client, Server] = {}


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers", "local_only(reason): the test is about the in-process engine only"
    )


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """The remote variant of a local_only test is skipped, with the marker's reason."""
    for item in items:
        marker = item.get_closest_marker("local_only")
        callspec = getattr(item, "callspec", None)
        if marker is None or callspec is None or callspec.params.get("mode") != "remote":
            continue
        reason = marker.args[0] if marker.args else marker.kwargs.get("reason", "")
        item.add_marker(pytest.mark.skip(reason=f"local only: {reason}"))


@pytest.fixture(scope="module", params=MODES)
def mode(request: pytest.FixtureRequest) -> str:
    """ "local" or "remote": which client every client fixture of the test opens."""
    return str(request.param)


def start(path: Path, settings: Settings | None = None) -> Server:
    """A real Flight server over `path` with these settings (loopback, port 0, HS256 auth)."""
    values = settings.as_dict() if settings is not None else {}
    values.update(path=str(path), host="127.0.0.1", port=0, auth_secret=SECRET)
    return start_server(Settings(**values))


def connect(server: Server, tenant: str | None = None, database: str | None = None) -> Client:
    """A FlightClient of `server` with the admin token, registered in SERVERS."""
    scope = {k: v for k, v in (("tenant", tenant), ("database", database)) if v is not None}
    c = fletchdb.FlightClient(server.uri, token=TOKEN, **scope)
    SERVERS[c] = server
    return c


class Opener:
    """Opens clients of one mode (`open(path, settings, **kw)`) and closes them all afterwards."""

    def __init__(self, mode: str) -> None:
        self.mode = mode
        self.clients: list[Client] = []
        self.servers: list[Server] = []

    def open(self, path: Path | None, settings: Settings | None = None, **kw: Any) -> Client:
        if self.mode == "local":
            if path is None:
                c = fletchdb.EphemeralClient(settings=settings, **kw)
            else:
                c = fletchdb.PersistentClient(path=path, settings=settings, **kw)
        else:
            assert path is not None, "a remote client's server needs a data directory"
            server = start(path, settings)
            self.servers.append(server)
            c = connect(server, **kw)  # a failed connect still closes the server afterwards
        self.clients.append(c)
        return c

    def close(self) -> None:
        for c in self.clients:
            c.close()
            SERVERS.pop(c, None)
        for server in self.servers:
            server.close()


@contextmanager
def opener(mode: str) -> Iterator[Opener]:
    o = Opener(mode)
    try:
        yield o
    finally:
        o.close()


def engine_of(client: Client) -> Engine:
    """The engine behind a client: its own (local) or its server's (remote)."""
    server = SERVERS.get(client)
    engine = server.engine if server is not None else client._transport
    assert isinstance(engine, Engine)
    return engine


@pytest.fixture
def settings() -> Callable[..., Settings]:
    """`settings(**overrides)` builds a `Settings` (unknown names raise, as in the product)."""

    def make(**overrides: Any) -> Settings:
        return Settings(**overrides)

    return make


@pytest.fixture
def client(mode: str, tmp_path: Path) -> Iterator[Client]:
    """A client on a fresh directory (a PersistentClient, or a server's FlightClient)."""
    with opener(mode) as o:
        yield o.open(tmp_path / "data")


@pytest.fixture
def ephemeral(mode: str, tmp_path: Path) -> Iterator[Client]:
    """An EphemeralClient (remote: a server on a fresh directory), closed after the test."""
    with opener(mode) as o:
        yield o.open(None if mode == "local" else tmp_path / "ephemeral")


@pytest.fixture
def open_client(mode: str, tmp_path: Path) -> Iterator[Callable[..., Client]]:
    """`open_client(settings=None, path=None, **kw)` opens a client; all closed after.

    Remote: each call starts a server over `path` with `settings`; `kw` (tenant, database) go to
    the FlightClient.
    """
    with opener(mode) as o:

        def make(settings: Settings | None = None, path: Path | None = None, **kw: Any) -> Client:
            return o.open(path or tmp_path / "data", settings, **kw)

        yield make


@pytest.fixture(scope="module")
def shared_client(mode: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Client]:
    """One client (and, remote, one server) per test module and mode, closed after the module."""
    with opener(mode) as o:
        yield o.open(tmp_path_factory.mktemp("shared"))


@pytest.fixture
def collection(shared_client: Client) -> Iterator[Collection]:
    """A fresh empty collection in `shared_client`, deleted after the test."""
    name = f"t-{uuid.uuid4().hex}"
    col = shared_client.create_collection(name)
    yield col
    if name in {c.name for c in shared_client.list_collections()}:
        shared_client.delete_collection(name)


def last_seq(client: Client, collection: Collection) -> int:
    """The collection's last write-ahead-log sequence number (grows by one per logged write)."""
    return engine_of(client).collection(collection.id).log.last_seq


def state(client: Client, collection: Collection) -> dict[str, Any]:
    """Everything observable about a collection's records, plus its log position."""
    got = collection.get(include=["embeddings", "documents", "metadatas"])
    return {
        "count": collection.count(),
        "ids": got["ids"],
        "embeddings": got["embeddings"].tolist(),
        "documents": got["documents"],
        "metadatas": got["metadatas"],
        "last_seq": last_seq(client, collection),
        "dimension": engine_of(client).collection(collection.id).record.dimension,
    }


@pytest.fixture
def nothing_written() -> Callable[..., Any]:
    """`with nothing_written(client, col, ...), pytest.raises(...):` asserts no state changed."""

    @contextmanager
    def check(client: Client, *collections: Collection) -> Iterator[None]:
        before = [state(client, c) for c in collections]
        names = [c.name for c in client.list_collections()]
        yield
        assert [state(client, c) for c in collections] == before
        assert [c.name for c in client.list_collections()] == names

    return check


@pytest.fixture
def records() -> Callable[[Collection], None]:
    """`records(col)` adds three records (dimension 3) with documents and varied metadata."""

    def add(col: Collection) -> None:
        col.add(
            ids=["a", "b", "c"],
            embeddings=[[1.0, 0.0, 0.0], [0.0, 1.0, 0.0], [0.0, 0.0, 1.0]],
            documents=["apple pie", "banana split", "cherry tart"],
            metadatas=[{"n": 1, "s": "x", "f": 0.5, "t": True}, None, {"n": 3, "l": [1, 2]}],
        )

    return add
