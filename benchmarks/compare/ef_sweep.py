"""Recall@10 and search time of a one-shot usearch index over a cached data set, per ef and count.

A script that prints figures (it asserts nothing):

    .venv/bin/python benchmarks/compare/ef_sweep.py --data real      # ~1 min at 100k x 384

It opens a data set run.py already made (`<cache>/datasets/<kind>-n100000-d384-...`), builds one
f16 cosine index with FletchDB's defaults (M 16, ef_construction 100) in one call, and for each
(ef, count) searches every held-out query on one thread, re-ranks the `count` hits by exact
cosine (as the engine does) and scores the top 10 against the data set's exact truth. It isolates
the index from the rest of the engine: FletchDB builds its index in several compaction runs, whose
graph can differ from a one-shot build by a few neighbours in 2,000.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np
from usearch.index import Index

sys.path.insert(0, str(Path(__file__).resolve().parent))
import envs  # noqa: E402
from dataset import Dataset, normalized  # noqa: E402

SWEEP = [(100, 20), (100, 100), (128, 20), (160, 20), (200, 20)]


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--data", choices=("synthetic", "real"), default="real")
    ap.add_argument("--name", default="n100000-d384-s42-q200-k10", help="data set directory suffix")
    ap.add_argument("--cache-dir", type=Path, default=envs.default_cache_dir())
    args = ap.parse_args()
    path = args.cache_dir / "datasets" / f"{args.data}-{args.name}"
    if not path.exists():
        raise SystemExit(
            f"{path} is missing: run benchmarks/compare/run.py --data {args.data} first"
        )
    ds = Dataset.open(path)
    vectors, queries, truth = ds.array("vectors"), ds.array("queries"), ds.truth()["all"]
    index = Index(ndim=vectors.shape[1], metric="cos", dtype="f16", connectivity=16,
                  expansion_add=100)  # fmt: skip
    t0 = time.perf_counter()
    index.add(np.arange(len(vectors)), vectors, threads=2)
    print(f"{path.name}: built in {time.perf_counter() - t0:.1f} s")
    unit, unit_q = normalized(vectors), normalized(queries)
    for ef, count in SWEEP:
        index.expansion_search = max(ef, count)
        hits, times = 0, []
        for qi, query in enumerate(queries):
            t1 = time.perf_counter()
            keys = np.asarray(index.search(query, count, threads=1).keys, dtype=np.int64)
            times.append(time.perf_counter() - t1)
            top = keys[np.argsort(1.0 - unit[keys] @ unit_q[qi], kind="stable")[:10]]
            hits += len(np.intersect1d(top, truth[qi]))
        recall = hits / truth.size
        print(f"ef {ef:4d} count {count:4d}: recall@10 {recall:.4f}, "
              f"search p50 {np.median(times) * 1e3:.3f} ms")  # fmt: skip
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
