"""SIGKILL a writing process over and over on one directory; every reopen must equal the model.

The worker acknowledges batch n on stdout only after the write call returned. The parent kills it
after reading a random number of acknowledgements (then, depending on the round, right away, after
one more byte of output, or right after a given compactor step of the background compactor), drains
what the worker managed to print, reopens the directory and checks it against the model: every
acknowledged batch applied exactly once and in order, the one batch in flight wholly there or wholly
absent. No sleeps: the timing comes from k and from where in the output stream the kill lands.
"""

from __future__ import annotations

import os
import random
import signal
import time
from pathlib import Path
from typing import Any

import pytest

from flight_server.compactor.scheduler import STEPS
from flight_server.engine.recovery import _is_dying
from flight_server.schema import ID

from .ingest_worker import (
    COLLECTION,
    Model,
    apply_batch,
    batch_for,
    check_queries,
    check_version_folders,
    diff,
    snapshot,
)

SETTINGS = {
    "compaction_tail_records": 200,
    "compaction_tail_seconds": 0.01,
    "wal_segment_bytes": 16 * 1024,  # a few frames per segment: rolls and purges happen often
}
MODES = ("ack", "partial", "step")
# To explore more kill points: FLETCHDB_CRASH_SEED=<n> FLETCHDB_CRASH_ROUNDS=<n> pytest -m slow ...
SEED = int(os.environ.get("FLETCHDB_CRASH_SEED", "2"))
ROUNDS = int(os.environ.get("FLETCHDB_CRASH_ROUNDS", "12"))


class Models:
    """model_after(seed, n) for growing n, computed incrementally and cached."""

    def __init__(self, seed: int) -> None:
        self.seed = seed
        self._models: list[Model] = [{}]

    def __call__(self, n: int) -> Model:
        while len(self._models) <= n:
            model = dict(self._models[-1])
            apply_batch(model, *batch_for(self.seed, len(self._models)))
            self._models.append(model)
        return self._models[n]


def _kill_round(
    spawn: Any, path: str, seed: int, start: int, k: int, mode: str, step: str
) -> list[int]:
    """Run the worker from batch `start`, kill it as `mode` says; return the acknowledged batches."""
    worker = spawn(
        {
            "path": path,
            "seed": seed,
            "start": start,
            "stop": start + 100_000,
            "settings": SETTINGS,
            "steps": mode == "step",
            # one synchronous compaction per round, so kills land on a directory with versions
            # whatever the timing of the background compactor
            "compact_after": [start],
        }
    )
    lines: list[str] = []
    acks = 0
    partial = b""
    while acks < k:
        line = worker.readline()
        assert line, f"worker ended early: {worker.stderr()}"
        lines.append(line.strip())
        acks += line.startswith("a ")
    if mode == "partial":
        partial = worker.read_byte()  # the first byte of the next line: kill in the middle of it
    elif mode == "step":
        while acks < k + 400:  # compaction runs every few batches; give up after 400 more
            line = worker.readline().strip()
            assert line, f"worker ended early: {worker.stderr()}"
            lines.append(line)
            acks += line.startswith("a ")
            if line == f"s {step}":
                break
    rest = worker.kill()
    if partial and rest:
        rest[0] = partial.decode() + rest[0]
    lines += rest
    assert worker.proc.returncode == -9, worker.stderr()
    assert "Traceback" not in worker.stderr(), worker.stderr()
    return [int(line.split()[1]) for line in lines if line.startswith("a ")]


def _check_log(client: Any, collection_id: str, seed: int) -> int:
    """The last durable log seq; every tail entry is the batch of its seq number."""
    handle = client._transport.collection(collection_id)
    for entry in handle.log.read(after_seq=handle.state.version.log_offset):
        op, kwargs = batch_for(seed, entry.seq)
        assert (entry.op.name.lower(), entry.batch.column(ID).to_pylist()) == (op, kwargs["ids"])
    return handle.log.last_seq


