"""A benchmark data set on disk: records, queries, the plan (filters, deletes, gets) and exact truth.

Made once by the orchestrator (run.py) in the main venv and read by every engine worker, so all
engines see the same bytes. A data set is a directory under the cache (never in git):

    manifest.json      kind, n, dim, seed, k, queries, the $contains word, filters, source notes
    vectors.npy        float32 (n, dim)             queries.npy   float32 (nq, dim)
    category.npy int8 (codes into CATEGORIES), year.npy int32, score.npy float64, flag.npy bool
    documents.jsonl    one JSON string per line, record order
    deleted.npy        int64 rows deleted in the delete phase (10%, sorted)
    get_sets.npy       int64 (reps, 1000) rows fetched by the get-by-ids phase
    truth.npz          exact cosine top-k rows per query: all, live, wide, narrow, contains (-1 pads)

Record i has id f"id-{i:07d}". Query i filters on category CATEGORIES[i % 20] (5%), and the same
with 2000 <= year <= 2011 (1.7%). Only numpy and the stdlib are used, so the Chroma venv can read it.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from dataclasses import dataclass
from itertools import islice
from pathlib import Path
from typing import Any

import numpy as np

CATEGORIES = [f"cat-{i:02d}" for i in range(20)]
YEARS = (1990, 2025)  # [low, high): 35 values
NARROW_YEARS = (2000, 2011)  # inclusive: 12 of 35 years -> 5% * 12/35 = 1.7% with one category
GET_SET_SIZE = 1000
GET_SETS = 20
FORMAT = 1


def record_id(i: int) -> str:
    return f"id-{i:07d}"


def row_of(record: str) -> int:
    return int(record[3:])


def wide_filter(c: int) -> dict[str, Any]:
    return {"category": CATEGORIES[c]}


def narrow_filter(c: int) -> dict[str, Any]:
    return {
        "$and": [
            {"category": CATEGORIES[c]},
            {"year": {"$gte": NARROW_YEARS[0]}},
            {"year": {"$lte": NARROW_YEARS[1]}},
        ]
    }


@dataclass
class Dataset:
    """A data set directory opened for reading (arrays loaded into memory on first use)."""

    path: Path
    manifest: dict[str, Any]

    @classmethod
    def open(cls, path: Path) -> Dataset:
        return cls(path, json.loads((path / "manifest.json").read_text()))

    @property
    def n(self) -> int:
        return int(self.manifest["n"])

    @property
    def dim(self) -> int:
        return int(self.manifest["dim"])

    @property
    def word(self) -> str:
        return str(self.manifest["word"])

    def array(self, name: str) -> np.ndarray:
        return np.load(self.path / f"{name}.npy")

    def truth(self) -> dict[str, np.ndarray]:
        with np.load(self.path / "truth.npz") as z:
            return {k: z[k] for k in z.files}

    def documents(self, lo: int = 0, hi: int | None = None) -> Iterator[str]:
        """Documents lo..hi in record order, read line by line (never all at once)."""
        with open(self.path / "documents.jsonl", encoding="utf-8") as f:
            for line in islice(f, lo, hi):
                yield json.loads(line)


class Batches:
    """add() arguments for consecutive record ranges, built one batch at a time on demand."""

    def __init__(self, ds: Dataset, vectors: np.ndarray, batch: int) -> None:
        self.ds, self.vectors, self.batch = ds, vectors, batch
        self.category = ds.array("category")
        self.year = ds.array("year")
        self.score = ds.array("score")
        self.flag = ds.array("flag")

    def __iter__(self) -> Iterator[dict[str, Any]]:
        docs = self.ds.documents()
        for lo in range(0, self.ds.n, self.batch):
            hi = min(self.ds.n, lo + self.batch)
            yield {
                "ids": [record_id(i) for i in range(lo, hi)],
                "embeddings": self.vectors[lo:hi],
                "metadatas": [
                    {"category": CATEGORIES[c], "year": y, "score": s, "flag": f}
                    for c, y, s, f in zip(
                        self.category[lo:hi].tolist(),
                        self.year[lo:hi].tolist(),
                        self.score[lo:hi].tolist(),
                        self.flag[lo:hi].tolist(),
                        strict=True,
                    )
                ],
                "documents": list(islice(docs, hi - lo)),
            }


# Writing (orchestrator side) ------------------------------------------------------------
def normalized(a: np.ndarray) -> np.ndarray:
    norms = np.linalg.norm(a, axis=1, keepdims=True)
    return (a / np.maximum(norms, 1e-30)).astype(np.float32)


def exact_topk_cosine(
    unit: np.ndarray, rows: np.ndarray, queries: np.ndarray, k: int, chunk: int = 131_072
) -> np.ndarray:
    """Rows (from `rows`) of the k most cosine-similar of unit[rows] per query; -1 pads."""
    q = normalized(queries)
    best_s = np.full((len(q), k), -np.inf, np.float32)
    best_r = np.full((len(q), k), -1, np.int64)
    for lo in range(0, len(rows), chunk):
        part = rows[lo : lo + chunk]
        sims = q @ unit[part].T
        kk = min(k, len(part))
        top = np.argpartition(-sims, kk - 1, axis=1)[:, :kk]
        s = np.concatenate([best_s, np.take_along_axis(sims, top, axis=1)], axis=1)
        r = np.concatenate([best_r, part[top]], axis=1)
        keep = np.argsort(-s, axis=1, kind="stable")[:, :k]
        best_s, best_r = np.take_along_axis(s, keep, axis=1), np.take_along_axis(r, keep, axis=1)
    return best_r


def metadata_columns(n: int, rng: np.random.Generator) -> dict[str, np.ndarray]:
    """The four metadata fields: category (20 values), year (int), score (float), flag (bool)."""
    return {
        "category": rng.integers(0, len(CATEGORIES), n).astype(np.int8),
        "year": rng.integers(YEARS[0], YEARS[1], n).astype(np.int32),
        "score": rng.random(n),
        "flag": rng.random(n) < 0.5,
    }


def write_dataset(
    path: Path,
    manifest: dict[str, Any],
    vectors: np.ndarray,
    queries: np.ndarray,
    columns: dict[str, np.ndarray],
    documents: list[str],
    seed: int,
) -> Dataset:
    """Write records, plan and exact ground truth to `path` (a temp name renamed at the end)."""
    n, k = len(vectors), int(manifest["k"])
    tmp = path.with_name(path.name + ".tmp")
    tmp.mkdir(parents=True, exist_ok=True)
    t0 = time.perf_counter()
    np.save(tmp / "vectors.npy", np.ascontiguousarray(vectors, np.float32))
    np.save(tmp / "queries.npy", np.ascontiguousarray(queries, np.float32))
    for name, col in columns.items():
        np.save(tmp / f"{name}.npy", col)
    with open(tmp / "documents.jsonl", "w", encoding="utf-8") as f:
        f.writelines(json.dumps(d, ensure_ascii=False) + "\n" for d in documents)
    rng = np.random.default_rng(seed + 1)
    deleted = np.sort(rng.choice(n, n // 10, replace=False)).astype(np.int64)
    np.save(tmp / "deleted.npy", deleted)
    size = min(GET_SET_SIZE, n)
    np.save(
        tmp / "get_sets.npy",
        np.stack([rng.choice(n, size, replace=False) for _ in range(GET_SETS)]),
    )

    word = manifest["word"]
    contains = np.fromiter((word in d for d in documents), bool, n)
    unit = normalized(vectors)
    everything = np.arange(n)
    live = np.ones(n, bool)
    live[deleted] = False
    qcat = np.arange(len(queries)) % len(CATEGORIES)
    in_years = (columns["year"] >= NARROW_YEARS[0]) & (columns["year"] <= NARROW_YEARS[1])
    wide = np.full((len(queries), k), -1, np.int64)
    narrow = wide.copy()
    sel_w, sel_n = [], []
    for c in np.unique(qcat):
        qi = np.flatnonzero(qcat == c)
        m_wide = columns["category"] == c
        m_narrow = m_wide & in_years
        sel_w.append(m_wide.mean())
        sel_n.append(m_narrow.mean())
        wide[qi] = exact_topk_cosine(unit, np.flatnonzero(m_wide), queries[qi], k)
        narrow[qi] = exact_topk_cosine(unit, np.flatnonzero(m_narrow), queries[qi], k)
    np.savez(
        tmp / "truth.npz",
        all=exact_topk_cosine(unit, everything, queries, k),
        live=exact_topk_cosine(unit, np.flatnonzero(live), queries, k),
        wide=wide,
        narrow=narrow,
        contains=exact_topk_cosine(unit, np.flatnonzero(contains), queries, k),
    )
    manifest = {
        **manifest,
        "format": FORMAT,
        "n": n,
        "dim": int(vectors.shape[1]),
        "queries": len(queries),
        "seed": seed,
        "selectivity_wide": float(np.mean(sel_w)),
        "selectivity_narrow": float(np.mean(sel_n)),
        "selectivity_contains": float(contains.mean()),
        "contains_matches": int(contains.sum()),
        "deleted": len(deleted),
        "truth_seconds": round(time.perf_counter() - t0, 1),
    }
    (tmp / "manifest.json").write_text(json.dumps(manifest, indent=2) + "\n")
    tmp.rename(path)
    return Dataset.open(path)
