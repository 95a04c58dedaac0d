"""The access matrix: every operation of the gateway against every kind of caller, over raw Flight.

`EXPECTED` is written out here, one row per (rpc, name): the least role the operation needs, the
scope it acts on, and how to call it with pyarrow.flight directly. A test asserts its keys are
exactly those of the Flight front's map (`flight_server.flight.operations.FLIGHT_OPERATIONS`),
whose operations are those of `flight_server.gateway.policy.OPERATIONS`, so adding an operation
without a row here fails. Each row is called by: no token, a wrong-tenant admin and a wrong-tenant reader, a
reader and a writer of the owning tenant, and an all-tenant admin (which must succeed: the requests
are valid). Denied calls must leave everything as it was. A wrong-tenant caller must get exactly
what it gets for a missing tenant/database/collection (same error class, code and message, names
aside), which must also be what the engine itself says about a missing one.
"""

from __future__ import annotations

import itertools
import json
import uuid
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Any

import pyarrow as pa
import pyarrow.flight as flight
import pytest

from flight_server.flight.operations import FLIGHT_OPERATIONS
from flight_server.flight.protocol import request
from flight_server.gateway.policy import OPERATIONS, OPERATIONS_BY_NAME

from .conftest import wire_error

OWNER = "acme"
INTRUDER = "mallory"
DIM = 4


@dataclass(frozen=True)
class Target:
    """What one call acts on: an existing collection (one record) in its own database."""

    tenant: str
    database: str
    collection: str
    collection_id: str
    new_tenant: str
    new_database: str
    new_collection: str

    def substitutions(self) -> list[tuple[str, str]]:
        """Names to mask when comparing outcomes across targets (longest first)."""
        pairs = [
            (self.collection_id, "<id>"),
            (self.new_tenant, "<new-tenant>"),
            (self.new_database, "<new-db>"),
            (self.new_collection, "<new-col>"),
            (self.tenant, "<tenant>"),
            (self.database, "<db>"),
            (self.collection, "<col>"),
        ]
        return sorted(pairs, key=lambda p: -len(p[0]))


def ghost(n: int) -> Target:
    """A target none of whose names exist."""
    return Target(
        tenant=f"ghost_tenant{n}",
        database=f"ghost_db{n}",
        collection=f"ghost_col{n}",
        collection_id=str(uuid.uuid4()),
        new_tenant=f"ghost_new_tenant{n}",
        new_database=f"ghost_new_db{n}",
        new_collection=f"ghost_new_col{n}",
    )


# Raw Flight calls ------------------------------------------------------------------------------
Opts = flight.FlightCallOptions


def action(fc: flight.FlightClient, opts: Opts, kind: str, /, **args: Any) -> Any:
    results = list(fc.do_action(flight.Action(kind, request(**args)), opts))
    return json.loads(results[0].body.to_pybytes()) if results else None


def vectors(rows: int) -> pa.Array:
    return pa.FixedSizeListArray.from_arrays(pa.array([1.0] * (rows * DIM), pa.float32()), DIM)


def put(fc: flight.FlightClient, opts: Opts, cid: str, op: str, batch: pa.RecordBatch) -> Any:
    descriptor = flight.FlightDescriptor.for_command(request(op=op, collection_id=cid))
    writer, reader = fc.do_put(descriptor, batch.schema, opts)
    try:
        writer.write_batch(batch)
        writer.done_writing()
        acks = []
        while (buf := reader.read()) is not None:
            acks.append(json.loads(buf.to_pybytes()))
    except BaseException:
        _close_quietly(writer)
        raise
    writer.close()
    return [a.get("rows", a.get("deleted")) for a in acks]


def exchange(fc: flight.FlightClient, opts: Opts, command: bytes, batch: pa.RecordBatch) -> Any:
    writer, reader = fc.do_exchange(flight.FlightDescriptor.for_command(command), opts)
    try:
        writer.begin(batch.schema)
        writer.write_batch(batch)
        writer.done_writing()
        table = reader.read_all()
    except BaseException:
        _close_quietly(writer)
        raise
    writer.close()
    return table.column("id").to_pylist()


def _close_quietly(writer: Any) -> None:
    try:
        writer.close()
    except Exception:  # noqa: BLE001 - the call's own error is the one that matters
        pass


def do_get(fc: flight.FlightClient, opts: Opts, **ticket: Any) -> list[str]:
    return fc.do_get(flight.Ticket(request(**ticket)), opts).read_all().column("id").to_pylist()


