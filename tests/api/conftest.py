"""Fixtures for the API tests: real clients on real files under tmp_path, closed after each test."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import fletchdb
import pytest
from fletchdb import Client, Collection, Settings


@pytest.fixture
def settings() -> Callable[..., Settings]:
    """`settings(**overrides)` builds a `Settings` (unknown names raise, as in the product)."""

    def make(**overrides: Any) -> Settings:
        return Settings(**overrides)

    return make


@pytest.fixture
def client(tmp_path: Path) -> Iterator[Client]:
    """A PersistentClient on a fresh directory, closed after the test."""
    c = fletchdb.PersistentClient(path=tmp_path / "data")
    yield c
    c.close()


@pytest.fixture
def ephemeral() -> Iterator[Client]:
    """An EphemeralClient, closed (and its storage removed) after the test."""
    c = fletchdb.EphemeralClient()
    yield c
    c.close()


@pytest.fixture
def open_client(tmp_path: Path) -> Iterator[Callable[..., Client]]:
    """`open_client(settings=None, path=None, **kw)` opens a PersistentClient; all closed after."""
    opened: list[Client] = []

    def make(settings: Settings | None = None, path: Path | None = None, **kw: Any) -> Client:
        c = fletchdb.PersistentClient(path=path or tmp_path / "data", settings=settings, **kw)
        opened.append(c)
        return c

    yield make
    for c in opened:
        c.close()


@pytest.fixture(scope="module")
def shared_client(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Client]:
    """One PersistentClient per test module (opening one costs ~0.1 s), closed after the module."""
    c = fletchdb.PersistentClient(path=tmp_path_factory.mktemp("shared"))
    yield c
    c.close()


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
    return client._transport.collection(collection.id).log.last_seq


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
        "dimension": client._transport.collection(collection.id).record.dimension,
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
