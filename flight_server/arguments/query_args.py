"""Checks of query arguments that every transport shares: the query matrix and n_results."""

from __future__ import annotations

from typing import Any

import numpy as np

from ..config import Settings
from ..errors import InvalidArgumentError, InvalidDimensionException, QuotaError


def query_matrix(
    embeddings: Any, dimension: int | None, n_results: Any, settings: Settings
) -> np.ndarray:
    """Query embeddings as an aligned (q, dim) float32 matrix, checked against the collection."""
    if isinstance(n_results, bool) or not isinstance(n_results, int | np.integer) or n_results < 1:
        raise InvalidArgumentError(
            f"Expected requested number of results to be a positive integer, got {n_results!r}"
        )
    if n_results > settings.max_n_results:
        raise QuotaError("max_n_results", int(n_results), settings.max_n_results, "n_results")
    try:
        queries = np.asarray(embeddings, dtype=np.float32)
    except (TypeError, ValueError):
        raise InvalidArgumentError(
            "Expected query embeddings to be a list of lists of numbers of equal length"
        ) from None
    if queries.ndim == 1:
        queries = queries.reshape(1, -1)
    if queries.ndim != 2 or queries.shape[0] == 0 or queries.shape[1] == 0:
        raise InvalidArgumentError(
            f"Expected query embeddings to be a non-empty 2-D array, got shape {queries.shape}"
        )
    if len(queries) > settings.max_query_embeddings:
        raise QuotaError(
            "max_query_embeddings", len(queries), settings.max_query_embeddings, "query embeddings"
        )
    if dimension is not None and queries.shape[1] != dimension:
        raise InvalidDimensionException(
            f"Collection expecting embedding with dimension of {dimension}, got {queries.shape[1]}"
        )
    if not np.isfinite(queries).all():
        raise InvalidArgumentError("Query embeddings must not contain NaN or infinite values")
    return np.require(queries, requirements=["A", "C"])
