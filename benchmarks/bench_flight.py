"""FletchDB over Arrow Flight: bench_engine.py's workload against a server in another process.

A script that prints figures (it is not a test and asserts only correctness, never timing):

    .venv/bin/python benchmarks/bench_flight.py             # 100k x 384, a few minutes
    .venv/bin/python benchmarks/bench_flight.py --quick     # 10k x 384, under a minute
    .venv/bin/python benchmarks/bench_flight.py --ingest add --set hnsw_search_ef=64

The server is `python -m flight_server serve --port 0` in a subprocess (auth on: an HS256 secret
made for the run, one admin token); the client is `fletchdb.FlightClient` in this process, so every
figure includes the loopback round trip, JWT verification and Arrow (de)serialization. Ingest
streams every batch through one DoPut (`FlightTransport.write_stream`, one acknowledgement per
batch once it is durable; `--ingest add` makes one `collection.add` call, one DoPut, per batch),
converting each batch from numpy/dicts to Arrow inside the timing as `add` does. The rest is
bench_engine.py's sequence (phases.py) on the remote collection, then a server restart (SIGTERM,
new process, first query). Server RSS is read from /proc/<pid>/status, separately from the
benchmark (client) process. See benchmarks/README.md.
"""

from __future__ import annotations

import argparse
import gc
import resource
import secrets
import shutil
import sys
import time
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
from bench_engine import add_disk_size, apply_quick, benchmark_parser, prepare, summary  # noqa: E402
from fletchdb.convert import to_write_batch  # noqa: E402
from report import Report, log, render, write_json  # noqa: E402
from workload import COLLECTION, Plan, recall  # noqa: E402

from flight_server.gateway.auth import mint_token  # noqa: E402
from flight_server.schema import Op  # noqa: E402
from tests.server.server_process import ServerProcess  # noqa: E402

TARGET_INGEST = 50_000.0  # records/s, acknowledged, through DoPut
TARGET_QUERY_P50_MS = 1.5  # including the round trip
TARGET_BATCH_QPS = 2_000.0  # queries/s, 100 per call, once indexed
BATCH_PER_CALL = 100


def ingest_stream(
    s: phases.Session, batches: list[dict[str, Any]], batch: int
) -> tuple[float, float]:
    """1. Ingest through one DoPut stream; perf_counter() at the start and after the last ack."""
    collection, n = s.collection, len(s.wl.ids)
    transport = collection._transport
    log(f"streaming {n:,} records in batches of {batch:,} through one DoPut ...")
    first = to_write_batch(Op.ADD, **batches[0])
    convert_s: list[float] = []
    ack_at: list[float] = []

    def feed() -> Any:
        for b in batches:
            t0 = time.perf_counter()
            arrow = to_write_batch(Op.ADD, **b)  # inside the timing, as collection.add
            convert_s.append(time.perf_counter() - t0)
            yield arrow

    gc.collect()
    t_ingest = time.perf_counter()
    seqs = transport.write_stream(
        collection.id,
        Op.ADD,
        feed(),
        first.schema,
        lambda seq, rows: ack_at.append(time.perf_counter()),
    )
    t_acked = time.perf_counter()
    assert len(seqs) == len(batches) == len(ack_at)
    wall = t_acked - t_ingest
    gaps = np.diff([t_ingest, *ack_at]) * 1e3
    s.rep.add(
        "ingest (acknowledged, one DoPut stream)",
        n / wall,
        "records/s",
        f">= {TARGET_INGEST:,.0f}",
        n / wall >= TARGET_INGEST,
        f"{len(batches)} batches of {batch:,} in one write_stream, {wall:.2f} s; client-side "
        f"conversion to Arrow {sum(convert_s):.2f} s; per batch (send to ack) p50 "
        f"{np.percentile(gaps, 50):.0f} ms, slowest {gaps.max():.0f} ms",
    )
    return t_ingest, t_acked


