"""The round-trip floor of Arrow Flight on this machine, beside FletchDB's own calls.

A script that prints figures (it asserts nothing about timing):

    .venv/bin/python benchmarks/bench_flight_floor.py            # 10k x 384, about a minute
    .venv/bin/python benchmarks/bench_flight_floor.py --n 100000

First a no-op pyarrow Flight server in a subprocess (a middleware, like FletchDB's, and handlers that
do no work): the p50 of DoAction, DoGet of a 10-row table and DoExchange of one 384-float query
batch answered by a 10-row table. That is what any Flight query costs here before the server does
anything. Then a FletchDB server (auth on) on N clustered records, indexed: heartbeat (DoAction),
count, a query with include=[] and with the default include, and the engine's own time for the same
query in-process after the server stops. The Flight query p50 is about floor + engine time; the
difference is FletchDB's gateway, protocol and result conversion. Calls alternate between variants
so machine noise hits them alike.
"""

from __future__ import annotations

import argparse
import secrets
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.flight as flight

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
for _folder in (ROOT, HERE):
    if str(_folder) not in sys.path:
        sys.path.insert(0, str(_folder))

DIM = 384
RESULT = pa.table({"id": [f"id{i}" for i in range(10)], "distance": np.zeros(10, np.float32)})


class _NoOpMiddleware(flight.ServerMiddlewareFactory):
    def start_call(self, info: Any, headers: Any) -> flight.ServerMiddleware:
        return flight.ServerMiddleware()


class NoOpServer(flight.FlightServerBase):
    """Answers every call at once: the cost of Flight itself."""

    def do_action(self, context: Any, action: flight.Action) -> list[pa.Buffer]:
        return [pa.py_buffer(b"{}")]

    def do_get(self, context: Any, ticket: flight.Ticket) -> flight.RecordBatchStream:
        return flight.RecordBatchStream(RESULT)

    def do_exchange(self, context: Any, descriptor: Any, reader: Any, writer: Any) -> None:
        reader.read_all()
        writer.begin(RESULT.schema)
        writer.write_table(RESULT)


def serve_noop() -> None:
    """Child process: print the port, serve until killed."""
    server = NoOpServer("grpc://127.0.0.1:0", middleware={"noop": _NoOpMiddleware()})
    print(server.port, flush=True)
    server.serve()


def p50s(calls: dict[str, Callable[[int], Any]], rounds: int) -> dict[str, float]:
    """p50 in ms of each call, the calls interleaved round by round (after a warm-up)."""
    times: dict[str, list[float]] = {name: [] for name in calls}
    for i in range(rounds + 50):
        for name, call in calls.items():
            t0 = time.perf_counter()
            call(i)
            if i >= 50:
                times[name].append(time.perf_counter() - t0)
    return {name: float(np.median(t)) * 1e3 for name, t in times.items()}


def floor(rounds: int, query: np.ndarray) -> dict[str, float]:
    """p50 of the three RPCs against the no-op server."""
    child = subprocess.Popen(
        [sys.executable, __file__, "--serve-noop"], stdout=subprocess.PIPE, cwd=str(ROOT)
    )
    try:
        assert child.stdout is not None
        port = int(child.stdout.readline())
        client = flight.connect(f"grpc://127.0.0.1:{port}")
        options = flight.FlightCallOptions(headers=[(b"authorization", b"Bearer " + b"x" * 200)])
        vectors = pa.FixedSizeListArray.from_arrays(pa.array(query), DIM)
        batch = pa.record_batch({"embedding": vectors})

        def exchange(_: int) -> None:
            writer, reader = client.do_exchange(flight.FlightDescriptor.for_command(b"q"), options)
            with writer:
                writer.begin(batch.schema)
                writer.write_batch(batch)
                writer.done_writing()
                reader.read_all()

        return p50s(
            {
                "no-op DoAction": lambda _: list(
                    client.do_action(flight.Action("x", b""), options)
                ),
                "no-op DoGet (10 rows back)": lambda _: client.do_get(
                    flight.Ticket(b"q"), options
                ).read_all(),
                "no-op DoExchange (1 query in, 10 rows back)": exchange,
            },
            rounds,
        )
    finally:
        child.kill()
        child.wait()


def fletchdb_calls(n: int, rounds: int, queries: np.ndarray, data: Path) -> dict[str, float]:
    """p50 of FletchDB calls over Flight, then of the engine's query in-process."""
    import fletchdb
    from workload import make_workload

    from flight_server.gateway.auth import mint_token
    from tests.server.server_process import ServerProcess

    wl = make_workload(n, DIM, 7)
    secret = secrets.token_hex(32)
    with ServerProcess(data / "db", {"auth_secret": secret}) as server:
        client = fletchdb.FlightClient(
            server.uri, token=mint_token(secret, tenant="default_tenant", role="admin")
        )
        col = client.create_collection("floor", metadata={"hnsw:space": "cosine"})
        for lo in range(0, n, 5_000):
            col.add(
                ids=wl.ids[lo : lo + 5_000],
                embeddings=wl.vectors[lo : lo + 5_000],
                documents=wl.documents[lo : lo + 5_000],
                metadatas=[{"year": int(y)} for y in wl.year[lo : lo + 5_000]],
            )
        client._transport.compact(col.id)  # type: ignore[attr-defined]
        noise = 0.1 * queries[:, : wl.vectors.shape[1]]
        q = list((wl.vectors[: len(queries)] + noise).astype(np.float32))  # near data points
        out = p50s(
            {
                "FletchDB heartbeat (DoAction)": lambda _: client.heartbeat(),
                "FletchDB count (DoAction)": lambda _: col.count(),
                "FletchDB query include=[] (DoExchange)": lambda i: col.query(
                    query_embeddings=q[i % len(q)], n_results=10, include=[]
                ),
                "FletchDB query default include": lambda i: col.query(
                    query_embeddings=q[i % len(q)], n_results=10
                ),
            },
            rounds,
        )
    local = fletchdb.PersistentClient(path=str(data / "db")).get_collection("floor")
    out.update(
        p50s(
            {
                "engine query include=[], in-process": lambda i: local.query(
                    query_embeddings=q[i % len(q)], n_results=10, include=[]
                )
            },
            rounds,
        )
    )
    return out


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--n", type=int, default=10_000, help="records in the FletchDB collection")
    ap.add_argument("--rounds", type=int, default=1_000)
    ap.add_argument("--serve-noop", action="store_true", help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.serve_noop:
        serve_noop()
        return 0
    rng = np.random.default_rng(3)
    queries = rng.standard_normal((64, DIM)).astype(np.float32)
    data = Path(tempfile.mkdtemp(prefix="fletchdb-floor-"))
    try:
        figures = floor(args.rounds, queries[0])
        figures.update(fletchdb_calls(args.n, args.rounds, queries, data))
    finally:
        shutil.rmtree(data, ignore_errors=True)
    print(f"\nFlight round trips on loopback, p50 of {args.rounds:,} (n={args.n:,} x {DIM}):")
    for name, ms in figures.items():
        print(f"  {name:48s} {ms:7.3f} ms")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
