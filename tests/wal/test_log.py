"""LocalLogStore / LocalCollectionLog behaviour on real files: seqs, reads, rolls, purges, threads."""

from __future__ import annotations

import queue
import tempfile
import threading
from pathlib import Path

import pyarrow as pa
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from flight_server.errors import ClosedError, InvalidArgumentError
from flight_server.schema import Op
from flight_server.wal import CollectionLog, LocalCollectionLog, LocalLogStore, LogStore
from flight_server.wal.frames import HEADER_SIZE, serialize_batch
from flight_server.wal.segment import segment_name

from .helpers import make_batch

OPS = [Op.ADD, Op.UPSERT, Op.UPDATE, Op.DELETE]


def entries(log: CollectionLog, after: int = 0) -> list[tuple[int, Op, pa.RecordBatch]]:
    return [(e.seq, e.op, e.batch) for e in log.read(after)]


def fill(log: CollectionLog, n: int, prefix: str = "b") -> dict[int, pa.RecordBatch]:
    out = {}
    for i in range(n):
        batch = make_batch(f"{prefix}{i}", 1 + i % 5, kind=i)
        out[log.append(OPS[i % 4], batch)] = batch
    return out


def names(log: LocalCollectionLog) -> list[str]:
    return [p.name for p in log.segments]


def test_round_trip_several_schemas_and_ops(tmp_path: Path) -> None:
    store = LocalLogStore(tmp_path)
    assert isinstance(store, LogStore)
    log = store.open("c1")
    assert isinstance(log, CollectionLog) and log.last_seq == 0
    written = fill(log, 12)
    assert list(written) == list(range(1, 13))
    got = entries(log)
    assert [s for s, _, _ in got] == list(range(1, 13))
    for (seq, op, batch), i in zip(got, range(12), strict=True):
        assert op == OPS[i % 4]
        assert batch.equals(written[seq]) and batch.schema.equals(written[seq].schema)
    assert log.last_seq == 12
    assert names(log) == [segment_name(1)]


def test_each_sequential_append_is_fsynced(tmp_path: Path) -> None:
    log = LocalLogStore(tmp_path).open("c")
    log.append(Op.ADD, make_batch("first", 1))  # creates the segment (and fsyncs the directory)
    before = log.stats
    fill(log, 5)
    after = log.stats
    assert (after.appends - before.appends, after.fsyncs - before.fsyncs) == (5, 5)
    assert after.bytes - before.bytes == sum(p.stat().st_size for p in log.segments) - before.bytes


def test_read_after_seq(tmp_path: Path) -> None:
    log = LocalLogStore(tmp_path, segment_bytes=1500).open("c")
    fill(log, 20)
    assert len(log.segments) > 3
    for after in range(0, 22):
        assert [s for s, _, _ in entries(log, after)] == list(range(after + 1, 21))


def test_reopen_continues_seqs_and_min_seq(tmp_path: Path) -> None:
    store = LocalLogStore(tmp_path)
    written = fill(store.open("c"), 3)
    store.close()
    store = LocalLogStore(tmp_path)
    log = store.open("c")
    assert log.last_seq == 3
    assert log.append(Op.ADD, make_batch("n", 1)) == 4
    store.close()
    log = LocalLogStore(tmp_path).open("c", min_seq=2)  # below the log: no effect
    assert log.append(Op.ADD, make_batch("n", 1)) == 5
    log.close()
    log = LocalLogStore(tmp_path).open("c", min_seq=100)
    assert log.last_seq == 100
    assert log.append(Op.ADD, make_batch("m", 1)) == 101
    assert [s for s, _, _ in entries(log)] == [1, 2, 3, 4, 5, 101]
    assert entries(log)[0][2].equals(written[1])
    log.close()
    log = LocalLogStore(tmp_path).open("c")  # seqs come from frames, not from min_seq
    assert log.append(Op.ADD, make_batch("m", 1)) == 102


def test_min_seq_on_new_log_and_on_open_instance(tmp_path: Path) -> None:
    store = LocalLogStore(tmp_path)
    log = store.open("c", min_seq=41)
    assert log.append(Op.ADD, make_batch("a", 1)) == 42
    assert names(log) == [segment_name(42)]
    assert store.open("c", min_seq=10) is log
    assert store.open("c", min_seq=50) is log
    assert log.append(Op.ADD, make_batch("b", 1)) == 51


