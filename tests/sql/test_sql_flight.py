"""SQL over Flight: the DoGet `sql` ticket, streamed, parsed strictly, scoped by the token."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pyarrow as pa
import pyarrow.flight as flight
import pytest

from flight_server.flight.protocol import request
from tests.server.conftest import wire_error


class Env:
    """A server with tenants acme and mallory, one collection each, and raw Flight options."""

    def __init__(self, server: Any, mint: Any) -> None:
        self.fc = flight.FlightClient(server.uri)
        self.opts = {
            who: flight.FlightCallOptions(
                headers=[(b"authorization", f"Bearer {mint(**claims)}".encode())]
            )
            for who, claims in {
                "super": {"tenant": "*", "role": "admin"},
                "acme": {"tenant": "acme", "role": "reader"},
                "mallory": {"tenant": "mallory", "role": "reader"},
                "acme_main_only": {"tenant": "acme", "role": "reader", "databases": ["main"]},
            }.items()
        }
        for tenant in ("acme", "mallory"):
            self.act("create_tenant", name=tenant)
            for db in ("main", "archive"):
                self.act("create_database", name=db, tenant=tenant)
            row = self.act(
                "create_collection", name=f"{tenant}_docs", tenant=tenant, database="main"
            )
            batch = pa.record_batch(
                {
                    "id": [f"{tenant}-1"],
                    "embedding": pa.FixedSizeListArray.from_arrays(
                        pa.array([1.0, 0.0], pa.float32()), 2
                    ),
                    "document": [f"{tenant} secret"],
                }
            )
            descriptor = flight.FlightDescriptor.for_command(
                request(op="add", collection_id=row["id"])
            )
            writer, reader = self.fc.do_put(descriptor, batch.schema, self.opts["super"])
            writer.write_batch(batch)
            writer.done_writing()
            reader.read()
            writer.close()

    def act(self, kind: str, **args: Any) -> Any:
        results = list(self.fc.do_action(flight.Action(kind, request(**args)), self.opts["super"]))
        return json.loads(results[0].body.to_pybytes()) if results else None

    def stream(self, who: str, ticket: bytes) -> flight.FlightStreamReader:
        return self.fc.do_get(flight.Ticket(ticket), self.opts[who])

    def sql(self, who: str, query: str, tenant: str, database: str = "main", **kw: Any) -> Any:
        ticket = request(sql={"query": query, "tenant": tenant, "database": database, **kw})
        return self.stream(who, ticket).read_all()

    def error(self, who: str, query: str, tenant: str, database: str = "main") -> dict[str, Any]:
        with pytest.raises((flight.FlightError, pa.ArrowException)) as info:
            self.sql(who, query, tenant, database)
        return wire_error(info.value)


@pytest.fixture
def env(serve, mint) -> Iterator[Env]:
    e = Env(serve(), mint)
    yield e
    e.fc.close()


def test_a_sql_ticket_streams_record_batches(env: Env) -> None:
    ticket = request(
        sql={"query": "SELECT range AS x FROM range(200000)", "tenant": "acme", "database": "main"}
    )
    stream = env.stream("acme", ticket)
    batches = []
    while True:
        try:
            batches.append(stream.read_chunk().data)
        except StopIteration:
            break
    assert len(batches) > 1
    assert sum(b.num_rows for b in batches) == 200_000
    got = env.sql("acme", "SELECT id, document FROM acme_docs", "acme")
    assert got.to_pylist() == [{"id": "acme-1", "document": "acme secret"}]


def test_params_travel_in_the_ticket(env: Env) -> None:
    got = env.sql(
        "acme",
        "SELECT id, array_cosine_similarity(embedding, $q::FLOAT[2]) AS s FROM acme_docs",
        "acme",
        params={"q": [1.0, 0.0]},
    )
    assert got.to_pylist() == [{"id": "acme-1", "s": 1.0}]
    got = env.sql("acme", "SELECT ? + ? AS n", "acme", params=[40, 2])
    assert got.to_pylist() == [{"n": 42}]


@pytest.mark.parametrize(
    ("body", "fragment"),
    [
        ({"tenant": "acme", "database": "main"}, "needs the field 'query'"),
        ({"query": "SELECT 1", "database": "main"}, "needs the field 'tenant'"),
        ({"query": 1, "tenant": "acme", "database": "main"}, "Field 'query'"),
        ({"query": "SELECT 1", "tenant": "acme", "database": "main", "params": "x"}, "params"),
        ({"query": "SELECT 1", "tenant": "acme", "database": "main", "limit": 3}, "Unknown field"),
    ],
)
def test_the_ticket_is_parsed_strictly(env: Env, body: dict[str, Any], fragment: str) -> None:
    with pytest.raises((flight.FlightError, pa.ArrowException)) as info:
        env.stream("acme", request(sql=body)).read_all()
    error = wire_error(info.value)
    assert error["code"] == "invalid_argument"
    assert fragment in error["message"]


def test_another_tenants_database_is_a_missing_one(env: Env) -> None:
    hidden = env.error("mallory", "SELECT * FROM acme_docs", "acme")
    missing = env.error("super", "SELECT * FROM acme_docs", "acme", "no_such_db")
    assert hidden["code"] == missing["code"] == "not_found"
    assert hidden["message"].replace("main", "X") == missing["message"].replace("no_such_db", "X")
    scoped = env.error("acme_main_only", "SELECT 1", "acme", "archive")
    absent = env.error("acme_main_only", "SELECT 1", "acme", "absent")
    assert scoped["message"].replace("archive", "X") == absent["message"].replace("absent", "X")


def test_another_tenants_collection_cannot_be_named(env: Env) -> None:
    hidden = env.error("mallory", "SELECT * FROM acme_docs", "mallory")
    missing = env.error("mallory", "SELECT * FROM nobody_docs", "mallory")
    assert hidden["code"] == missing["code"] == "invalid_argument"
    assert hidden["message"].replace("acme_docs", "X") == missing["message"].replace(
        "nobody_docs", "X"
    )
    assert "secret" not in hidden["message"]
    own = env.sql("mallory", "SELECT document FROM mallory_docs", "mallory")
    assert own.to_pylist() == [{"document": "mallory secret"}]


def test_refusals_leave_the_server_serving(env: Env) -> None:
    for query in (
        "COPY acme_docs TO '/tmp/fletch-leak.csv'",
        "SELECT * FROM read_csv('/etc/passwd')",
        "ATTACH '/tmp/x.duckdb'",
        "SELECT count(*) FROM",
    ):
        error = env.error("acme", query, "acme")
        assert error["code"] in ("not_allowed", "invalid_argument")
        assert "Traceback" not in error["message"] and 'File "' not in error["message"]
    got = env.sql("acme", "SELECT count(*) AS n FROM acme_docs", "acme")
    assert got.to_pylist() == [{"n": 1}]
