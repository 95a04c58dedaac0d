"""WAL frame format: a fixed 32-byte header followed by one Arrow IPC stream (schema + one batch).

Header, little-endian (`<4sBBHQQII`):

    offset  size  field
    0       4     magic b"FWAL"
    4       1     format version (1)
    5       1     op (`Op` value)
    6       2     flags (0, reserved)
    8       8     seq (u64)
    16      8     payload length in bytes (u64)
    24      4     crc32 of the payload, continued over header bytes 0..24
    28      4     crc32 of header bytes 0..28 (guards the length field before the payload is read)

The header CRC tells a damaged length field (corruption) apart from a frame cut short by a crash
(torn tail): a torn write leaves a prefix of a correct header, never a complete wrong one. Payloads are
IPC streams, whose size is a multiple of 8, so with a 32-byte header every frame starts 8-aligned and
buffers decoded from a memory map keep Arrow's 8-byte alignment.
"""

from __future__ import annotations

import struct
import zlib
from typing import NamedTuple

import pyarrow as pa

from ..schema import Op

MAGIC = b"FWAL"
VERSION = 1
HEADER = struct.Struct("<4sBBHQQII")
HEADER_SIZE = HEADER.size  # 32
_CRC_START = 24  # the payload CRC covers header bytes [0, 24)
_HCRC_START = 28  # the header CRC covers header bytes [0, 28)
_OPS = frozenset(int(op) for op in Op)
# Built once: pyarrow otherwise reads two environment variables on every writer it creates.
_WRITE_OPTIONS = pa.ipc.IpcWriteOptions()
_READ_OPTIONS = pa.ipc.IpcReadOptions()


class FrameHeader(NamedTuple):
    """A decoded, header-CRC-checked frame header."""

    op: int
    seq: int
    length: int
    crc: int


def serialize_batch(batch: pa.RecordBatch) -> pa.Buffer:
    """`batch` as an Arrow IPC stream: schema, the batch, end-of-stream marker."""
    sink = pa.BufferOutputStream()
    with pa.ipc.new_stream(sink, batch.schema, options=_WRITE_OPTIONS) as writer:
        writer.write_batch(batch)
    return sink.getvalue()


def payload_crc(payload: pa.Buffer | bytes) -> int:
    """The CRC of a payload alone (computed outside the log's write lock)."""
    return zlib.crc32(payload)


def encode_header(op: int, seq: int, length: int, crc_of_payload: int) -> bytes:
    """The 32-byte header of a frame whose payload has `length` bytes and CRC `crc_of_payload`."""
    head = struct.pack("<4sBBHQQ", MAGIC, VERSION, op, 0, seq, length)
    head += struct.pack("<I", zlib.crc32(head, crc_of_payload))
    return head + struct.pack("<I", zlib.crc32(head))


def frame_size(payload_length: int) -> int:
    """Bytes on disk of a frame whose payload has `payload_length` bytes."""
    return HEADER_SIZE + payload_length


def parse_header(buf: pa.Buffer, offset: int) -> FrameHeader | None:
    """The header at `offset` (which must have HEADER_SIZE bytes), or None if it is not valid."""
    magic, version, op, flags, seq, length, crc, hcrc = HEADER.unpack_from(buf, offset)
    if magic != MAGIC or version != VERSION or flags != 0 or op not in _OPS:
        return None
    if zlib.crc32(buf.slice(offset, _HCRC_START)) != hcrc:
        return None
    return FrameHeader(op, seq, length, crc)


def payload_ok(buf: pa.Buffer, offset: int, header: FrameHeader) -> bool:
    """Whether the frame at `offset` (whose payload lies wholly inside `buf`) passes its CRC."""
    crc = zlib.crc32(buf.slice(offset + HEADER_SIZE, header.length))
    return zlib.crc32(buf.slice(offset, _CRC_START), crc) == header.crc


def decode_batch(payload: pa.Buffer) -> pa.RecordBatch:
    """The record batch of a frame payload; its buffers point into `payload` (zero-copy)."""
    return pa.ipc.open_stream(payload, options=_READ_OPTIONS).read_next_batch()


def is_zero(buf: pa.Buffer, offset: int) -> bool:
    """Whether every byte of `buf` from `offset` on is zero (a preallocated, never written tail)."""
    step = 1 << 20
    for start in range(offset, buf.size, step):
        chunk = buf.slice(start, min(step, buf.size - start)).to_pybytes()
        if chunk.count(0) != len(chunk):
            return False
    return True
