"""The in-process measurements, in the order the benchmark runs them against one open collection.

Phases 1-7 of benchmarks/README.md ("Figures"): ingest, time to fully indexed, unfiltered queries,
filtered queries, `$contains`, get by ids / count, delete 10%. Each adds its figures to the Report.
"""

from __future__ import annotations

import gc
import time
from dataclasses import dataclass
from typing import Any

import numpy as np
from report import Report, log
from workload import Plan, Workload, recall

WARMUP = 5


@dataclass
class Session:
    collection: Any
    rep: Report
    wl: Workload
    plan: Plan
    k: int
    nq: int


def timed(fn: Any, inputs: list[Any], warmup: int = WARMUP) -> tuple[np.ndarray, list[Any]]:
    """Milliseconds per call of fn(x) for x in inputs, after `warmup` untimed calls."""
    for x in inputs[:warmup]:
        fn(x)
    times, out = [], []
    for x in inputs:
        t0 = time.perf_counter()
        r = fn(x)
        times.append((time.perf_counter() - t0) * 1e3)
        out.append(r)
    return np.asarray(times), out


def p(times: np.ndarray, q: float) -> float:
    return float(np.percentile(times, q))


def wait_indexed(collection: Any, timeout: float) -> tuple[float, dict[str, Any]]:
    """Seconds until stats() shows an empty log tail (polling every 50 ms)."""
    t0 = time.perf_counter()
    last_log = t0
    while True:
        stats = collection.stats()
        if stats["tail_records"] == 0:
            return time.perf_counter() - t0, stats
        now = time.perf_counter()
        if now - t0 > timeout:
            raise TimeoutError(f"not indexed after {timeout:.0f} s: {stats}")
        if now - last_log > 10:
            log(
                f"    ... {now - t0:.0f} s: indexed {stats['indexed_records']:,}, "
                f"tail {stats['tail_records']:,}, version {stats['version']}"
            )
            last_log = now
        time.sleep(0.05)


def ingest(s: Session, batches: list[dict[str, Any]], batch: int) -> tuple[float, float]:
    """1. Ingest; returns perf_counter() at the first add and after the last acknowledged one."""
    collection, n = s.collection, len(s.wl.ids)
    log(f"ingesting {n:,} records in batches of {batch:,} ...")
    gc.collect()
    add_times = []
    t_ingest = time.perf_counter()
    for b in batches:
        t0 = time.perf_counter()
        collection.add(**b)
        add_times.append(time.perf_counter() - t0)
    t_acked = time.perf_counter()
    ingest_wall = t_acked - t_ingest
    s.rep.add(
        "ingest (acknowledged)",
        n / ingest_wall,
        "records/s",
        ">= 50,000",
        n / ingest_wall >= 50_000,
        f"{len(add_times)} add() calls of {batch:,}, {ingest_wall:.2f} s; first add "
        f"{add_times[0] * 1e3:.0f} ms (one-time costs), slowest {max(add_times) * 1e3:.0f} ms"
        + (
            f"; {(n - len(batches[0]['ids'])) / sum(add_times[1:]):,.0f} records/s without the first"
            if len(add_times) > 1
            else ""
        ),
    )
    return t_ingest, t_acked


def indexing(s: Session, t_ingest: float, t_acked: float, timeout: float) -> None:
    """1b. Queries against the unindexed tail; 2. time until the compactor has indexed it all."""
    collection, k, n = s.collection, s.k, len(s.wl.ids)
    queries, truth_all = s.plan.queries, s.plan.truth_all
    stats = collection.stats()
    early = min(20, s.nq)
    t_early, res_early = timed(
        lambda q: collection.query(query_embeddings=q, n_results=k)["ids"][0],
        list(queries[:early]),
        warmup=1,
    )
    s.rep.add(
        "query p50 right after ingest (mostly unindexed)",
        p(t_early, 50),
        "ms",
        note=f"{early} queries while the compactor runs; tail was {stats['tail_records']:,} "
        f"records, recall@{k} {recall(res_early, truth_all[:early], k):.3f}",
    )

    log("waiting for the background compactor to index everything ...")
    waited, stats = wait_indexed(collection, timeout)
    indexed_s = time.perf_counter() - t_acked
    s.rep.add(
        "fully indexed after last ack",
        indexed_s,
        "s",
        note=f"{n / (time.perf_counter() - t_ingest):,.0f} records/s from first add to indexed; "
        f"version {stats['version']}",
    )