def path(t: Target) -> flight.FlightDescriptor:
    return flight.FlightDescriptor.for_path(t.tenant, t.database, t.collection)


def _paths(infos: Any) -> list[list[str]]:
    return sorted([p.decode() for p in i.descriptor.path] for i in infos)


Run = Callable[[flight.FlightClient, Opts, Target], Any]


@dataclass(frozen=True)
class Row:
    """The expected behaviour of one operation, and how to call it."""

    role: str  # the least role allowed
    scope: str  # server, tenant, database or collection
    run: Run
    engine_ref: bool = True  # compare a wrong-tenant caller with the engine's own not-found


def _action(op_name: str, /, project: Callable[[Any], Any] = lambda r: r, **fields: str) -> Run:
    """A DoAction whose fields are target attributes (or literal values when not attributes)."""

    def run(fc: flight.FlightClient, opts: Opts, t: Target) -> Any:
        args = {
            k: getattr(t, v) if isinstance(v, str) and hasattr(t, v) else v
            for k, v in fields.items()
        }
        return project(action(fc, opts, op_name, **args))

    return run


def _names(rows: Any) -> Any:
    return sorted(r["name"] for r in rows)


def _collection(row: Any) -> Any:
    return {k: row[k] for k in ("id", "name", "tenant", "database", "metadata")}


EXPECTED: dict[tuple[str, str], Row] = {
    ("DoAction", "heartbeat"): Row("reader", "server", _action("heartbeat", lambda r: sorted(r))),
    ("DoAction", "version"): Row("reader", "server", _action("version")),
    ("DoAction", "limits"): Row("reader", "server", _action("limits")),
    ("DoAction", "reset"): Row("admin", "server", _action("reset")),
    ("DoAction", "create_tenant"): Row(
        "admin", "tenant", _action("create_tenant", name="new_tenant"), engine_ref=False
    ),
    ("DoAction", "get_tenant"): Row("reader", "tenant", _action("get_tenant", name="tenant")),
    ("DoAction", "create_database"): Row(
        "admin",
        "database",
        _action("create_database", lambda r: r["name"], name="new_database", tenant="tenant"),
    ),
    ("DoAction", "get_database"): Row(
        "reader",
        "database",
        _action("get_database", lambda r: r["name"], name="database", tenant="tenant"),
    ),
    ("DoAction", "list_databases"): Row(
        "reader", "tenant", _action("list_databases", _names, tenant="tenant")
    ),
    ("DoAction", "delete_database"): Row(
        "admin", "database", _action("delete_database", name="database", tenant="tenant")
    ),
    ("DoAction", "create_collection"): Row(
        "writer",
        "database",
        _action(
            "create_collection",
            lambda r: r["name"],
            name="new_collection",
            tenant="tenant",
            database="database",
        ),
    ),
    ("DoAction", "get_collection"): Row(
        "reader",
        "database",
        _action(
            "get_collection", _collection, name="collection", tenant="tenant", database="database"
        ),
    ),
    ("DoAction", "list_collections"): Row(
        "reader",
        "database",
        _action("list_collections", _names, tenant="tenant", database="database"),
    ),
    ("DoAction", "count_collections"): Row(
        "reader",
        "database",
        _action("count_collections", tenant="tenant", database="database"),
    ),
    ("DoAction", "modify_collection"): Row(
        "writer",
        "collection",
        lambda fc, o, t: _collection(
            action(fc, o, "modify_collection", collection_id=t.collection_id, metadata={"v": 2})
        ),
    ),
    ("DoAction", "delete_collection"): Row(
        "writer",
        "database",
        _action("delete_collection", name="collection", tenant="tenant", database="database"),
    ),
    ("DoAction", "count"): Row(
        "reader", "collection", _action("count", collection_id="collection_id")
    ),
    ("DoAction", "compact"): Row(
        "writer", "collection", _action("compact", collection_id="collection_id")
    ),
    ("DoAction", "stats"): Row(
        "reader", "collection", _action("stats", lambda r: sorted(r), collection_id="collection_id")
    ),
    ("DoPut", "add"): Row(
        "writer",
        "collection",
        lambda fc, o, t: put(
            fc, o, t.collection_id, "add", pa.record_batch({"id": ["new"], "embedding": vectors(1)})
        ),
    ),
    ("DoPut", "upsert"): Row(
        "writer",
        "collection",
        lambda fc, o, t: put(
            fc,
            o,
            t.collection_id,
            "upsert",
            pa.record_batch({"id": ["r0"], "embedding": vectors(1)}),
        ),
    ),
    ("DoPut", "update"): Row(
        "writer",
        "collection",
        lambda fc, o, t: put(
            fc, o, t.collection_id, "update", pa.record_batch({"id": ["r0"], "document": ["new"]})
        ),
    ),
    ("DoPut", "delete"): Row(
        "writer",
        "collection",
        lambda fc, o, t: put(fc, o, t.collection_id, "delete", pa.record_batch({"id": ["r0"]})),
    ),
    ("DoGet", "get"): Row(
        "reader",
        "collection",
        lambda fc, o, t: do_get(fc, o, get={"collection_id": t.collection_id}),
    ),
    ("DoGet", "query"): Row(
        "reader",
        "collection",
        lambda fc, o, t: do_get(
            fc,
            o,
            query={"collection_id": t.collection_id, "n_results": 1, "embeddings": [[1.0] * DIM]},
        ),
    ),
    ("DoGet", "search"): Row(
        "reader",
        "collection",
        lambda fc, o, t: do_get(
            fc,
            o,
            search={
                "collection_id": t.collection_id,
                "searches": [{"rank": {"$bm25": {"query": "doc"}}, "select": ["#score"]}],
            },
        ),
    ),
    ("DoGet", "sql"): Row(
        "reader",
        "database",
        lambda fc, o, t: do_get(
            fc,
            o,
            sql={
                "query": f'SELECT id FROM "{t.collection}"',
                "tenant": t.tenant,
                "database": t.database,
            },
        ),
    ),
    ("DoGet", "export"): Row(
        "reader",
        "collection",
        lambda fc, o, t: do_get(fc, o, export={"collection_id": t.collection_id}),
    ),
    ("DoExchange", "query"): Row(
        "reader",
        "collection",
        lambda fc, o, t: exchange(
            fc,
            o,
            request(query={"collection_id": t.collection_id, "n_results": 1}),
            pa.record_batch({"embedding": vectors(1)}),
        ),
    ),
    ("ListFlights", "list_flights"): Row(
        "reader",
        "database",
        lambda fc, o, t: _paths(fc.list_flights(request(tenant=t.tenant, database=t.database), o)),
    ),
    ("GetFlightInfo", "flight_info"): Row(
        "reader",
        "database",
        lambda fc, o, t: (_paths([info := fc.get_flight_info(path(t), o)]), info.total_records),
    ),
    ("GetSchema", "schema"): Row(
        "reader", "database", lambda fc, o, t: fc.get_schema(path(t), o).schema.names
    ),
}


