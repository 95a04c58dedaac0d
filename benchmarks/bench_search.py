"""Full-text and hybrid search benchmark: BM25 and Rrf(Knn + Bm25) latency over short documents.

    .venv/bin/python benchmarks/bench_search.py            # 100k documents (targets below)
    .venv/bin/python benchmarks/bench_search.py --quick    # 10k documents, in seconds

The documents are benchmarks/workload.py's (4-10 made-up words from a 300-word vocabulary, with
clustered vectors). The collection is compacted fully, then each figure times `--queries` calls of
`collection.search` in process (local mode), after 5 untimed warm-up calls. Queries are 1-3 words
of the vocabulary; hybrid is `Rrf([Knn(vector, limit=16), Bm25(words, limit=16)])` with defaults so
that a record found by one ranker only still ranks. Targets (100k documents): BM25 p50 <= 20 ms,
hybrid p50 <= 25 ms. A last pair of figures repeats BM25 with 5% of the records in the log tail.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import fletchdb
import numpy as np
from fletchdb import Bm25, Knn, Rrf, Search, Settings
from phases import timed
from report import log, machine_info
from workload import make_workload

TARGETS = {"bm25 p50": 20.0, "hybrid p50": 25.0}


def _ingest(col: Any, wl: Any, lo: int, hi: int, batch: int) -> None:
    for start in range(lo, hi, batch):
        end = min(start + batch, hi)
        col.add(
            ids=wl.ids[start:end],
            embeddings=wl.vectors[start:end],
            documents=wl.documents[start:end],
        )


def _figures(name: str, times: np.ndarray, rows: list[tuple[str, float, str]]) -> None:
    for pct in (50, 95):
        label = f"{name} p{pct}"
        rows.append((label, float(np.percentile(times, pct)), "ms"))
        log(f"  {label}: {rows[-1][1]:.3f} ms")


def run(args: argparse.Namespace) -> list[tuple[str, float, str]]:
    """Build the collection and time the searches; the figures as (name, value, unit)."""
    wl = make_workload(args.n, args.dim, args.seed)
    rng = np.random.default_rng(args.seed + 1)
    queries = [
        " ".join(rng.choice(wl.vocabulary, size=int(rng.integers(1, 4)), replace=False))
        for _ in range(args.queries)
    ]
    vectors = wl.vectors[rng.choice(args.n, args.queries, replace=False)]
    tail = args.n // 20
    rows: list[tuple[str, float, str]] = []
    with tempfile.TemporaryDirectory() as tmp:
        client = fletchdb.PersistentClient(
            Path(tmp), settings=Settings(compaction_enabled=False, hnsw_dtype="f16")
        )
        col = client.create_collection("search-bench")
        t0 = time.perf_counter()
        _ingest(col, wl, 0, args.n - tail, args.batch)
        col.compact()
        log(f"ingest + compaction of {args.n - tail:,} records: {time.perf_counter() - t0:.1f} s")
        bm25 = [Search().rank(Bm25(q, limit=args.k)) for q in queries]
        hybrid = [
            Search()
            .rank(Rrf([Knn(query=v.tolist(), default=16), Bm25(q, default=16)]))
            .limit(args.k)
            for q, v in zip(queries, vectors, strict=True)
        ]
        _figures("bm25", timed(col.search, bm25)[0], rows)
        _figures("hybrid", timed(col.search, hybrid)[0], rows)
        _ingest(col, wl, args.n - tail, args.n, args.batch)
        _figures(f"bm25 with {tail:,} records in the tail", timed(col.search, bm25)[0], rows)
        client.close()
    return rows


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--n", type=int, default=100_000, help="documents (default 100,000)")
    parser.add_argument("--dim", type=int, default=128, help="embedding dimension (default 128)")
    parser.add_argument("--quick", action="store_true", help="10k documents")
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--batch", type=int, default=5_000, help="records per add() call")
    parser.add_argument("--queries", type=int, default=200, help="searches per figure")
    parser.add_argument("--k", type=int, default=10, help="results per search")
    args = parser.parse_args(argv)
    if args.quick:
        args.n = 10_000
    machine = machine_info()
    log(f"{machine['cpu_count']} cores, load {machine['load_average']}, n={args.n:,}")
    rows = run(args)
    print(f"bench_search: n={args.n:,} dim={args.dim} queries={args.queries} k={args.k}")
    print(f"load average at end {machine_info()['load_average']}")
    print("| figure | value | unit | target | met |\n|---|---|---|---|---|")
    for name, value, unit in rows:
        target = TARGETS.get(name)
        met = "" if target is None or args.quick else ("yes" if value <= target else "no")
        shown = "" if target is None else f"<= {target:g}"
        print(f"| {name} | {value:.3f} | {unit} | {shown} | {met} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
