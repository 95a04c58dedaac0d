"""Many Flight clients at once: writers, readers and compactions on one collection of one server.

Every thread has its own FlightClient (its own connection). Writers record each batch when they
send it and when it is acknowledged; before every read a reader takes the set of batches
acknowledged so far, and the read must see all of them (and nothing that was not sent yet), with
the right embeddings, metadatas and documents. Two holds prove that reads are not blocked, without
any timing: the compactor is parked in the middle of a compaction (after building the index, before
writing the version) while writers and readers do a full round of work, and a DoPut stream is held
open between two batches until readers have finished reads of their own.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import fletchdb
import numpy as np
from fletchdb.convert import to_write_batch

from flight_server.schema import Op

DIM = 16
SEED_ROWS = 3_000
WRITERS = 3  # writer 0 streams many batches through one DoPut; 1 and 2 call add()
READERS = 3
HOLD = 60.0  # seconds: a bound on every wait, so a blocked read fails the test instead of hanging
SETTINGS = {
    "compaction_tail_records": 300,
    "compaction_tail_seconds": 0.05,
    "rate_read_per_second": 0.0,
    "rate_write_per_second": 0.0,
}


@dataclass(frozen=True)
class Entry:
    """One write batch of writer w: ids w<w>-<n>-<i>, its vectors, metadatas and documents."""

    w: int
    n: int
    ids: list[str]
    vectors: np.ndarray
    documents: list[str]

    @property
    def metadatas(self) -> list[dict[str, Any]]:
        return [{"w": self.w, "n": self.n, "i": i} for i in range(len(self.ids))]


def make_entry(w: int, n: int) -> Entry:
    rng = np.random.default_rng([w, n])
    rows = int(rng.integers(5, 60))
    return Entry(
        w,
        n,
        [f"w{w}-{n}-{i}" for i in range(rows)],
        rng.standard_normal((rows, DIM)).astype(np.float32),
        [f"writer {w} batch {n} row {i}" for i in range(rows)],
    )


class Registry:
    """What writers have sent and what the server has acknowledged, in acknowledgement order."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.acked: list[Entry] = []
        self.acked_rows = 0
        self.started_rows = 0
        self.started_batches = [0] * WRITERS

    def start(self, e: Entry) -> None:
        with self.lock:
            self.started_rows += len(e.ids)
            self.started_batches[e.w] = max(self.started_batches[e.w], e.n + 1)

    def ack(self, e: Entry) -> None:
        with self.lock:
            self.acked.append(e)
            self.acked_rows += len(e.ids)

    def snapshot(self) -> tuple[list[Entry], int]:
        with self.lock:
            return list(self.acked), self.acked_rows


class Run:
    """The threads of one test: errors are collected, every wait is bounded."""

    def __init__(self) -> None:
        self.errors: list[BaseException] = []
        self.threads: list[threading.Thread] = []

    def spawn(self, fn: Callable[..., None], *args: Any) -> threading.Thread:
        def body() -> None:
            try:
                fn(*args)
            except BaseException as exc:  # surfaced by join()
                self.errors.append(exc)

        thread = threading.Thread(target=body, daemon=True)
        thread.start()
        self.threads.append(thread)
        return thread

    def join(self, threads: list[threading.Thread]) -> None:
        for thread in threads:
            thread.join(timeout=HOLD * 3)
            assert not thread.is_alive(), "a thread is blocked"
        if self.errors:
            raise self.errors[0]


def read_and_check(col: Any, reg: Registry, rng: np.random.Generator, kind: int) -> None:
    """One read of `kind`; it must see every batch acknowledged before it started."""
    acked, acked_rows = reg.snapshot()
    if kind == 0 or not acked:
        count = col.count()
        with reg.lock:
            started = reg.started_rows
        assert SEED_ROWS + acked_rows <= count <= SEED_ROWS + started, (count, acked_rows, started)
        return
    recent = acked[-3:] + [acked[int(rng.integers(len(acked)))]]
    if kind == 1:  # get by ids, every field
        want = {}
        for e in recent:
            for i in rng.choice(len(e.ids), min(4, len(e.ids)), replace=False):
                want[e.ids[i]] = (e.vectors[i], e.metadatas[i], e.documents[i])
        got = col.get(ids=list(want), include=["embeddings", "metadatas", "documents"])
        assert sorted(got["ids"]) == sorted(want), (sorted(got["ids"]), sorted(want))
        for rid, emb, md, doc in zip(
            got["ids"], got["embeddings"], got["metadatas"], got["documents"], strict=True
        ):
            np.testing.assert_array_equal(np.asarray(emb, np.float32), want[rid][0])
            assert (md, doc) == want[rid][1:], rid
    elif kind == 2:  # a filtered nearest-neighbour query finds the record itself
        e = recent[0]
        i = int(rng.integers(len(e.ids)))
        res = col.query(
            query_embeddings=e.vectors[i],
            n_results=1,
            where={"$and": [{"w": e.w}, {"n": e.n}]},
            include=["distances", "documents"],
        )
        assert res["ids"] == [[e.ids[i]]], (res["ids"], e.ids[i])
        assert res["documents"] == [[e.documents[i]]]
        assert res["distances"][0][0] <= 1e-4
    else:  # a metadata get of one writer: a superset of its acked ids, nothing not yet sent
        w = recent[0].w
        got = col.get(where={"w": w}, include=[])["ids"]
        with reg.lock:
            sent = reg.started_batches[w]
        assert len(got) == len(set(got))
        want = {rid for e in acked if e.w == w for rid in e.ids}
        assert want <= set(got), sorted(want - set(got))[:5]
        assert all(int(rid.split("-")[1]) < sent for rid in got)


