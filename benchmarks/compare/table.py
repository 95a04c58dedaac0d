"""From raw worker results to the comparison: recall and correctness, ratios, targets, tables.

Every ratio is FletchDB / Chroma from the same run. Targets come from the issue ("Performance
at scale"); a target on a ratio is judged only when Chroma ran in the same run (or its figures
were reused from a recorded run of the same data set, which the header then says).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
from dataset import Dataset, row_of

ENGINES = {"chroma": "Chroma 1.5.9", "local": "FletchDB local", "flight": "FletchDB Flight"}
SHORT = {"chroma": "Chroma", "local": "local", "flight": "Flight"}


def recall(results: list[list[str]], truth: np.ndarray) -> float:
    """Mean share of the exact top-k (cosine) found, over queries (-1 pads truth rows)."""
    hits = total = 0
    for got, want in zip(results, truth, strict=True):
        valid = set(want[want >= 0].tolist())
        hits += len({row_of(i) for i in got} & valid)
        total += len(valid)
    return hits / total if total else 1.0


def derive(raw: dict[str, Any], ds: Dataset, contains_rows: set[int]) -> dict[str, Any]:
    """Recall, correctness and memory figures of one engine from its figures and returned ids."""
    f, ids, truth = raw["figures"], raw["ids"], ds.truth()
    deleted = {int(i) for i in ds.array("deleted").tolist()}
    after = ids["after_delete"] + [f["cold_ids"]]
    server = f.get("server_rss_peak_mib")
    return {
        "query_recall": recall(ids["all"], truth["all"]),
        "batch_recall": recall(ids["batch"], truth["all"]),
        "wide_recall": recall(ids["wide"], truth["wide"]),
        "narrow_recall": recall(ids["narrow"], truth["narrow"]),
        "contains_recall": recall(ids["contains"], truth["contains"]),
        "contains_get_exact": {row_of(i) for i in ids["contains_get"]} == contains_rows,
        "after_delete_recall": recall(ids["after_delete"], truth["live"]),
        "cold_recall": recall([f["cold_ids"]], truth["live"][:1]),
        "deleted_returned": sum(row_of(i) in deleted for r in after for i in r),
        "count_ok": f["count"] == ds.n and f["count_after_delete"] == ds.n - len(deleted),
        "get_ok": f["get_ids_returned_min"] == f["get_ids_size"],
        "disk_mib": f["disk_bytes"] / 2**20,
        "rss_engine_mib": server if server is not None else f["rss_peak_mib"],
        "rss_above_workload_mib": server - f["server_rss_start_mib"]
        if server is not None
        else f["rss_peak_mib"] - f["rss_baseline_mib"],
        "rss_client_mib": f["rss_peak_mib"] if server is not None else None,
    }


@dataclass
class Measure:
    label: str
    unit: str
    key: str  # in figures or derived
    kind: str = ""  # "ratio>=", "ratio<=", "abs>=", "abs==" or "" (no target)
    local: float | None = None
    flight: float | None = None
    ratio: bool = True  # show FletchDB / Chroma

    def target_text(self) -> str:
        if not self.kind:
            return ""
        op = self.kind[-2:] if self.kind[-2:] in (">=", "<=", "==") else ""
        if self.kind.startswith("ratio"):
            if self.local == self.flight:
                return f"ratio {op} {self.local:g}"
            return f"ratio {op} {self.local:g} local, {self.flight:g} Flight"
        return f"{op} {self.local:g}"


MEASURES = [
    Measure("ingest, acknowledged", "records/s", "ingest_rps", "ratio>=", 50, 50),
    Measure("time until fully indexed", "s", "indexed_s", "ratio<=", 0.5, 0.5),
    Measure("  of which after the last ack", "s", "indexed_after_ack_s", ratio=False),
    Measure("query k=10 p50", "ms", "query_p50_ms", "ratio<=", 0.2, 0.5),
    Measure("query k=10 p95", "ms", "query_p95_ms"),
    Measure("query recall@10", "", "query_recall", "abs>=", 0.99, 0.99, ratio=False),
    Measure("batch queries, 100 per call", "queries/s", "batch_qps"),
    Measure("batch recall@10", "", "batch_recall", ratio=False),
    Measure("filtered query p50 (5%)", "ms", "wide_p50_ms", "ratio<=", 0.05, 0.05),
    Measure("filtered recall@10 (5%)", "", "wide_recall", "abs>=", 0.99, 0.99, ratio=False),
    Measure("filtered query p50 (1.7%)", "ms", "narrow_p50_ms", "ratio<=", 0.05, 0.05),
    Measure("filtered recall@10 (1.7%)", "", "narrow_recall", "abs>=", 0.99, 0.99, ratio=False),
    Measure("$contains query p50", "ms", "contains_query_p50_ms", "ratio<=", 0.1, 0.1),
    Measure("$contains query recall@10", "", "contains_recall", ratio=False),
    Measure("$contains get p50 (ids)", "ms", "contains_get_p50_ms", "ratio<=", 0.1, 0.1),
    Measure("get 1000 ids p50", "ms", "get_ids_p50_ms", "ratio<=", 0.1, 0.1),
    Measure("count p50", "ms", "count_p50_ms"),
    Measure("delete 10%", "s", "delete_s"),
    Measure("query p50 after delete", "ms", "after_delete_p50_ms"),
    Measure("recall@10 after delete", "", "after_delete_recall", ratio=False),
    Measure("deleted ids returned", "", "deleted_returned", "abs==", 0, 0, ratio=False),
    Measure("compact() folding the deletes", "s", "compact_after_delete_s", ratio=False),
    Measure("reopen + first query, new process", "s", "cold_start_s", "ratio<=", 1, 1),
    Measure("  open + first query in it", "s", "open_query_s"),
    Measure("disk size", "MiB", "disk_mib", "ratio<=", 1, 1),
    Measure("peak RSS, engine process", "MiB", "rss_engine_mib", "ratio<=", 0.5, 0.5),
    Measure("  above its start (imports, open, workload)", "MiB", "rss_above_workload_mib"),
    Measure("peak RSS, Flight client process", "MiB", "rss_client_mib"),
]


def value(result: dict[str, Any] | None, key: str) -> Any:
    if result is None:
        return None
    return result["derived"].get(key, result["figures"].get(key))


def fmt(v: Any, unit: str = "x") -> str:
    if v is None:
        return "n/a"
    if isinstance(v, bool):
        return "yes" if v else "NO"
    if unit == "":
        return f"{v:.4f}" if isinstance(v, float) else f"{v:,}"
    v = float(v)
    for limit, spec in ((1000, ",.0f"), (100, ".1f"), (10, ".2f"), (1, ".3f")):
        if abs(v) >= limit:
            return format(v, spec)
    return f"{v:.4f}" if unit == "x" else f"{v:.3f}"


def judge(m: Measure, mine: Any, chroma: Any, engine: str) -> tuple[float | None, bool | None]:
    """(ratio to Chroma, target met) for one engine's value."""
    ok = m.ratio and mine is not None and chroma not in (None, 0)
    ratio = mine / chroma if ok else None
    if not m.kind or mine is None:
        return ratio, None
    bound = m.local if engine == "local" else m.flight
    assert bound is not None
    x = ratio if m.kind.startswith("ratio") else mine
    if x is None:
        return ratio, None
    if m.kind.endswith(">="):
        return ratio, x >= bound
    if m.kind.endswith("<="):
        return ratio, x <= bound
    return ratio, x == bound


