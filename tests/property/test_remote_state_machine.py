"""The engine state machine again, through a Flight server on loopback (reopen restarts it).

Every rule and invariant of `test_engine_state_machine` runs over `fletchdb.FlightClient`
against a real server on the same data directory; `reopen` shuts the server down and starts a
new one, so acknowledged writes must survive a server restart as they survive a client reopen.
"""

from __future__ import annotations

import shutil
from typing import Any

import fletchdb
from hypothesis import settings

from flight_server.flight.server import Server, start_server
from flight_server.gateway.auth import mint_token
from tests.property.test_engine_state_machine import SETTINGS, BackgroundCompaction

SECRET = "m" * 40
UNLIMITED = {"rate_read_per_second": 0.0, "rate_write_per_second": 0.0}  # the machine bursts


class RemoteBackgroundCompaction(BackgroundCompaction):
    """BackgroundCompaction with the collection behind a server; reopen = server restart."""

    def __init__(self) -> None:
        super().__init__()
        self.server: Server | None = None

    def _open(self) -> None:
        self._close()
        values: dict[str, Any] = {**self.overrides, **self.drawn, **UNLIMITED}
        self.server = start_server(
            fletchdb.Settings(path=self.path, port=0, auth_secret=SECRET, **values)
        )
        token = mint_token(SECRET.encode(), tenant="*", role="admin")
        self.client = fletchdb.FlightClient(self.server.uri, token=token)

    def _close(self) -> None:
        if self.client is not None:
            self.client.close()
            self.client = None
        if self.server is not None:
            self.server.close()
            self.server = None

    def teardown(self) -> None:
        self._close()
        shutil.rmtree(self.path, ignore_errors=True)


TestRemoteBackgroundCompaction = RemoteBackgroundCompaction.TestCase
TestRemoteBackgroundCompaction.settings = settings(SETTINGS, max_examples=20)
