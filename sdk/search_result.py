"""Running `collection.search(...)`: plans out, `SearchResult` (Chroma's column-major shape) back.

A SearchResult is a dict with, per search, `ids`, `documents`, `embeddings`, `metadatas`, `scores`
(None where the search did not select the field) and `select` (the selected keys); `rows()` gives
the same as a list of record dicts per search. `to_arrow()` gives the result tables themselves.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import pyarrow as pa

from flight_server.api import (
    check_depth_limit,
    parse_search_plan,
    validate_where,
    validate_where_document,
)

from .errors import InvalidArgumentError
from .lazy_dict import Deferred, LazyDict
from .results import embeddings_array, metadatas_from_table
from .search import Knn, Rrf, Search
from .transport import Transport

SCORE = "score"
FIELDS = ("ids", "documents", "embeddings", "metadatas", "scores", "select")


class SearchResult(LazyDict):
    """Chroma's SearchResult: column-major, one entry per search in every field (built on read)."""

    def __init__(self, fields: dict[str, Any], tables: list[pa.Table]) -> None:
        super().__init__(fields)
        self._tables = tables

    def __getattr__(self, name: str) -> Any:
        if name in FIELDS:
            return self[name]
        raise AttributeError(name)

    def rows(self) -> list[list[dict[str, Any]]]:
        """Per search, one dict per record: id and the selected fields."""
        out = []
        for i, ids in enumerate(self["ids"]):
            columns = {
                name: self[field][i]
                for field, name in (
                    ("documents", "document"),
                    ("embeddings", "embedding"),
                    ("metadatas", "metadata"),
                    ("scores", "score"),
                )
                if self[field][i] is not None
            }
            out.append(
                [{"id": rid, **{k: v[j] for k, v in columns.items()}} for j, rid in enumerate(ids)]
            )
        return out

    def to_arrow(self) -> list[pa.Table]:
        """The result of each search as an Arrow table (id, selected columns, score)."""
        return list(self._tables)


def run_searches(
    transport: Transport,
    collection_id: str,
    searches: Search | Sequence[Search],
    embed: Callable[[list[str]], Any],
) -> SearchResult:
    """Run one or many searches in one request; text Knn queries are embedded with `embed`."""
    batch = [searches] if isinstance(searches, Search) else list(searches)
    if not all(isinstance(s, Search) for s in batch):
        raise InvalidArgumentError("collection.search takes a Search or a list of Search objects")
    if not batch:
        return SearchResult({f: [] for f in FIELDS}, [])
    plans = [_plan(s, embed) for s in batch]
    settings = transport.settings
    for plan in plans:  # the checks the engine makes, here first, so both clients fail alike
        check_depth_limit(plan.get("where"), plan.get("where_document"), settings.max_where_depth)
        if plan.get("where"):
            validate_where(plan["where"])
        if plan.get("where_document"):
            validate_where_document(plan["where_document"])
        parse_search_plan(plan, None, settings)
    tables = transport.search(collection_id, plans)
    return _result(tables, [s.select_names() for s in batch])


def _plan(search: Search, embed: Callable[[list[str]], Any]) -> dict[str, Any]:
    """The search's plan, with text Knn queries replaced by their embeddings."""
    rank = search.rank_expr
    texts = _text_queries(rank)
    if texts:
        vectors = list(embed(texts))
        search = search.rank(_embedded(rank, dict(zip(texts, vectors, strict=True))))
    return search.to_dict()


def _text_queries(rank: Any) -> list[str]:
    if isinstance(rank, Knn) and isinstance(rank.query, str):
        return [rank.query]
    if isinstance(rank, Rrf):
        return list(dict.fromkeys(t for r in rank.ranks for t in _text_queries(r)))
    return []


def _embedded(rank: Any, vectors: dict[str, Any]) -> Any:
    if isinstance(rank, Knn) and isinstance(rank.query, str):
        return Knn(vectors[rank.query], rank.key, rank.limit, rank.default, rank.return_rank)
    if isinstance(rank, Rrf):
        ranks = [_embedded(r, vectors) for r in rank.ranks]
        return Rrf(ranks, rank.k, rank.weights, rank.normalize)
    return rank


def _result(tables: list[pa.Table], selects: list[list[str]]) -> SearchResult:
    """The column-major result; each field is converted from Arrow when first read."""

    def column(build: Callable[[pa.Table, list[str]], Any]) -> Deferred:
        return Deferred(lambda: [build(t, s) for t, s in zip(tables, selects, strict=True)])

    fields = {
        "ids": column(lambda t, s: t["id"].to_pylist()),
        "documents": column(lambda t, s: t["document"].to_pylist() if "#document" in s else None),
        "embeddings": column(
            lambda t, s: embeddings_array(t).tolist() if "#embedding" in s else None
        ),
        "metadatas": column(lambda t, s: metadatas_from_table(t) if _wants_meta(s) else None),
        "scores": column(lambda t, s: t[SCORE].to_pylist() if "#score" in s else None),
        "select": [list(s) for s in selects],
    }
    return SearchResult(fields, tables)


def _wants_meta(select: list[str]) -> bool:
    return "#metadata" in select or any(not k.startswith("#") for k in select)
