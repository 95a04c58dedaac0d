"""FletchDB under measure.py's sequence, local (`--mode local`) or over Flight (`--mode flight`).

local: `fletchdb.PersistentClient(data_dir)` in this process. flight: `python -m flight_server
serve` on a free loopback port in a child process (auth on: an HS256 secret made for the run and
one admin token), `fletchdb.FlightClient` here; the server's peak RSS is read from its
/proc/<pid>/status apart from this (client) process. Both create the collection with
`metadata={"hnsw:space": "cosine"}` and engine defaults (`--setting NAME=VALUE` overrides one).
"Fully indexed" is when `stats()["tail_records"]` reaches 0 (polled every 50 ms); after the
delete phase `compact()` folds the deletes into a version (timed), as the background compactor
would after its age trigger. Reopen is a fresh process (local) or a server restart (flight).
"""

from __future__ import annotations

import sys
import time

T_START = time.perf_counter()
import secrets  # noqa: E402
from pathlib import Path  # noqa: E402
from typing import Any  # noqa: E402

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent.parent
for _p in (str(ROOT), str(HERE)):
    if _p not in sys.path:
        sys.path.insert(0, _p)

import fletchdb  # noqa: E402
import measure  # noqa: E402
import numpy as np  # noqa: E402
from dataset import Dataset  # noqa: E402

COLLECTION = "bench"
METADATA = {"hnsw:space": "cosine"}
DEFAULT_BATCH = 5_000


def parse_settings(items: list[str]) -> dict[str, str]:
    out = {}
    for item in items:
        name, sep, value = item.partition("=")
        if not sep:
            raise SystemExit(f"--setting expects NAME=VALUE, got {item!r}")
        out[name.strip()] = value.strip()
    return out


class FletchEngine(measure.ChromaApiCalls):
    """The SDK collection, local or remote; the same calls either way."""

    def __init__(self, mode: str, path: Path, batch: int, overrides: dict[str, str]) -> None:
        self.mode, self.path, self.overrides = mode, path, overrides
        self.settings = fletchdb.Settings(**overrides)
        self.batch = batch or DEFAULT_BATCH
        self.max_delete = int(self.settings.max_batch_rows)
        self.server: Any = None
        if mode == "local":
            self.client: Any = fletchdb.PersistentClient(path, settings=self.settings)
        else:
            self._start_server()
        self.col = self.client.create_collection(COLLECTION, metadata=METADATA)

    def _start_server(self) -> None:
        from flight_server.gateway.auth import mint_token
        from tests.server.server_process import ServerProcess

        if self.server is None:
            self.secret = secrets.token_hex(32)
            self.token = mint_token(
                self.secret.encode(), tenant="*", role="admin", databases="*", ttl_seconds=86400
            )
        self.server = ServerProcess(
            self.path,
            {**self.overrides, "auth_secret": self.secret},
            stderr=self.path.parent / "server.err",
        )
        self.client = fletchdb.FlightClient(self.server.uri, token=self.token)
        if not hasattr(self, "server_rss_start"):
            self.server_rss_start = self.server.rss_mib()[0]

    def wait_indexed(self, timeout: float) -> dict[str, Any]:
        t0 = time.perf_counter()
        while True:
            stats = self.col.stats()
            if stats["tail_records"] == 0:
                return {"version": stats.get("version"), "polls_s": time.perf_counter() - t0}
            if time.perf_counter() - t0 > timeout:
                raise TimeoutError(f"not indexed after {timeout:.0f} s: {stats}")
            time.sleep(0.05)

    def after_delete(self, queries: np.ndarray, k: int) -> dict[str, Any]:
        t0 = time.perf_counter()
        self.col.compact()
        out: dict[str, Any] = {"compact_after_delete_s": time.perf_counter() - t0}
        t, _ = measure.series(lambda q: self.query(q, k), list(queries))
        out["after_compact_p50_ms"] = measure.pct(t, 50)
        return out

    def close(self) -> dict[str, Any]:
        out: dict[str, Any] = {"engine_version": fletchdb.__version__, "batch": self.batch}
        out["settings"] = {
            k: v
            for k, v in self.settings.as_dict().items()
            if k.startswith(("compaction", "exact", "filtered", "hnsw"))
        }
        self.client.close()
        if self.server is not None:
            rss = self.server.rss_mib()
            out["server_rss_peak_mib"], out["server_rss_end_mib"] = rss[1], rss[0]
            out["server_rss_start_mib"] = self.server_rss_start
            if self.server.stop() != 0:
                raise RuntimeError(f"server did not stop cleanly: {self.server.stderr()}")
            self.server.close()
        return out

    def cold_start(self, query_file: Path, k: int) -> dict[str, Any]:
        if self.mode == "local":
            args = [str(self.path), str(query_file), str(k)]
            args += [f"--setting={n}={v}" for n, v in self.overrides.items()]
            return measure.spawn_cold_start(Path(__file__), args)
        query = np.load(query_file)
        t0 = time.perf_counter()
        self._start_server()  # a new interpreter: imports, open, recovery, listening
        t_listening = time.perf_counter()
        ids = self.client.get_collection(COLLECTION).query(query_embeddings=query, n_results=k)
        t_query = time.perf_counter()
        out = {
            "cold_start_s": t_query - t0,
            "open_query_s": t_query - t_listening,
            "server_start_s": t_listening - t0,
            "cold_ids": list(ids["ids"][0]),
            "cold_rss_mib": self.server.rss_mib()[1],
        }
        self.client.close()
        self.server.stop()
        self.server.close()
        return out


def reopen(path: Path, query_file: Path, k: int, overrides: dict[str, str]) -> None:
    """A fresh process: open the directory, get the collection, run one query."""
    t_imported = time.perf_counter()
    query = np.load(query_file)
    t0 = time.perf_counter()
    client = fletchdb.PersistentClient(path, settings=fletchdb.Settings(**overrides))
    col = client.get_collection(COLLECTION)
    t_opened = time.perf_counter()
    ids = col.query(query_embeddings=query, n_results=k)["ids"][0]
    t_query = time.perf_counter()
    client.close()
    measure.reopen_report(T_START, t_imported, t0, t_opened, t_query, list(ids))


def main() -> int:
    args = measure.parser(__doc__.split("\n\n")[0]).parse_args()
    overrides = parse_settings(args.setting)
    if args.cmd == "reopen":
        reopen(args.path, args.query, args.k, overrides)
        return 0
    ds = Dataset.open(args.dataset)
    args.data_dir.mkdir(parents=True, exist_ok=True)
    engine = FletchEngine(args.mode, args.data_dir, args.batch, overrides)
    result = measure.run(engine, ds, args.data_dir, args.k, args.index_timeout)
    meta = {"engine": f"fletchdb-{args.mode}", "python": sys.version.split()[0]}
    measure.write_result(args.out, result, meta)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
