"""Per-tenant token buckets: unit tests on a fake clock, then over a real server.

The unit tests drive `TokenBucket` and `RateLimiter` with an injected clock (no sleeps). The server
tests use a burst of a few requests and a refill rate so low (one token per ~17 minutes) that no
token comes back while a test runs, so the outcome does not depend on timing.
"""

from __future__ import annotations

import pytest

from flight_server.errors import QuotaError, RateLimitError
from flight_server.flight.server import Server
from flight_server.gateway.ratelimit import RateLimiter, TokenBucket
from sdk.flight_transport import FlightTransport


class FakeClock:
    """A monotonic clock that moves only when told."""

    def __init__(self, start: float = 1000.0) -> None:
        self.now = start

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


# TokenBucket ---------------------------------------------------------------------------------
def test_bucket_starts_full_and_runs_dry() -> None:
    clock = FakeClock()
    bucket = TokenBucket(rate=2.0, burst=3.0, clock=clock)
    assert [bucket.take() for _ in range(3)] == [0.0, 0.0, 0.0]
    assert bucket.take() == pytest.approx(0.5)  # one token at 2/s
    assert bucket.take(2.0) == pytest.approx(1.0)


def test_bucket_refills_at_its_rate_up_to_the_burst() -> None:
    clock = FakeClock()
    bucket = TokenBucket(rate=2.0, burst=3.0, clock=clock)
    for _ in range(3):
        bucket.take()
    clock.advance(0.25)  # half a token
    assert bucket.take() == pytest.approx(0.25)
    clock.advance(0.25)  # now a whole one
    assert bucket.take() == 0.0
    assert bucket.take() == pytest.approx(0.5)
    clock.advance(3600.0)  # never more than the burst
    assert [bucket.take() for _ in range(4)][:3] == [0.0, 0.0, 0.0]
    assert bucket.take() > 0


def test_a_refused_take_takes_nothing() -> None:
    clock = FakeClock()
    bucket = TokenBucket(rate=1.0, burst=2.0, clock=clock)
    bucket.take()
    assert bucket.take(2.0) == pytest.approx(1.0)  # refused: the one token stays
    assert bucket.take(1.0) == 0.0


def test_a_burst_below_one_still_allows_one_request() -> None:
    bucket = TokenBucket(rate=1.0, burst=0.0, clock=FakeClock())
    assert bucket.take() == 0.0
    assert bucket.take() == pytest.approx(1.0)


# RateLimiter ---------------------------------------------------------------------------------
def _limiter(clock: FakeClock, **kw: float) -> RateLimiter:
    rates = {"read_rate": 10.0, "read_burst": 2.0, "write_rate": 1.0, "write_burst": 1.0, **kw}
    return RateLimiter(clock=clock, **rates)


def test_limiter_raises_with_a_retry_after_hint() -> None:
    clock = FakeClock()
    limiter = _limiter(clock)
    limiter.charge("acme", "read")
    limiter.charge("acme", "read")
    with pytest.raises(RateLimitError) as info:
        limiter.charge("acme", "read")
    err = info.value
    assert err.retry_after == pytest.approx(0.1)
    assert err.details["retry_after"] == err.retry_after
    assert err.details["limit"] == "rate_read_per_second" and err.details["maximum"] == 10.0
    assert "acme" in str(err) and "retry after 0.100 s" in str(err)
    assert not isinstance(err, QuotaError)
    clock.advance(err.retry_after)  # waiting the hint is enough
    limiter.charge("acme", "read")


def test_limiter_keeps_tenants_and_kinds_apart() -> None:
    clock = FakeClock()
    limiter = _limiter(clock)
    limiter.charge("acme", "write")
    with pytest.raises(RateLimitError) as info:
        limiter.charge("acme", "write")
    assert info.value.retry_after == pytest.approx(1.0)
    assert info.value.details["limit"] == "rate_write_per_second"
    limiter.charge("acme", "read")  # reads have their own bucket
    limiter.charge("globex", "write")  # another tenant has its own buckets
    limiter.charge("globex", "read")
    limiter.charge("globex", "read")
    with pytest.raises(RateLimitError):
        limiter.charge("globex", "read")
    limiter.charge("acme", "read")  # acme's second read token is untouched by globex


def test_rate_zero_turns_a_kind_off() -> None:
    clock = FakeClock()
    limiter = _limiter(clock, write_rate=0.0)
    for _ in range(1000):
        limiter.charge("acme", "write")
    limiter.charge("acme", "read")
    limiter.charge("acme", "read")
    with pytest.raises(RateLimitError):
        limiter.charge("acme", "read")


def test_the_server_default_clock_is_monotonic() -> None:
    limiter = RateLimiter(1.0, 1.0, 1.0, 1.0)
    limiter.charge("t", "read")
    with pytest.raises(RateLimitError) as info:
        limiter.charge("t", "read")
    assert 0 < info.value.retry_after <= 1.0


