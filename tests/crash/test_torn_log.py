"""Torn and corrupt write-ahead logs, through the engine (recovery on open, then reads).

A torn last frame (the process died while writing it) is dropped: reopening gives exactly the
earlier batches, and the log accepts new writes after the cut. A damaged frame anywhere before the
tail is refused with CorruptLogError naming segment and offset: no silent data loss, no hang.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import fletchdb
import pytest

from flight_server.engine import Engine
from flight_server.errors import CorruptLogError
from flight_server.wal.frames import HEADER, HEADER_SIZE

from .ingest_worker import COLLECTION, check_collection, diff, model_after, run_batch, snapshot

SEED = 5
N = 24
SETTINGS = {"compaction_enabled": False, "wal_segment_bytes": 8 * 1024}

pytestmark = pytest.mark.timeout(120)


def _settings() -> fletchdb.Settings:
    return fletchdb.Settings(**SETTINGS)


@pytest.fixture(scope="module")
def pristine(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str]:
    """A closed data directory holding batches 1..N, all in the log (several segments)."""
    path = tmp_path_factory.mktemp("torn") / "db"
    client = fletchdb.PersistentClient(str(path), settings=_settings())
    collection = client.get_or_create_collection(COLLECTION, embedding_function=None)
    for n in range(1, N + 1):
        run_batch(collection, SEED, n)
    cid = collection.id
    client.close()
    assert len(_segments(path, cid)) >= 3
    return path, cid


def _segments(path: Path, cid: str) -> list[Path]:
    return sorted((path / "wal" / cid).glob("*.wal"))


def _frames(segment: Path) -> list[tuple[int, int]]:
    """(start, end) byte range of every frame of a segment."""
    data = segment.read_bytes()
    out, off = [], 0
    while off < len(data):
        length = HEADER.unpack_from(data, off)[5]
        out.append((off, off + HEADER_SIZE + length))
        off = out[-1][1]
    assert off == len(data)
    return out


def _copy(pristine: tuple[Path, str], tmp_path: Path) -> Path:
    path = tmp_path / "db"
    shutil.copytree(pristine[0], path)
    return path


def _check_engine(path: Path, n: int) -> None:
    engine = Engine(path, _settings())
    try:
        collection = fletchdb.Client(engine).get_collection(COLLECTION, embedding_function=None)
        check_collection(collection, model_after(SEED, n))
        assert engine.collection(collection.id).log.last_seq == n
    finally:
        engine.close()


CUTS = {
    "1 byte of the header": lambda start, end: start + 1,
    "header minus 1": lambda start, end: start + HEADER_SIZE - 1,
    "header only": lambda start, end: start + HEADER_SIZE,
    "half the payload": lambda start, end: (start + HEADER_SIZE + end) // 2,
    "1 byte short": lambda start, end: end - 1,
}


@pytest.mark.parametrize("cut", list(CUTS))
def test_torn_last_frame_is_dropped(pristine: tuple[Path, str], tmp_path: Path, cut: str) -> None:
    path, cid = _copy(pristine, tmp_path), pristine[1]
    last = _segments(path, cid)[-1]
    start, end = _frames(last)[-1]
    os.truncate(last, CUTS[cut](start, end))

    _check_engine(path, N - 1)
    assert last.stat().st_size == start  # recovery cut the torn tail off (durably)

    # The log goes on after the cut: batch N again, then a reopen sees it once.
    client = fletchdb.PersistentClient(str(path), settings=_settings())
    run_batch(client.get_collection(COLLECTION, embedding_function=None), SEED, N)
    client.close()
    _check_engine(path, N)


def test_torn_frame_over_zeros_is_dropped(pristine: tuple[Path, str], tmp_path: Path) -> None:
    """A last frame whose end never reached the disk (the file length did: zeros) is a torn tail."""
    path, cid = _copy(pristine, tmp_path), pristine[1]
    last = _segments(path, cid)[-1]
    start, end = _frames(last)[-1]
    with open(last, "r+b") as f:
        f.seek(start + HEADER_SIZE + 8)
        f.write(b"\0" * (end - start - HEADER_SIZE - 8))
    _check_engine(path, N - 1)


def test_torn_tail_then_compaction(pristine: tuple[Path, str], tmp_path: Path) -> None:
    """Recovery after a torn tail, then compaction and another reopen: still the earlier batches."""
    path, cid = _copy(pristine, tmp_path), pristine[1]
    last = _segments(path, cid)[-1]
    start, end = _frames(last)[-1]
    os.truncate(last, start + 3)
    client = fletchdb.PersistentClient(str(path), settings=_settings())
    collection = client.get_collection(COLLECTION, embedding_function=None)
    assert collection.compact() >= 1
    assert diff(snapshot(collection), model_after(SEED, N - 1)) is None
    client.close()
    _check_engine(path, N - 1)


def _flip(segment: Path, offset: int) -> None:
    with open(segment, "r+b") as f:
        f.seek(offset)
        byte = f.read(1)
        f.seek(offset)
        f.write(bytes([byte[0] ^ 0x40]))


# (which segment, which frame of it, byte offset inside the frame: "payload" = its middle)
DAMAGE: dict[str, tuple[int, int, str | int]] = {
    "payload, middle frame of the last segment": (-1, 0, "payload"),
    "seq field, middle frame of the last segment": (-1, 0, 8),
    "length field, middle frame of the last segment": (-1, 0, 16),
    "payload, last frame of the first segment": (0, -1, "payload"),
    "magic, first frame of a middle segment": (1, 0, 0),
}


@pytest.mark.parametrize("damage", list(DAMAGE))
def test_corrupt_frame_before_the_tail_is_refused(
    pristine: tuple[Path, str], tmp_path: Path, damage: str
) -> None:
    path, cid = _copy(pristine, tmp_path), pristine[1]
    seg_index, frame_index, where = DAMAGE[damage]
    segment = _segments(path, cid)[seg_index]
    frames = _frames(segment)
    assert len(frames) >= 2
    start, end = frames[frame_index]
    _flip(segment, (start + HEADER_SIZE + end) // 2 if where == "payload" else start + int(where))

    for _attempt in range(2):  # a failed open must not leave the directory locked
        with pytest.raises(CorruptLogError) as info:
            engine = Engine(path, _settings())
            try:
                fletchdb.Client(engine).get_collection(COLLECTION, embedding_function=None).get()
            finally:
                engine.close()
        message = str(info.value)
        assert segment.name in message and f"offset {start}" in message, message
        assert info.value.details["offset"] == start
        assert Path(info.value.details["segment"]).name == segment.name
    assert segment.exists() and segment.stat().st_size == frames[-1][1]  # nothing was cut off
