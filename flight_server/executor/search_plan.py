"""Search plans: the plain-JSON shape of one `collection.search(...)`, parsed and checked strictly.

The same dict comes from the local SDK and, unchanged, inside a Flight ticket (docs/search.md
documents it):

    {"where": {...} | null, "where_document": {...} | null, "ids": [str] | null,
     "rank": null | RANK, "limit": int | null, "offset": int, "select": [str]}
    RANK = {"$knn":  {"query": [number], "key": "#embedding", "limit": 16, "default": null,
                      "return_rank": false}}
         | {"$bm25": {"query": str, "key": "#document", "limit": 16, "k1": 1.2, "b": 0.75,
                      "default": null, "return_rank": false}}
         | {"$rrf":  {"ranks": [RANK], "k": 60, "weights": [number] | null, "normalize": false}}

Every refusal is an InvalidArgumentError (or a QuotaError for a declared limit) naming the field,
the value and what was expected. Filters are checked by the same validation as get/query.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np

from ..arguments.query_args import query_matrix
from ..config import Settings
from ..errors import InvalidArgumentError, QuotaError
from .bm25 import K1, B
from .tokenizer import query_terms

RANKERS = ("$knn", "$bm25", "$rrf")
SELECT_FIELDS = ("#id", "#document", "#embedding", "#metadata", "#score")
DEFAULT_RANK_LIMIT = 16  # Chroma's Knn default
RRF_K = 60
PLAN_KEYS = ("where", "where_document", "ids", "rank", "limit", "offset", "select")
KNN_KEYS = ("query", "key", "limit", "default", "return_rank")
BM25_KEYS = ("query", "key", "limit", "k1", "b", "default", "return_rank")
RRF_KEYS = ("ranks", "k", "weights", "normalize")


@dataclass(frozen=True)
class Knn:
    """Nearest neighbours of one query vector; score = the space's distance (lower is better)."""

    query: np.ndarray  # (1, dim) float32
    limit: int
    default: float | None
    return_rank: bool


@dataclass(frozen=True)
class Bm25:
    """BM25 text ranking; score = -BM25 (lower is better)."""

    text: str
    terms: tuple[str, ...]
    limit: int
    k1: float
    b: float
    default: float | None
    return_rank: bool


@dataclass(frozen=True)
class Rrf:
    """Reciprocal rank fusion; score = -sum(w_i / (k + rank_i)) (lower is better)."""

    ranks: tuple[Rank, ...]
    k: int
    weights: tuple[float, ...]


Rank = Knn | Bm25 | Rrf


@dataclass(frozen=True)
class SearchPlan:
    """One checked search."""

    where: dict[str, Any] | None
    where_document: dict[str, Any] | None
    ids: list[str] | None
    rank: Rank | None
    limit: int | None
    offset: int
    select: tuple[str, ...]


def _fail(message: str) -> InvalidArgumentError:
    return InvalidArgumentError(message)


def _is_int(v: Any) -> bool:
    return isinstance(v, int) and not isinstance(v, bool)


def _number(v: Any) -> bool:
    return (_is_int(v) or isinstance(v, float)) and math.isfinite(v)


def _object(value: Any, keys: tuple[str, ...], what: str) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise _fail(f"{what} must be an object, got {type(value).__name__}")
    unknown = sorted(set(value) - set(keys))
    if unknown:
        raise _fail(f"Unknown field(s) in {what}: {', '.join(map(str, unknown))}")
    return value


def _count_ranks(rank: Any) -> int:
    """Rank objects in a rank tree, counted without recursion (bounds nesting before parsing)."""
    count, stack = 0, [rank]
    while stack:
        item = stack.pop()
        count += 1
        if isinstance(item, dict) and isinstance(item.get("$rrf"), dict):
            ranks = item["$rrf"].get("ranks")
            if isinstance(ranks, list):
                stack.extend(ranks)
    return count


def parse_plan(plan: Any, dimension: int | None, settings: Settings) -> SearchPlan:
    """A search plan checked against the collection's dimension and the limits."""
    plan = _object(plan, PLAN_KEYS, "a search")
    ids = plan.get("ids")
    if ids is not None and (not isinstance(ids, list) or not all(isinstance(i, str) for i in ids)):
        raise _fail(f"Search ids must be null or a list of strings, got {ids!r}")
    for name in ("where", "where_document"):
        if plan.get(name) is not None and not isinstance(plan[name], dict):
            raise _fail(f"Search {name} must be null or an object, got {plan[name]!r}")
    limit, offset = plan.get("limit"), plan.get("offset", 0)
    if limit is not None and (not _is_int(limit) or limit < 0):
        raise _fail(f"Search limit must be null or an int >= 0, got {limit!r}")
    if limit is not None and limit > settings.max_get_limit:
        raise QuotaError("max_get_limit", limit, settings.max_get_limit, "Search limit")
    if not _is_int(offset) or offset < 0:
        raise _fail(f"Search offset must be an int >= 0, got {offset!r}")
    rank = plan.get("rank")
    if rank is not None:
        ranks = _count_ranks(rank)
        if ranks > settings.max_search_ranks:
            raise QuotaError("max_search_ranks", ranks, settings.max_search_ranks, "Rankers")
        rank = _rank(rank, dimension, settings)
    return SearchPlan(
        plan.get("where") or None,
        plan.get("where_document") or None,
        ids,
        rank,
        limit,
        offset,
        _select(plan.get("select", [])),
    )


