"""Read ahead: an iterator's next items produced by a thread while the caller uses the current one.

Bulk ingest reads (Parquet decoding) and writes (log fsync, or the network) in alternation; both
release the GIL, so reading batch k+1 while batch k is written overlaps them.
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Iterable, Iterator
from typing import Any, TypeVar

T = TypeVar("T")
_END = object()


def prefetched(items: Iterable[T], depth: int = 2) -> Iterator[T]:
    """The items of `items` in order, up to `depth` produced ahead by a daemon thread.

    An exception raised by `items` is raised here, at its place in the sequence. Closing the
    returned generator early stops the thread after the item it is producing.
    """
    slots: queue.Queue[Any] = queue.Queue(maxsize=depth)
    stop = threading.Event()

    def produce() -> None:
        try:
            for item in items:
                if not _put(slots, item, stop):
                    return
            _put(slots, _END, stop)
        except BaseException as exc:  # noqa: BLE001 - handed to the consumer, raised there
            _put(slots, _Failure(exc), stop)

    thread = threading.Thread(target=produce, name="fletchdb-prefetch", daemon=True)
    thread.start()
    try:
        while True:
            item = slots.get()
            if item is _END:
                return
            if isinstance(item, _Failure):
                raise item.exc
            yield item
    finally:
        stop.set()
        thread.join()


class _Failure:
    """An exception of the producer, in the queue."""

    def __init__(self, exc: BaseException) -> None:
        self.exc = exc


def _put(slots: queue.Queue[Any], item: Any, stop: threading.Event) -> bool:
    """Queue `item`, waiting for room; False once the consumer has gone."""
    while not stop.is_set():
        try:
            slots.put(item, timeout=0.05)
            return True
        except queue.Full:
            continue
    return False
