"""Chroma 1.5.9 under measure.py's sequence; runs with the Chroma venv's python (envs.py).

`PersistentClient` on the data directory, `create_collection(metadata={"hnsw:space": "cosine"})`
with every other setting at Chroma's defaults, no embedding function (embeddings are passed
explicitly), add() in batches of `client.get_max_batch_size()`. Chroma indexes synchronously
inside add(), so "fully indexed" is its ingest time. Telemetry is off (there is no network here;
it changes nothing else). This file must not import fletchdb.
"""

from __future__ import annotations

import sys
import time

T_START = time.perf_counter()
from pathlib import Path  # noqa: E402
from typing import Any  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parent))
import measure  # noqa: E402
import numpy as np  # noqa: E402
from dataset import Dataset  # noqa: E402

COLLECTION = "bench"


def open_client(path: Path) -> Any:
    import chromadb
    from chromadb.config import Settings

    return chromadb.PersistentClient(path=str(path), settings=Settings(anonymized_telemetry=False))


class ChromaEngine(measure.ChromaApiCalls):
    def __init__(self, path: Path, batch: int) -> None:
        self.path = path
        self.client = open_client(path)
        self.max_batch = int(self.client.get_max_batch_size())
        self.batch = min(batch, self.max_batch) if batch else self.max_batch
        self.max_delete = self.max_batch
        self.col = self.client.create_collection(
            COLLECTION, metadata={"hnsw:space": "cosine"}, embedding_function=None
        )

    def wait_indexed(self, timeout: float) -> dict[str, Any]:
        return {"note": "Chroma indexes inside add()"}

    def after_delete(self, queries: np.ndarray, k: int) -> dict[str, Any]:
        return {}

    def close(self) -> dict[str, Any]:
        # Chroma has no close(); drop the references so its files are flushed and released.
        del self.col
        self.client.clear_system_cache()
        del self.client
        return {"engine_version": __import__("chromadb").__version__, "batch": self.batch}

    def cold_start(self, query_file: Path, k: int) -> dict[str, Any]:
        return measure.spawn_cold_start(Path(__file__), [str(self.path), str(query_file), str(k)])


def reopen(path: Path, query_file: Path, k: int) -> None:
    """A fresh process: open the directory, get the collection, run one query."""
    import chromadb  # noqa: F401  (import time is reported apart from open)

    t_imported = time.perf_counter()
    query = np.load(query_file)
    t0 = time.perf_counter()
    col = open_client(path).get_collection(COLLECTION)
    t_opened = time.perf_counter()
    ids = col.query(query_embeddings=query, n_results=k)["ids"][0]
    t_query = time.perf_counter()
    measure.reopen_report(T_START, t_imported, t0, t_opened, t_query, list(ids))


def main() -> int:
    args = measure.parser(__doc__.split("\n\n")[0]).parse_args()
    if args.cmd == "reopen":
        reopen(args.path, args.query, args.k)
        return 0
    ds = Dataset.open(args.dataset)
    args.data_dir.mkdir(parents=True, exist_ok=True)
    engine = ChromaEngine(args.data_dir, args.batch)
    result = measure.run(engine, ds, args.data_dir, args.k, args.index_timeout)
    measure.write_result(args.out, result, {"engine": "chroma", "python": sys.version.split()[0]})
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