def comparison(results: dict[str, dict[str, Any]]) -> list[dict[str, Any]]:
    """One row per measure: every engine's value, FletchDB's ratios and whether targets are met."""
    rows = []
    chroma = results.get("chroma")
    for m in MEASURES:
        row: dict[str, Any] = {"measure": m.label, "unit": m.unit, "target": m.target_text()}
        for engine in ENGINES:
            res = results.get(engine)
            row[engine] = value(res, m.key)
            if engine != "chroma" and res is not None:
                row[f"{engine}_ratio"], row[f"{engine}_met"] = judge(
                    m, row[engine], value(chroma, m.key), engine
                )
        if any(row.get(e) is not None for e in ENGINES):
            rows.append(row)
    return rows


def markdown(rows: list[dict[str, Any]], engines: list[str]) -> str:
    """The comparison as a Markdown table (columns only for the engines that ran)."""
    head = ["measure", "unit"]
    for e in engines:
        head.append(ENGINES[e])
        if e != "chroma" and "chroma" in engines:
            head.append(f"{SHORT[e]}/Chroma")
    head += ["target", "met"]
    table = []
    for r in rows:
        cells = [r["measure"], r["unit"]]
        mets = []
        for e in engines:
            cells.append(fmt(r.get(e), r["unit"]))
            if e != "chroma" and "chroma" in engines:
                ratio = r.get(f"{e}_ratio")
                cells.append("" if ratio is None else fmt(ratio))
            if e != "chroma" and r.get(f"{e}_met") is not None:
                mets.append(f"{SHORT[e]}: {'yes' if r[f'{e}_met'] else 'NO'}")
        cells += [r["target"], ", ".join(mets)]
        table.append(cells)
    return render_table(head, table)


