"""Fixtures for the frame tests: the two-mode clients of tests/api (local and remote)."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator

import pytest
from fletchdb import Client, Collection

from tests.api.conftest import (  # noqa: F401 - fixtures used by the tests of this folder
    client,
    mode,
    open_client,
    settings,
    shared_client,
)


@pytest.fixture
def fresh(shared_client: Client) -> Iterator[Callable[..., Collection]]:  # noqa: F811
    """`fresh(**create_kwargs)`: a new collection of shared_client, deleted after the test."""
    made: list[str] = []

    def make(**kwargs: object) -> Collection:
        name = f"f-{uuid.uuid4().hex}"
        made.append(name)
        return shared_client.create_collection(name, **kwargs)  # type: ignore[arg-type]

    yield make
    existing = {c.name for c in shared_client.list_collections()}
    for name in made:
        if name in existing:
            shared_client.delete_collection(name)
