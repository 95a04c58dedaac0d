"""The measurement sequence every engine worker runs, the same calls in the same order.

Engine-agnostic: stdlib + numpy + dataset.py only, so it runs in the Chroma venv too (it must not
import fletchdb). A worker supplies an `Engine` (worker_chroma.py, worker_fletchdb.py); `run`
drives it over a Dataset and returns raw figures plus the ids every query returned. Recall and
ratios are computed by the orchestrator against the data set's exact truth.

Timing rules: wall time with perf_counter around the engine call alone; batches of add() arguments
are built one at a time outside the timing (so no engine pays for the generator, and no process
holds a million metadata dicts at once); 5 untimed warm-up calls precede every latency series.
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any, Protocol

import numpy as np
from dataset import Batches, Dataset, narrow_filter, record_id, wide_filter

# benchmarks/ itself: phases and report are numpy/stdlib only, so the Chroma venv imports them too
if str(Path(__file__).resolve().parents[1]) not in sys.path:
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from phases import timed  # noqa: E402
from report import dir_bytes  # noqa: E402

WARMUP = 5
BATCH_PER_CALL = 100
BATCH_PASSES = 3
REPS = 20  # $contains gets, get-by-ids sets
COUNT_REPS = 50


class Engine(Protocol):
    """One engine under test, open on one data directory."""

    batch: int  # records per add() call
    max_delete: int  # ids per delete() call

    def add(self, batch: dict[str, Any]) -> None: ...
    def wait_indexed(self, timeout: float) -> dict[str, Any]: ...
    def query(
        self, q: np.ndarray, k: int, where: Any = None, where_document: Any = None
    ) -> list[str]: ...
    def query_many(self, qs: np.ndarray, k: int) -> list[list[str]]: ...
    def get_ids(self, ids: list[str]) -> int: ...
    def get_contains(self, word: str) -> list[str]: ...
    def count(self) -> int: ...
    def delete(self, ids: list[str]) -> None: ...
    def after_delete(self, queries: np.ndarray, k: int) -> dict[str, Any]: ...
    def close(self) -> dict[str, Any]: ...
    def cold_start(self, query_file: Path, k: int) -> dict[str, Any]: ...


class ChromaApiCalls:
    """The measured calls, written once: Chroma's collection API, which both engines speak."""

    col: Any  # the engine's collection

    def add(self, batch: dict[str, Any]) -> None:
        self.col.add(**batch)

    def query(
        self, q: np.ndarray, k: int, where: Any = None, where_document: Any = None
    ) -> list[str]:
        res = self.col.query(
            query_embeddings=q.reshape(1, -1),
            n_results=k,
            where=where,
            where_document=where_document,
        )
        return list(res["ids"][0])

    def query_many(self, qs: np.ndarray, k: int) -> list[list[str]]:
        return [list(r) for r in self.col.query(query_embeddings=qs, n_results=k)["ids"]]

    def get_ids(self, ids: list[str]) -> int:
        return len(self.col.get(ids=ids)["ids"])

    def get_contains(self, word: str) -> list[str]:
        return list(self.col.get(where_document={"$contains": word}, include=[])["ids"])

    def count(self) -> int:
        return int(self.col.count())

    def delete(self, ids: list[str]) -> None:
        self.col.delete(ids=ids)


def log(msg: str) -> None:
    print(msg, file=sys.stderr, flush=True)


def proc_status(pid: int | str = "self") -> dict[str, float]:
    """VmRSS and VmHWM (peak) of a process in MiB, from /proc/<pid>/status."""
    out = {}
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        key, _, value = line.partition(":")
        if key in ("VmRSS", "VmHWM"):
            out[key] = int(value.split()[0]) / 1024
    return out


def series(fn: Any, inputs: list[Any]) -> tuple[list[float], list[Any]]:
    """Milliseconds per call of fn(x) and the results, after WARMUP untimed calls."""
    times, out = timed(fn, inputs, WARMUP)
    return times.tolist(), out


def pct(times: list[float], q: float) -> float:
    return float(np.percentile(times, q))