def unfiltered_queries(
    s: Session,
    p50_target_ms: float = 1.0,
    per_call: int | None = None,
    passes: int = 1,
    throughput_target: float | None = None,
) -> None:
    """3. Single queries (default include and distances only) and batched calls.

    The throughput figure sends the queries `per_call` at a time (default: all in one call),
    `passes` times over (after one untimed call when passes > 1)."""
    log("unfiltered queries ...")
    collection, rep, k, nq = s.collection, s.rep, s.k, s.nq
    queries, truth_all = s.plan.queries, s.plan.truth_all
    qlist = list(queries)
    t_q, res = timed(lambda q: collection.query(query_embeddings=q, n_results=k)["ids"][0], qlist)
    r_all = recall(res, truth_all, k)
    p50 = p(t_q, 50)
    rep.add(
        f"query k={k} p50",
        p50,
        "ms",
        f"<= {p50_target_ms:g}",
        p50 <= p50_target_ms,
        f"{nq} queries",
    )
    rep.add(f"query k={k} p95", p(t_q, 95), "ms")
    rep.add(f"query recall@{k}", r_all, "", ">= 0.99", r_all >= 0.99, "vs exact numpy")
    per = min(per_call or nq, nq)
    if passes > 1:
        collection.query(query_embeddings=queries[:per], n_results=k)
    t0 = time.perf_counter()
    for _ in range(passes):
        batch_res = []
        for lo in range(0, nq, per):
            batch_res += collection.query(query_embeddings=queries[lo : lo + per], n_results=k)[
                "ids"
            ]
    batch_s = time.perf_counter() - t0
    qps = nq * passes / batch_s
    calls = passes * -(-nq // per)
    rep.add(
        f"query throughput, {nq} in one call" if per == nq else f"query throughput, {per} per call",
        qps,
        "queries/s",
        f">= {throughput_target:,.0f}" if throughput_target else "",
        qps >= throughput_target if throughput_target else None,
        f"recall@{k} {recall(batch_res, truth_all, k):.3f}"
        + (f"; {calls} calls, {nq * passes:,} queries" if calls > 1 else ""),
    )
    t_qd, _ = timed(
        lambda q: collection.query(query_embeddings=q, n_results=k, include=["distances"])["ids"][
            0
        ],
        qlist,
    )
    rep.add(f"query k={k} p50, include=[distances]", p(t_qd, 50), "ms", note="ids + distances only")


def filtered_queries(s: Session) -> None:
    """4. Queries with a 5% and a 1.7% metadata filter."""
    log("filtered queries ...")
    collection, k, plan = s.collection, s.k, s.plan
    qlist = list(plan.queries)
    for label, where, truth, sel in (
        ("5%", plan.wide, plan.truth_wide, plan.wide_selectivity),
        ("1.7%", plan.narrow, plan.truth_narrow, plan.narrow_selectivity),
    ):
        inputs = list(zip(qlist, where, strict=True))
        t_f, res_f = timed(
            lambda a: collection.query(query_embeddings=a[0], n_results=k, where=a[1])["ids"][0],
            inputs,
        )
        r_f = recall(res_f, truth, k)
        s.rep.add(
            f"filtered query p50 ({label})",
            p(t_f, 50),
            "ms",
            "<= 5",
            p(t_f, 50) <= 5.0,
            f"measured selectivity {sel:.2%}, p95 {p(t_f, 95):.2f} ms",
        )
        s.rep.add(
            f"filtered query recall@{k} ({label})",
            r_f,
            "",
            ">= 0.99",
            r_f >= 0.99,
            "vs exact over the matching subset",
        )


def contains(s: Session) -> None:
    """5. `$contains` as a query filter and in two gets."""
    log("$contains ...")
    collection, rep, k, plan = s.collection, s.rep, s.k, s.plan
    word, contains_mask = plan.word, plan.contains_mask
    wd = {"$contains": word}
    t_c, res_c = timed(
        lambda q: collection.query(query_embeddings=q, n_results=k, where_document=wd)["ids"][0],
        list(plan.queries),
    )
    r_c = recall(res_c, plan.truth_contains, k)
    rep.add(
        "$contains query p50",
        p(t_c, 50),
        "ms",
        "<= 10",
        p(t_c, 50) <= 10.0,
        f"'{word}' in {contains_mask.mean():.2%} of documents; recall@{k} {r_c:.3f}",
    )
    reps = max(20, s.nq // 4)
    t_g, res_g = timed(
        lambda _: collection.get(where_document=wd, include=[])["ids"], list(range(reps))
    )
    got = {int(i[3:]) for i in res_g[0]}
    assert got == set(np.nonzero(contains_mask)[0].tolist()), "$contains get mismatch"
    rep.add(
        "$contains get p50 (ids only)",
        p(t_g, 50),
        "ms",
        "<= 10",
        p(t_g, 50) <= 10.0,
        f"{len(got):,} matches",
    )
    t_g2, _ = timed(lambda _: collection.get(where_document=wd)["ids"], list(range(reps)))
    rep.add(
        "$contains get p50 (documents+metadatas)",
        p(t_g2, 50),
        "ms",
        "<= 10",
        p(t_g2, 50) <= 10.0,
        f"{len(got):,} matches",
    )


def gets(s: Session, rng: np.random.Generator) -> None:
    """6. get of 1,000 random ids; count()."""
    log("get / count ...")
    collection, n = s.collection, len(s.wl.ids)
    reps = max(20, s.nq // 4)
    id_sets = [[s.wl.ids[i] for i in rng.choice(n, 1000, replace=False)] for _ in range(reps)]
    t_ids, res_ids = timed(lambda ids: collection.get(ids=ids), id_sets)
    assert all(len(r["ids"]) == 1000 for r in res_ids)
    s.rep.add(
        "get 1000 ids p50",
        p(t_ids, 50),
        "ms",
        "<= 5",
        p(t_ids, 50) <= 5.0,
        "include documents+metadatas (Chroma's default)",
    )
    t_cnt, _ = timed(lambda _: collection.count(), list(range(s.nq)))
    s.rep.add("count p50", p(t_cnt, 50), "ms")


def delete(s: Session) -> set[str]:
    """7. Delete 10% in one call, query with the deletes in the tail, compact(), query again.

    Returns the deleted ids."""
    collection, rep, k, n = s.collection, s.rep, s.k, len(s.wl.ids)
    deleted_rows, truth_live = s.plan.deleted_rows, s.plan.truth_live
    qlist = list(s.plan.queries)
    log(f"deleting {len(deleted_rows):,} records ...")
    del_ids = [s.wl.ids[i] for i in deleted_rows]
    t0 = time.perf_counter()
    collection.delete(ids=del_ids)
    del_s = time.perf_counter() - t0
    assert collection.count() == n - len(deleted_rows)
    rep.add(
        f"delete {len(del_ids):,} ids (one call)",
        del_s * 1e3,
        "ms",
        note=f"{len(del_ids) / del_s:,.0f} ids/s",
    )
    t_qa, res_qa = timed(
        lambda q: collection.query(query_embeddings=q, n_results=k)["ids"][0], qlist
    )
    dead = set(del_ids)
    leaked = sum(1 for r in res_qa for i in r if i in dead)
    assert leaked == 0, f"{leaked} deleted ids returned by queries"
    r_qa = recall(res_qa, truth_live, k)
    rep.add(
        f"query k={k} p50 after delete",
        p(t_qa, 50),
        "ms",
        note=f"deletes still in the log tail; recall@{k} {r_qa:.3f}; no deleted id returned",
    )
    t0 = time.perf_counter()
    built = collection.compact()
    compact_s = time.perf_counter() - t0
    stats = collection.stats()
    rep.add(
        "compact() folding the deletes",
        compact_s,
        "s",
        note=f"{built} version(s) built on demand; tail now {stats['tail_records']}",
    )
    t_qc, res_qc = timed(
        lambda q: collection.query(query_embeddings=q, n_results=k)["ids"][0], qlist
    )
    assert not any(i in dead for r in res_qc for i in r)
    rep.add(
        f"query k={k} p50 after delete, compacted",
        p(t_qc, 50),
        "ms",
        note=f"recall@{k} {recall(res_qc, truth_live, k):.3f}",
    )
    return dead
