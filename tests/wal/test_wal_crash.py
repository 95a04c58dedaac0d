"""SIGKILL a writer process at random moments, over and over on one directory; nothing acked is lost."""

from __future__ import annotations

import os
import random
import re
import shutil
import signal
import subprocess
import sys
from pathlib import Path

from flight_server.schema import Op
from flight_server.wal import LocalLogStore

from .helpers import checksum, make_batch

WRITER = Path(__file__).with_name("crash_writer.py")
_KEY = re.compile(r"^r(\d+)-t(\d+)-i(\d+)-n(\d+)-k(\d+)$")


def check_log(root: Path, acked: dict[int, tuple[str, str]], purged_upto: int, note: str) -> int:
    """Every entry is a whole batch written once; every acknowledged one survives. Return last seq."""
    store = LocalLogStore(root)
    log = store.open("c")
    seen: set[str] = set()
    seqs = []
    for entry in log.read():
        keys = {i.rsplit("/", 1)[0] for i in entry.batch.column("id").to_pylist()}
        assert len(keys) == 1, note
        key = keys.pop()
        match = _KEY.match(key)
        assert match, note
        rows, kind = int(match.group(4)), int(match.group(5))
        assert entry.batch.equals(make_batch(key, rows, kind=kind)), f"partial batch {key} {note}"
        assert entry.op == Op(1 + kind), note
        assert key not in seen, f"{key} written twice {note}"
        seen.add(key)
        if entry.seq in acked:
            assert acked[entry.seq] == (key, checksum(entry.batch)), note
        seqs.append(entry.seq)
    assert seqs == sorted(set(seqs)), note
    present = set(seqs)
    lost = [s for s in acked if s > purged_upto and s not in present]
    assert not lost, f"acknowledged seqs lost: {lost[:10]} {note}"
    last = log.last_seq
    store.close()
    return last


def test_sigkill_loses_no_acknowledged_batch(tmp_path: Path) -> None:
    seed = int.from_bytes(os.urandom(4), "little")
    rng = random.Random(seed)
    root = tmp_path / "log"
    acked: dict[int, tuple[str, str]] = {}
    purged_upto = 0
    segment_names: set[str] = set()

    def handle(line: str, note: str) -> str:
        nonlocal purged_upto
        if not line.endswith("\n"):
            return ""  # cut off by the kill: nothing was promised
        kind, *rest = line.split()
        if kind == "A":
            seq, key, digest = int(rest[0]), rest[1], rest[2]
            assert seq not in acked, f"seq {seq} acknowledged twice {note}"
            acked[seq] = (key, digest)
        elif kind == "P":
            purged_upto = max(purged_upto, int(rest[0]))
        return kind

    for round_no in range(10):
        note = f"(seed {seed}, round {round_no})"
        proc = subprocess.Popen(
            [sys.executable, str(WRITER), str(root), str(round_no), "3"],
            stdout=subprocess.PIPE,
            text=True,
        )
        assert proc.stdout is not None
        while (line := proc.stdout.readline()).startswith("P"):
            handle(line, note)
        assert line.startswith("R "), f"writer exited with {proc.wait()} {note}"
        assert int(line.split()[1]) >= max(acked, default=0), note  # no acked seq is reused
        wanted, seen = rng.randint(0, 80) if round_no else 40, 0
        while seen < wanted:
            line = proc.stdout.readline()
            assert line, f"writer exited with {proc.wait()} {note}"
            seen += handle(line, note) == "A"
        proc.send_signal(signal.SIGKILL)
        assert proc.wait() == -signal.SIGKILL, note
        for line in proc.stdout.read().splitlines(keepends=True):  # acks printed before the kill
            handle(line, note)
        proc.stdout.close()
        # Check a copy, so that the next writer runs recovery on the original directory itself.
        copy = tmp_path / "copy"
        shutil.copytree(root, copy)
        segment_names.update(p.name for p in (copy / "c").iterdir())
        check_log(copy, acked, purged_upto, note)
        shutil.rmtree(copy)
    assert len(acked) >= 40 and purged_upto > 0
    assert len(segment_names) > 3  # segments rolled along the way
