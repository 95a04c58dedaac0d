"""Issue 20: a process that ends while the compactor works exits cleanly, and the store stays whole.

Each case copies a store whose log tail needs compaction (written with the compactor off), runs
`exit_worker.py` on it, which ends at a seeded-random progress marker of the background compaction
(mid-build between usearch calls, or after a step) in one of five ways: the script just ends, sys.exit,
an uncaught exception, SIGINT, or close(). Never closing the client used to abort in C++
("terminate called without an active exception") when the daemon thread was inside usearch as the
interpreter finalized. Then this process reopens the copy: every batch is there and exact.
"""

from __future__ import annotations

import json
import os
import random
import shutil
import subprocess
import sys
from pathlib import Path

import fletchdb
import pytest

from .bulk_workload import COLLECTION, bulk_batch, check_store
from .ingest_worker import MAIN, check_version_folders

WORKER = os.path.join(os.path.dirname(os.path.abspath(__file__)), "exit_worker.py")
BATCHES = 120  # 24,000 records: a few seconds of compaction in 4 versions
SETTINGS = {
    "compaction_tail_records": 1,
    "compaction_tail_seconds": 0.05,
    "compaction_max_records": 4000,
}
EXPECTED_CODE = {"end": 0, "exit": 0, "close": 0, "raise": 1, "sigint": -2}
MARKERS = 40  # a version makes about 12 (progress between C++ calls, and the 6 steps)
ABORTS = ("terminate called", "Fatal Python error", "Aborted", "core dumped")
SEED = int(os.environ.get("FLETCHDB_EXIT_SEED", "20"))
ROUNDS = int(os.environ.get("FLETCHDB_EXIT_ROUNDS", "15"))


@pytest.fixture(scope="module")
def pristine(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A closed store of BATCHES batches, all in the log tail (nothing compacted)."""
    path = tmp_path_factory.mktemp("exit") / "pristine"
    settings = fletchdb.Settings(compaction_enabled=False)
    client = fletchdb.PersistentClient(str(path), settings=settings)
    collection = client.create_collection(COLLECTION, embedding_function=None)
    for n in range(1, BATCHES + 1):
        collection.add(**bulk_batch(n))
    client.close()
    return path


def run_exit_case(pristine: Path, work: Path, how: str, after: int, case: int = 0) -> str:
    """Copy the store, run the worker to its exit, check the code, stderr and the store."""
    path = work / f"{case}-{how}-{after}"
    shutil.copytree(pristine, path)
    config = {"path": str(path), "settings": SETTINGS, "how": how, "after": after}
    proc = subprocess.run(
        [sys.executable, WORKER, json.dumps(config)],
        cwd=MAIN,
        capture_output=True,
        text=True,
        timeout=300,
    )
    err = proc.stderr
    assert not [a for a in ABORTS if a in err], f"{how} after {after}: aborted\n{err[-3000:]}"
    assert proc.returncode == EXPECTED_CODE[how], (how, after, proc.returncode, err[-3000:])
    lines = proc.stdout.splitlines()
    assert lines and lines[-1].startswith(f"exiting {how} "), (proc.stdout, err[-3000:])
    if how in ("raise", "sigint"):
        want = "RuntimeError" if how == "raise" else "KeyboardInterrupt"
        assert err.rstrip().splitlines()[-1].startswith(want), err[-3000:]
    else:
        assert "Traceback" not in err and "Exception ignored" not in err, err[-3000:]
    check_reopened(path)
    return lines[-1].split()[-1]  # where the exit landed: "progress" (mid-build) or a step


def check_reopened(path: Path) -> None:
    """A fresh open sees every batch exactly; no stray version folder; compaction still works."""
    settings = fletchdb.Settings(compaction_enabled=False)
    client = fletchdb.PersistentClient(str(path), settings=settings)
    try:
        collection = client.get_collection(COLLECTION, embedding_function=None)
        everything = set(range(1, BATCHES + 1))
        check_store(collection, everything)
        check_version_folders(client, str(path), collection.id)
        collection.compact()
        assert collection.stats()["tail_records"] == 0
        assert collection.count() == BATCHES * 200
    finally:
        client.close()


@pytest.mark.parametrize("how", sorted(EXPECTED_CODE))
def test_exit_during_compaction(pristine: Path, tmp_path: Path, how: str) -> None:
    """Each way of ending, once, mid-build (the third progress marker is inside the first one)."""
    run_exit_case(pristine, tmp_path, how, after=3)


@pytest.mark.slow
def test_exit_at_random_moments(pristine: Path, tmp_path: Path) -> None:
    """ROUNDS exits at seeded-random markers and ways; some land mid-build, some after steps."""
    rng = random.Random(SEED)
    landed = [
        run_exit_case(
            pristine, tmp_path, rng.choice(sorted(EXPECTED_CODE)), rng.randint(1, MARKERS), case
        )
        for case in range(ROUNDS)
    ]
    print("exits landed at:", landed)
    assert "progress" in landed, landed
