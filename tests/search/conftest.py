"""The API fixtures of tests/api (every client fixture runs [local] and [remote])."""

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