def test_every_operation_has_a_row() -> None:
    keys = set(FLIGHT_OPERATIONS)
    assert set(EXPECTED) == keys, (
        f"Flight calls without a row: {sorted(keys - set(EXPECTED))}; "
        f"rows without a Flight call: {sorted(set(EXPECTED) - keys)}"
    )
    assert set(FLIGHT_OPERATIONS.values()) == {op.name for op in OPERATIONS}
    for key, name in FLIGHT_OPERATIONS.items():  # the policy table; ListActions comes from it
        op = OPERATIONS_BY_NAME[name]
        assert (EXPECTED[key].role, EXPECTED[key].scope) == (op.role, op.scope), key


# Outcomes --------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Outcome:
    ok: bool
    value: Any = None  # the projected result, or (class, code, name, message, details)

    @property
    def code(self) -> str | None:
        return None if self.ok else self.value[1]

    def masked(self, t: Target) -> Outcome:
        text = json.dumps(self.value, sort_keys=True, default=str)
        for name, mask in t.substitutions():
            text = text.replace(name, mask)
        return replace(self, value=text)


def outcome(row: Row, fc: flight.FlightClient, opts: Opts, t: Target) -> Outcome:
    try:
        return Outcome(True, row.run(fc, opts, t))
    except (flight.FlightError, pa.ArrowException, OSError) as exc:
        # pyarrow's FlightClient.get_schema raises a plain OSError for every Flight status (it
        # checks the call with check_status, not check_flight_status); the JSON body is the same
        body = wire_error(exc)
        return Outcome(
            False,
            (type(exc).__name__, body["code"], body["name"], body["message"], body["details"]),
        )


