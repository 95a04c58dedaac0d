"""Issue 20 worker: open a store whose log tail needs compaction, read, and end mid-compaction.

Run as a script with one JSON argument: {"path", "settings", "how", "after"}. The worker opens a
PersistentClient (the background compactor starts on the tail), reads with
`get(include=["metadatas"])`, then waits for the compactor's `after`-th progress marker (an
`on_step` call: between its C++ calls, or after a step), or for the tail to be fully compacted,
and ends the way `how` says, without closing the client unless `how` is "close":

    end        the script just ends           exit code 0
    exit       sys.exit(0)                    0
    raise      an uncaught RuntimeError       1
    sigint     SIGINT, as Ctrl-C              -2 (Python re-raises SIGINT once it has finalized)
    close      client.close(), then it ends   0

Before ending it prints `exiting <how> <markers seen> <last step>`.
"""

from __future__ import annotations

import json
import os
import signal
import sys
import threading
from typing import Any

MAIN = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
if __name__ == "__main__" and MAIN not in sys.path:
    sys.path.insert(0, MAIN)

from tests.crash.bulk_workload import COLLECTION, say  # noqa: E402


def main(config: dict[str, Any]) -> None:
    """Open, read, wait for the chosen moment of the compaction, end as `how` says."""
    import fletchdb

    # A shell's background job starts with SIGINT ignored, and Python then installs no handler:
    # give "sigint" Ctrl-C's usual meaning wherever the test runs.
    signal.signal(signal.SIGINT, signal.default_int_handler)
    client = fletchdb.PersistentClient(
        config["path"], settings=fletchdb.Settings(**config["settings"])
    )
    collection = client.get_collection(COLLECTION, embedding_function=None)
    engine = client._transport
    seen: list[str] = []
    reached = threading.Event()

    def on_step(step: str) -> None:
        seen.append(step)
        if len(seen) >= config["after"] or (step == "cleaned" and not tail_records()):
            reached.set()

    def tail_records() -> int:
        return int(collection.stats()["tail_records"])

    engine.compactor.on_step = on_step
    got = collection.get(include=["metadatas"])
    assert len(got["ids"]) == len(got["metadatas"]) > 0
    if tail_records():  # else it finished before the hook was set: end now, after compaction
        reached.wait()
    say(f"exiting {config['how']} {len(seen)} {seen[-1] if seen else '-'}")
    how = config["how"]
    if how == "exit":
        sys.exit(0)
    if how == "raise":
        raise RuntimeError("the script fails while the compactor works")
    if how == "sigint":
        signal.raise_signal(signal.SIGINT)  # to this thread: KeyboardInterrupt right here
    if how == "close":
        client.close()


if __name__ == "__main__":
    main(json.loads(sys.argv[1]))