def test_roll(tmp_path: Path) -> None:
    log = LocalLogStore(tmp_path).open("c")
    log.roll()  # nothing yet: starts the first segment
    assert names(log) == [segment_name(1)]
    log.roll()  # the active segment is empty: no-op
    assert names(log) == [segment_name(1)]
    fill(log, 3)
    log.roll()
    fill(log, 2, "x")
    assert names(log) == [segment_name(1), segment_name(4)]
    assert [s for s, _, _ in entries(log)] == [1, 2, 3, 4, 5]


def test_segments_roll_at_segment_bytes(tmp_path: Path) -> None:
    limit = 3000
    log = LocalLogStore(tmp_path, segment_bytes=limit).open("c")
    fill(log, 30)
    big = make_batch("big", 400, dim=8)
    seq = log.append(Op.ADD, big)
    paths = log.segments
    assert len(paths) > 5
    for path in paths:
        assert path.stat().st_size <= limit or path.name == segment_name(seq)
    assert log.segments[-1].name == segment_name(seq) and paths[-1].stat().st_size > limit
    firsts = [int(p.name.split(".")[0]) for p in paths]
    assert firsts == sorted(firsts) and firsts[0] == 1
    got = entries(log)
    assert [s for s, _, _ in got] == list(range(1, 32)) and got[-1][2].equals(big)
    for first, nxt in zip(firsts, firsts[1:] + [seq + 1], strict=True):
        in_segment = [s for s, _, _ in got if first <= s < nxt]
        assert in_segment and in_segment[0] == first


def test_purge(tmp_path: Path) -> None:
    store = LocalLogStore(tmp_path)
    log = store.open("c")
    assert log.purge(100) == 0  # no segments at all
    fill(log, 3)
    log.roll()
    fill(log, 3, "y")
    log.roll()
    fill(log, 3, "z")  # segments: 1-3, 4-6, 7-9 (active)
    assert log.purge(0) == 0
    assert log.purge(5) == 1  # 4-6 holds 6 > 5
    assert names(log) == [segment_name(4), segment_name(7)]
    assert [s for s, _, _ in entries(log)] == list(range(4, 10))
    assert log.purge(8) == 1  # the active segment is not fully covered: kept
    assert names(log) == [segment_name(7)]
    assert log.purge(9) == 1  # fully covered: rolled, then deleted
    assert names(log) == [segment_name(10)]
    assert entries(log) == [] and log.last_seq == 9
    store.close()
    log = LocalLogStore(tmp_path).open("c")  # the empty segment's name keeps the seqs going
    assert log.last_seq == 9
    assert log.append(Op.ADD, make_batch("w", 1)) == 10
    assert [s for s, _, _ in entries(log)] == [10]


def test_close_and_closed_errors(tmp_path: Path) -> None:
    store = LocalLogStore(tmp_path)
    log = store.open("c")
    fill(log, 2)
    log.close()
    log.close()
    with pytest.raises(ClosedError):
        log.append(Op.ADD, make_batch("a", 1))
    with pytest.raises(ClosedError):
        log.read()
    with pytest.raises(ClosedError):
        log.purge(5)
    reopened = store.open("c")  # a closed log is replaced by a fresh instance
    assert reopened is not log and [s for s, _, _ in entries(reopened)] == [1, 2]
    store.close()
    with pytest.raises(ClosedError):
        reopened.append(Op.ADD, make_batch("a", 1))
    with pytest.raises(ClosedError):
        store.open("c")


def test_drop(tmp_path: Path) -> None:
    store = LocalLogStore(tmp_path)
    log = store.open("c")
    other = store.open("d")
    fill(log, 3)
    fill(other, 1)
    store.drop("c")
    store.drop("never-created")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["d"]
    with pytest.raises(ClosedError):
        log.append(Op.ADD, make_batch("a", 1))
    fresh = store.open("c")
    assert fresh.last_seq == 0 and entries(fresh) == []
    assert fresh.append(Op.ADD, make_batch("a", 1)) == 1
    assert [s for s, _, _ in entries(other)] == [1]