def render_table(head: list[str], table: list[list[str]]) -> str:
    """A Markdown table with padded columns."""
    widths = [max(len(str(c[i])) for c in [head, *table]) for i in range(len(head))]

    def line(cells: list[str]) -> str:
        return "| " + " | ".join(str(c).ljust(w) for c, w in zip(cells, widths, strict=True)) + " |"

    out = [line(head), "|" + "|".join("-" * (w + 2) for w in widths) + "|"]
    return "\n".join(out + [line(c) for c in table])


GROWTH = [
    ("ingest, acknowledged", "records/s", "ingest_rps"),
    ("time until fully indexed", "s", "indexed_s"),
    ("  of which after the last ack", "s", "indexed_after_ack_s"),
    ("compact() folding 10% deletes", "s", "compact_after_delete_s"),
    ("query k=10 p50", "ms", "query_p50_ms"),
    ("query k=10 p95", "ms", "query_p95_ms"),
    ("query recall@10", "", "query_recall"),
    ("batch queries, 100 per call", "queries/s", "batch_qps"),
    ("filtered query p50 (5%)", "ms", "wide_p50_ms"),
    ("filtered query p50 (1.7%)", "ms", "narrow_p50_ms"),
    ("$contains query p50", "ms", "contains_query_p50_ms"),
    ("get 1000 ids p50", "ms", "get_ids_p50_ms"),
    ("reopen + first query, new process", "s", "cold_start_s"),
    ("disk size", "MiB", "disk_mib"),
    ("disk bytes per ingested record", "B", "disk_per_record"),
    ("peak RSS, engine process", "MiB", "rss_engine_mib"),
    ("  above its start (imports, open, workload)", "MiB", "rss_above_workload_mib"),
]


def growth_markdown(runs: dict[str, dict[str, dict[str, Any]]], engine: str) -> str:
    """One engine's figures at each size (columns), for the growth curve."""
    sizes = list(runs)
    head = ["measure", "unit", *sizes]
    table = []
    for label, unit, key in GROWTH:
        cells = [label, unit]
        for size in sizes:
            res = runs[size].get(engine)
            if key == "disk_per_record" and res is not None:
                v: Any = res["figures"]["disk_bytes"] / max(1, res["figures"]["count"])
            else:
                v = value(res, key)
            cells.append(fmt(v, unit))
        table.append(cells)
    return render_table(head, table)