def _select(select: Any) -> tuple[str, ...]:
    if not isinstance(select, list) or not all(isinstance(s, str) for s in select):
        raise _fail(f"Search select must be a list of strings, got {select!r}")
    for key in select:
        if key.startswith("#") and key not in SELECT_FIELDS:
            raise _fail(
                f"Unknown select key {key!r} (expected {', '.join(SELECT_FIELDS)} or a metadata key)"
            )
    return tuple(dict.fromkeys(select))


def _rank(rank: Any, dimension: int | None, settings: Settings) -> Rank:
    if not isinstance(rank, dict) or len(rank) != 1:
        raise _fail(f"A rank must be an object with one key of {', '.join(RANKERS)}, got {rank!r}")
    ((kind, body),) = rank.items()
    if kind == "$knn":
        return _knn(_object(body, KNN_KEYS, "$knn"), dimension, settings)
    if kind == "$bm25":
        return _bm25(_object(body, BM25_KEYS, "$bm25"), settings)
    if kind == "$rrf":
        return _rrf(_object(body, RRF_KEYS, "$rrf"), dimension, settings)
    raise _fail(f"Unknown ranker {kind!r} (expected one of {', '.join(RANKERS)})")


def _common(body: dict[str, Any], what: str, key: str, settings: Settings) -> tuple[int, Any, bool]:
    """(limit, default, return_rank) of a Knn or Bm25, checked."""
    if body.get("key", key) != key:
        raise _fail(f"{what} key must be {key!r}, got {body['key']!r}")
    limit = body.get("limit", DEFAULT_RANK_LIMIT)
    if not _is_int(limit) or limit < 1:
        raise _fail(f"{what} limit must be an int >= 1, got {limit!r}")
    if limit > settings.max_n_results:
        raise QuotaError("max_n_results", limit, settings.max_n_results, f"{what} limit")
    default = body.get("default")
    if default is not None and (not _number(default) or default < 0):
        raise _fail(f"{what} default must be null or a number >= 0, got {default!r}")
    return_rank = body.get("return_rank", False)
    if not isinstance(return_rank, bool):
        raise _fail(f"{what} return_rank must be a boolean, got {return_rank!r}")
    return limit, None if default is None else float(default), return_rank


def _knn(body: dict[str, Any], dimension: int | None, settings: Settings) -> Knn:
    limit, default, return_rank = _common(body, "Knn", "#embedding", settings)
    query = body.get("query")
    if not isinstance(query, list) or not query or not all(_number(x) for x in query):
        raise _fail(f"Knn query must be a non-empty list of finite numbers, got {_short(query)}")
    matrix = query_matrix([query], dimension, limit, settings)
    return Knn(matrix, limit, default, return_rank)


def _bm25(body: dict[str, Any], settings: Settings) -> Bm25:
    limit, default, return_rank = _common(body, "Bm25", "#document", settings)
    text = body.get("query")
    if not isinstance(text, str):
        raise _fail(f"Bm25 query must be a string, got {_short(text)}")
    terms = query_terms(text)
    if not terms:
        raise _fail(f"Bm25 query {text!r} has no terms (no letters or digits)")
    if len(terms) > settings.max_text_query_terms:
        raise QuotaError(
            "max_text_query_terms", len(terms), settings.max_text_query_terms, "Bm25 query terms"
        )
    k1, b = body.get("k1", K1), body.get("b", B)
    if not _number(k1) or k1 < 0:
        raise _fail(f"Bm25 k1 must be a number >= 0, got {k1!r}")
    if not _number(b) or not 0 <= b <= 1:
        raise _fail(f"Bm25 b must be a number in [0, 1], got {b!r}")
    return Bm25(text, tuple(terms), limit, float(k1), float(b), default, return_rank)


def _rrf(body: dict[str, Any], dimension: int | None, settings: Settings) -> Rrf:
    ranks = body.get("ranks")
    if not isinstance(ranks, list) or not ranks:
        raise _fail(f"Rrf ranks must be a non-empty list of ranks, got {_short(ranks)}")
    k = body.get("k", RRF_K)
    if not _is_int(k) or k < 1:
        raise _fail(f"Rrf k must be an int >= 1, got {k!r}")
    weights = body.get("weights")
    if weights is None:
        weights = [1.0] * len(ranks)
    if not isinstance(weights, list) or not all(_number(w) and w >= 0 for w in weights):
        raise _fail(f"Rrf weights must be null or a list of numbers >= 0, got {_short(weights)}")
    if len(weights) != len(ranks):
        raise _fail(f"Rrf has {len(ranks)} ranks but {len(weights)} weights")
    normalize = body.get("normalize", False)
    if not isinstance(normalize, bool):
        raise _fail(f"Rrf normalize must be a boolean, got {normalize!r}")
    if normalize:
        total = float(sum(weights))
        if total == 0:
            raise _fail("Rrf weights sum to 0, so they cannot be normalized")
        weights = [w / total for w in weights]
    parsed = tuple(_rank(r, dimension, settings) for r in ranks)
    return Rrf(parsed, k, tuple(float(w) for w in weights))


def _short(value: Any, limit: int = 80) -> str:
    text = repr(value)
    return text if len(text) <= limit else text[: limit - 3] + "..."
