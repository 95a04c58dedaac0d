"""Issue 12 worker: add 200-record batches (bulk_workload) until killed, with compaction busy.

Run as a script with one JSON argument {"path", "settings", "start"}. Output, one line per write:

    open       the client is open (recovery and replay done)
    a <n>      batch n was acknowledged (the add returned)
    s <step>   the background compactor reported a step, or progress between its C++ calls

The parent kills it after a seeded-random number of lines, so kills land during adds, during
compaction builds and between compactor steps.
"""

from __future__ import annotations

import json
import os
import sys
from typing import Any

MAIN = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
if __name__ == "__main__" and MAIN not in sys.path:
    sys.path.insert(0, MAIN)

from tests.crash.bulk_workload import COLLECTION, bulk_batch, say  # noqa: E402


def main(config: dict[str, Any]) -> None:
    """Open, then add batches start, start + 1, ... forever."""
    import fletchdb

    settings = fletchdb.Settings(**config["settings"])
    client = fletchdb.PersistentClient(config["path"], settings=settings)
    client._transport.compactor.on_step = lambda step: say(f"s {step}")
    collection = client.get_or_create_collection(COLLECTION, embedding_function=None)
    say("open")
    n = config["start"]
    while True:
        collection.add(**bulk_batch(n))
        say(f"a {n}")
        n += 1


if __name__ == "__main__":
    main(json.loads(sys.argv[1]))
