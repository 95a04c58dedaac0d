"""Issue 12: SIGKILL a writer of 200-record batches at seeded-random moments, then check.

Each round starts `bulk_writer.py` on the same directory (compaction thresholds lowered, so the
background compactor runs every few batches, with small log segments that roll and purge), reads a
seeded-random number of its output lines (acknowledgements, compactor steps, and progress markers
between the compactor's C++ calls), SIGKILLs it, and reopens the directory here, in another process
than the writer: every acknowledged batch is there and exact, the one in flight is whole or absent,
the count agrees, queries work, no stray version folder is left, and a further add works. The next
round's writer then opens the same directory and goes on writing (its open is the next check).
"""

from __future__ import annotations

import os
import random
from pathlib import Path
from typing import Any

import pytest

from .bulk_workload import COLLECTION, check_store
from .ingest_worker import check_version_folders

WRITER = os.path.join(os.path.dirname(os.path.abspath(__file__)), "bulk_writer.py")
SETTINGS = {
    "compaction_tail_records": 600,
    "compaction_tail_seconds": 0.05,
    "compaction_max_records": 1000,
    "compaction_growth_fraction": 0.25,
    "wal_segment_bytes": 256 * 1024,  # about 8 batches per segment: rolls and purges every round
}
SEED = int(os.environ.get("FLETCHDB_BULK_SEED", "12"))
ROUNDS = int(os.environ.get("FLETCHDB_BULK_ROUNDS", "16"))


def kill_round(spawn: Any, path: Path, start: int, k: int, prefix: str) -> tuple[set[int], str]:
    """Run the writer from batch `start`, SIGKILL it after its k-th output line that starts with
    `prefix` ("" for any line, "s " for compactor lines only).

    Returns the acknowledged batches and the last line read before the kill."""
    worker = spawn({"path": str(path), "settings": SETTINGS, "start": start}, script=WRITER)
    seen: list[str] = []
    counted = 0
    while counted < k:
        line = worker.readline()
        assert line, f"writer ended early: {worker.stderr()}"
        seen.append(line.strip())
        counted += line.startswith(prefix)
    rest = worker.kill()
    assert worker.proc.returncode == -9, worker.stderr()
    assert "Traceback" not in worker.stderr(), worker.stderr()
    acked = {int(line.split()[1]) for line in seen + rest if line.startswith("a ")}
    assert acked == set(range(start, start + len(acked))), f"acks out of order: {sorted(acked)}"
    return acked, seen[-1]


def kill_loop(spawn: Any, reopen: Any, path: Path, seed: int, rounds: int) -> dict[str, Any]:
    """`rounds` kill/check rounds on one directory; what happened, for the asserts."""
    rng = random.Random(seed)
    acked: set[int] = set()
    start = 1
    landed: list[str] = []
    versions = set()
    for r in range(rounds):
        # half the kills count compactor lines only: they land inside builds and between steps
        prefix = rng.choice(["", "s "])
        got, last = kill_round(spawn, path, start, rng.randint(1, 40), prefix)
        acked |= got
        in_flight = {start + len(got)}
        landed.append(last)
        with reopen(path) as client:
            collection = client.get_collection(COLLECTION, embedding_function=None)
            try:
                present = check_store(collection, acked, in_flight)
                check_version_folders(client, str(path), collection.id)
            except AssertionError as exc:
                raise AssertionError(f"round {r} (killed after {last!r}): {exc}") from exc
            versions.add(collection.stats()["version"])
        acked = present  # an in-flight batch that made it counts from now on
        start = max(present, default=0) + 1
    return {"landed": landed, "versions": versions, "batches": len(acked)}


def test_kill_bulk_writer_4_rounds(spawn: Any, reopen: Any, tmp_path: Path) -> None:
    """A few kill moments (seeded), each followed by a full check."""
    seen = kill_loop(spawn, reopen, tmp_path / "db", seed=4, rounds=4)
    assert seen["batches"] >= 4, seen


@pytest.mark.slow
def test_kill_bulk_writer_at_random_moments(spawn: Any, reopen: Any, tmp_path: Path) -> None:
    """ROUNDS kills at seeded-random output lines; some must land inside compaction."""
    seen = kill_loop(spawn, reopen, tmp_path / "db", seed=SEED, rounds=ROUNDS)
    print("bulk kill loop:", seen)
    assert any(line.startswith("s ") for line in seen["landed"]), seen
    assert max(seen["versions"]) >= 2, seen
