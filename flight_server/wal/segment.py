"""Segment files of one collection log: naming, frame scanning and crash recovery."""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from pathlib import Path

import pyarrow as pa

from ..errors import CorruptLogError
from .frames import HEADER_SIZE, is_zero, parse_header, payload_ok

SUFFIX = ".wal"
_NAME = re.compile(r"^(\d{20})\.wal$")


@dataclass
class Segment:
    """One segment file: named by the first seq it holds (a lower bound when it is empty)."""

    path: Path
    first_seq: int
    size: int = 0  # bytes of whole frames written
    durable: int = 0  # bytes covered by a completed fsync
    last_seq: int = 0  # highest seq held; first_seq - 1 while empty
    count: int = 0
    fd: int = -1  # open for writing only while this is the active segment

    def __post_init__(self) -> None:
        if self.count == 0:
            self.last_seq = self.first_seq - 1


def segment_name(first_seq: int) -> str:
    """File name of the segment whose first seq is `first_seq`: 20 digits, zero-padded."""
    return f"{first_seq:020d}{SUFFIX}"


def list_segments(directory: Path) -> list[tuple[int, Path]]:
    """(first seq, path) of every segment file in `directory`, in seq order."""
    found = []
    for entry in os.scandir(directory):
        match = _NAME.match(entry.name)
        if match:
            found.append((int(match.group(1)), Path(entry.path)))
    found.sort()
    return found


def fsync_dir(directory: Path) -> None:
    """Make file creations, renames and deletions in `directory` durable."""
    fd = os.open(directory, os.O_RDONLY | os.O_DIRECTORY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def make_dirs(path: str | Path) -> None:
    """mkdir -p, each directory it creates made durable in its parent (else a power cut could
    drop a fresh log or version directory with acknowledged data in it)."""
    missing = []
    folder = Path(path)
    while not folder.exists():
        missing.append(folder)
        folder = folder.parent
    for new in reversed(missing):
        new.mkdir(exist_ok=True)
        fsync_dir(new.parent)


def corrupt(path: Path, offset: int, why: str) -> CorruptLogError:
    """The error for a bad frame at `offset` of segment `path`."""
    return CorruptLogError(
        f"corrupt write-ahead log: {why} in segment {path.name} at byte offset {offset} ({path})",
        segment=str(path),
        offset=offset,
    )


def map_segment(path: Path, size: int) -> pa.Buffer:
    """The first `size` bytes of a segment, memory-mapped (zero-copy)."""
    with pa.memory_map(str(path)) as mm:
        return mm.read_buffer(size)


def scan(path: Path, first_seq: int, prev_seq: int, is_last: bool) -> tuple[int, int, int]:
    """Check every frame of a segment: (end of the last whole frame, its seq, frame count).

    In the last segment a torn tail stops the scan (the caller truncates it); anywhere else, or
    when more data follows the bad frame, CorruptLogError names the segment and offset.
    """
    size = path.stat().st_size
    last, count, off = prev_seq, 0, 0
    if size == 0:
        return 0, last, 0
    buf = map_segment(path, size)
    while off < size:
        if size - off < HEADER_SIZE:
            if is_last:
                break
            raise corrupt(path, off, "truncated frame header")
        header = parse_header(buf, off)
        if header is None:
            if is_last and is_zero(buf, off):
                break
            raise corrupt(path, off, "bad frame header")
        end = off + HEADER_SIZE + header.length
        if end > size:
            if is_last:
                break
            raise corrupt(path, off, "frame runs past the end of the segment")
        if not payload_ok(buf, off, header):
            if is_last and (end == size or is_zero(buf, end)):
                break
            raise corrupt(path, off, "frame checksum mismatch")
        if header.seq <= last or header.seq < first_seq:
            raise corrupt(path, off, f"seq {header.seq} out of order after {last}")
        last, count, off = header.seq, count + 1, end
    return off, last, count


def recover(directory: Path) -> list[Segment]:
    """Scan every segment in order, truncating a torn tail of the last one (durably)."""
    names = list_segments(directory)
    segments: list[Segment] = []
    prev = 0
    for i, (first, path) in enumerate(names):
        if first <= prev:
            raise corrupt(path, 0, f"segment starts at seq {first}, not after {prev}")
        is_last = i == len(names) - 1
        end, last, count = scan(path, first, prev, is_last)
        if is_last and end < path.stat().st_size:
            fd = os.open(path, os.O_WRONLY)
            try:
                os.ftruncate(fd, end)
                os.fsync(fd)
            finally:
                os.close(fd)
        segments.append(Segment(path, first, end, end, last, count))
        prev = segments[-1].last_seq
    return segments