class Env:
    """A server with tenants acme (the owner) and mallory, tokens, and fresh targets."""

    def __init__(self, server: Any, mint: Callable[..., str]) -> None:
        self.fc = flight.FlightClient(server.uri)
        tokens = {
            "super": mint(tenant="*", role="admin"),
            "admin": mint(tenant=OWNER, role="admin"),
            "reader": mint(tenant=OWNER, role="reader"),
            "writer": mint(tenant=OWNER, role="writer"),
            "wrong_admin": mint(tenant=INTRUDER, role="admin"),
            "wrong_reader": mint(tenant=INTRUDER, role="reader"),
        }
        self.opts = {"none": Opts()}
        for who, token in tokens.items():
            self.opts[who] = Opts(headers=[(b"authorization", f"Bearer {token}".encode())])
        self.counter = itertools.count()
        for tenant in (OWNER, INTRUDER):
            self.act("create_tenant", name=tenant)
            self.act("create_database", name="main", tenant=tenant)

    def act(self, kind: str, /, **args: Any) -> Any:
        return action(self.fc, self.opts["super"], kind, **args)

    def fresh(self) -> Target:
        n = next(self.counter)
        db, col = f"db{n}", f"col{n}"
        self.act("create_database", name=db, tenant=OWNER)
        row = self.act("create_collection", name=col, tenant=OWNER, database=db, metadata={"v": 1})
        batch = pa.record_batch({"id": ["r0"], "embedding": vectors(1), "document": ["doc"]})
        put(self.fc, self.opts["super"], row["id"], "add", batch)
        return Target(OWNER, db, col, row["id"], f"new_tenant{n}", f"new_db{n}", f"new_col{n}")

    def snapshot(self, t: Target) -> Any:
        """Everything a call on `t` could have changed, seen by the all-tenant admin."""

        def probe(f: Callable[[], Any]) -> Any:
            try:
                return f()
            except (flight.FlightError, pa.ArrowException) as exc:
                return wire_error(exc)["code"]

        su = self.opts["super"]
        return {
            "collection": probe(
                lambda: _collection(
                    self.act(
                        "get_collection", name=t.collection, tenant=t.tenant, database=t.database
                    )
                )
            ),
            "count": probe(lambda: self.act("count", collection_id=t.collection_id)),
            "records": probe(
                lambda: (
                    self.fc.do_get(
                        flight.Ticket(
                            request(
                                get={
                                    "collection_id": t.collection_id,
                                    "include": ["documents", "embeddings"],
                                }
                            )
                        ),
                        su,
                    )
                    .read_all()
                    .to_pylist()
                )
            ),
            "databases": probe(lambda: _names(self.act("list_databases", tenant=t.tenant))),
            "collections": probe(
                lambda: _names(self.act("list_collections", tenant=t.tenant, database=t.database))
            ),
            "new_tenant": probe(lambda: self.act("get_tenant", name=t.new_tenant)),
        }


def error_class(key: tuple[str, str], name: str) -> str:
    """The exception class a raw pyarrow client raises for a Flight error of that class."""
    return "OSError" if key[0] == "GetSchema" and name.startswith("Flight") else name


CALLERS = ("none", "wrong_admin", "wrong_reader", "reader", "writer")
ROLE_OF = {"reader": "reader", "writer": "writer", "wrong_admin": "admin", "wrong_reader": "reader"}
RANK = ("reader", "writer", "admin")


def allowed(role: str, needed: str) -> bool:
    return RANK.index(role) >= RANK.index(needed)


@pytest.mark.parametrize("key", sorted(EXPECTED), ids=lambda k: f"{k[0]}-{k[1]}")
def test_access_matrix(serve, mint, key: tuple[str, str]) -> None:
    row = EXPECTED[key]
    server = serve(allow_reset=True)
    env = Env(server, mint)
    t: Target | None = None
    try:
        for caller in CALLERS:
            if t is None:  # a denied call changed nothing, so its target serves the next caller
                t = env.fresh()
                before = env.snapshot(t)
            got = outcome(row, env.fc, env.opts[caller], t)
            where = f"{key} called by {caller}: {got}"
            if caller == "none":
                assert got.value[0] == error_class(key, "FlightUnauthenticatedError"), where
                assert got.code == "unauthenticated", where
            elif caller.startswith("wrong_"):
                _check_wrong_tenant(env, row, caller, t, got, where)
            else:
                if allowed(caller, row.role):
                    assert got.ok, where
                    t = None  # it may well have changed things: it was allowed to
                    continue
                assert got.value[0] == error_class(key, "FlightUnauthorizedError"), where
                assert got.code == "permission_denied", where
                message = got.value[3]
                assert f"needs the {row.role} role" in message or "may not" in message, where
            if not got.ok or row.scope != "server":
                assert env.snapshot(t) == before, f"{where} changed state"
            else:
                t = None
        # the requests are valid: the all-tenant admin succeeds with every one of them
        t = env.fresh()
        assert outcome(row, env.fc, env.opts["super"], t).ok, key
    finally:
        env.fc.close()


