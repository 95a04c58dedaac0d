"""A client that drops its connection mid-stream is a disconnect, not an internal error.

Clients in subprocesses open a DoPut or DoGet stream against a real server in this process and
are SIGKILLed mid-stream (after the server has answered once, so the stream is really open). The
server's log must hold no error and no traceback, what was acknowledged stays written, and the
server keeps serving.
"""

from __future__ import annotations

import logging
import subprocess
import sys

import numpy as np
import pyarrow.flight as flight
import pytest

from flight_server.flight.errors import client_stream, translated

CHILD = r"""
import json, os, sys
import numpy as np, pyarrow as pa, pyarrow.flight as fl
uri, token, cid, mode = sys.argv[1:5]
options = fl.FlightCallOptions(headers=[(b"authorization", f"Bearer {token}".encode())])
client = fl.FlightClient(uri)
if mode == "put":
    command = json.dumps({"v": 1, "op": "upsert", "collection_id": cid}).encode()
    emb = pa.FixedSizeListArray.from_arrays(pa.array(np.ones(10 * 4, np.float32)), 4)
    batch = pa.record_batch({"id": pa.array([f"k{i}" for i in range(10)]), "embedding": emb})
    writer, acks = client.do_put(fl.FlightDescriptor.for_command(command), batch.schema, options)
    writer.write_batch(batch)
    acks.read()
    print("acked", flush=True)
    while True:  # never read another ack: the server answers into a closing connection
        writer.write_batch(batch)
else:
    ticket = json.dumps({"v": 1, "export": {"collection_id": cid, "batch_rows": 10}}).encode()
    reader = client.do_get(fl.Ticket(ticket), options)
    reader.read_chunk()
    print("acked", flush=True)
    sys.stdin.read()  # hold the stream open until killed
"""


def _kill_mid_stream(uri: str, token: str, cid: str, mode: str) -> None:
    child = subprocess.Popen(
        [sys.executable, "-c", CHILD, uri, token, cid, mode],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert child.stdout is not None
        line = child.stdout.readline()  # blocks until the stream is open (or the child died)
        assert line.strip() == "acked", child.stderr.read() if child.stderr else ""
    finally:
        child.kill()  # only the process this test started, by its handle
        child.wait(timeout=60)
        for stream in (child.stdin, child.stdout, child.stderr):
            if stream is not None:
                stream.close()


@pytest.mark.parametrize("mode", ["put", "get"])
def test_a_client_killed_mid_stream_leaves_no_traceback(
    serve, mint, connect, caplog: pytest.LogCaptureFixture, mode: str
) -> None:
    server = serve(compaction_enabled=False)
    token = mint(tenant="*")
    client = connect(server, token)
    col = client.create_collection("streamed")
    col.add(ids=[f"r{i}" for i in range(100)], embeddings=np.ones((100, 4), np.float32))
    with caplog.at_level(logging.DEBUG, logger="fletchdb"):
        for _ in range(3):
            _kill_mid_stream(server.uri, token, col.id, mode)
        assert client.heartbeat() > 0
        assert col.count() == (110 if mode == "put" else 100)  # upserts of the same 10 ids
        client.close()
        server.close()  # waits for every handler, so all they logged is in caplog now
    bad = [r for r in caplog.records if r.levelno >= logging.WARNING or r.exc_info]
    assert not bad, [r.getMessage() for r in bad]


def test_a_dead_peer_is_logged_as_a_disconnect(caplog: pytest.LogCaptureFixture) -> None:
    # what pyarrow raises when an ack is written to a client that is gone
    with caplog.at_level(logging.DEBUG, logger="fletchdb.flight"):
        with pytest.raises(flight.FlightCancelledError, match="The client disconnected"):
            with translated(), client_stream("DoPut"):
                raise OSError("Unknown error writing metadata.")
    (record,) = caplog.records
    assert record.levelno == logging.INFO and record.exc_info is None
    assert record.getMessage() == (
        "client disconnected mid-stream (DoPut: Unknown error writing metadata.)"
    )


def test_other_os_errors_stay_internal(caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.DEBUG, logger="fletchdb.flight"):
        with pytest.raises(flight.FlightInternalError):
            with translated():
                raise OSError("No space left on device")  # the engine's, not the stream's
    assert caplog.records[0].levelno == logging.ERROR
