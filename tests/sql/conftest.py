"""Fixtures: tests/api's clients (every client fixture runs [local] and [remote]) and
tests/server's `serve` and `mint` for raw Flight tests with tokens."""

from tests.api.conftest import (  # noqa: F401 - fixtures and hooks, re-exported for pytest
    client,
    collection,
    engine_of,
    mode,
    open_client,
    pytest_collection_modifyitems,
    pytest_configure,
    settings,
    shared_client,
)
from tests.server.conftest import mint, serve  # noqa: F401 - fixtures, re-exported
