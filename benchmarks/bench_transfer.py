"""Bulk transfer rates: table ingest, Parquet export and Parquet import, locally and over Flight.

A script that prints figures, not a test (it checks counts, never times). Target: export and
import of 100k x 384 at >= 100k records/s each way.

    .venv/bin/python benchmarks/bench_transfer.py             # 100k x 384, local and remote
    .venv/bin/python benchmarks/bench_transfer.py --n 20000 --no-remote
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pyarrow as pa

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:  # tests.server.server_process, from a checkout
    sys.path.insert(0, str(ROOT))

import fletchdb  # noqa: E402

from flight_server.config import Settings  # noqa: E402
from flight_server.gateway.auth import ALL, mint_token  # noqa: E402
from tests.server.server_process import ServerProcess  # noqa: E402

SECRET = "b" * 40


def table(n: int, dim: int, seed: int) -> pa.Table:
    """n records: float32 embeddings, a ~60-byte document and four metadata columns."""
    rng = np.random.default_rng(seed)
    vectors = rng.standard_normal((n, dim), dtype=np.float32)
    ids = pa.array(np.char.add("id-", np.arange(n).astype(str)))
    docs = pa.array(np.char.add("a document of about sixty bytes for record number ", ids))
    return pa.table(
        {
            "id": ids,
            "embedding": pa.FixedSizeListArray.from_arrays(pa.array(vectors.reshape(-1)), dim),
            "document": docs,
            "category": pa.array(np.char.add("c", (np.arange(n) % 20).astype(str))),
            "year": pa.array(1990 + np.arange(n) % 35),
            "score": pa.array(rng.random(n)),
            "flag": pa.array(np.arange(n) % 2 == 0),
        }
    )


def timed(label: str, n: int, f: Callable[[], object]) -> float:
    start = time.perf_counter()
    f()
    seconds = time.perf_counter() - start
    print(f"{label:<34} {seconds:7.2f} s  {n / seconds:>10,.0f} records/s", flush=True)
    return seconds


def run(client: fletchdb.Client, mode: str, data: pa.Table, folder: Path) -> None:
    n = data.num_rows
    src = client.create_collection(f"bench-{mode}")
    timed(f"{mode}: add(table)", n, lambda: src.add(data))
    assert src.count() == n
    out = folder / f"{mode}.parquet"
    timed(f"{mode}: export to Parquet", n, lambda: client.export_collection(src.name, out))
    print(f"{'':<34} file {out.stat().st_size / 2**20:.0f} MiB")
    timed(f"{mode}: import from Parquet", n, lambda: client.import_collection(out, f"copy-{mode}"))
    assert client.get_collection(f"copy-{mode}").count() == n


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=100_000)
    parser.add_argument("--dim", type=int, default=384)
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--no-remote", action="store_true", help="skip the Flight server run")
    parser.add_argument(
        "--compaction",
        action="store_true",
        help="keep the background compactor on (it then builds HNSW beside the transfers)",
    )
    args = parser.parse_args()
    engine = {"compaction_enabled": args.compaction}
    data = table(args.n, args.dim, args.seed)
    print(f"{args.n:,} x {args.dim}: {data.nbytes / 2**20:.0f} MiB of Arrow data, {engine}")
    with tempfile.TemporaryDirectory(prefix="fletchdb-bench-") as tmp:
        folder = Path(tmp)
        local = Settings(**engine)
        with fletchdb.PersistentClient(folder / "local", settings=local) as client:
            run(client, "local", data, folder)
        if args.no_remote:
            return
        # the server is its own process, as deployed (an in-process one shares this GIL)
        env = {**os.environ, "FLETCHDB_COMPACTION_ENABLED": str(args.compaction).lower()}
        with ServerProcess(folder / "remote", {"auth_secret": SECRET}, env=env) as server:
            token = mint_token(SECRET.encode(), tenant=ALL, role="admin", databases=ALL)
            with fletchdb.FlightClient(server.uri, token) as client:
                run(client, "remote", data, folder)


if __name__ == "__main__":
    main()
