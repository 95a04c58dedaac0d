"""Tenant/database names and list pages, local and remote (issue 18).

chromadb 1.5.9 raises OverflowError for a limit or offset >= 2**32 (its u32 arguments) and
accepts any tenant or database name of 3 characters or more (a 1 MB name, `../../x`). FletchDB
raises the same OverflowError for such pages (an InvalidArgumentOverflowError, also an
InvalidArgumentError) and refuses such names with an InvalidArgumentError naming what was wrong,
at creation and at every lookup, nothing created.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from fletchdb import Client

from flight_server.errors import InvalidArgumentError, InvalidArgumentOverflowError

BAD_NAMES = ["../../x", "x" * 2**20, "with space", "a..b", "-abc", "naïve"]
PAGES = [(2**32, None), (None, 2**32), (2**63, None), (2**64, 0), (10**30, 10**30)]


def _tenant_calls(client: Client) -> dict[str, Callable[[str], Any]]:
    return {
        "create_tenant": client.create_tenant,
        "get_tenant": client.get_tenant,
        "create_database": lambda n: client.create_database("okdb", tenant=n),
        "list_databases": lambda n: client.list_databases(tenant=n),
    }


def _database_calls(client: Client) -> dict[str, Callable[[str], Any]]:
    return {
        "create_database": client.create_database,
        "get_database": client.get_database,
        "delete_database": client.delete_database,
    }


def _snapshot(client: Client) -> tuple[list[str], list[str]]:
    return (
        sorted(d["name"] for d in client.list_databases()),
        sorted(c.name for c in client.list_collections()),
    )


@pytest.mark.parametrize("name", BAD_NAMES, ids=lambda n: n[:12])
def test_bad_tenant_names_are_refused_at_create_and_lookup(
    shared_client: Client, name: str
) -> None:
    before = _snapshot(shared_client)
    for call, run in _tenant_calls(shared_client).items():
        with pytest.raises(InvalidArgumentError, match="Expected a tenant name") as info:
            run(name)
        assert len(str(info.value)) < 1500, call
    assert _snapshot(shared_client) == before
    assert shared_client.heartbeat() > 0


@pytest.mark.parametrize("name", BAD_NAMES, ids=lambda n: n[:12])
def test_bad_database_names_are_refused_at_create_and_lookup(
    shared_client: Client, name: str
) -> None:
    before = _snapshot(shared_client)
    for call, run in _database_calls(shared_client).items():
        with pytest.raises(InvalidArgumentError, match="Expected a database name") as info:
            run(name)
        assert len(str(info.value)) < 1500, call
    assert _snapshot(shared_client) == before


@pytest.mark.parametrize(("limit", "offset"), PAGES)
def test_pages_past_u32_are_refused(shared_client: Client, limit: Any, offset: Any) -> None:
    label = "limit" if limit is not None and limit >= 2**32 else "offset"
    for listing in (shared_client.list_collections, shared_client.list_databases):
        with pytest.raises(InvalidArgumentOverflowError) as info:
            listing(limit=limit, offset=offset)
        assert isinstance(info.value, OverflowError | InvalidArgumentError)
        text = str(info.value)  # Chroma's two messages, by whether the value fits in an int64
        if max(v for v in (limit, offset) if v is not None) >= 2**63:
            assert text == "Python int too large to convert to C long"
        else:
            assert text.startswith("out of range integral type conversion attempted")
            assert f"({label}=" in text
    assert shared_client.heartbeat() > 0


def test_the_largest_page_is_served(shared_client: Client) -> None:
    shared_client.get_or_create_collection("paged")
    biggest = 2**32 - 1
    assert "paged" in [c.name for c in shared_client.list_collections(limit=biggest)]
    assert shared_client.list_collections(offset=biggest) == []
    assert shared_client.list_databases(limit=biggest, offset=biggest) == []
