"""Narrowing document filters with a version's trigram index, before the exact SQL filter runs.

`candidate_rows` walks the parsed `where` and `where_document` trees and returns a superset of the
version rows that can match: a `$contains` needs every byte trigram of its pattern, a `$regex`
needs every trigram of each literal it requires (`regex_literals`); `$and` intersects, `$or`
unites, and negations or metadata tests do not narrow. The executor then runs the unchanged SQL
filter over those rows only, so the result is exactly what a full scan gives.

Decision: the narrowing uses the byte-trigram index (`doc_index.py`), not the full-text token
tables. Tokens are lowercased and split on punctuation, while `$contains` and `$regex` are
case-sensitive and match inside words, so tokens could only confirm whole-word literals; trigrams
narrow any literal of 3 or more UTF-8 bytes, exactly.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ..versions.doc_index import SCAN_FRACTION, DocIndex
from ..versions.store import Version
from .filters import Compare, DocMatch, Filters, Logical, Node
from .regex_literals import required_literals


def candidate_rows(version: Version, filters: Filters) -> np.ndarray | None:
    """Sorted version rows that may match the filters, or None when narrowing does not pay."""
    index = version.doc_index()
    if index is None or version.num_rows == 0:
        return None
    if filters.document is None and not _tests_documents(filters.where):  # metadata only
        return None
    trees = tuple(n for n in (filters.where, filters.document) if n is not None)
    rows = _narrow(index, Logical("$and", trees))
    if rows is None or len(rows) > SCAN_FRACTION * version.num_rows:
        return None
    return rows


def _tests_documents(node: Node | None) -> bool:
    """Whether a parsed `where` holds a document test (`#document` `$contains`)."""
    if isinstance(node, Logical):
        return any(_tests_documents(child) for child in node.children)
    return isinstance(node, DocMatch)


def _narrow(index: DocIndex, node: Node) -> np.ndarray | None:
    """Rows that may satisfy `node` (sorted), or None for "any row may"."""
    if isinstance(node, Compare):
        return None
    if isinstance(node, DocMatch):
        if node.op == "$contains":
            return index.candidates(node.pattern)
        if node.op == "$regex":
            literals = required_literals(node.pattern) or []
            return _all(index.candidates(lit) for lit in literals)
        return None
    children = [_narrow(index, child) for child in node.children]
    if node.op == "$and":
        return _all(children)
    if any(c is None for c in children):
        return None
    found = [c for c in children if c is not None]
    return np.unique(np.concatenate(found)) if found else None


def _all(parts: Any) -> np.ndarray | None:
    """The intersection of the known row sets (None when none is known)."""
    result: np.ndarray | None = None
    for rows in parts:
        if rows is None:
            continue
        result = rows if result is None else np.intersect1d(result, rows, assume_unique=True)
        if len(result) == 0:
            break
    return result
