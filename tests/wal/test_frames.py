"""The frame format: header layout, checksums, IPC payload round trips, zero-copy decoding."""

from __future__ import annotations

import struct

import pyarrow as pa
import pytest

from flight_server.schema import Op
from flight_server.wal import frames
from flight_server.wal.frames import (
    HEADER_SIZE,
    decode_batch,
    encode_header,
    is_zero,
    parse_header,
    payload_crc,
    payload_ok,
    serialize_batch,
)

from .helpers import make_batch


def frame_bytes(op: Op, seq: int, batch: pa.RecordBatch) -> bytes:
    payload = serialize_batch(batch)
    return encode_header(op, seq, payload.size, payload_crc(payload)) + payload.to_pybytes()


def test_header_layout() -> None:
    payload = serialize_batch(make_batch("k", 3))
    head = encode_header(Op.UPSERT, 2**40 + 5, payload.size, payload_crc(payload))
    assert len(head) == HEADER_SIZE == 32
    magic, version, op, flags, seq, length = struct.unpack_from("<4sBBHQQ", head)
    assert (magic, version, op, flags) == (b"FWAL", 1, Op.UPSERT, 0)
    assert (seq, length) == (2**40 + 5, payload.size)


@pytest.mark.parametrize("kind", range(4))
@pytest.mark.parametrize("rows", [0, 1, 17])
def test_payload_round_trip(kind: int, rows: int) -> None:
    batch = make_batch(f"k{kind}", rows, dim=3, kind=kind)
    data = pa.py_buffer(frame_bytes(Op.ADD, 9, batch))
    header = parse_header(data, 0)
    assert header is not None
    assert (header.op, header.seq, header.length) == (Op.ADD, 9, data.size - HEADER_SIZE)
    assert payload_ok(data, 0, header)
    decoded = decode_batch(data.slice(HEADER_SIZE, header.length))
    assert decoded.equals(batch)
    assert decoded.schema.equals(batch.schema)


def test_payload_is_8_byte_multiple() -> None:
    for rows in range(0, 40, 3):
        assert serialize_batch(make_batch("x" * rows, rows, dim=5, kind=rows)).size % 8 == 0


def test_every_header_bit_flip_is_detected() -> None:
    data = bytearray(frame_bytes(Op.DELETE, 3, make_batch("k", 2, kind=3)))
    assert parse_header(pa.py_buffer(bytes(data)), 0) is not None
    for pos in range(HEADER_SIZE):
        for bit in range(8):
            bad = bytearray(data)
            bad[pos] ^= 1 << bit
            assert parse_header(pa.py_buffer(bytes(bad)), 0) is None, (pos, bit)


def test_every_payload_byte_flip_is_detected() -> None:
    data = bytearray(frame_bytes(Op.ADD, 1, make_batch("k", 2, kind=1)))
    header = parse_header(pa.py_buffer(bytes(data)), 0)
    assert header is not None
    for pos in range(HEADER_SIZE, len(data)):
        bad = bytearray(data)
        bad[pos] ^= 0x40
        buf = pa.py_buffer(bytes(bad))
        assert parse_header(buf, 0) == header  # the header alone still looks fine
        assert not payload_ok(buf, 0, header), pos


def test_unknown_op_or_version_rejected() -> None:
    payload = serialize_batch(make_batch("k", 1))
    head = bytearray(encode_header(99, 1, payload.size, payload_crc(payload)))
    assert parse_header(pa.py_buffer(bytes(head)), 0) is None
    old, frames.VERSION = frames.VERSION, 2
    try:
        head = encode_header(Op.ADD, 1, payload.size, payload_crc(payload))
    finally:
        frames.VERSION = old
    assert parse_header(pa.py_buffer(head), 0) is None


def test_decode_is_zero_copy() -> None:
    batch = make_batch("zc", 50, dim=8)
    data = pa.py_buffer(frame_bytes(Op.ADD, 1, batch))
    decoded = decode_batch(data.slice(HEADER_SIZE))
    values = decoded.column("embedding").values.buffers()[1]
    assert data.address <= values.address < data.address + data.size
    assert values.address % 8 == 0 or data.address % 8 != 0


def test_is_zero() -> None:
    assert is_zero(pa.py_buffer(b"abc" + bytes(5000)), 3)
    assert is_zero(pa.py_buffer(b"abc"), 3)
    assert not is_zero(pa.py_buffer(b"abc" + bytes(5000) + b"\x01"), 3)
    assert not is_zero(pa.py_buffer(bytes(3 << 20) + b"\x01"), 0)