def test_interrupted_drop_is_finished_on_startup(tmp_path: Path) -> None:
    (tmp_path / ".dropped-c-123").mkdir()
    (tmp_path / ".dropped-c-123" / segment_name(1)).write_bytes(b"junk")
    LocalLogStore(tmp_path)
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("bad", ["", ".", "..", "../x", "a/b", ".hidden", "x" * 300, "a\x00b"])
def test_invalid_collection_ids(tmp_path: Path, bad: str) -> None:
    store = LocalLogStore(tmp_path / "root")
    with pytest.raises(InvalidArgumentError):
        store.open(bad)
    with pytest.raises(InvalidArgumentError):
        store.drop(bad)


def test_invalid_arguments(tmp_path: Path) -> None:
    with pytest.raises(InvalidArgumentError):
        LocalLogStore(tmp_path, segment_bytes=0)
    log = LocalLogStore(tmp_path).open("c")
    with pytest.raises(InvalidArgumentError):
        log.append(7, make_batch("a", 1))  # type: ignore[arg-type]
    with pytest.raises(InvalidArgumentError):
        log.append(Op.ADD, pa.table({"id": ["a"]}))  # type: ignore[arg-type]
    assert log.append(2, make_batch("a", 1)) == 1  # type: ignore[arg-type]
    assert entries(log)[0][1] is Op.UPSERT


def test_concurrent_appends_share_fsyncs(tmp_path: Path) -> None:
    log = LocalLogStore(tmp_path, segment_bytes=64 << 10).open("c")
    threads, per_thread = 8, 50
    start = threading.Barrier(threads)
    acked: dict[str, int] = {}
    lock = threading.Lock()
    acks: queue.Queue[int | None] = queue.Queue()
    reads: list[tuple[int, list[int]]] = []

    def writer(t: int) -> None:
        start.wait()
        for i in range(per_thread):
            key = f"t{t}-{i}"
            seq = log.append(OPS[i % 4], make_batch(key, 1 + i % 3, kind=i))
            acks.put(seq)
            with lock:
                acked[key] = seq

    def reader() -> None:  # one read per acknowledgement, concurrent with the writers
        while (seq := acks.get()) is not None:
            reads.append((seq, [e.seq for e in log.read(seq - 5)]))

    before = log.stats
    workers = [threading.Thread(target=writer, args=(t,)) for t in range(threads)]
    watcher = threading.Thread(target=reader)
    for w in [*workers, watcher]:
        w.start()
    for w in workers:
        w.join()
    acks.put(None)
    watcher.join()
    after = log.stats
    total = threads * per_thread
    assert sorted(acked.values()) == list(range(1, total + 1))
    got = {e.seq: e for e in log.read()}
    assert sorted(got) == list(range(1, total + 1))
    for key, seq in acked.items():
        t, i = (int(x) for x in key[1:].split("-"))
        assert got[seq].batch.equals(make_batch(key, 1 + i % 3, kind=i))
        assert got[seq].op == OPS[i % 4]
    assert after.appends - before.appends == total
    assert after.fsyncs - before.fsyncs < total  # group commit shared fsyncs
    assert len(reads) == total
    for seq, seqs in reads:  # an acknowledged write is readable, with no gap before it
        first = max(seq - 4, 1)
        assert seqs[: seq - first + 1] == list(range(first, seq + 1))
        assert seqs == list(range(first, first + len(seqs)))
    assert len(log.segments) > 1


def test_read_is_a_snapshot(tmp_path: Path) -> None:
    log = LocalLogStore(tmp_path).open("c")
    fill(log, 3)
    reader = log.read()
    assert next(reader).seq == 1
    fill(log, 2, "later")
    assert [e.seq for e in reader] == [2, 3]
    assert log.purge(5) == 1
    assert [e.seq for e in log.read()] == []


def test_purged_segments_stay_readable_by_open_readers(tmp_path: Path) -> None:
    log = LocalLogStore(tmp_path).open("c")
    written = fill(log, 4)
    reader = log.read()
    assert log.purge(4) == 1
    assert [(e.seq, e.batch.equals(written[e.seq])) for e in reader] == [(s, True) for s in written]


