"""The local query path's fixed costs: filter parsing and result conversion, per call.

    .venv/bin/python benchmarks/bench_query_path.py               # 20k x 64, about 20 s
    .venv/bin/python benchmarks/bench_query_path.py --n 5000      # a few seconds

One compacted collection of benchmarks/workload.py's records (category, year, documents) in
process. Each figure is the p50 (and the minimum, steadier on a loaded machine) of `--calls`
calls after 20 warm-up calls: `query` k=10 with a
metadata `where` (3 predicates), with a `where_document` `$contains` as well, with a 40-predicate
`where`, unfiltered k=100, and `get` of 100 records by a `where`; reading only `ids` of the
result, or every field.
Parsing the filters and converting results to Python are what these figures are sensitive to.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from collections.abc import Callable
from typing import Any

import fletchdb
import numpy as np
from report import log
from workload import CATEGORIES, make_workload

WHERE = {"$and": [{"category": CATEGORIES[0]}, {"year": {"$gte": 1990}}, {"flag": True}]}
WIDE = {"$or": [{"year": {"$gte": 3000 + i}} for i in range(39)] + [WHERE]}  # 40 predicates
FIELDS = ("ids", "distances", "documents", "metadatas")


def _times(call: Callable[[], Any], calls: int) -> np.ndarray:
    for _ in range(20):
        call()
    times = []
    for _ in range(calls):
        start = time.perf_counter()
        call()
        times.append(time.perf_counter() - start)
    return np.asarray(times) * 1000


def _read(result: Any, fields: tuple[str, ...]) -> list[Any]:
    return [result[f] for f in fields]


def _cases(col: Any, query: np.ndarray, word: str) -> dict[str, Callable[[], Any]]:
    def q(**kw: Any) -> Any:
        return col.query(query_embeddings=query, n_results=10, **kw)

    def g() -> Any:
        return col.get(where=WHERE, limit=100)

    doc = {"where": WHERE, "where_document": {"$contains": word}}
    return {
        "query where, ids only": lambda: q(where=WHERE)["ids"],
        "query where, every field": lambda: _read(q(where=WHERE), FIELDS),
        "query where+document, ids only": lambda: q(**doc)["ids"],
        "query 40-predicate where, ids only": lambda: q(where=WIDE)["ids"],
        "query k=100, ids only": lambda: col.query(query_embeddings=query, n_results=100)["ids"],
        "query k=100, every field": lambda: _read(
            col.query(query_embeddings=query, n_results=100), FIELDS
        ),
        "get 100 where, ids only": lambda: g()["ids"],
        "get 100 where, every field": lambda: _read(g(), ("ids", "documents", "metadatas")),
    }


def main(argv: list[str]) -> None:
    """Build the collection, then log each figure."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=20_000)
    parser.add_argument("--dim", type=int, default=64)
    parser.add_argument("--calls", type=int, default=500)
    parser.add_argument("--seed", type=int, default=42)
    args = parser.parse_args(argv)
    wl = make_workload(args.n, args.dim, args.seed)
    with tempfile.TemporaryDirectory() as path:
        client = fletchdb.PersistentClient(path)
        col = client.create_collection("path", embedding_function=None)
        for lo in range(0, args.n, 5000):
            hi = min(lo + 5000, args.n)
            col.add(
                ids=wl.ids[lo:hi],
                embeddings=wl.vectors[lo:hi],
                documents=wl.documents[lo:hi],
                metadatas=[
                    {"category": CATEGORIES[c], "year": int(y), "flag": bool(f)}
                    for c, y, f in zip(
                        wl.category[lo:hi], wl.year[lo:hi], wl.flag[lo:hi], strict=True
                    )
                ],
            )
        col.compact()
        word = wl.vocabulary[0]
        for name, call in _cases(col, wl.vectors[:1], word).items():
            ms = _times(call, args.calls)
            log(f"  {name} p50: {np.percentile(ms, 50):.3f} ms, min {ms.min():.3f} ms")
        client.close()


if __name__ == "__main__":
    main(sys.argv[1:])