def kill_loop(spawn: Any, reopen: Any, path: Path, seed: int, rounds: int) -> dict[str, Any]:
    """`rounds` kill/reopen/check rounds on one directory; returns what happened, for asserts."""
    rng = random.Random(seed)
    models = Models(seed)
    applied = 0
    modes = list(MODES) + [rng.choice(MODES) for _ in range(rounds - len(MODES))]
    rng.shuffle(modes)
    seen: dict[str, Any] = {
        "versions": set(),
        "in_flight_applied": 0,
        "in_flight_absent": 0,
        "batches": 0,
    }
    for r, mode in enumerate(modes[:rounds]):
        start = applied + 1
        k = rng.randint(1, 40)
        step = rng.choice(STEPS)
        acked = _kill_round(spawn, str(path), seed, start, k, mode, step)
        assert len(acked) >= k
        last = acked[-1]
        assert acked == list(range(start, last + 1)), f"acks out of order: {acked}"
        with reopen(path) as client:
            collection = client.get_collection(COLLECTION, embedding_function=None)
            got = snapshot(collection)
            problems = {n: diff(got, models(n)) for n in (last, last + 1)}
            matches = [n for n, problem in problems.items() if problem is None]
            assert matches, (
                f"round {r} ({mode}, k={k}): the data equals neither batches 1..{last} "
                f"({problems[last]}) nor 1..{last + 1} ({problems[last + 1]})"
            )
            # Exactly once: batch n is log entry n (one write each), so the last seq counts them.
            applied = _check_log(client, collection.id, seed)
            assert applied in matches, f"log holds {applied} batches, data equals {matches}"
            assert collection.count() == len(models(applied))
            check_queries(collection, models(applied))
            check_version_folders(client, str(path), collection.id)
            seen["versions"].add(collection.stats()["version"])
        seen["in_flight_applied" if applied == last + 1 else "in_flight_absent"] += 1
        seen["batches"] = applied
    return seen


def test_kill_during_ingest_3_rounds(spawn: Any, reopen: Any, tmp_path: Path) -> None:
    """One round per kill mode (after an ack, mid-line, after a compactor step)."""
    seen = kill_loop(spawn, reopen, tmp_path / "db", seed=1, rounds=3)
    assert seen["batches"] >= 3


@pytest.mark.slow
def test_kill_during_ingest_many_rounds(spawn: Any, reopen: Any, tmp_path: Path) -> None:
    """12 kill/recover rounds on one directory, with the background compactor busy."""
    seen = kill_loop(spawn, reopen, tmp_path / "db", seed=SEED, rounds=ROUNDS)
    print("kill loop:", seen)
    assert max(seen["versions"]) >= 2, seen  # kills really hit a compacting directory


def test_second_process_gets_data_dir_locked(spawn: Any, tmp_path: Path) -> None:
    """While one process holds the directory, another fails at once; a killed holder frees it."""
    path = str(tmp_path / "db")
    holder = spawn({"mode": "hold", "path": path}, stdin=True)
    assert holder.readline().strip() == "ready", holder.stderr()

    second = spawn({"mode": "try_open", "path": path})
    started = time.monotonic()
    code, lines = second.wait(timeout=60)
    assert code == 0, second.stderr()
    assert lines and lines[0].startswith("open DataDirLockedError "), lines
    took = float(lines[0].split()[2])
    assert took < 2.0, f"open blocked for {took}s instead of failing at once"
    assert str(holder.proc.pid) in lines[0], lines[0]  # the message names the holder
    assert time.monotonic() - started < 30

    holder.kill()  # the lock dies with its process: no stale lock after a crash
    third = spawn({"mode": "try_open", "path": path})
    code, lines = third.wait(timeout=60)
    assert (code, lines) == (0, ["open ok"]), third.stderr()


def test_open_right_after_sigkill_waits_for_the_dying_holder(
    spawn: Any, reopen: Any, tmp_path: Path
) -> None:
    """Issue 12: an open started as soon as kill() returned raised DataDirLockedError (6 of 6),
    because the kernel drops the killed holder's flock only once its files are closed."""
    path = str(tmp_path / "db")
    for _ in range(3):
        holder = spawn({"mode": "hold", "path": path}, stdin=True)
        assert holder.readline().strip() == "ready", holder.stderr()
        os.kill(holder.proc.pid, signal.SIGKILL)  # no wait(): the open races the teardown
        with reopen(path) as client:
            assert client.heartbeat() > 0
        holder.proc.wait(timeout=60)


def test_is_dying_tells_live_holders_from_dying_ones(spawn: Any, tmp_path: Path) -> None:
    """Live (this process, a running child) is not dying; killed, reaped or absent is."""
    assert not _is_dying(str(os.getpid())) and not _is_dying("unknown")
    holder = spawn({"mode": "hold", "path": str(tmp_path / "db")}, stdin=True)
    assert holder.readline().strip() == "ready", holder.stderr()
    pid = str(holder.proc.pid)
    assert not _is_dying(pid)
    os.kill(holder.proc.pid, signal.SIGKILL)
    assert _is_dying(pid)  # SIGKILL pending, exiting, or a zombie: never alive again
    holder.proc.wait(timeout=60)
    assert _is_dying(pid)  # reaped: gone
