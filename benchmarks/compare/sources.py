"""The two kinds of data set, made once and cached (orchestrator side, main venv).

- synthetic: benchmarks/workload.py's clustered vectors (low intrinsic dimension, fixed seed) and
  documents of 4-10 made-up words; queries are data points plus noise; `$contains` word =
  the workload's first vocabulary word (~2.4% of documents).
- real: all-MiniLM-L6-v2 embeddings of docstring paragraphs (realdata.py), 384 dimensions;
  queries are held-out paragraphs; `$contains` word = the 6+ letter word whose document frequency
  is nearest 2.4%.

Both carry the same synthetic metadata (category, year, score, flag; fixed seed), so the filters
have the same selectivities on either. Cache key: kind, n, dim, seed, queries, k.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
if str(HERE.parent) not in sys.path:
    sys.path.insert(0, str(HERE.parent))

import realdata  # noqa: E402
from dataset import Dataset, metadata_columns, write_dataset  # noqa: E402
from workload import make_workload  # noqa: E402


def log(msg: str) -> None:
    print(msg, file=sys.stderr, flush=True)


def dataset_dir(cache: Path, kind: str, n: int, dim: int, seed: int, nq: int, k: int) -> Path:
    return cache / "datasets" / f"{kind}-n{n}-d{dim}-s{seed}-q{nq}-k{k}"


def synthetic(cache: Path, n: int, dim: int, seed: int, nq: int, k: int) -> Dataset:
    """The synthetic data set, generated and written on first use."""
    path = dataset_dir(cache, "synthetic", n, dim, seed, nq, k)
    if (path / "manifest.json").exists():
        return Dataset.open(path)
    log(f"generating the synthetic data set {n:,} x {dim} (seed {seed}) and its exact truth ...")
    wl = make_workload(n, dim, seed)
    rng = np.random.default_rng(seed + 2)
    picks = rng.choice(n, nq, replace=False)
    queries = wl.vectors[picks] + rng.normal(0.0, 0.1, (nq, dim)).astype(np.float32)
    columns = {
        "category": wl.category.astype(np.int8),
        "year": wl.year.astype(np.int32),
        "score": wl.score.astype(np.float64),
        "flag": wl.flag.astype(bool),
    }
    manifest = {
        "kind": "synthetic",
        "k": k,
        "word": wl.vocabulary[0],
        "source": "benchmarks/workload.py make_workload: 64 Gaussian clusters in a 24-d latent "
        "space projected to dim + noise; queries = data points + N(0, 0.1) noise",
    }
    return write_dataset(path, manifest, wl.vectors, queries, columns, wl.documents, seed)


def real(cache: Path, n: int, seed: int, nq: int, k: int, embed_python: Path) -> Dataset:
    """The MiniLM data set: docstring paragraphs embedded once (cached), first nq held out."""
    path = dataset_dir(cache, "real", n, 384, seed, nq, k)
    if (path / "manifest.json").exists():
        return Dataset.open(path)
    texts_dir = cache / "real-minilm"
    texts, vectors = realdata.ensure_embeddings(texts_dir, embed_python, nq + n)
    documents = texts[nq:]
    columns = metadata_columns(n, np.random.default_rng(seed))
    info = json.loads((texts_dir / "texts.json").read_text())
    manifest = {
        "kind": "real",
        "k": k,
        "word": realdata.contains_word(documents),
        "source": f"{realdata.MODEL} embeddings of docstring paragraphs, queries = the first "
        f"{nq} (held out)",
        "collection": info,
    }
    log(f"writing the real data set {n:,} x 384 and its exact truth ...")
    return write_dataset(path, manifest, vectors[nq:], vectors[:nq], columns, documents, seed)
