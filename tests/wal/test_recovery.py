"""Crash recovery on open: torn tails are truncated, corruption anywhere else is refused loudly."""

from __future__ import annotations

import shutil
from pathlib import Path

import pyarrow as pa
import pytest

from flight_server.errors import CorruptLogError
from flight_server.schema import Op
from flight_server.wal import LocalLogStore
from flight_server.wal.frames import HEADER_SIZE, encode_header, payload_crc, serialize_batch
from flight_server.wal.segment import make_dirs, segment_name

from .helpers import make_batch


def write_log(
    root: Path, n: int, rolls: tuple[int, ...] = ()
) -> tuple[list[pa.RecordBatch], list[int]]:
    """Append n batches (rolling before the seqs in `rolls`); return them and each frame's offset."""
    store = LocalLogStore(root)
    log = store.open("c")
    batches, offsets, offset = [], [], 0
    for i in range(n):
        if i + 1 in rolls:
            log.roll()
            offset = 0
        batch = make_batch(f"k{i}", 2, kind=i % 3)
        assert log.append(Op.ADD, batch) == i + 1
        batches.append(batch)
        offsets.append(offset)
        offset += HEADER_SIZE + serialize_batch(batch).size
    store.close()
    return batches, offsets


def reopen(root: Path) -> list[tuple[int, pa.RecordBatch]]:
    store = LocalLogStore(root)
    try:
        return [(e.seq, e.batch) for e in store.open("c").read()]
    finally:
        store.close()


def seg(root: Path, first: int) -> Path:
    return root / "c" / segment_name(first)


def flip(path: Path, offset: int, mask: int = 0x01) -> None:
    data = bytearray(path.read_bytes())
    data[offset] ^= mask
    path.write_bytes(bytes(data))


def test_torn_tail_at_every_byte_of_the_last_frame(tmp_path: Path) -> None:
    batches, offsets = write_log(tmp_path, 3, rolls=(2,))  # segments: [1], [2, 3]
    path = seg(tmp_path, 2)
    original = path.read_bytes()
    start = offsets[-1]
    extra = make_batch("after", 3)
    for cut in range(start, len(original)):
        path.write_bytes(original[:cut])
        got = reopen(tmp_path)
        assert [s for s, _ in got] == [1, 2], cut
        assert all(b.equals(batches[s - 1]) for s, b in got)
        assert path.stat().st_size == start  # truncated on disk, not just skipped
        store = LocalLogStore(tmp_path)
        assert store.open("c").append(Op.UPSERT, extra) == 3
        store.close()
        got = reopen(tmp_path)
        assert [s for s, _ in got] == [1, 2, 3] and got[-1][1].equals(extra), cut
    assert len(original) - start > 500  # the last frame has a real schema and data


def test_torn_first_frame_of_a_fresh_segment(tmp_path: Path) -> None:
    write_log(tmp_path, 2)
    payload = serialize_batch(make_batch("x", 1))
    frame = encode_header(Op.ADD, 3, payload.size, payload_crc(payload)) + payload.to_pybytes()
    for cut in (0, 1, HEADER_SIZE - 1, HEADER_SIZE, HEADER_SIZE + 7, len(frame) - 1):
        path = seg(tmp_path, 3)
        path.write_bytes(frame[:cut])
        assert [s for s, _ in reopen(tmp_path)] == [1, 2]
        assert path.stat().st_size == 0
    path.write_bytes(frame)
    assert [s for s, _ in reopen(tmp_path)] == [1, 2, 3]


@pytest.mark.parametrize("zeros", [1, HEADER_SIZE - 1, HEADER_SIZE, 4096, 70000])
def test_zero_filled_tail_is_truncated(tmp_path: Path, zeros: int) -> None:
    write_log(tmp_path, 3)
    path = seg(tmp_path, 1)
    size = path.stat().st_size
    with open(path, "ab") as f:
        f.write(bytes(zeros))
    assert [s for s, _ in reopen(tmp_path)] == [1, 2, 3]
    assert path.stat().st_size == size


def test_checksum_failure_of_the_frame_ending_at_eof_is_a_torn_tail(tmp_path: Path) -> None:
    _, offsets = write_log(tmp_path, 3)
    path = seg(tmp_path, 1)
    flip(path, path.stat().st_size - 20)
    assert [s for s, _ in reopen(tmp_path)] == [1, 2]
    assert path.stat().st_size == offsets[-1]


def test_every_flipped_byte_of_a_middle_frame_is_refused(tmp_path: Path) -> None:
    clean = tmp_path / "clean"
    _, offsets = write_log(clean, 3)
    root = tmp_path / "bad"
    for pos in range(offsets[1], offsets[2]):
        shutil.copytree(clean, root)
        path = seg(root, 1)
        flip(path, pos, 0x10)
        with pytest.raises(CorruptLogError) as info:
            LocalLogStore(root).open("c")
        err = info.value
        assert err.details == {"segment": str(path), "offset": offsets[1]}, pos
        assert path.name in str(err) and f"offset {offsets[1]}" in str(err)
        assert path.stat().st_size == (clean / "c" / path.name).stat().st_size  # nothing truncated
        shutil.rmtree(root)