def restart(
    rep: Report,
    server: ServerProcess,
    path: Path,
    settings: dict[str, Any],
    token: str,
    plan: Plan,
    k: int,
    dead: set[str],
) -> ServerProcess:
    """9. Stop the server cleanly, start a new one on the directory, time the first query."""
    log("restarting the server ...")
    t0 = time.perf_counter()
    code = server.stop()
    t_stopped = time.perf_counter()
    assert code == 0, server.stderr()
    server.close()
    new = ServerProcess(path, settings, stderr=server.stderr_path)
    t_listening = time.perf_counter()
    client = fletchdb.FlightClient(new.uri, token=token)
    res = client.get_collection(COLLECTION).query(query_embeddings=plan.queries[0], n_results=k)
    t_query = time.perf_counter()
    client.close()
    assert not set(res["ids"][0]) & dead
    rep.add(
        "server restart to first query",
        t_query - t_stopped,
        "s",
        note=f"new process listening after {t_listening - t_stopped:.2f} s (interpreter, imports, "
        f"open), first query {(t_query - t_listening) * 1e3:.0f} ms (recall@{k} "
        f"{recall(res['ids'], plan.truth_live[:1], k):.2f}); clean stop took {t_stopped - t0:.2f} s",
    )
    return new


def run(args: argparse.Namespace) -> dict[str, Any]:
    prep = prepare(args)
    rep, wl, plan, rng, path = prep.rep, prep.wl, prep.plan, prep.rng, prep.path
    k, nq, n, overrides, batches = args.k, args.queries, args.n, prep.overrides, prep.batches
    secret = secrets.token_hex(32)
    server_settings = {**overrides, "auth_secret": secret}
    token = mint_token(secret.encode(), tenant="*", role="admin", databases="*", ttl_seconds=86400)
    server_log = path.parent / f"{path.name}-server.err"  # the server's stderr, kept on failure
    server = ServerProcess(path, server_settings, stderr=server_log)
    log(f"server pid {server.pid} at {server.uri}")
    try:
        client = fletchdb.FlightClient(server.uri, token=token)
        collection = client.create_collection(COLLECTION)
        configuration = collection.configuration
        session = phases.Session(collection, rep, wl, plan, k, nq)
        if args.ingest == "stream":
            t_ingest, t_acked = ingest_stream(session, batches, args.batch)  # 1
        else:
            t_ingest, t_acked = phases.ingest(session, batches, args.batch)
        del batches
        assert collection.count() == n, collection.count()
        rss_ingest = server.rss_mib()[0]
        phases.indexing(session, t_ingest, t_acked, args.index_timeout)  # 1b, 2
        phases.unfiltered_queries(  # 3
            session,
            p50_target_ms=TARGET_QUERY_P50_MS,
            per_call=BATCH_PER_CALL,
            passes=5,
            throughput_target=TARGET_BATCH_QPS,
        )
        phases.filtered_queries(session)  # 4
        phases.contains(session)  # 5
        phases.gets(session, rng)  # 6
        dead = phases.delete(session)  # 7
        rss_now, rss_peak = server.rss_mib()
        client.close()
        server = restart(rep, server, path, server_settings, token, plan, k, dead)  # 9
        restarted_rss = server.rss_mib()[0]
        assert server.stop() == 0, server.stderr()
    finally:
        server.close()

    # 8. Footprint ------------------------------------------------------------------------
    add_disk_size(rep, path, n, args.dim)
    rep.add(
        "peak RSS, server process",
        rss_peak,
        "MiB",
        note=f"VmHWM; {rss_ingest:,.0f} MiB right after ingest, {rss_now:,.0f} MiB at the end; "
        f"restarted server {restarted_rss:,.0f} MiB after its first query",
    )
    rep.add(
        "peak RSS, benchmark (client) process",
        resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
        "MiB",
        note="includes the generator and ground truth",
    )
    if prep.cleanup:
        shutil.rmtree(path, ignore_errors=True)
        server_log.unlink(missing_ok=True)
    return summary(
        args,
        prep,
        configuration,
        title="FletchDB Flight benchmark (server subprocess, client here)",
        params={"ingest": args.ingest},
    )


def main(argv: list[str] | None = None) -> int:
    parser = benchmark_parser(
        __doc__.split("\n\n")[0],
        "records per write batch",
        "a server setting (repeatable), e.g. --set hnsw_search_ef=64",
    )
    parser.add_argument(
        "--ingest",
        choices=("stream", "add"),
        default="stream",
        help="stream: every batch through one DoPut (default); add: one add() call per batch",
    )
    args = parser.parse_args(argv)
    apply_quick(args, argv)
    out = run(args)
    print(render(out))
    if args.json:
        write_json(out, args.json)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
