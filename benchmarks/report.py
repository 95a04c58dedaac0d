"""The benchmark's output: progress log, collected figures, machine info, the table and the JSON."""

from __future__ import annotations

import hashlib
import json
import os
import platform
import sys
from dataclasses import dataclass
from importlib import metadata as importlib_metadata
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent


def log(msg: str) -> None:
    print(msg, file=sys.stderr, flush=True)


@dataclass
class Row:
    name: str
    value: float | None
    unit: str
    target: str = ""
    met: bool | None = None
    note: str = ""


class Report:
    def __init__(self) -> None:
        self.rows: list[Row] = []

    def add(
        self,
        name: str,
        value: float | None,
        unit: str,
        target: str = "",
        ok: bool | None = None,
        note: str = "",
    ) -> None:
        self.rows.append(Row(name, value, unit, target, ok, note))
        shown = "n/a" if value is None else f"{value:,.4g}"
        log(f"  {name}: {shown} {unit}")


# Environment ----------------------------------------------------------------------------
def source_fingerprint() -> str:
    """A short hash of the engine and SDK sources, to tell runs of different code apart."""
    digest = hashlib.sha256()
    for folder in ("flight_server", "sdk", "sql"):
        for f in sorted((ROOT / folder).rglob("*")):
            if f.is_file() and f.suffix in (".py", ".sql"):
                digest.update(str(f.relative_to(ROOT)).encode())
                digest.update(f.read_bytes())
    return digest.hexdigest()[:12]


def machine_info() -> dict[str, Any]:
    model = platform.processor() or ""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    versions = {}
    for pkg in ("fletchdb", "pyarrow", "duckdb", "numpy", "usearch", "polars", "pandas"):
        try:
            versions[pkg] = importlib_metadata.version(pkg)
        except importlib_metadata.PackageNotFoundError:
            versions[pkg] = "not installed"
    try:
        mem_kib = int(Path("/proc/meminfo").read_text().split()[1])
    except (OSError, ValueError, IndexError):
        mem_kib = 0
    return {
        "cpu_count": os.cpu_count(),
        "affinity": len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else None,
        "cpu_model": model,
        "memory_gib": round(mem_kib / 2**20, 1),
        "platform": platform.platform(),
        "python": platform.python_version(),
        "versions": versions,
        "load_average": [round(x, 2) for x in os.getloadavg()],
        "env": {
            k: v
            for k, v in os.environ.items()
            if k.startswith("FLETCHDB_")
            or k in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS")
        },
    }


# Output ----------------------------------------------------------------------------------
def format_value(v: float | None, unit: str = "") -> str:
    if v is None:
        return "n/a"
    if unit == "":  # ratios (recall)
        return f"{v:.4f}"
    if abs(v) >= 1000:
        return f"{v:,.0f}"
    if abs(v) >= 100:
        return f"{v:.1f}"
    if abs(v) >= 10:
        return f"{v:.2f}"
    return f"{v:.3f}"


def render(out: dict[str, Any]) -> str:
    m, prm = out["machine"], out["params"]
    lines = [
        f"{out.get('title', 'FletchDB engine benchmark')}, {out['date']} (sources {out['source']})",
        f"machine: {m['cpu_count']} cores ({m['affinity']} usable), {m['cpu_model']}, "
        f"{m['memory_gib']} GiB, {m['platform']}, Python {m['python']}",
        "versions: " + ", ".join(f"{k} {v}" for k, v in m["versions"].items()),
        f"load average (1/5/15 min) at start {out['load_average_start']}, at end "
        f"{m['load_average']} on {m['cpu_count']} cores"
        + (f"; env {m['env']}" if m["env"] else ""),
        f"workload: n={prm['n']:,} dim={prm['dim']} seed={prm['seed']} batch={prm['batch']:,} "
        f"queries={prm['queries']} k={prm['k']}" + (" (--quick)" if prm["quick"] else ""),
        "settings: "
        + ", ".join(
            f"{k}={v}"
            for k, v in out["settings"].items()
            if k.startswith(("compaction", "exact", "filtered", "hnsw"))
        )
        + (f"  [overridden: {out['setting_overrides']}]" if out["setting_overrides"] else ""),
        "",
    ]
    rows = out["results"]
    header = ("figure", "value", "unit", "target", "met")
    table = [
        (
            r["name"],
            format_value(r["value"], r["unit"]),
            r["unit"],
            r["target"],
            "" if r["met"] is None else ("yes" if r["met"] else "NO"),
        )
        for r in rows
    ]
    widths = [max(len(str(c)) for c in col) for col in zip(header, *table, strict=True)]

    def fmt(cells: tuple[str, ...]) -> str:
        return "| " + " | ".join(str(c).ljust(w) for c, w in zip(cells, widths, strict=True)) + " |"

    lines.append(fmt(header))
    lines.append("|" + "|".join("-" * (w + 2) for w in widths) + "|")
    lines.extend(fmt(t) for t in table)
    lines.append("")
    lines.append("notes:")
    lines.extend(f"- {r['name']}: {r['note']}" for r in rows if r["note"])
    lines.append(f"runtime: {out['runtime_s']:.0f} s")
    return "\n".join(lines)


def write_json(out: dict[str, Any], path: str) -> None:
    Path(path).write_text(json.dumps(out, indent=2) + "\n")
    log(f"wrote {path}")


def dir_bytes(path: Path) -> int:
    """Total size of the files under a directory."""
    return sum(f.stat().st_size for f in path.rglob("*") if f.is_file())
