"""The server-wide budget of client.sql: a number of query slots, and the memory they share.

Each query's sandbox database may use `DuckDB memory_limit` = sql_memory_bytes / sql_max_concurrent
(or max_sql_memory_bytes, if lower), and at most sql_max_concurrent queries run at once, so all of
them together stay within sql_memory_bytes. A query that finds every slot taken waits up to
sql_queue_seconds, then is refused with a ServerBusyError naming sql_max_concurrent.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Iterator
from contextlib import contextmanager

import numpy as np

from ..config import Settings
from ..errors import InvalidArgumentError, QuotaError, ServerBusyError


def query_memory(settings: Settings) -> tuple[int, str]:
    """(bytes one query may use, the setting that decides it)."""
    share = int(settings.sql_memory_bytes) // max(int(settings.sql_max_concurrent), 1)
    if int(settings.max_sql_memory_bytes) <= share:
        return int(settings.max_sql_memory_bytes), "max_sql_memory_bytes"
    return share, "sql_memory_bytes"


class SqlSlots:
    """At most `sql_max_concurrent` queries at once; the others queue for sql_queue_seconds."""

    def __init__(self, settings: Settings) -> None:
        self.maximum = int(settings.sql_max_concurrent)
        if self.maximum < 1:
            raise InvalidArgumentError(
                f"Setting sql_max_concurrent must be at least 1, got {self.maximum}"
            )
        self.wait = max(float(settings.sql_queue_seconds), 0.0)
        self._free = threading.Semaphore(self.maximum)
        self._lock = threading.Lock()
        self.running = self.waiting = self.peak = 0

    @contextmanager
    def slot(self) -> Iterator[None]:
        """Hold one slot for the block; ServerBusyError if none frees up in time."""
        with self._lock:
            self.waiting += 1
        try:
            acquired = self._free.acquire(timeout=self.wait)
        finally:
            with self._lock:
                self.waiting -= 1
        if not acquired:
            raise ServerBusyError.of("sql_max_concurrent", self.maximum, self.wait, "SQL query")
        with self._lock:
            self.running += 1
            self.peak = max(self.peak, self.running)
        try:
            yield
        finally:
            with self._lock:
                self.running -= 1
            self._free.release()


_QUOTED = re.compile(r"'(?:[^']|'')*'|\"(?:[^\"]|\"\")*\"")


def check_nesting(query: str, maximum: int) -> None:
    """QuotaError past `maximum` nested parentheses (outside quotes), before DuckDB parses it.

    DuckDB's parser needs memory quadratic in unclosed parentheses: `SELECT ` + 3,000 `(` took
    1.3 GB and 3.5 s, 50,000 of them tens of GB (docs/limits.md); the check is one numpy pass.
    """
    text = _QUOTED.sub("", query) if ("'" in query or '"' in query) else query
    codes = np.frombuffer(text.encode("utf-8", "surrogatepass"), dtype=np.uint8)
    steps = (codes == ord("(")).astype(np.int32) - (codes == ord(")"))
    depth = int(np.cumsum(steps).max()) if len(steps) else 0
    if depth > maximum:
        raise QuotaError("max_sql_nesting", depth, maximum, "Nested parentheses of the SQL query")