def test_bad_frame_followed_by_garbage_is_refused(tmp_path: Path) -> None:
    _, offsets = write_log(tmp_path, 2)
    path = seg(tmp_path, 1)
    end = path.stat().st_size
    with open(path, "ab") as f:
        f.write(b"\x07" * (HEADER_SIZE + 10))
    with pytest.raises(CorruptLogError) as info:
        reopen(tmp_path)
    assert info.value.details["offset"] == end
    with open(path, "r+b") as f:  # fewer bytes than a header: a torn header, truncated
        f.truncate(end + HEADER_SIZE - 1)
    assert [s for s, _ in reopen(tmp_path)] == [1, 2]


def test_checksum_failure_followed_by_zeros_is_a_torn_tail(tmp_path: Path) -> None:
    _, offsets = write_log(tmp_path, 3)
    path = seg(tmp_path, 1)
    flip(path, path.stat().st_size - 1)
    with open(path, "ab") as f:
        f.write(bytes(5000))
    assert [s for s, _ in reopen(tmp_path)] == [1, 2]
    assert path.stat().st_size == offsets[-1]


def test_corrupt_frame_in_a_non_last_segment_is_refused(tmp_path: Path) -> None:
    clean = tmp_path / "clean"
    _, offsets = write_log(clean, 4, rolls=(3,))  # segments: [1, 2], [3, 4]
    root = tmp_path / "flip"
    shutil.copytree(clean, root)
    first = seg(root, 1)
    flip(first, first.stat().st_size - 3)  # the last frame of a sealed segment
    with pytest.raises(CorruptLogError) as info:
        reopen(root)
    assert info.value.details == {"segment": str(first), "offset": offsets[1]}
    for cut in (offsets[1] + 5, offsets[1] + HEADER_SIZE + 3):  # a sealed segment cut short
        root = tmp_path / f"cut{cut}"
        shutil.copytree(clean, root)
        with open(seg(root, 1), "r+b") as f:
            f.truncate(cut)
        with pytest.raises(CorruptLogError) as info:
            reopen(root)
        assert info.value.details == {"segment": str(seg(root, 1)), "offset": offsets[1]}
    root = tmp_path / "zeros"
    shutil.copytree(clean, root)
    with open(seg(root, 1), "ab") as f:
        f.write(bytes(100))
    with pytest.raises(CorruptLogError):
        reopen(root)


def test_seqs_are_read_from_frames(tmp_path: Path) -> None:
    write_log(tmp_path, 3)
    path = seg(tmp_path, 1)
    data = path.read_bytes()
    frame_one = data[: HEADER_SIZE + serialize_batch(make_batch("k0", 2, kind=0)).size]
    path.write_bytes(data + frame_one)  # a valid frame whose seq goes backwards
    with pytest.raises(CorruptLogError) as info:
        reopen(tmp_path)
    assert info.value.details["offset"] == len(data) and "out of order" in str(info.value)
    path.write_bytes(data)
    shutil.move(path, seg(tmp_path, 2))  # a segment named above its first frame's seq
    with pytest.raises(CorruptLogError):
        reopen(tmp_path)


def test_empty_segment_left_by_a_crashed_roll(tmp_path: Path) -> None:
    write_log(tmp_path, 2)
    seg(tmp_path, 3).touch()
    assert [s for s, _ in reopen(tmp_path)] == [1, 2]
    store = LocalLogStore(tmp_path)
    log = store.open("c")
    assert log.last_seq == 2 and log.append(Op.ADD, make_batch("x", 1)) == 3
    assert [p.name for p in log.segments] == [segment_name(1), segment_name(3)]
    store.close()


def test_overlapping_segment_names_are_refused(tmp_path: Path) -> None:
    write_log(tmp_path, 3, rolls=(2,))
    shutil.copy(seg(tmp_path, 2), seg(tmp_path, 3))
    with pytest.raises(CorruptLogError) as info:
        reopen(tmp_path)
    assert info.value.details["segment"].endswith(segment_name(3))


def test_reads_verify_checksums_written_after_open(tmp_path: Path) -> None:
    write_log(tmp_path, 3)
    store = LocalLogStore(tmp_path)
    log = store.open("c")
    flip(seg(tmp_path, 1), HEADER_SIZE + 40)  # bit rot after recovery checked the file
    with pytest.raises(CorruptLogError) as info:
        list(log.read())
    assert info.value.details["offset"] == 0
    store.close()


def test_make_dirs_creates_missing_levels_once(tmp_path: Path) -> None:
    """make_dirs is mkdir -p (each new level fsynced into its parent) and a no-op when present."""
    target = tmp_path / "a" / "b" / "c"
    make_dirs(target)
    assert target.is_dir()
    make_dirs(target)
    assert sorted(p.name for p in tmp_path.rglob("*")) == ["a", "b", "c"]
