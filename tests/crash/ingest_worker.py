"""Crash-test workload: deterministic write batches, their model, and a worker process to kill.

Run as a script with one JSON argument (see `main`); the parent process reads its stdout, where
each line is written with a single `os.write` (atomic on a pipe), so a SIGKILL never leaves half a
line behind:

    a <n>      batch n was acknowledged (the write call returned)
    s <step>   the compactor finished a step (only with "steps": true)
    crash <s>  the worker is about to os._exit(1) after compactor step s
    ready      (mode "hold") the client is open and holds the directory lock
    open ok | open <ErrorClass> <seconds> <message>   (mode "try_open")

The same module is imported by the tests for `batch_for` and `model_after`, so the parent and the
worker agree on what batch n is without talking to each other.
"""

from __future__ import annotations

import json
import os
import random
import sys
import time
from dataclasses import dataclass
from typing import Any

import numpy as np

DIM = 6
ID_SPACE = 40
COLLECTION = "crash"
MAIN = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

if __name__ == "__main__" and MAIN not in sys.path:  # run as a script from anywhere
    sys.path.insert(0, MAIN)


# Workload ------------------------------------------------------------------------------------
def _f32(x: float) -> float:
    """A float that survives a float32 round trip exactly."""
    return float(np.float32(x))


def batch_for(seed: int, n: int) -> tuple[str, dict[str, Any]]:
    """Write batch n of workload `seed`: (op, keyword arguments of the Collection method)."""
    rng = random.Random(f"fletchdb-crash:{seed}:{n}")  # str seeds hash with sha512: stable
    op = "add" if n == 1 else rng.choices(["add", "upsert", "update", "delete"], [3, 4, 3, 2])[0]
    ids = [f"id{i:03d}" for i in rng.sample(range(ID_SPACE), rng.randint(1, 6))]
    if op == "delete":
        return op, {"ids": ids}

    def vector() -> list[float]:
        return [_f32(rng.uniform(-1.0, 1.0)) for _ in range(DIM)]

    def full_metadata() -> dict[str, Any]:
        md: dict[str, Any] = {"batch": n}
        if rng.random() < 0.7:
            md["s"] = f"s{rng.randint(0, 9)}"
        if rng.random() < 0.5:
            md["f"] = rng.randint(-40, 40) / 4
        if rng.random() < 0.5:
            md["b"] = rng.random() < 0.5
        if rng.random() < 0.3:  # a key whose type changes from write to write
            md["t"] = rng.randint(0, 5) if rng.random() < 0.5 else f"t{rng.randint(0, 5)}"
        return md

    def document() -> str:
        return f"doc {n}/{rng.randint(0, 999)} " + "x" * rng.randint(0, 30)

    if op in ("add", "upsert"):
        return op, {
            "ids": ids,
            "embeddings": [vector() for _ in ids],
            "metadatas": [full_metadata() for _ in ids],
            "documents": [document() for _ in ids],
        }
    kwargs: dict[str, Any] = {"ids": ids}
    fields = [f for f in ("embeddings", "metadatas", "documents") if rng.random() < 0.5]
    for name in fields or [rng.choice(["embeddings", "metadatas", "documents"])]:
        if name == "embeddings":
            kwargs[name] = [vector() for _ in ids]
        elif name == "documents":
            kwargs[name] = [document() for _ in ids]
        else:
            mds = []
            for _ in ids:
                md: dict[str, Any] = {"batch": n}
                for key in ("s", "f", "b", "t"):
                    roll = rng.random()
                    if roll < 0.2:
                        md[key] = None  # removes the key
                    elif roll < 0.4:
                        md[key] = {"s": "u", "f": 0.25, "b": True, "t": "tu"}[key]
                mds.append(md)
            kwargs[name] = mds
    return op, kwargs


@dataclass(frozen=True)
class Record:
    """One record of the model."""

    embedding: tuple[float, ...]
    metadata: dict[str, Any] | None
    document: str | None


Model = dict[str, Record]  # insertion order = the order `get` returns