def ingest(engine: Engine, ds: Dataset, vectors: np.ndarray, timeout: float) -> dict[str, Any]:
    """add() every batch; then wait until the engine reports everything indexed."""
    log(f"  ingesting {ds.n:,} records, {engine.batch:,} per add() ...")
    gc.collect()
    add_s = build_s = 0.0
    calls = 0
    batches = iter(Batches(ds, vectors, engine.batch))
    t_first = time.perf_counter()
    while True:
        t0 = time.perf_counter()
        b = next(batches, None)
        build_s += time.perf_counter() - t0
        if b is None:
            break
        t0 = time.perf_counter()
        engine.add(b)
        add_s += time.perf_counter() - t0
        calls += 1
    t_acked = time.perf_counter()
    notes = engine.wait_indexed(timeout)
    t_indexed = time.perf_counter()
    return {
        "ingest_rps": ds.n / add_s,
        "ingest_s": add_s,
        "add_calls": calls,
        "indexed_s": t_indexed - t_first - build_s,
        "indexed_after_ack_s": t_indexed - t_acked,
        "index_notes": notes,
    }


def queries_phase(engine: Engine, ds: Dataset, queries: np.ndarray, k: int) -> dict[str, Any]:
    """Unfiltered single and batched queries, filtered (5%, 1.7%), $contains, get, count."""
    f: dict[str, Any] = {}
    ids: dict[str, Any] = {}
    qs = list(queries)
    nq = len(qs)
    log("  queries ...")
    t, ids["all"] = series(lambda q: engine.query(q, k), qs)
    f["query_p50_ms"], f["query_p95_ms"] = pct(t, 50), pct(t, 95)
    per = min(BATCH_PER_CALL, nq)
    engine.query_many(queries[:per], k)
    t0 = time.perf_counter()
    for _ in range(BATCH_PASSES):
        got: list[list[str]] = []
        for lo in range(0, nq, per):
            got += engine.query_many(queries[lo : lo + per], k)
    f["batch_qps"] = nq * BATCH_PASSES / (time.perf_counter() - t0)
    f["batch_per_call"] = per
    ids["batch"] = got
    cats = np.arange(nq) % 20
    for name, make in (("wide", wide_filter), ("narrow", narrow_filter)):
        inputs = list(zip(qs, (make(int(c)) for c in cats), strict=True))
        t, ids[name] = series(lambda a: engine.query(a[0], k, where=a[1]), inputs)
        f[f"{name}_p50_ms"], f[f"{name}_p95_ms"] = pct(t, 50), pct(t, 95)
    log("  $contains, get, count ...")
    wd = {"$contains": ds.word}
    t, ids["contains"] = series(lambda q: engine.query(q, k, where_document=wd), qs)
    f["contains_query_p50_ms"] = pct(t, 50)
    t, got_c = series(lambda _: engine.get_contains(ds.word), list(range(REPS)))
    f["contains_get_p50_ms"] = pct(t, 50)
    ids["contains_get"] = sorted(got_c[0])
    sets = [[record_id(i) for i in row] for row in ds.array("get_sets").tolist()]
    t, got_n = series(engine.get_ids, sets)
    f["get_ids_p50_ms"] = pct(t, 50)
    f["get_ids_returned_min"] = min(got_n)
    f["get_ids_size"] = len(sets[0])
    t, counts = series(lambda _: engine.count(), list(range(COUNT_REPS)))
    f["count_p50_ms"] = pct(t, 50)
    f["count"] = counts[0]
    return {"figures": f, "ids": ids}


def delete_phase(engine: Engine, ds: Dataset, queries: np.ndarray, k: int) -> dict[str, Any]:
    """Delete 10% of the records, count, query again (the orchestrator checks for deleted ids)."""
    deleted = [record_id(i) for i in ds.array("deleted").tolist()]
    log(f"  deleting {len(deleted):,} records ...")
    t0 = time.perf_counter()
    for lo in range(0, len(deleted), engine.max_delete):
        engine.delete(deleted[lo : lo + engine.max_delete])
    f: dict[str, Any] = {"delete_s": time.perf_counter() - t0, "deleted": len(deleted)}
    f["count_after_delete"] = engine.count()
    t, after = series(lambda q: engine.query(q, k), list(queries))
    f["after_delete_p50_ms"] = pct(t, 50)
    f.update(engine.after_delete(queries, k))
    return {"figures": f, "ids": {"after_delete": after}}


