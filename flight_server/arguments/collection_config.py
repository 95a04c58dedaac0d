"""A collection's index configuration, from Chroma's `configuration` and legacy `hnsw:*` metadata.

The stored form is `{"hnsw": {"space", "max_neighbors", "ef_construction", "ef_search", "dtype"}}`.
Chroma's other HNSW keys (num_threads, batch_size, sync_threshold, resize_factor) are accepted and
kept but change nothing here: the compactor decides batching, and usearch grows on its own.
"""

from __future__ import annotations

from typing import Any

from ..config import Settings
from ..errors import InvalidArgumentError, QuotaError, quote_input

SPACES = ("l2", "cosine", "ip")
USEARCH_METRIC = {"l2": "l2sq", "cosine": "cos", "ip": "ip"}
DTYPES = ("f32", "f16", "i8")
_INT_KEYS = (
    "max_neighbors",
    "ef_construction",
    "ef_search",
    "num_threads",
    "batch_size",
    "sync_threshold",
)
_KNOWN = frozenset(_INT_KEYS + ("space", "dtype", "resize_factor"))
_LEGACY = {
    "hnsw:space": "space",
    "hnsw:M": "max_neighbors",
    "hnsw:construction_ef": "ef_construction",
    "hnsw:search_ef": "ef_search",
    "hnsw:num_threads": "num_threads",
    "hnsw:batch_size": "batch_size",
    "hnsw:sync_threshold": "sync_threshold",
    "hnsw:resize_factor": "resize_factor",
}
# Each key's declared maximum (flight_server/config.py): a huge M or ef makes usearch allocate
# gigabytes per vector or per search, so every key is bounded, not only the ones used.
MAXIMUM_SETTING = {
    "max_neighbors": "max_hnsw_m",
    "ef_construction": "max_hnsw_construction_ef",
    "ef_search": "max_hnsw_search_ef",
    "num_threads": "max_hnsw_num_threads",
    "batch_size": "max_hnsw_batch_size",
    "sync_threshold": "max_hnsw_sync_threshold",
    "resize_factor": "max_hnsw_resize_factor",
}
_MUTABLE = frozenset({"ef_search", "num_threads", "batch_size", "sync_threshold", "resize_factor"})


def resolve_configuration(
    configuration: dict[str, Any] | None, metadata: dict[str, Any] | None, settings: Settings
) -> dict[str, Any]:
    """The stored configuration: defaults < legacy metadata keys < `configuration["hnsw"]`."""
    hnsw: dict[str, Any] = {
        "space": settings.hnsw_space,
        "max_neighbors": settings.hnsw_m,
        "ef_construction": settings.hnsw_construction_ef,
        "ef_search": settings.hnsw_search_ef,
        "dtype": settings.hnsw_dtype,
    }
    for key, name in _LEGACY.items():
        if metadata and key in metadata:
            hnsw[name] = metadata[key]
    given = _hnsw_section(configuration)
    hnsw.update(given)
    _check(hnsw)
    _check_maxima(hnsw, settings)
    return {"hnsw": hnsw}


def update_configuration(
    current: dict[str, Any], configuration: dict[str, Any], settings: Settings | None = None
) -> dict[str, Any]:
    """`current` with the settable keys of `configuration` applied (space etc. cannot change)."""
    given = _hnsw_section(configuration)
    fixed = sorted(set(given) - _MUTABLE)
    if fixed:
        raise InvalidArgumentError(
            f"Cannot modify HNSW configuration key(s) {fixed} after creation"
        )
    hnsw = {**current.get("hnsw", {}), **given}
    _check(hnsw)
    _check_maxima(given, settings or Settings())  # what was stored passed at its creation
    return {**current, "hnsw": hnsw}


def _hnsw_section(configuration: dict[str, Any] | None) -> dict[str, Any]:
    if configuration is None:
        return {}
    if not isinstance(configuration, dict):
        raise InvalidArgumentError(f"Expected configuration to be a dict, got {configuration!r}")
    unknown = set(configuration) - {"hnsw", "embedding_function"}
    if unknown:
        raise InvalidArgumentError(f"Unknown configuration section(s): {sorted(unknown)}")
    hnsw = configuration.get("hnsw") or {}
    if not isinstance(hnsw, dict):
        raise InvalidArgumentError(f"Expected configuration['hnsw'] to be a dict, got {hnsw!r}")
    bad = set(hnsw) - _KNOWN
    if bad:
        raise InvalidArgumentError(f"Unknown HNSW configuration key(s): {sorted(bad)}")
    return {k: v for k, v in hnsw.items() if v is not None}


def _check(hnsw: dict[str, Any]) -> None:
    if hnsw["space"] not in SPACES:
        raise InvalidArgumentError(
            f"Invalid space {quote_input(hnsw['space'], as_repr=True)}: expected one of {list(SPACES)}"
        )
    if hnsw["dtype"] not in DTYPES:
        raise InvalidArgumentError(
            f"Invalid dtype {quote_input(hnsw['dtype'], as_repr=True)}: expected one of {list(DTYPES)}"
        )
    for key in _INT_KEYS:
        value = hnsw.get(key)
        if value is not None and (
            isinstance(value, bool) or not isinstance(value, int) or value < 1
        ):
            raise InvalidArgumentError(
                f"HNSW {key} must be a positive integer, got {quote_input(value, as_repr=True)}"
            )
    factor = hnsw.get("resize_factor")
    if factor is not None and (
        isinstance(factor, bool) or not isinstance(factor, int | float) or not factor > 1
    ):
        raise InvalidArgumentError(
            f"HNSW resize_factor must be a number > 1, got {quote_input(factor, as_repr=True)}"
        )


def _check_maxima(hnsw: dict[str, Any], settings: Settings) -> None:
    """QuotaError for the first key of `hnsw` above its declared maximum (types checked first)."""
    for key, limit in MAXIMUM_SETTING.items():
        value, maximum = hnsw.get(key), getattr(settings, limit)
        if value is not None and not value <= maximum:
            raise QuotaError(limit, value, maximum, f"HNSW {key}")
