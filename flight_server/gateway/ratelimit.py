"""Per-tenant token buckets for reads and writes, with a retry-after hint when one runs dry."""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Callable

from ..errors import RateLimitError


class TokenBucket:
    """`rate` tokens per second up to `burst`; `take(n)` returns 0 or the seconds until n exist."""

    def __init__(self, rate: float, burst: float, clock: Callable[[], float]) -> None:
        self.rate, self.burst, self._clock = rate, max(burst, 1.0), clock
        self._tokens, self._stamp = self.burst, clock()

    def take(self, n: float = 1.0) -> float:
        """Take n tokens if there are enough (0.0), else take none and say how long to wait."""
        now = self._clock()
        self._tokens = min(self.burst, self._tokens + (now - self._stamp) * self.rate)
        self._stamp = now
        if self._tokens >= n:
            self._tokens -= n
            return 0.0
        return (n - self._tokens) / self.rate


class RateLimiter:
    """One read bucket and one write bucket per tenant; a rate of 0 turns that kind off."""

    def __init__(
        self,
        read_rate: float,
        read_burst: float,
        write_rate: float,
        write_burst: float,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._limits = {"read": (read_rate, read_burst), "write": (write_rate, write_burst)}
        self._buckets: dict[tuple[str, str], TokenBucket] = {}
        self._lock = threading.Lock()
        self._clock = clock

    def charge(self, tenant: str, kind: str, n: float = 1.0) -> None:
        """Take n tokens from the tenant's `kind` bucket or raise RateLimitError (retry_after)."""
        rate, burst = self._limits[kind]
        if rate <= 0:
            return
        with self._lock:
            bucket = self._buckets.get((tenant, kind))
            if bucket is None:
                bucket = self._buckets[(tenant, kind)] = TokenBucket(rate, burst, self._clock)
            wait = bucket.take(n)
        if wait:
            # rounded up to the millisecond: retrying after the hint always finds the tokens
            hint = math.ceil(wait * 1000.0) / 1000.0
            raise RateLimitError(
                f"Rate limit of {rate:g} {kind}s per second for tenant {tenant} exceeded; "
                f"retry after {hint:.3f} s",
                retry_after=hint,
                limit=f"rate_{kind}_per_second",
                maximum=rate,
            )
