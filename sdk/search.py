"""Chroma's Search API: `Search().where(...).rank(Knn(...) | Bm25(...) | Rrf([...])).limit(n).select(...)`.

Names and shapes follow chromadb's `Search`, `Knn`, `Rrf`, `Key`/`K` and `SearchResult` as far as
they go; `Bm25` (BM25 text ranking over the collection's documents) is FletchDB's. Each builder
returns a new object, so searches are immutable and reusable. `to_dict()` gives the plain-JSON
plan the engine runs (docs/search.md), the same dict locally and over Flight. Scores are ascending,
lower is better, for every ranker: Knn gives distances, Bm25 gives -BM25, Rrf -sum(w / (k + rank)).
"""

from __future__ import annotations

import copy
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import numpy as np

from .errors import InvalidArgumentError

Where = dict[str, Any]


class Key:
    """A field of a record, for where clauses and select: `K("genre") == "jazz"`, `K.DOCUMENT`."""

    ID: Key
    DOCUMENT: Key
    EMBEDDING: Key
    METADATA: Key
    SCORE: Key

    def __init__(self, name: str) -> None:
        self.name = name

    def __repr__(self) -> str:
        return f"Key({self.name!r})"

    def __hash__(self) -> int:
        return hash(self.name)

    def _op(self, op: str, value: Any) -> Condition:
        return Condition({self.name: {op: value}})

    def __eq__(self, value: Any) -> Condition:  # type: ignore[override]
        return self._op("$eq", value)

    def __ne__(self, value: Any) -> Condition:  # type: ignore[override]
        return self._op("$ne", value)

    def __gt__(self, value: Any) -> Condition:
        return self._op("$gt", value)

    def __ge__(self, value: Any) -> Condition:
        return self._op("$gte", value)

    def __lt__(self, value: Any) -> Condition:
        return self._op("$lt", value)

    def __le__(self, value: Any) -> Condition:
        return self._op("$lte", value)

    def is_in(self, values: Iterable[Any]) -> Condition:
        """The field is one of `values`."""
        return self._op("$in", list(values))

    def not_in(self, values: Iterable[Any]) -> Condition:
        """The field is none of `values` (or absent)."""
        return self._op("$nin", list(values))

    def contains(self, value: Any) -> Condition:
        """`#document` contains a substring, or a list field contains a value."""
        return self._op("$contains", value)

    def not_contains(self, value: Any) -> Condition:
        """The negation of `contains`."""
        return self._op("$not_contains", value)

    def regex(self, pattern: str) -> Condition:
        """`#document` matches a regular expression (RE2)."""
        return self._op("$regex", pattern)

    def not_regex(self, pattern: str) -> Condition:
        """`#document` does not match a regular expression."""
        return self._op("$not_regex", pattern)


K = Key
Key.ID, Key.DOCUMENT, Key.EMBEDDING = Key("#id"), Key("#document"), Key("#embedding")
Key.METADATA, Key.SCORE = Key("#metadata"), Key("#score")


@dataclass(frozen=True)
class Condition:
    """A where clause built from `Key`s; combine with `&` and `|`."""

    clause: Where

    def __and__(self, other: Condition) -> Condition:
        return Condition({"$and": _flat("$and", self.clause) + _flat("$and", other.clause)})

    def __or__(self, other: Condition) -> Condition:
        return Condition({"$or": _flat("$or", self.clause) + _flat("$or", other.clause)})

    def to_dict(self) -> Where:
        """The clause as Chroma's where dict."""
        return self.clause


def _flat(op: str, clause: Where) -> list[Where]:
    return list(clause[op]) if list(clause) == [op] else [clause]


@dataclass(frozen=True)
class Knn:
    """Nearest neighbours of `query` (a vector, or a text the collection's function embeds)."""

    query: Any
    key: str = "#embedding"
    limit: int = 16
    default: float | None = None
    return_rank: bool = False

    def to_dict(self) -> dict[str, Any]:
        """The `$knn` rank object (the query must be a vector by now)."""
        if isinstance(self.query, str):
            raise InvalidArgumentError("A text Knn query needs the collection to embed it")
        query = np.asarray(self.query, dtype=np.float32).reshape(-1).tolist()
        return {"$knn": {**self._options(), "query": query}}

    def _options(self) -> dict[str, Any]:
        return {
            "key": _key_name(self.key),
            "limit": self.limit,
            "default": self.default,
            "return_rank": self.return_rank,
        }


@dataclass(frozen=True)
class Bm25:
    """BM25 ranking of the documents against the words of `query` (FletchDB's text ranker)."""

    query: str
    key: str = "#document"
    limit: int = 16
    k1: float = 1.2
    b: float = 0.75
    default: float | None = None
    return_rank: bool = False

    def to_dict(self) -> dict[str, Any]:
        """The `$bm25` rank object."""
        return {
            "$bm25": {
                "query": self.query,
                "key": _key_name(self.key),
                "limit": self.limit,
                "k1": self.k1,
                "b": self.b,
                "default": self.default,
                "return_rank": self.return_rank,
            }
        }


