"""The benchmark's workload: generated records, queries, filters and their exact ground truth.

Everything here is plain numpy, fixed by the seed, and computed before the engine starts (see
benchmarks/README.md, "Workload").
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

import numpy as np
from report import log

COLLECTION = "bench"
CATEGORIES = [f"cat-{i:02d}" for i in range(20)]
YEARS = (1990, 2025)  # [low, high): 35 values
NARROW_YEARS = (2000, 2011)  # inclusive: 12 of 35 years -> 5% * 12/35 = 1.7% with one category


@dataclass
class Workload:
    ids: list[str]
    vectors: np.ndarray
    category: np.ndarray  # int codes into CATEGORIES
    year: np.ndarray
    score: np.ndarray
    flag: np.ndarray
    documents: list[str]
    vocabulary: list[str]

    def metadatas(self, lo: int, hi: int) -> list[dict[str, Any]]:
        return [
            {
                "category": CATEGORIES[int(c)],
                "year": int(y),
                "score": float(s),
                "flag": bool(f),
            }
            for c, y, s, f in zip(
                self.category[lo:hi],
                self.year[lo:hi],
                self.score[lo:hi],
                self.flag[lo:hi],
                strict=True,
            )
        ]


def make_vocabulary(rng: np.random.Generator, size: int) -> list[str]:
    """`size` made-up words, none a substring of another (so `$contains` matches whole words)."""
    syllables = [c + v for c in "bdfgklmnprstvz" for v in "aeiou"]
    words: set[str] = set()
    while len(words) < size * 2:
        words.add("".join(rng.choice(syllables, size=int(rng.integers(2, 4)))))
    ordered = sorted(words, key=lambda w: (len(w), w))
    vocab: list[str] = []
    for w in ordered:  # keep a word only if no kept word is inside it
        if not any(v in w for v in vocab):
            vocab.append(w)
        if len(vocab) == size:
            break
    rng.shuffle(vocab)
    return vocab


def make_workload(n: int, dim: int, seed: int) -> Workload:
    rng = np.random.default_rng(seed)
    latent_dim, n_centers = 24, 64
    centers = rng.normal(0.0, 1.0, (n_centers, latent_dim))
    assign = rng.integers(0, n_centers, n)
    latent = centers[assign] + rng.normal(0.0, 0.35, (n, latent_dim))
    projection = rng.normal(0.0, 1.0 / np.sqrt(latent_dim), (latent_dim, dim))
    vectors = (latent @ projection + rng.normal(0.0, 0.05, (n, dim))).astype(np.float32)
    vocab = make_vocabulary(rng, 300)
    lengths = rng.integers(4, 11, n)
    words = rng.integers(0, len(vocab), int(lengths.sum()))
    documents, pos = [], 0
    for length in lengths:
        documents.append(" ".join(vocab[w] for w in words[pos : pos + length]))
        pos += length
    return Workload(
        ids=[f"id-{i:07d}" for i in range(n)],
        vectors=vectors,
        category=rng.integers(0, len(CATEGORIES), n),
        year=rng.integers(YEARS[0], YEARS[1], n),
        score=rng.random(n),
        flag=rng.random(n) < 0.5,
        documents=documents,
        vocabulary=vocab,
    )


def exact_topk_ids(
    vectors: np.ndarray, rows: np.ndarray, queries: np.ndarray, k: int
) -> list[set[int]]:
    """Per query, the row numbers of the k nearest of `vectors[rows]` (squared L2, exact)."""
    sub = vectors[rows]
    sq = np.einsum("ij,ij->i", sub, sub)
    out = []
    for start in range(0, len(queries), 64):
        q = queries[start : start + 64]
        d = sq[None, :] - 2.0 * (q @ sub.T)
        kk = min(k, len(rows))
        part = np.argpartition(d, kk - 1, axis=1)[:, :kk]
        out.extend(set(rows[p].tolist()) for p in part)
    return out


def recall(results: list[list[str]], truth: list[set[int]], k: int) -> float:
    hits = total = 0
    for got, want in zip(results, truth, strict=True):
        rows = {int(i[3:]) for i in got}
        hits += len(rows & want)
        total += min(k, len(want))
    return hits / total if total else 1.0


@dataclass
class Plan:
    """The queries, filters and deletes the benchmark runs, with their exact answers."""

    queries: np.ndarray  # perturbed data points, float32
    deleted_rows: np.ndarray  # sorted row numbers of the 10% deleted in phase 7
    wide: list[dict[str, Any]]  # per query: one category (5%)
    narrow: list[dict[str, Any]]  # per query: one category and NARROW_YEARS (1.7%)
    word: str  # the `$contains` word
    contains_mask: np.ndarray  # rows whose document contains `word`
    truth_all: list[set[int]]
    truth_live: list[set[int]]  # after the deletes
    truth_wide: list[set[int]]
    truth_narrow: list[set[int]]
    truth_contains: list[set[int]]
    wide_selectivity: float
    narrow_selectivity: float


def make_plan(wl: Workload, rng: np.random.Generator, nq: int, k: int) -> Plan:
    n, dim = wl.vectors.shape
    # queries: perturbed data points
    picks = rng.choice(n, nq, replace=False)
    noise = rng.normal(0.0, 0.1, (nq, dim)).astype(np.float32)
    queries = (wl.vectors[picks] + noise).astype(np.float32)
    everything = np.arange(n)
    deleted_rows = np.sort(rng.choice(n, n // 10, replace=False))
    live_mask = np.ones(n, bool)
    live_mask[deleted_rows] = False
    # filters: query i uses category i % 20
    qcat = np.arange(nq) % len(CATEGORIES)
    wide = [{"category": CATEGORIES[c]} for c in qcat]
    narrow = [
        {
            "$and": [
                {"category": CATEGORIES[c]},
                {"year": {"$gte": NARROW_YEARS[0]}},
                {"year": {"$lte": NARROW_YEARS[1]}},
            ]
        }
        for c in qcat
    ]
    in_years = (wl.year >= NARROW_YEARS[0]) & (wl.year <= NARROW_YEARS[1])
    word = wl.vocabulary[0]
    contains_mask = np.array([word in d for d in wl.documents])

    log("computing exact ground truth with numpy ...")
    t0 = time.perf_counter()
    truth_all = exact_topk_ids(wl.vectors, everything, queries, k)
    truth_live = exact_topk_ids(wl.vectors, np.nonzero(live_mask)[0], queries, k)
    truth_wide, truth_narrow = [], []
    wide_sel, narrow_sel = [], []
    for c in range(len(CATEGORIES)):
        qi = np.nonzero(qcat == c)[0]
        if not len(qi):
            continue
        m_wide = wl.category == c
        m_narrow = m_wide & in_years
        wide_sel.append(m_wide.mean())
        narrow_sel.append(m_narrow.mean())
        for mask, out in ((m_wide, truth_wide), (m_narrow, truth_narrow)):
            got = exact_topk_ids(wl.vectors, np.nonzero(mask)[0], queries[qi], k)
            out.extend(zip(qi.tolist(), got, strict=True))
    truth_contains = exact_topk_ids(wl.vectors, np.nonzero(contains_mask)[0], queries, k)
    log(f"  ground truth in {time.perf_counter() - t0:.1f} s")
    return Plan(
        queries=queries,
        deleted_rows=deleted_rows,
        wide=wide,
        narrow=narrow,
        word=word,
        contains_mask=contains_mask,
        truth_all=truth_all,
        truth_live=truth_live,
        truth_wide=[t for _, t in sorted(truth_wide, key=lambda x: x[0])],
        truth_narrow=[t for _, t in sorted(truth_narrow, key=lambda x: x[0])],
        truth_contains=truth_contains,
        wide_selectivity=float(np.mean(wide_sel)),
        narrow_selectivity=float(np.mean(narrow_sel)),
    )


def add_batches(wl: Workload, batch: int) -> list[dict[str, Any]]:
    """Every add() argument, built before timing: the figure is the engine's, not the generator's."""
    n = len(wl.ids)
    batches = []
    for lo in range(0, n, batch):
        hi = min(n, lo + batch)
        batches.append(
            dict(
                ids=wl.ids[lo:hi],
                embeddings=wl.vectors[lo:hi],
                metadatas=wl.metadatas(lo, hi),
                documents=wl.documents[lo:hi],
            )
        )
    return batches
