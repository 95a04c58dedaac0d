"""FletchDB engine benchmark: ingest, indexing, queries, filters, gets, delete, reopen, footprint.

A script that prints figures (it is not a test and asserts only correctness, never timing):

    .venv/bin/python benchmarks/bench_engine.py             # 100k x 384, a few minutes
    .venv/bin/python benchmarks/bench_engine.py --quick     # 10k x 384, under a minute
    .venv/bin/python benchmarks/bench_engine.py --json results.json --set hnsw_dtype=f16

The workload is fixed by `--seed`: clustered float32 vectors of low intrinsic dimension (Gaussian
clusters in a small latent space, projected to `--dim` dimensions plus isotropic noise; on i.i.d.
random vectors HNSW recall collapses, so they would measure nothing useful), four metadata fields
(`category` 20 strings, `year` int 1990-2024, `score` float, `flag` bool) and documents of 4-10 words
from a vocabulary of 300 made-up words. Every ground truth (recall, filter selectivity, `$contains`
matches) is computed up front with numpy, before the engine starts, so it never competes with the
background compactor. See benchmarks/README.md for what each figure means.

This file holds the options and the measurement sequence; the sibling modules hold the rest:
workload.py (data, queries, ground truth), phases.py (the in-process measurements), report.py
(machine info, the table, JSON).
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import textwrap
import time
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
for _folder in (ROOT, HERE):  # run from a checkout without installing; the sibling modules
    if str(_folder) not in sys.path:
        sys.path.insert(0, str(_folder))

import fletchdb  # noqa: E402
import phases  # noqa: E402
from report import Report, dir_bytes, log, machine_info, render, source_fingerprint, write_json  # noqa: E402
from workload import COLLECTION, Plan, add_batches, make_plan, make_workload, recall  # noqa: E402

REOPEN_SNIPPET = textwrap.dedent(
    """
    import json, sys, time
    t_start = time.perf_counter()
    import numpy as np
    import fletchdb
    t_imported = time.perf_counter()
    path, query_file, k = sys.argv[1], sys.argv[2], int(sys.argv[3])
    query = np.load(query_file)
    t0 = time.perf_counter()
    client = fletchdb.PersistentClient(path, settings=fletchdb.Settings(**json.loads(sys.argv[4])))
    collection = client.get_collection("bench")
    t_open = time.perf_counter()
    result = collection.query(query_embeddings=query, n_results=k)
    t_query = time.perf_counter()
    second = []
    for _ in range(20):
        t = time.perf_counter()
        collection.query(query_embeddings=query, n_results=k)
        second.append(time.perf_counter() - t)
    client.close()
    # VmHWM, not ru_maxrss: Linux carries ru_maxrss across exec from the forked parent
    status = open("/proc/self/status").read().split("VmHWM:")[1].split()
    print(json.dumps({
        "max_rss_mib": int(status[0]) / 1024,
        "import_s": t_imported - t_start,
        "open_s": t_open - t0,
        "first_query_s": t_query - t_open,
        "open_and_query_s": t_query - t0,
        "warm_query_p50_s": sorted(second)[len(second) // 2],
        "ids": result["ids"][0],
    }))
    """
)


def add_disk_size(rep: Report, path: Path, n: int, dim: int, more: str = "") -> None:
    """The report row for the data directory's size, against the raw float32 vectors."""
    size = dir_bytes(path)
    raw = n * dim * 4
    rep.add(
        "disk size of data directory",
        size / 2**20,
        "MiB",
        note=f"{size / raw:.2f}x the raw float32 vectors ({raw / 2**20:.0f} MiB){more}",
    )


def data_directory(args: argparse.Namespace) -> tuple[Path, bool]:
    """The data directory and whether to remove it at the end."""
    if args.path:
        path = Path(args.path)
        if path.exists() and any(path.iterdir()):
            raise SystemExit(f"--path {path} is not empty")
        cleanup = False
    else:
        path = Path(tempfile.mkdtemp(prefix="fletchdb-bench-"))
        cleanup = not args.keep
    path.mkdir(parents=True, exist_ok=True)
    return path, cleanup


def reopen(
    rep: Report, path: Path, plan: Plan, k: int, overrides: dict[str, str], dead: set[str]
) -> float:
    """9. Open the closed directory in a fresh process and run one query; returns its peak RSS."""
    log("reopening in a fresh process ...")
    with tempfile.TemporaryDirectory() as tmp:
        qfile = Path(tmp) / "q.npy"
        np.save(qfile, plan.queries[0])
        t0 = time.perf_counter()
        proc = subprocess.run(
            [
                sys.executable,
                "-c",
                REOPEN_SNIPPET,
                str(path),
                str(qfile),
                str(k),
                json.dumps(overrides),
            ],
            capture_output=True,
            text=True,
            cwd=str(ROOT),
            env={**os.environ, "PYTHONPATH": str(ROOT)},
            timeout=300,
        )
        total_s = time.perf_counter() - t0
    if proc.returncode != 0:
        raise RuntimeError(f"reopen subprocess failed:\n{proc.stderr}")
    result = json.loads(proc.stdout.strip().splitlines()[-1])
    assert not set(result["ids"]) & dead
    r_reopen = recall([result["ids"]], plan.truth_live[:1], k)
    rep.add(
        "reopen + first query (in process)",
        result["open_and_query_s"],
        "s",
        "<= 0.5",
        result["open_and_query_s"] <= 0.5,
        f"open {result['open_s'] * 1e3:.0f} ms + first query "
        f"{result['first_query_s'] * 1e3:.0f} ms (recall@{k} {r_reopen:.2f}); "
        f"next queries p50 {result['warm_query_p50_s'] * 1e3:.2f} ms",
    )
    rep.add(
        "reopen total wall (new interpreter)",
        total_s,
        "s",
        note=f"includes interpreter start and imports ({result['import_s']:.2f} s)",
    )
    return float(result["max_rss_mib"])


@dataclass
class Prepared:
    """What every benchmark run starts from: settings, the report, the workload and its plan."""

    overrides: dict[str, str]
    settings: fletchdb.Settings
    rep: Report
    t_run: float
    load_start: list[float]
    wl: Any
    rng: np.random.Generator
    plan: Plan
    batches: list[dict[str, Any]]
    path: Path
    cleanup: bool


def prepare(args: argparse.Namespace) -> Prepared:
    """Settings, workload, plan, write batches and the data directory of one run."""
    overrides = dict(args.settings)
    settings = fletchdb.Settings(**overrides)  # (bench_flight: what the server resolves too)
    t_run = time.perf_counter()
    load_start = [round(x, 2) for x in os.getloadavg()]
    log(f"generating {args.n:,} x {args.dim} clustered vectors (seed {args.seed}) ...")
    wl = make_workload(args.n, args.dim, args.seed)
    rng = np.random.default_rng(args.seed + 1)
    plan = make_plan(wl, rng, args.queries, args.k)
    batches = add_batches(wl, args.batch)
    path, cleanup = data_directory(args)
    log(f"data directory: {path}")
    return Prepared(
        overrides, settings, Report(), t_run, load_start, wl, rng, plan, batches, path, cleanup
    )


def summary(
    args: argparse.Namespace, prep: Prepared, configuration: Any, **extra: Any
) -> dict[str, Any]:
    """The run's JSON: when, what, on which machine, with which settings, and every figure."""
    params = {
        "n": args.n,
        "dim": args.dim,
        "seed": args.seed,
        "batch": args.batch,
        "queries": args.queries,
        "k": args.k,
        "quick": args.quick,
        **extra.pop("params", {}),
        "path": str(prep.path),
    }
    return {
        **extra,
        "date": datetime.now(UTC).isoformat(timespec="seconds"),
        "source": source_fingerprint(),
        "machine": machine_info(),
        "params": params,
        "settings": prep.settings.as_dict(),
        "setting_overrides": prep.overrides,
        "collection_configuration": configuration,
        "runtime_s": time.perf_counter() - prep.t_run,
        "load_average_start": prep.load_start,
        "results": [asdict(r) for r in prep.rep.rows],
    }


def run(args: argparse.Namespace) -> dict[str, Any]:
    prep = prepare(args)
    rep, wl, plan, rng, path = prep.rep, prep.wl, prep.plan, prep.rng, prep.path
    k, nq, n, overrides, batches = args.k, args.queries, args.n, prep.overrides, prep.batches
    client = fletchdb.PersistentClient(path, settings=prep.settings)
    collection = client.create_collection(COLLECTION)
    configuration = collection.configuration
    session = phases.Session(collection, rep, wl, plan, k, nq)

    t_ingest, t_acked = phases.ingest(session, batches, args.batch)  # 1
    del batches
    assert collection.count() == n, collection.count()
    phases.indexing(session, t_ingest, t_acked, args.index_timeout)  # 1b, 2
    phases.unfiltered_queries(session)  # 3
    phases.filtered_queries(session)  # 4
    phases.contains(session)  # 5
    phases.gets(session, rng)  # 6
    dead = phases.delete(session)  # 7
    peak_rss_mib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    client.close()

    # 8. Footprint ------------------------------------------------------------------------
    add_disk_size(rep, path, n, args.dim, f", {n - len(plan.deleted_rows):,} live records")

    child_rss = reopen(rep, path, plan, k, overrides, dead)  # 9
    rep.add(
        "peak RSS, benchmark process",
        peak_rss_mib,
        "MiB",
        note=f"includes the generator and ground truth; reopened process {child_rss:.0f} MiB",
    )

    if prep.cleanup:
        shutil.rmtree(path, ignore_errors=True)
    return summary(args, prep, configuration)


def parse_setting(text: str) -> tuple[str, str]:
    name, sep, value = text.partition("=")
    if not sep:
        raise argparse.ArgumentTypeError(f"expected NAME=VALUE, got {text!r}")
    return name.strip(), value.strip()


def benchmark_parser(description: str, batch_help: str, set_help: str) -> argparse.ArgumentParser:
    """The arguments every benchmark takes (bench_engine and bench_flight)."""
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("--n", type=int, default=100_000, help="records (default 100,000)")
    parser.add_argument("--dim", type=int, default=384, help="embedding dimension (default 384)")
    parser.add_argument("--path", help="data directory (new or empty; default a temp dir)")
    parser.add_argument("--keep", action="store_true", help="keep the temp data directory")
    parser.add_argument("--quick", action="store_true", help="10k records (under a minute)")
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--batch", type=int, default=5_000, help=batch_help)
    parser.add_argument("--queries", type=int, default=200, help="queries per latency figure")
    parser.add_argument("--k", type=int, default=10, help="n_results")
    parser.add_argument(
        "--set",
        dest="settings",
        type=parse_setting,
        action="append",
        default=[],
        metavar="NAME=VALUE",
        help=set_help,
    )
    parser.add_argument("--index-timeout", type=float, default=1800.0, help="seconds")
    parser.add_argument("--json", help="also write the results as JSON to this file")
    return parser


def apply_quick(args: argparse.Namespace, argv: list[str] | None) -> None:
    """--quick: 10k records; compaction's age trigger at 1 s instead of 30 s (printed as an
    override), since a 10k tail never reaches the 20k record trigger."""
    if not args.quick:
        return
    args.n = min(args.n, 10_000) if "--n" in (argv or sys.argv) else 10_000
    if not any(name == "compaction_tail_seconds" for name, _ in args.settings):
        args.settings.append(("compaction_tail_seconds", "1.0"))


def main(argv: list[str] | None = None) -> int:
    parser = benchmark_parser(
        __doc__.split("\n\n")[0],
        "records per add() call",
        "override an engine setting (repeatable), e.g. --set hnsw_dtype=f16",
    )
    args = parser.parse_args(argv)
    apply_quick(args, argv)
    out = run(args)
    text = render(out)
    print(text)
    if args.json:
        write_json(out, args.json)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