@dataclass(frozen=True)
class Rrf:
    """Reciprocal rank fusion of `ranks`: score = -sum(w_i / (k + rank_i))."""

    ranks: list[Any]
    k: int = 60
    weights: list[float] | None = None
    normalize: bool = False

    def to_dict(self) -> dict[str, Any]:
        """The `$rrf` rank object."""
        return {
            "$rrf": {
                "ranks": [_rank_dict(r) for r in self.ranks],
                "k": self.k,
                "weights": None if self.weights is None else [float(w) for w in self.weights],
                "normalize": self.normalize,
            }
        }


Rank = Knn | Bm25 | Rrf


def _rank_dict(rank: Any) -> dict[str, Any]:
    if isinstance(rank, Knn | Bm25 | Rrf):
        return rank.to_dict()
    if isinstance(rank, dict):
        return rank
    raise InvalidArgumentError(f"A rank must be Knn, Bm25, Rrf or a dict, got {rank!r}")


def _key_name(key: Any) -> Any:
    return key.name if isinstance(key, Key) else key


class Search:
    """One search: a where filter, a rank, a page (limit, offset) and the fields to return."""

    def __init__(
        self,
        where: Any = None,
        rank: Any = None,
        limit: int | dict[str, Any] | None = None,
        select: Iterable[Any] | None = None,
    ) -> None:
        offset = 0
        if isinstance(limit, dict):
            offset, limit = limit.get("offset", 0), limit.get("limit")
        self._where, self._rank = where, rank
        self._limit, self._offset = limit, offset
        self._select = tuple(select or ())

    def __repr__(self) -> str:
        return (
            f"Search(where={self._where!r}, rank={self._rank!r}, limit={self._limit!r}, "
            f"offset={self._offset!r}, select={list(self._select)!r})"
        )

    def _with(self, **changes: Any) -> Search:
        new = copy.copy(self)
        for name, value in changes.items():
            setattr(new, name, value)
        return new

    def where(self, where: Any) -> Search:
        """Filter by a where dict (Chroma's format; `#id` and `#document` keys too) or `K` clause."""
        return self._with(_where=where)

    def rank(self, rank: Any) -> Search:
        """Rank by Knn, Bm25 or Rrf (None: insertion order, no score)."""
        return self._with(_rank=rank)

    def limit(self, limit: int | None, offset: int = 0) -> Search:
        """Return `limit` results (None: all) after skipping `offset`."""
        return self._with(_limit=limit, _offset=offset)

    def select(self, *keys: Any) -> Search:
        """Fields to return besides ids: K.DOCUMENT, K.EMBEDDING, K.METADATA, K.SCORE or keys."""
        return self._with(_select=tuple(keys))

    def select_all(self) -> Search:
        """Documents, embeddings, all metadata and scores."""
        return self.select(Key.DOCUMENT, Key.EMBEDDING, Key.METADATA, Key.SCORE)

    @property
    def rank_expr(self) -> Any:
        """The rank (Knn, Bm25, Rrf, a dict or None)."""
        return self._rank

    def select_names(self) -> list[str]:
        """The selected field names."""
        return [str(_key_name(k)) for k in self._select]

    def to_dict(self) -> dict[str, Any]:
        """The plain-JSON plan the engine runs (docs/search.md)."""
        where, where_document, ids = split_where(_where_dict(self._where))
        return {
            "where": where,
            "where_document": where_document,
            "ids": ids,
            "rank": None if self._rank is None else _rank_dict(self._rank),
            "limit": self._limit,
            "offset": self._offset,
            "select": [_key_name(k) for k in self._select],
        }


def _where_dict(where: Any) -> Where | None:
    if where is None or isinstance(where, dict):
        return where or None
    if isinstance(where, Condition):
        return where.to_dict()
    raise InvalidArgumentError(f"Expected where to be a dict or a K(...) clause, got {where!r}")


def split_where(where: Where | None) -> tuple[Where | None, Where | None, list[str] | None]:
    """(metadata where, where_document, ids) from a where dict with `#document`/`#id` tests.

    Such tests are taken from the top level or from a top-level `$and`; anywhere else they stay
    in `where`, where Chroma's where validation judges them.
    """
    if not where:
        return None, None, None
    parts = (
        list(where["$and"])
        if list(where) == ["$and"] and isinstance(where["$and"], list)
        else [where]
    )
    rest: list[Where] = []
    documents: list[Where] = []
    ids: list[str] | None = None
    for part in parts:
        key = next(iter(part)) if isinstance(part, dict) and len(part) == 1 else None
        if key == "#document" and isinstance(part[key], dict) and len(part[key]) == 1:
            documents.append(part[key])
        elif key == "#id":
            found = _ids(part[key])
            keep = set(found)
            ids = found if ids is None else [i for i in ids if i in keep]
        else:
            rest.append(part)
    return _join(rest), _join(documents), ids


def _ids(test: Any) -> list[str]:
    if isinstance(test, str):
        return [test]
    if isinstance(test, dict) and len(test) == 1:
        ((op, value),) = test.items()
        if op == "$eq" and isinstance(value, str):
            return [value]
        if op == "$in" and isinstance(value, list) and all(isinstance(v, str) for v in value):
            return list(value)
    raise InvalidArgumentError(f"#id takes $eq or $in with strings, got {test!r}")


def _join(parts: list[Where]) -> Where | None:
    if not parts:
        return None
    return parts[0] if len(parts) == 1 else {"$and": parts}
