"""Brute-force references for the search tests: tokenizer, BM25 and reciprocal rank fusion.

Plain Python over plain lists, written from the definitions in docs/search.md, sharing no code
with the engine.
"""

from __future__ import annotations

import math
import unicodedata
from collections import Counter
from collections.abc import Sequence

TOKEN_CATEGORIES = ("L", "M", "N")  # letters, marks, numbers


def tokens(text: str | None) -> list[str]:
    """Lowercase code point by code point, then split on every other character."""
    if text is None:
        return []
    out: list[str] = []
    word: list[str] = []
    for ch in text:
        if unicodedata.category(ch)[0] in TOKEN_CATEGORIES:
            word.append(ch.lower())
        elif word:
            out.append("".join(word))
            word = []
    if word:
        out.append("".join(word))
    return out


def bm25(
    documents: Sequence[str | None], query: str, k1: float = 1.2, b: float = 0.75
) -> dict[int, float]:
    """BM25 score of every matching document (by position) over the whole list as the corpus."""
    terms = list(dict.fromkeys(tokens(query)))
    docs = [Counter(tokens(d)) for d in documents]
    lengths = [sum(c.values()) for c in docs]
    n = len(docs)
    if n == 0 or sum(lengths) == 0:
        return {}
    avgdl = sum(lengths) / n
    scores: dict[int, float] = {}
    for term in terms:
        df = sum(1 for c in docs if term in c)
        if df == 0:
            continue
        idf = math.log(1 + (n - df + 0.5) / (df + 0.5))
        for i, c in enumerate(docs):
            tf = c.get(term, 0)
            if tf:
                norm = tf + k1 * (1 - b + b * lengths[i] / avgdl)
                scores[i] = scores.get(i, 0.0) + idf * tf * (k1 + 1) / norm
    return scores


def ranked(scores: dict[int, float], limit: int | None = None) -> list[tuple[int, float]]:
    """(position, -score) best first, ties in position order (FletchDB's ascending scores)."""
    order = sorted(scores.items(), key=lambda kv: (-kv[1], kv[0]))
    return [(i, -s) for i, s in order[:limit]]


def rrf(
    lists: Sequence[Sequence[str]],
    order: Sequence[str],
    k: int = 60,
    weights: Sequence[float] | None = None,
    defaults: Sequence[float | None] | None = None,
) -> list[tuple[str, float]]:
    """Reciprocal rank fusion of ranked id lists; ties in insertion `order`."""
    weights = list(weights) if weights is not None else [1.0] * len(lists)
    defaults = list(defaults) if defaults is not None else [None] * len(lists)
    candidates = {i for ids in lists for i in ids}
    fused: dict[str, float] = {}
    for rid in candidates:
        total, keep = 0.0, True
        for ids, w, default in zip(lists, weights, defaults, strict=True):
            if rid in ids:
                total += w / (k + ids.index(rid))
            elif default is None:
                keep = False
            else:
                total += w / (k + default)
        if keep:
            fused[rid] = -total
    position = {rid: i for i, rid in enumerate(order)}
    return sorted(fused.items(), key=lambda kv: (kv[1], position[kv[0]]))


def assert_ranking(got: Sequence[tuple[str, float]], want: Sequence[tuple[str, float]]) -> None:
    """Same length, scores equal to 1e-5 position by position, ids equal except among ties."""
    assert len(got) == len(want), (got, want)
    assert len({rid for rid, _ in got}) == len(got), got
    want_score = dict(want)
    for pos, ((gid, gs), (wid, ws)) in enumerate(zip(got, want, strict=True)):
        assert math.isclose(gs, ws, rel_tol=1e-5, abs_tol=1e-9), (pos, got, want)
        if gid != wid:  # only among ties: the reference gives gid the same score as wid
            assert gid in want_score and abs(want_score[gid] - ws) <= 1e-9, (pos, got, want)
