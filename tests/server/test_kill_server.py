"""SIGKILL the Flight server during a streaming add; restart it; every acknowledged batch is there.

The server is a real `python -m flight_server serve` subprocess on a loopback port. The test process
streams add batches through one DoPut (`FlightTransport.write_stream`), recording every
acknowledgement `(seq, rows)` it receives, and kills the server at a point chosen by counting, not
by sleeping:

    ack      inside the on_ack callback of the k-th acknowledgement (reaped before the next batch
             is sent: nothing is in flight)
    sent     from another thread as soon as batch k+1 is handed to the stream (sometimes a large
             one): the kill lands before, while or after the server reads and logs it
    durable  from another thread once a second client sees batch k+1's rows (durable and visible
             on the server) and before, or just after, its ack reaches the streaming client

Then the server is restarted on the same directory and checked through a new FlightClient: every
acknowledged batch is present exactly once with its ids, embeddings, metadatas and documents, the
batch in flight is wholly present or wholly absent, nothing later exists, count and queries agree
with the model, and log seqs continue where the durable ones stopped (one seq per batch, none
reused). The background compactor runs with tiny triggers, so kills also hit compactions.
"""

from __future__ import annotations

import os
import random
import signal
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import fletchdb
import numpy as np
import pytest
from fletchdb.convert import to_write_batch

from flight_server.schema import Op
from tests.crash.ingest_worker import DIM, Model, Record, check_queries, diff, snapshot

from .conftest import SECRET, make_token
from .server_process import ServerProcess

COLLECTION = "killed"
SERVER_SETTINGS = {
    "auth_secret": SECRET,
    "compaction_tail_records": 300,
    "compaction_tail_seconds": 0.05,
    "wal_segment_bytes": 64 * 1024,  # segment rolls and purges happen often
    "exact_search_max_candidates": 10_000_000,  # filtered checks stay exact however big it grows
    "rate_write_per_second": 0.0,
    "rate_read_per_second": 0.0,
}
MODES = ("ack", "sent", "durable")
# To explore more kill points: FLETCHDB_CRASH_SEED=<n> FLETCHDB_CRASH_ROUNDS=<n> pytest -m slow ...
SEED = int(os.environ.get("FLETCHDB_CRASH_SEED", "3"))
ROUNDS = int(os.environ.get("FLETCHDB_CRASH_ROUNDS", "20"))


@dataclass
class Batch:
    """Write batch n: its rows as the model sees them, and the Arrow batch sent."""

    n: int
    ids: list[str]
    records: list[Record]
    arrow: Any = field(repr=False)


def make_batch(seed: int, n: int, rows: int) -> Batch:
    rng = np.random.default_rng([seed, n])
    ids = [f"b{n:05d}-{i:05d}" for i in range(rows)]
    vectors = rng.uniform(-1.0, 1.0, (rows, DIM)).astype(np.float32)
    metadatas = [{"batch": n, "row": i} for i in range(rows)]
    documents = [f"batch {n} row {i} " + "x" * int(rng.integers(0, 40)) for i in range(rows)]
    records = [
        Record(tuple(float(x) for x in vectors[i]), metadatas[i], documents[i]) for i in range(rows)
    ]
    arrow = to_write_batch(Op.ADD, ids, vectors, metadatas, documents)
    return Batch(n, ids, records, arrow)


def model_of(batches: list[Batch]) -> Model:
    return {rid: rec for b in batches for rid, rec in zip(b.ids, b.records, strict=True)}


@dataclass
class Outcome:
    acked: list[tuple[int, int, int]]  # (batch n, seq, rows) as acknowledged, in order
    sent: list[int]  # batch numbers handed to the stream, in order
    error: BaseException | None


def stream_and_kill(
    server: ServerProcess, batches: list[Batch], k: int, mode: str, token: str
) -> Outcome:
    """Stream `batches` in one DoPut; SIGKILL the server after k acks as `mode` says."""
    client = fletchdb.FlightClient(server.uri, token=token, timeout=120)
    watcher = fletchdb.FlightClient(server.uri, token=token, timeout=120)
    transport: Any = client._transport
    collection = client.get_collection(COLLECTION)
    watched = watcher.get_collection(COLLECTION)
    acked: list[tuple[int, int, int]] = []
    sent: list[int] = []
    handed = threading.Event()  # batch k+1 was handed to the stream
    killed = threading.Event()

    def kill() -> None:
        if not killed.is_set():
            killed.set()
            server.kill()

    def on_ack(seq: int, rows: int) -> None:
        b = batches[len(acked)]
        assert rows == len(b.ids)
        acked.append((b.n, seq, rows))
        if mode == "ack" and len(acked) == k:
            kill()  # reaped: batch k+1 is never received

    def feed() -> Any:
        for i, b in enumerate(batches):
            if i > k and thread is not None:
                # the killer runs on its own thread: without this wait a slow one let the whole
                # stream finish first (seen on a loaded machine), so nothing was in flight
                killed.wait(timeout=300)
            sent.append(b.n)
            if i == k:
                handed.set()
            yield b.arrow

    def killer() -> None:
        if not handed.wait(timeout=300):
            return
        if mode == "durable":
            # bounded poll (no sleeps): until the in-flight batch is visible to another reader
            target = batches[k].ids[-1]
            for _ in range(100_000):
                if killed.is_set() or watched.get(ids=[target], include=[])["ids"]:
                    break
        kill()

    thread = None
    if mode != "ack":
        thread = threading.Thread(target=killer, daemon=True)
        thread.start()
    error: BaseException | None = None
    try:
        transport.write_stream(collection.id, Op.ADD, feed(), batches[0].arrow.schema, on_ack)
    except Exception as exc:  # the server died under the stream: expected
        error = exc
    finally:
        handed.set()
        if thread is not None:
            thread.join(timeout=300)
        for c in (client, watcher):
            try:
                c.close()
            except Exception:  # closing a connection to a dead server
                pass
    assert killed.is_set(), "the stream ended before the kill (make the round longer)"
    assert server.proc.returncode == -signal.SIGKILL, server.stderr()
    assert "Traceback" not in server.stderr(), server.stderr()
    return Outcome(acked, sent, error)