# Over a real server --------------------------------------------------------------------------
SLOW = 0.001  # a token per 1,000 s: none comes back while a test runs
BURST = 3


@pytest.fixture
def limited(serve) -> Server:
    """A server with small read and write buckets and tenants acme and globex (made in-process)."""
    server = serve(
        rate_read_per_second=SLOW,
        rate_read_burst=BURST,
        rate_write_per_second=SLOW,
        rate_write_burst=BURST,
    )
    for tenant in ("acme", "globex"):  # straight on the engine: no tokens spent
        server.engine.create_tenant(tenant)
        server.engine.create_database("default_database", tenant)
        server.engine.create_collection("docs", None, None, False, tenant, "default_database")
    return server


def _transport(server: Server, token: str) -> FlightTransport:
    return FlightTransport(server.uri, token)


def _exhaust_reads(t: FlightTransport) -> RateLimitError:
    for _ in range(BURST):
        t.heartbeat()
    with pytest.raises(RateLimitError) as info:
        t.heartbeat()
    return info.value


def test_a_tenant_exhausting_its_reads_is_told_when_to_retry(limited, mint) -> None:
    acme = _transport(limited, mint(tenant="acme"))
    globex = _transport(limited, mint(tenant="globex"))
    try:
        err = _exhaust_reads(acme)
        assert type(err) is RateLimitError
        assert err.retry_after > 0
        assert err.details["retry_after"] == err.retry_after
        assert "acme" in str(err) and "retry after" in str(err)
        with pytest.raises(RateLimitError):  # still dry: every read kind draws on the bucket
            acme.get_tenant("acme")
        # globex's requests are not slowed by acme's burst
        for _ in range(BURST):
            globex.heartbeat()
        with pytest.raises(RateLimitError):
            globex.heartbeat()
    finally:
        acme.close()
        globex.close()


def test_reads_and_writes_have_separate_buckets(limited, mint) -> None:
    acme = _transport(limited, mint(tenant="acme"))
    try:
        cid = limited.engine.get_collection("docs", "acme", "default_database").id
        _exhaust_reads(acme)
        with pytest.raises(RateLimitError):
            acme.count(cid)
        # writes still go through: their bucket is full
        for i in range(BURST):
            acme.create_collection(f"col{i}", None, None, False, "acme", "default_database")
        with pytest.raises(RateLimitError) as info:
            acme.create_collection("col9", None, None, False, "acme", "default_database")
        assert info.value.details["limit"] == "rate_write_per_second"
        assert info.value.retry_after > 0
        names = [c.name for c in limited.engine.list_collections("acme", "default_database")]
        assert "col9" not in names  # a refused write writes nothing
    finally:
        acme.close()


def test_write_batches_are_charged_and_a_refused_one_is_not_written(limited, mint) -> None:
    import numpy as np

    from flight_server.schema import Op
    from sdk.convert import to_write_batch

    globex = _transport(limited, mint(tenant="globex"))
    acme = _transport(limited, mint(tenant="acme"))
    try:
        cid = limited.engine.get_collection("docs", "globex", "default_database").id
        vectors = np.eye(BURST + 1, dtype=np.float32)
        for i in range(BURST):
            globex.write(cid, Op.ADD, to_write_batch(Op.ADD, [f"r{i}"], vectors[i : i + 1]))
        seq = limited.engine.collection(cid).log.last_seq
        with pytest.raises(RateLimitError) as info:
            globex.write(cid, Op.ADD, to_write_batch(Op.ADD, ["late"], vectors[BURST:]))
        assert info.value.details["limit"] == "rate_write_per_second"
        assert limited.engine.collection(cid).log.last_seq == seq
        assert limited.engine.count(cid) == BURST
        globex.count(cid)  # reads of the same tenant still pass
        acme_cid = limited.engine.get_collection("docs", "acme", "default_database").id
        acme.write(acme_cid, Op.ADD, to_write_batch(Op.ADD, ["a"], vectors[:1]))  # other tenant
        assert limited.engine.count(acme_cid) == 1
    finally:
        globex.close()
        acme.close()


def test_rate_limits_off_by_zero(serve, mint) -> None:
    server = serve(rate_read_per_second=0.0, rate_read_burst=1.0)
    t = _transport(server, mint())
    try:
        for _ in range(50):
            t.heartbeat()
    finally:
        t.close()


@pytest.mark.parametrize("rate", [3.0, 7.0, 10_000.0, 123_457.0])
def test_waiting_the_hint_is_always_enough(rate: float) -> None:
    clock = FakeClock()
    limiter = RateLimiter(rate, 1.0, rate, 1.0, clock=clock)
    limiter.charge("acme", "read")
    clock.advance(0.2 / rate)  # a fraction of a token back: the wait is not a round number
    with pytest.raises(RateLimitError) as info:
        limiter.charge("acme", "read")
    hint = info.value.retry_after
    assert hint > 0
    clock.advance(hint)
    limiter.charge("acme", "read")