def run(engine: Engine, ds: Dataset, data_dir: Path, k: int, timeout: float) -> dict[str, Any]:
    """The whole sequence on an open engine; returns figures and result ids (JSON-ready)."""
    vectors = ds.array("vectors")
    queries = ds.array("queries")
    baseline = proc_status()["VmRSS"]
    f = ingest(engine, ds, vectors, timeout)
    q = queries_phase(engine, ds, queries, k)
    d = delete_phase(engine, ds, queries, k)
    f.update(q["figures"])
    f.update(d["figures"])
    f.update(engine.close())
    f["disk_bytes"] = dir_bytes(data_dir)
    with open(data_dir.parent / "query0.npy", "wb") as fh:
        np.save(fh, queries[:1])
    f.update(engine.cold_start(data_dir.parent / "query0.npy", k))
    f["rss_baseline_mib"] = baseline
    f["rss_peak_mib"] = proc_status()["VmHWM"]
    return {"figures": f, "ids": {**q["ids"], **d["ids"]}}


def spawn_cold_start(script: Path, args: list[str]) -> dict[str, Any]:
    """Run `script reopen ARGS` in a fresh interpreter; its JSON plus the total wall time."""
    t0 = time.perf_counter()
    proc = subprocess.run(
        [sys.executable, str(script), "reopen", *args],
        capture_output=True,
        text=True,
        timeout=900,
        env={**os.environ},
    )
    wall = time.perf_counter() - t0
    if proc.returncode != 0:
        raise RuntimeError(f"reopen process failed:\n{proc.stderr[-4000:]}")
    out = json.loads(proc.stdout.strip().splitlines()[-1])
    return {
        "cold_start_s": wall,
        "open_query_s": out["open_s"] + out["first_query_s"],
        "import_s": out["import_s"],
        "cold_ids": out["ids"],
        "cold_rss_mib": out["rss_mib"],
    }


def reopen_report(
    t_start: float,
    t_imported: float,
    t_open0: float,
    t_opened: float,
    t_query: float,
    ids: list[str],
) -> None:
    """Print the reopen process's JSON line (timings, ids, its own peak RSS)."""
    print(
        json.dumps(
            {
                "import_s": t_imported - t_start,
                "open_s": t_opened - t_open0,
                "first_query_s": t_query - t_opened,
                "ids": ids,
                "rss_mib": proc_status()["VmHWM"],
            }
        )
    )


def parser(description: str) -> argparse.ArgumentParser:
    """Worker arguments: `run --dataset D --data-dir P --out F` or `reopen P QUERY K`."""
    ap = argparse.ArgumentParser(description=description)
    sub = ap.add_subparsers(dest="cmd", required=True)
    r = sub.add_parser("run")
    r.add_argument("--dataset", required=True, type=Path)
    r.add_argument("--data-dir", required=True, type=Path, help="new or empty directory")
    r.add_argument("--out", required=True, type=Path)
    r.add_argument("--k", type=int, default=10)
    r.add_argument("--batch", type=int, default=0, help="records per add (0: engine default)")
    r.add_argument("--index-timeout", type=float, default=3600.0)
    r.add_argument("--setting", action="append", default=[], metavar="NAME=VALUE")
    r.add_argument("--mode", choices=("local", "flight"), default="local", help="FletchDB only")
    o = sub.add_parser("reopen")
    o.add_argument("path", type=Path)
    o.add_argument("query", type=Path)
    o.add_argument("k", type=int)
    o.add_argument("--setting", action="append", default=[], metavar="NAME=VALUE")
    return ap


def write_result(path: Path, result: dict[str, Any], meta: dict[str, Any]) -> None:
    path.write_text(json.dumps({**meta, **result}) + "\n")