def _check_wrong_tenant(
    env: Env, row: Row, caller: str, t: Target, got: Outcome, where: str
) -> None:
    assert got.code != "unauthenticated", where
    role = ROLE_OF[caller]
    if row.scope == "server":  # nothing tenant-specific: as the same role of the owner tenant
        own = "admin" if role == "admin" else role
        same = outcome(row, env.fc, env.opts[own], t)
        assert (got.ok, got.code) == (same.ok, same.code), f"{where} vs {same}"
        return
    missing = ghost(next(env.counter))
    # what this caller gets for a missing tenant/database/collection ...
    absent = outcome(row, env.fc, env.opts[caller], missing)
    assert got.masked(t) == absent.masked(missing), f"{where}\nvs missing: {absent}"
    if row.engine_ref:
        # ... which is what the engine itself says about a missing one
        engine = outcome(row, env.fc, env.opts["super"], missing)
        assert got.masked(t) == engine.masked(missing), f"{where}\nvs engine: {engine}"
    if not got.ok:
        assert got.code in ("not_found", "permission_denied"), where
        assert got.value[0] in ("ArrowKeyError", "FlightUnauthorizedError"), where
    else:  # an empty listing, as for a missing database
        assert got.value in ([], {"count": 0}), where


def test_listing_without_criteria_shows_only_the_callers_tenant(serve, mint) -> None:
    server = serve()
    env = Env(server, mint)
    try:
        t = env.fresh()
        own = [OWNER, t.database, t.collection]
        for caller in ("reader", "writer", "admin"):
            assert own in _paths(env.fc.list_flights(b"", env.opts[caller])), caller
        for caller in ("wrong_admin", "wrong_reader"):
            assert _paths(env.fc.list_flights(b"", env.opts[caller])) == [], caller
            infos = env.fc.list_flights(request(tenant=OWNER), env.opts[caller])
            assert _paths(infos) == [], caller
    finally:
        env.fc.close()


def test_a_database_scoped_token_sees_only_its_databases(serve, mint) -> None:
    server = serve()
    env = Env(server, mint)
    try:
        seen, hidden = env.fresh(), env.fresh()
        token = mint(tenant=OWNER, role="writer", databases=[seen.database])
        opts = Opts(headers=[(b"authorization", f"Bearer {token}".encode())])
        row = EXPECTED[("DoGet", "get")]
        assert outcome(row, env.fc, opts, seen) == Outcome(True, ["r0"])
        for key, r in EXPECTED.items():
            if r.scope not in ("database", "collection") or not allowed("writer", r.role):
                continue
            before = env.snapshot(hidden)
            got = outcome(r, env.fc, opts, hidden).masked(hidden)
            missing = ghost(next(env.counter))
            absent = outcome(r, env.fc, opts, replace(missing, tenant=OWNER)).masked(
                replace(missing, tenant=OWNER)
            )
            assert got == absent, key
            assert env.snapshot(hidden) == before, key
        names = _names(action(env.fc, opts, "list_databases", tenant=OWNER))
        assert names == [seen.database]
    finally:
        env.fc.close()


def test_a_wrong_tenant_caller_cannot_spend_the_owners_rate_limit(serve, mint) -> None:
    # read refills are negligible (one per ~17 min): only the burst of 3 reads is there to spend
    server = serve(rate_read_per_second=0.001, rate_read_burst=3)
    env = Env(server, mint)
    try:
        t = env.fresh()
        for caller in ("wrong_reader", "wrong_admin"):
            for _ in range(3):
                criteria = request(tenant=OWNER, database=t.database)
                try:
                    list(env.fc.list_flights(criteria, env.opts[caller]))
                except (flight.FlightError, pa.ArrowException) as exc:
                    assert wire_error(exc)["code"] == "rate_limited", exc  # its own tenant's limit
            for rpc in (EXPECTED[("GetFlightInfo", "flight_info")], EXPECTED[("DoGet", "get")]):
                outcome(rpc, env.fc, env.opts[caller], t)
        # the owner's reads are untouched by all of that
        for _ in range(3):
            assert outcome(EXPECTED[("DoGet", "get")], env.fc, env.opts["reader"], t).ok
        assert outcome(EXPECTED[("DoGet", "get")], env.fc, env.opts["reader"], t).code == (
            "rate_limited"
        )
    finally:
        env.fc.close()