def check_restarted(
    server: ServerProcess, token: str, durable: list[Batch], in_flight: Batch | None, later: set
) -> bool:
    """Check the restarted server against the model; whether the in-flight batch was applied."""
    client = fletchdb.FlightClient(server.uri, token=token, timeout=120)
    try:
        collection = client.get_collection(COLLECTION)
        ids = collection.get(include=[])["ids"]
        assert len(ids) == len(set(ids)), "an id is stored twice"
        present = set(ids)
        applied = False
        if in_flight is not None:
            there = sum(rid in present for rid in in_flight.ids)
            assert there in (0, len(in_flight.ids)), (
                f"batch {in_flight.n} in flight is partial: {there} of {len(in_flight.ids)} rows"
            )
            applied = there > 0
        batches = durable + ([in_flight] if applied and in_flight is not None else [])
        want = model_of(batches)
        assert not {rid.split("-")[0] for rid in present} & later, "a batch never sent exists"
        problem = diff(snapshot(collection), want)
        assert problem is None, problem
        assert collection.count() == len(want)
        check_queries(collection, want)
        return applied
    finally:
        client.close()


def kill_loop(tmp_path: Path, seed: int, rounds: int) -> dict[str, Any]:
    """`rounds` stream/kill/restart/check rounds on one directory; returns what happened."""
    rng = random.Random(seed)
    path = tmp_path / "db"
    token = make_token()
    modes = list(MODES) + [rng.choice(MODES) for _ in range(rounds - len(MODES))]
    rng.shuffle(modes)
    durable: list[Batch] = []  # the batches the directory holds, in log order
    next_n, next_seq = 1, 1
    seen: dict[str, Any] = {"modes": modes[:rounds], "in_flight": [], "versions": set()}
    server = ServerProcess(path, SERVER_SETTINGS, stderr=tmp_path / "server.err")
    try:
        client = fletchdb.FlightClient(server.uri, token=token)
        client.create_collection(COLLECTION)
        client.close()
        for r, mode in enumerate(modes[:rounds]):
            k = rng.randint(1, 12)
            big = mode == "sent" and rng.random() < 0.5  # a large batch in flight
            sizes = [rng.randint(1, 120) for _ in range(k + 30)]
            sizes[k] = rng.randint(4_000, 12_000) if big else sizes[k]
            batches = [make_batch(seed, next_n + i, s) for i, s in enumerate(sizes)]
            out = stream_and_kill(server, batches, k, mode, token)
            assert out.error is not None, "write_stream returned although the server was killed"
            n_acked = len(out.acked)
            assert n_acked >= k and len(out.sent) - n_acked <= 1, (n_acked, out.sent)
            assert [a[0] for a in out.acked] == out.sent[:n_acked]
            seqs = [a[1] for a in out.acked]
            assert seqs == list(range(next_seq, next_seq + n_acked)), (next_seq, seqs)
            in_flight = batches[n_acked] if len(out.sent) > n_acked else None
            later = {f"b{b.n:05d}" for b in batches[n_acked + 1 :]}
            server = ServerProcess(path, SERVER_SETTINGS, stderr=tmp_path / "server.err")
            durable += batches[:n_acked]
            applied = check_restarted(server, token, durable, in_flight, later)
            if applied and in_flight is not None:
                durable.append(in_flight)
            outcome = "none" if in_flight is None else ("applied" if applied else "absent")
            seen["in_flight"].append(f"{mode}:{outcome}")
            next_n = batches[-1].n + 1
            next_seq += n_acked + applied  # one seq per durable batch: the next round checks it
            stats_client = fletchdb.FlightClient(server.uri, token=token)
            seen["versions"].add(stats_client.get_collection(COLLECTION).stats()["version"])
            stats_client.close()
            print(f"round {r}: {mode} k={k} acked={n_acked} in flight {outcome}")
        seen["records"] = sum(len(b.ids) for b in durable)
        # a clean stop after the last restart loses nothing either
        assert server.stop() == 0, server.stderr()
        server = ServerProcess(path, SERVER_SETTINGS, stderr=tmp_path / "server.err")
        check_restarted(server, token, durable, None, set())
    finally:
        server.close()
    return seen


def test_kill_server_during_streaming_add_3_rounds(tmp_path: Path) -> None:
    """One round per kill point: in the ack callback, with a batch sent, with it durable."""
    seen = kill_loop(tmp_path, seed=1, rounds=3)
    print("kill loop:", seen)
    assert seen["records"] > 0


@pytest.mark.slow
def test_kill_server_during_streaming_add_many_rounds(tmp_path: Path) -> None:
    """20 kill/restart rounds on one directory while the background compactor is busy."""
    seen = kill_loop(tmp_path, seed=SEED, rounds=ROUNDS)
    print("kill loop:", seen)
    assert max(seen["versions"]) >= 2, seen  # kills really hit a compacting directory
