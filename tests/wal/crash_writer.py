"""Child process of the SIGKILL test: appends batches from several threads until it is killed.

Prints `R <last_seq>` once the log is open (after a first purge), `P <upto>` before each purge and
`A <seq> <key> <checksum>` after each append returns, one flushed line per event.
"""

from __future__ import annotations

import os
import sys
import threading
import traceback
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from helpers import checksum, make_batch  # noqa: E402

from flight_server.schema import Op  # noqa: E402
from flight_server.wal import LocalLogStore  # noqa: E402

SEGMENT_BYTES = 16 << 10


def batch_key(round_no: int, thread: int, i: int) -> tuple[str, int, int]:
    """The key, row count and schema kind of batch i of a thread: the parent rebuilds it from these."""
    rows, kind = 1 + (i * 7 + thread * 3) % 12, i % 4
    return f"r{round_no}-t{thread}-i{i}-n{rows}-k{kind}", rows, kind


def main() -> None:
    root, round_no, threads = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
    log = LocalLogStore(root, segment_bytes=SEGMENT_BYTES).open("c")
    lock = threading.Lock()

    def emit(line: str) -> None:
        with lock:
            sys.stdout.write(line + "\n")
            sys.stdout.flush()

    def purge() -> None:
        upto = log.last_seq - 20
        emit(f"P {upto}")  # before purging: the parent must know it may have started
        log.purge(upto)

    def worker(thread: int) -> None:
        try:
            work(thread)
        except BaseException:
            traceback.print_exc()
            os._exit(1)  # a dead thread must fail the test, not just stop writing

    def work(thread: int) -> None:
        for i in range(1_000_000):
            key, rows, kind = batch_key(round_no, thread, i)
            batch = make_batch(key, rows, kind=kind)
            if thread == 0 and i % 10 == 9:
                purge()
            seq = log.append(Op(1 + kind), batch)
            emit(f"A {seq} {key} {checksum(batch)}")

    purge()
    emit(f"R {log.last_seq}")
    workers = [threading.Thread(target=worker, args=(t,), daemon=True) for t in range(threads)]
    for w in workers:
        w.start()
    for w in workers:
        w.join()


if __name__ == "__main__":
    main()
