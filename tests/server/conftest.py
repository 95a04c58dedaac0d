"""Fixtures for server tests: real Flight servers on loopback port 0, each closed after its test.

`serve(**settings)` starts a server over a fresh data directory (auth on, HS256 with SECRET unless
the settings say otherwise); `mint(...)` makes tokens for it; `connect(server, token, ...)` opens a
FlightClient that is closed after the test.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import fletchdb
import pytest

from flight_server.config import Settings
from flight_server.flight.server import Server, start_server
from flight_server.gateway.auth import mint_token
from tests.api.conftest import (  # noqa: F401 - fixtures: [local] and [remote] clients
    mode,
    open_client,
    pytest_collection_modifyitems,
    pytest_configure,
    settings,
    shared_client,
)

SECRET = "s" * 40  # an HS256 secret long enough for the server's minimum


def wire_error(exc: BaseException) -> dict[str, Any]:
    """The JSON body of a FletchDB error as a raw pyarrow client receives it."""
    info = getattr(exc, "extra_info", None)
    if info:
        return dict(json.loads(info))
    text = str(exc)
    start = text.find('{"code"')
    assert start >= 0, f"not a FletchDB error: {type(exc).__name__}: {text[:500]}"
    body, _ = json.JSONDecoder().raw_decode(text, start)
    return dict(body)


def make_token(
    tenant: str = "default_tenant",
    role: str = "admin",
    databases: list[str] | str = "*",
    secret: str = SECRET,
    **kw: Any,
) -> str:
    """A token signed with the test secret."""
    return mint_token(secret.encode(), tenant=tenant, role=role, databases=databases, **kw)


@pytest.fixture
def serve(tmp_path: Path) -> Iterator[Callable[..., Server]]:
    """`serve(**settings)`: a started server on 127.0.0.1:0; all are closed after the test."""
    started: list[Server] = []

    def start(**overrides: Any) -> Server:
        values: dict[str, Any] = {
            "path": str(tmp_path / f"data{len(started)}"),
            "host": "127.0.0.1",
            "port": 0,
            "auth_secret": SECRET,
        }
        values.update(overrides)
        server = start_server(Settings(**values))
        started.append(server)
        return server

    yield start
    for server in started:
        server.close()


@pytest.fixture
def mint() -> Callable[..., str]:
    """`mint(tenant=..., role=..., databases=..., **claims)`: a token for `serve()`d servers."""
    return make_token


@pytest.fixture
def connect() -> Iterator[Callable[..., fletchdb.Client]]:
    """`connect(server, token, **kw)`: a FlightClient, closed after the test."""
    opened: list[fletchdb.Client] = []

    def open_flight(server: Server, token: str | None, **kw: Any) -> fletchdb.Client:
        client = fletchdb.FlightClient(server.uri, token=token, **kw)
        opened.append(client)
        return client

    yield open_flight
    for client in opened:
        client.close()