def test_many_clients_read_every_acknowledged_write_while_writes_and_compaction_run(
    serve, mint, connect
) -> None:
    server = serve(**SETTINGS)
    token = mint()
    admin = connect(server, token)
    col = admin.create_collection("busy")
    rng = np.random.default_rng(0)
    col.add(
        ids=[f"seed-{i}" for i in range(SEED_ROWS)],
        embeddings=rng.standard_normal((SEED_ROWS, DIM)).astype(np.float32),
        metadatas=[{"w": -1, "n": -1, "i": i} for i in range(SEED_ROWS)],
    )
    reg = Registry()
    run = Run()
    stop_reading = threading.Event()
    reads = [0] * READERS
    reads_lock = threading.Condition()

    def total_reads() -> int:
        with reads_lock:
            return sum(reads)

    def wait_reads(at_least: int) -> None:
        with reads_lock:
            assert reads_lock.wait_for(lambda: sum(reads) >= at_least, timeout=HOLD), (
                f"readers did only {sum(reads)} reads: blocked"
            )

    # The compactor, parked mid-compaction until released --------------------------------
    parked, release = threading.Event(), threading.Event()
    park_once = threading.Lock()

    def on_step(step: str) -> None:
        if step == "built" and park_once.acquire(blocking=False):
            parked.set()
            assert release.wait(timeout=HOLD * 3)

    server.engine.compactor.on_step = on_step

    def reader(r: int) -> None:
        client = fletchdb.FlightClient(server.uri, token=token)
        c = client.get_collection("busy")
        local = np.random.default_rng(100 + r)
        try:
            kind = r
            while not stop_reading.is_set():
                read_and_check(c, reg, local, kind % 4)
                kind += 1
                with reads_lock:
                    reads[r] += 1
                    reads_lock.notify_all()
        finally:
            client.close()

    def add_writer(w: int, batches: range) -> None:
        client = fletchdb.FlightClient(server.uri, token=token)
        c = client.get_collection("busy")
        try:
            for n in batches:
                e = make_entry(w, n)
                reg.start(e)
                c.add(ids=e.ids, embeddings=e.vectors, metadatas=e.metadatas, documents=e.documents)
                reg.ack(e)
        finally:
            client.close()

    def stream_writer(batches: range, hold_at: int | None) -> None:
        """One DoPut for all batches; before batch `hold_at` the stream stays open until readers
        have done reads of their own (the server is mid-stream meanwhile)."""
        client = fletchdb.FlightClient(server.uri, token=token)
        c = client.get_collection("busy")
        pending: list[Entry] = []

        def feed() -> Iterator[Any]:
            for n in batches:
                if n == hold_at:
                    wait_reads(total_reads() + 2 * READERS)
                e = make_entry(0, n)
                reg.start(e)
                pending.append(e)
                yield to_write_batch(Op.ADD, e.ids, e.vectors, e.metadatas, e.documents)

        def on_ack(seq: int, rows: int) -> None:
            e = pending.pop(0)
            assert rows == len(e.ids)
            reg.ack(e)

        schema = to_write_batch(
            Op.ADD, ["x"], np.zeros((1, DIM), np.float32), [{"w": 0, "n": 0, "i": 0}], ["x"]
        ).schema
        try:
            seqs = client._transport.write_stream(c.id, Op.ADD, feed(), schema, on_ack)
            assert len(seqs) == len(batches) and seqs == sorted(seqs)
            assert not pending
        finally:
            client.close()

    def compactor_loop(done: threading.Event) -> None:
        client = fletchdb.FlightClient(server.uri, token=token)
        c = client.get_collection("busy")
        try:
            while not done.is_set():
                c.compact()
        finally:
            client.close()

    readers = [run.spawn(reader, r) for r in range(READERS)]

    # Phase 1: a compaction parked mid-build; writes and reads go on around it -----------------
    holder = fletchdb.FlightClient(server.uri, token=token)
    held = run.spawn(holder.get_collection("busy").compact)
    assert parked.wait(timeout=HOLD), "no compaction started"
    before = total_reads()
    writers = [run.spawn(stream_writer, range(0, 10), 5)]
    writers += [run.spawn(add_writer, w, range(0, 10)) for w in range(1, WRITERS)]
    run.join(writers)
    wait_reads(before + 4 * READERS)
    assert held.is_alive() and not release.is_set(), "the compaction finished early"
    assert reg.acked_rows > 0 and col.count() == SEED_ROWS + reg.acked_rows
    release.set()
    run.join([held])
    holder.close()

    # Phase 2: free running, with the background compactor and on-demand compactions ----------
    compacting = threading.Event()
    compactor = run.spawn(compactor_loop, compacting)
    writers = [run.spawn(stream_writer, range(10, 40), None)]
    writers += [run.spawn(add_writer, w, range(10, 40)) for w in range(1, WRITERS)]
    run.join(writers)
    compacting.set()
    run.join([compactor])
    stop_reading.set()
    run.join(readers)
    assert all(r > 0 for r in reads), reads

    # Everything acknowledged is there exactly once ------------------------------------------
    acked, acked_rows = reg.snapshot()
    assert len(acked) == WRITERS * 40
    assert col.count() == SEED_ROWS + acked_rows
    ids = col.get(include=[])["ids"]
    assert len(ids) == len(set(ids)) == SEED_ROWS + acked_rows
    assert set(ids) == {f"seed-{i}" for i in range(SEED_ROWS)} | {
        rid for e in acked for rid in e.ids
    }
    for w in range(WRITERS):
        got = col.get(where={"w": w}, include=["metadatas"])
        assert len(got["ids"]) == sum(len(e.ids) for e in acked if e.w == w)
    read_and_check(col, reg, np.random.default_rng(9), 1)
    assert col.stats()["version"] >= 2, col.stats()  # compactions ran while clients read
