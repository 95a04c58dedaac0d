"""The gateway's policy without any front: a real engine, principals, and operation names only."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from flight_server.config import Settings
from flight_server.engine import Engine
from flight_server.errors import AuthorizationError, NotFoundError
from flight_server.gateway.auth import Principal
from flight_server.gateway.gateway import Gateway
from flight_server.gateway.policy import OPERATIONS, READ, WRITE

READER = Principal(sub="r", tenant="default_tenant", databases="*", role="reader")
WRITER = Principal(sub="w", tenant="default_tenant", databases="*", role="writer")
STRANGER = Principal(sub="s", tenant="other", databases="*", role="admin")


@pytest.fixture
def gateway(tmp_path: Path) -> Iterator[Gateway]:
    engine = Engine(tmp_path / "db", Settings(path=str(tmp_path / "db")))
    yield Gateway(engine)
    engine.close()


def test_operation_names_decide_role_and_bucket() -> None:
    assert len({op.name for op in OPERATIONS}) == len(OPERATIONS)
    for op in OPERATIONS:
        assert op.rate == (READ if op.role == "reader" else WRITE), op.name


def test_a_front_needs_nothing_but_names(gateway: Gateway) -> None:
    with pytest.raises(AuthorizationError, match="Unknown operation DoPut"):
        gateway.authorize(WRITER, "DoPut", None)
    with pytest.raises(AuthorizationError, match="may not call create_collection"):
        gateway.create_collection(READER, "docs", None, None, False, *_scope())
    record = gateway.create_collection(WRITER, "docs", None, None, False, *_scope())
    assert gateway.collection(READER, "get", record.id, charge=False) == record
    with pytest.raises(AuthorizationError, match="may not call add"):
        gateway.collection(READER, "add", record.id)
    with pytest.raises(NotFoundError):  # another tenant's collection is a missing one
        gateway.collection(STRANGER, "get", record.id)
    assert gateway.record_count(record) == 0
    assert "id" in gateway.record_schema(record).names


def _scope() -> tuple[str, str]:
    return "default_tenant", "default_database"
