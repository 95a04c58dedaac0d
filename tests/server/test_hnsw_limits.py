"""Every HNSW parameter has a declared maximum, checked at create and modify, local and remote.

Issue 18: `hnsw:M` = 1,000,000 grew a server to 23 GB on its first compaction. Each parameter one
past its maximum is refused with a QuotaError naming the limit, the value and the maximum; nothing
is created or changed, and the server still answers.
"""

from __future__ import annotations

from typing import Any

import pytest
from fletchdb import Client

from flight_server.arguments.collection_config import MAXIMUM_SETTING
from flight_server.config import Settings
from flight_server.errors import InvalidArgumentOverflowError, QuotaError
from tests.support.hnsw import LEGACY

DEFAULTS = Settings()
MUTABLE = ("ef_search", "num_threads", "batch_size", "sync_threshold", "resize_factor")


def _over(key: str) -> Any:
    maximum = getattr(DEFAULTS, MAXIMUM_SETTING[key])
    return maximum * 1.5 if isinstance(maximum, float) else maximum + 1


def _names(client: Client) -> list[str]:
    return sorted(c.name for c in client.list_collections())


def _refused(info: pytest.ExceptionInfo[QuotaError], key: str, value: Any) -> None:
    limit = MAXIMUM_SETTING[key]
    err = info.value
    assert (err.limit, err.value, err.maximum) == (limit, value, getattr(DEFAULTS, limit))
    assert str(err) == f"HNSW {key} is {value}, over the limit {limit}={err.maximum}"


@pytest.mark.parametrize("key", sorted(MAXIMUM_SETTING))
@pytest.mark.parametrize("via", ["configuration", "metadata"])
def test_each_parameter_past_its_maximum_is_refused_at_create(
    shared_client: Client, key: str, via: str
) -> None:
    before, value = _names(shared_client), _over(key)
    kwargs: dict[str, Any] = (
        {"configuration": {"hnsw": {key: value}}}
        if via == "configuration"
        else {"metadata": {LEGACY[key]: value}}
    )
    with pytest.raises(QuotaError) as info:
        shared_client.create_collection(f"over-{key}", **kwargs)
    _refused(info, key, value)
    assert _names(shared_client) == before
    assert shared_client.heartbeat() > 0


@pytest.mark.parametrize("key", sorted(MAXIMUM_SETTING))
def test_each_parameter_at_its_maximum_is_accepted(shared_client: Client, key: str) -> None:
    maximum = getattr(DEFAULTS, MAXIMUM_SETTING[key])
    col = shared_client.create_collection(f"at-{key}", configuration={"hnsw": {key: maximum}})
    try:
        assert col.configuration["hnsw"][key] == maximum
    finally:
        shared_client.delete_collection(col.name)


@pytest.mark.parametrize("key", MUTABLE)
def test_each_settable_parameter_past_its_maximum_is_refused_at_modify(
    shared_client: Client, key: str
) -> None:
    col = shared_client.get_or_create_collection("modified")
    before, value = col.configuration, _over(key)
    with pytest.raises(QuotaError) as info:
        col.modify(configuration={"hnsw": {key: value}})
    _refused(info, key, value)
    assert shared_client.get_collection("modified").configuration == before
    assert shared_client.heartbeat() > 0


@pytest.mark.parametrize("value", [2**63, 10**30])
def test_integers_past_int64_are_refused_before_the_maximum(
    shared_client: Client, value: int
) -> None:
    """Collection metadata holds int64s only (docs/chroma-compat.md): M is never compared."""
    before = _names(shared_client)
    with pytest.raises(InvalidArgumentOverflowError, match="'hnsw:M' to fit in 64 bits"):
        shared_client.create_collection("huge-m", metadata={"hnsw:M": value})
    assert _names(shared_client) == before


def test_the_maxima_are_settings(shared_client: Client) -> None:
    assert {s: getattr(DEFAULTS, s) for s in MAXIMUM_SETTING.values()} == {
        "max_hnsw_m": 128,
        "max_hnsw_construction_ef": 4096,
        "max_hnsw_search_ef": 4096,
        "max_hnsw_num_threads": 1024,
        "max_hnsw_batch_size": 1_000_000,
        "max_hnsw_sync_threshold": 1_000_000,
        "max_hnsw_resize_factor": 100.0,
    }