class ModelLog:
    """A list model of the log: segments as lists of (seq, key), rolled by the same size rule."""

    def __init__(self, segment_bytes: int) -> None:
        self.segment_bytes = segment_bytes
        self.segments: list[tuple[int, list[int], int]] = []  # (first seq, seqs, bytes)
        self.next_seq = 1

    def last_of(self, i: int) -> int:
        first, seqs, _ = self.segments[i]
        return seqs[-1] if seqs else first - 1

    def roll(self) -> None:
        if not self.segments or self.segments[-1][1]:
            self.segments.append((self.next_seq, [], 0))

    def append(self, size: int) -> int:
        if not self.segments or (
            self.segments[-1][2] > 0 and self.segments[-1][2] + size > self.segment_bytes
        ):
            self.segments.append((self.next_seq, [], 0))
        first, seqs, used = self.segments[-1]
        seq = self.next_seq
        self.segments[-1] = (first, [*seqs, seq], used + size)
        self.next_seq += 1
        return seq

    def purge(self, upto: int) -> int:
        if self.segments and self.segments[-1][1] and self.last_of(-1) <= upto:
            self.roll()
        deleted = 0
        while len(self.segments) > 1 and self.last_of(0) <= upto:
            self.segments.pop(0)
            deleted += 1
        return deleted

    def reopen(self, min_seq: int) -> None:
        on_disk = self.last_of(-1) if self.segments else 0
        self.next_seq = max(on_disk, min_seq) + 1
        if self.segments and not self.segments[-1][1]:
            self.segments[-1] = (self.next_seq, [], 0)  # the empty active segment is renamed

    def seqs(self) -> list[int]:
        return [s for _, seqs, _ in self.segments for s in seqs]


operations = st.lists(
    st.one_of(
        st.tuples(st.just("append"), st.integers(0, 6), st.integers(0, 3)),
        st.tuples(st.just("roll"), st.just(0), st.just(0)),
        st.tuples(st.just("purge"), st.integers(-2, 30), st.just(0)),
        st.tuples(st.just("reopen"), st.integers(0, 40), st.booleans()),
        st.tuples(st.just("read"), st.integers(-1, 30), st.just(0)),
    ),
    max_size=40,
)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(ops=operations, segment_bytes=st.sampled_from([1, 900, 2500, 1 << 20]))
def test_matches_list_model(ops: list[tuple[str, int, int]], segment_bytes: int) -> None:
    with tempfile.TemporaryDirectory() as root:
        store = LocalLogStore(root, segment_bytes=segment_bytes)
        log = store.open("c")
        model = ModelLog(segment_bytes)
        batches: dict[int, pa.RecordBatch] = {}
        op_of: dict[int, Op] = {}
        for step, (name, a, b) in enumerate(ops):
            if name == "append":
                batch = make_batch(f"s{step}", a, kind=b)
                size = HEADER_SIZE + serialize_batch(batch).size
                seq = log.append(OPS[b], batch)
                assert seq == model.append(size)
                batches[seq], op_of[seq] = batch, OPS[b]
            elif name == "roll":
                log.roll()
                model.roll()
            elif name == "purge":
                upto = model.next_seq - 1 - a
                assert log.purge(upto) == model.purge(upto)
            elif name == "reopen":
                min_seq = model.next_seq - 1 + a - 20 if b else 0
                store.close()
                store = LocalLogStore(root, segment_bytes=segment_bytes)
                log = store.open("c", min_seq=min_seq)
                model.reopen(min_seq)
            else:
                after = model.next_seq - 1 - a
                got = [(e.seq, e.op) for e in log.read(after)]
                want = [s for s in model.seqs() if s > after]
                assert got == [(s, op_of[s]) for s in want]
            assert [p.name for p in log.segments] == [segment_name(f) for f, _, _ in model.segments]
            assert log.last_seq == model.next_seq - 1
        got_all = list(log.read())
        assert [e.seq for e in got_all] == model.seqs()
        for e in got_all:
            assert e.batch.equals(batches[e.seq])
        store.close()
