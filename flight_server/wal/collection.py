"""One collection's log on local files: appends with fsync group commit, reads, rolls, purges."""

from __future__ import annotations

import os
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import NamedTuple

import pyarrow as pa

from ..errors import ClosedError, InvalidArgumentError
from ..schema import Op
from .base import CollectionLog, LogEntry
from .frames import (
    HEADER_SIZE,
    decode_batch,
    encode_header,
    parse_header,
    payload_crc,
    payload_ok,
    serialize_batch,
)
from .segment import (
    Segment,
    corrupt,
    fsync_dir,
    make_dirs,
    map_segment,
    recover,
    segment_name,
)

DEFAULT_SEGMENT_BYTES = 64 << 20


class LogStats(NamedTuple):
    """Counters of one log since it was opened (fsyncs include directory and roll fsyncs)."""

    appends: int
    fsyncs: int
    bytes: int


class LocalCollectionLog(CollectionLog):
    """A collection's log in `directory`; recovers (and truncates a torn tail) on construction."""

    def __init__(
        self, directory: str | Path, segment_bytes: int = DEFAULT_SEGMENT_BYTES, min_seq: int = 0
    ) -> None:
        if segment_bytes <= 0:
            raise InvalidArgumentError(f"segment_bytes must be positive, got {segment_bytes}")
        self._dir = Path(directory)
        self._segment_bytes = segment_bytes
        # Lock order: _slock before _wlock. _wlock guards every field below; _slock serializes fsyncs.
        self._wlock = threading.Lock()
        self._slock = threading.Lock()
        self._closed = False
        self._failed: OSError | None = None
        self._appends = self._fsyncs = self._bytes = 0
        make_dirs(self._dir)
        self._segments = recover(self._dir)
        active = self._active
        self._next_seq = max(active.last_seq if active else 0, min_seq) + 1
        if active is not None:
            active.fd = os.open(active.path, os.O_WRONLY)
            try:
                # Frames a killed process left in the page cache become durable before any read.
                self._fsync(active.fd)
                fsync_dir(self._dir)
                self._fsyncs += 2
                self._rename_empty_active()
            except BaseException:
                os.close(active.fd)
                raise
        # Logical byte positions over all segments: written so far, and covered by a finished fsync.
        self._written = self._durable = 0
        self._durable_seq = self._next_seq - 1

    @property
    def _active(self) -> Segment | None:
        return self._segments[-1] if self._segments else None

    @property
    def closed(self) -> bool:
        """Whether close() was called."""
        return self._closed

    @property
    def last_seq(self) -> int:
        """The highest durable seq; never below the `min_seq` the log was opened with."""
        return self._durable_seq

    @property
    def stats(self) -> LogStats:
        """A snapshot of the append, fsync and byte counters."""
        with self._wlock:
            return LogStats(self._appends, self._fsyncs, self._bytes)

    @property
    def segments(self) -> list[Path]:
        """Paths of the current segment files, oldest first."""
        with self._wlock:
            return [s.path for s in self._segments]

    def append(self, op: Op, batch: pa.RecordBatch) -> int:
        """Write `batch` as one frame, return once it is fsynced; the returned seq is log-assigned."""
        try:
            op = Op(op)
        except ValueError:
            raise InvalidArgumentError(f"unknown log operation {op!r}") from None
        if not isinstance(batch, pa.RecordBatch):
            raise InvalidArgumentError(
                f"expected a pyarrow.RecordBatch, got {type(batch).__name__}"
            )
        payload = serialize_batch(batch)
        crc, size = payload_crc(payload), HEADER_SIZE + payload.size
        with self._wlock:
            self._check_open()
            seq = self._next_seq
            header = encode_header(op, seq, payload.size, crc)
            seg = self._active
            if seg is None or (seg.size > 0 and seg.size + size > self._segment_bytes):
                seg = self._roll()
            self._write(seg, header, payload)
            seg.size += size
            seg.last_seq, seg.count = seq, seg.count + 1
            self._next_seq = seq + 1
            self._written += size
            self._appends, self._bytes = self._appends + 1, self._bytes + size
            end = self._written
        self._sync(end)
        return seq

    def read(self, after_seq: int = 0) -> Iterator[LogEntry]:
        """Every durable entry with seq > after_seq, in order (a snapshot taken now)."""
        with self._wlock:
            self._check_open()
            limit = self._durable_seq
            segs = self._segments
            views = []
            for i, seg in enumerate(segs):
                # Segment file names bound their ranges: the next segment starts above this one.
                if i + 1 < len(segs) and segs[i + 1].first_seq <= after_seq + 1:
                    continue
                if seg.durable > 0 and seg.last_seq > after_seq:
                    views.append((seg.path, map_segment(seg.path, seg.durable)))
        return self._entries(views, after_seq, limit)

    def roll(self) -> None:
        """Seal the active segment (fsynced) and start a new one; no-op if it holds no frames."""
        with self._wlock:
            self._check_open()
            active = self._active
            if active is None or active.size > 0:
                self._roll()

    def purge(self, upto_seq: int) -> int:
        """Delete segments whose entries all have seq <= upto_seq (rolling first if that is all)."""
        with self._wlock:
            self._check_open()
            active = self._active
            if active is not None and active.count > 0 and active.last_seq <= upto_seq:
                self._roll()
            deleted = 0
            # Oldest first, so that a crash part way leaves a suffix of the log.
            while len(self._segments) > 1 and self._segments[0].last_seq <= upto_seq:
                os.unlink(self._segments.pop(0).path)
                deleted += 1
            if deleted:
                fsync_dir(self._dir)
                self._fsyncs += 1
            return deleted

    def raise_floor(self, min_seq: int) -> None:
        """Make new seqs start above `min_seq` (no effect if they already do)."""
        with self._wlock:
            self._check_open()
            if min_seq + 1 > self._next_seq:
                self._next_seq = min_seq + 1
                if self._durable == self._written:
                    self._durable_seq = min_seq
                self._rename_empty_active()

    def close(self) -> None:
        """Fsync what was written, release the file; further calls raise ClosedError."""
        with self._wlock:
            if self._closed:
                return
            self._closed = True
            active = self._active
            if active is None or active.fd < 0:
                return
            try:
                if self._failed is None and self._durable < self._written:
                    self._fsync(active.fd)
                    self._fsyncs += 1
                    self._mark_durable(active, active.size, self._written, self._next_seq - 1)
            finally:
                os.close(active.fd)
                active.fd = -1

    def _entries(
        self, views: list[tuple[Path, pa.Buffer]], after: int, limit: int
    ) -> Iterator[LogEntry]:
        for path, buf in views:
            off = 0
            while off < buf.size:
                header = parse_header(buf, off) if buf.size - off >= HEADER_SIZE else None
                if header is None or off + HEADER_SIZE + header.length > buf.size:
                    raise corrupt(path, off, "bad frame header")
                if header.seq > limit:
                    return
                if header.seq > after:
                    if not payload_ok(buf, off, header):
                        raise corrupt(path, off, "frame checksum mismatch")
                    batch = decode_batch(buf.slice(off + HEADER_SIZE, header.length))
                    yield LogEntry(header.seq, Op(header.op), batch)
                off += HEADER_SIZE + header.length

    def _check_open(self) -> None:
        if self._closed:
            raise ClosedError(f"write-ahead log {self._dir} is closed")
        if self._failed is not None:
            raise ClosedError(f"write-ahead log {self._dir} failed: {self._failed}")

    def _fsync(self, fd: int) -> None:
        try:
            os.fsync(fd)
        except OSError as exc:
            # After a failed fsync the page cache may have dropped the data: never retry (fsyncgate).
            self._failed = exc
            raise

    def _mark_durable(self, seg: Segment, seg_size: int, written: int, seq: int) -> None:
        seg.durable = max(seg.durable, seg_size)
        if written > self._durable:
            self._durable, self._durable_seq = written, seq

    def _write(self, seg: Segment, header: bytes, payload: pa.Buffer) -> None:
        total = len(header) + payload.size
        try:
            done = os.pwritev(seg.fd, [header, payload], seg.size)
            if done < total:
                rest = memoryview(header + payload.to_pybytes())
                while done < total:
                    done += os.pwrite(seg.fd, rest[done:], seg.size + done)
        except OSError:
            try:
                os.ftruncate(seg.fd, seg.size)  # no partial frame may precede later ones
            except OSError as exc:
                self._failed = exc
            raise

    def _roll(self) -> Segment:
        """Fsync and seal the active segment, then create the next one (caller holds _wlock)."""
        old = self._active
        if old is not None and old.durable < old.size:
            self._fsync(old.fd)
            self._fsyncs += 1
            self._mark_durable(old, old.size, self._written, self._next_seq - 1)
        path = self._dir / segment_name(self._next_seq)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644)
        try:
            fsync_dir(self._dir)
        except BaseException:
            os.close(fd)
            raise
        self._fsyncs += 1
        if old is not None:
            os.close(old.fd)
            old.fd = -1
        seg = Segment(path, self._next_seq, fd=fd)
        self._segments.append(seg)
        return seg

    def _rename_empty_active(self) -> None:
        active = self._active
        if active is not None and active.count == 0 and active.first_seq != self._next_seq:
            path = self._dir / segment_name(self._next_seq)
            os.rename(active.path, path)
            fsync_dir(self._dir)
            self._fsyncs += 1
            active.path, active.first_seq = path, self._next_seq
            active.last_seq = self._next_seq - 1

    def _sync(self, end: int) -> None:
        """Return once byte position `end` is durable, sharing fsyncs between threads."""
        if self._durable >= end:
            return
        with self._slock:
            with self._wlock:
                if self._durable >= end:
                    return  # another thread's fsync covered these bytes
                self._check_open()
                seg = self._active
                assert seg is not None
                # A dup keeps the file open for this fsync even if a roll closes seg.fd meanwhile.
                fd, seg_size = os.dup(seg.fd), seg.size
                written, seq = self._written, self._next_seq - 1
            try:
                self._fsync(fd)
            finally:
                os.close(fd)
            with self._wlock:
                self._fsyncs += 1
                self._mark_durable(seg, seg_size, written, seq)