def apply_batch(model: Model, op: str, kwargs: dict[str, Any]) -> None:
    """Chroma's semantics for one write batch, record by record (the reference)."""
    for i, rid in enumerate(kwargs["ids"]):
        if op == "delete":
            model.pop(rid, None)
            continue
        emb = kwargs.get("embeddings")
        md = kwargs.get("metadatas")
        doc = kwargs.get("documents")
        emb_i = tuple(emb[i]) if emb is not None else None
        md_i = md[i] if md is not None else None
        doc_i = doc[i] if doc is not None else None
        old = model.get(rid)
        if old is None:
            if op in ("add", "upsert"):
                assert emb_i is not None
                model[rid] = Record(emb_i, dict(md_i) if md_i else None, doc_i)
            continue
        if op == "add":
            continue  # add of an existing id is ignored
        merged = dict(old.metadata or {})
        for key, value in (md_i or {}).items():
            if value is None:
                merged.pop(key, None)
            else:
                merged[key] = value
        model[rid] = Record(
            emb_i if emb_i is not None else old.embedding,
            merged or None,
            doc_i if doc_i is not None else old.document,
        )


def model_after(seed: int, n: int) -> Model:
    """The collection after batches 1..n of workload `seed`."""
    model: Model = {}
    for b in range(1, n + 1):
        apply_batch(model, *batch_for(seed, b))
    return model


def run_batch(collection: Any, seed: int, n: int) -> None:
    """Send batch n as one Collection call (one atomic write)."""
    op, kwargs = batch_for(seed, n)
    getattr(collection, op)(**kwargs)


# Checking a collection against the model -----------------------------------------------------
def snapshot(collection: Any) -> Model:
    """The whole collection as a model (in `get` order)."""
    got = collection.get(include=["embeddings", "metadatas", "documents"])
    embs = got["embeddings"]
    return {
        rid: Record(
            tuple(float(x) for x in np.asarray(embs[i], dtype=np.float32)),
            got["metadatas"][i],
            got["documents"][i],
        )
        for i, rid in enumerate(got["ids"])
    }


def diff(got: Model, want: Model, ordered: bool = True, limit: int = 5) -> str | None:
    """None when equal (records, and order too if `ordered`), else a short description."""
    if got == want and (not ordered or list(got) == list(want)):
        return None
    lines = []
    if set(got) != set(want):
        lines.append(
            f"ids missing {sorted(set(want) - set(got))}, unexpected {sorted(set(got) - set(want))}"
        )
    for rid in want:
        if rid in got and got[rid] != want[rid] and len(lines) < limit:
            lines.append(f"{rid}: got {got[rid]} want {want[rid]}")
    if not lines:
        lines.append(f"order differs: got {list(got)} want {list(want)}")
    return f"count {len(got)} vs {len(want)}; " + "; ".join(lines)


def check_collection(collection: Any, want: Model) -> None:
    """Count, ids, order, metadatas, documents, embeddings and exact top-k queries equal the model."""
    assert collection.count() == len(want)
    problem = diff(snapshot(collection), want)
    assert problem is None, problem
    check_queries(collection, want)


def check_queries(collection: Any, want: Model, k: int = 5) -> None:
    """Queries agree with the model.

    A filtered query (every record has a "batch" key) is answered by exact search, so its top-k
    must equal brute force over the model. The unfiltered query goes through the HNSW index, which
    is approximate (usearch loses recall after `remove`, even on 30 vectors), so there only
    consistency is checked: k distinct live ids, each at its model distance, ascending.
    """
    if not want:
        return
    ids = list(want)
    pos = {rid: j for j, rid in enumerate(ids)}
    matrix = np.array([want[i].embedding for i in ids], dtype=np.float64)
    rng = np.random.default_rng(7)
    queries = rng.uniform(-1, 1, size=(4, DIM)).astype(np.float32)
    queries[0] = matrix[len(ids) // 2]  # an exact hit
    k = min(k, len(ids))
    exact = collection.query(
        query_embeddings=queries, n_results=k, where={"batch": {"$gte": 0}}, include=["distances"]
    )
    approx = collection.query(query_embeddings=queries, n_results=k, include=["distances"])
    for qi, q in enumerate(queries):
        dist = ((matrix - q.astype(np.float64)) ** 2).sum(axis=1)
        order = np.argsort(dist, kind="stable")
        want_ids = [ids[j] for j in order[:k]]
        for res in (exact, approx):
            got_ids, got_d = res["ids"][qi], res["distances"][qi]
            assert len(got_ids) == len(set(got_ids)) == k, got_ids
            assert set(got_ids) <= set(pos), f"ids not in the model: {got_ids}"
            np.testing.assert_allclose(
                got_d,
                [dist[pos[g]] for g in got_ids],
                rtol=1e-4,
                atol=1e-5,
                err_msg=f"distances of {got_ids} differ from the model's embeddings",
            )
            assert list(got_d) == sorted(got_d), got_d
        got_ids, got_d = exact["ids"][qi], exact["distances"][qi]
        np.testing.assert_allclose(
            got_d, dist[order[:k]], rtol=1e-4, atol=1e-5, err_msg=f"got {got_ids} want {want_ids}"
        )
        cut = dist[order[k - 1]]
        sure = {ids[j] for j in order[:k] if dist[j] < cut - 1e-5}  # ties at the cut may swap
        assert sure <= set(got_ids), (got_ids, want_ids)


def version_folders(path: str, collection_id: str) -> set[str]:
    """Names of the folders under <path>/versions/<collection_id>/."""
    folder = os.path.join(path, "versions", collection_id)
    if not os.path.isdir(folder):
        return set()
    return {e.name for e in os.scandir(folder) if e.is_dir()}


def check_version_folders(client: Any, path: str, collection_id: str) -> None:
    """Every version folder on disk is referenced by the catalog; the current one exists."""
    catalog = client._transport.catalog
    referenced = set(catalog.version_paths(collection_id))
    on_disk = version_folders(path, collection_id)
    assert on_disk <= referenced, f"unreferenced version folders: {on_disk - referenced}"
    current = catalog.current_version(collection_id)
    if current is not None:
        assert current.path in on_disk, f"current version {current.path} missing on disk"


# The worker process --------------------------------------------------------------------------
def _say(line: str) -> None:
    os.write(1, (line + "\n").encode())  # one write: atomic on a pipe, no buffering


def main(config: dict[str, Any]) -> None:
    """Modes: "ingest" (default), "hold" (keep the client open until stdin closes), "try_open"."""
    import fletchdb

    mode = config.get("mode", "ingest")
    settings = fletchdb.Settings(**config.get("settings", {}))
    if mode == "try_open":
        start = time.monotonic()
        try:
            client = fletchdb.PersistentClient(config["path"], settings=settings)
        except Exception as exc:  # report the class to the parent
            took = time.monotonic() - start
            _say(f"open {type(exc).__name__} {took:.3f} {exc}")
            return
        _say("open ok")
        client.close()
        return
    client = fletchdb.PersistentClient(config["path"], settings=settings)
    collection = client.get_or_create_collection(COLLECTION, embedding_function=None)
    if mode == "hold":
        _say("ready")
        sys.stdin.read()
        client.close()
        return
    engine = client._transport
    if config.get("steps"):
        engine.compactor.on_step = lambda step: _say(f"s {step}")
    seed = config["seed"]
    compact_after = set(config.get("compact_after", []))
    for n in range(config["start"], config["stop"] + 1):
        run_batch(collection, seed, n)
        _say(f"a {n}")
        if n in compact_after:
            collection.compact()
    crash_step = config.get("crash_step")
    if crash_step:

        def crash(step: str) -> None:
            if step == crash_step:
                _say(f"crash {step}")
                os._exit(1)

        engine.compactor.on_step = crash
        collection.compact()
        _say("compact finished without crashing")
        os._exit(2)
    client.close()


if __name__ == "__main__":
    main(json.loads(sys.argv[1]))
