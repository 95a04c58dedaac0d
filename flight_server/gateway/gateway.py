"""The gateway: authorization, tenant isolation, quotas and rate limits in front of one engine.

Protocol-free: a front (the Flight service) authenticates the caller, parses its request and calls
one of these methods with the caller's `Principal`. Policy is keyed by operation name
(`policy.OPERATIONS`), never by a front's own vocabulary. Every method checks, in this order: that
the target is visible to the caller (an invisible tenant, database or collection behaves exactly as
a missing one, with the engine's own message), that the caller's role allows the operation, the
tenant's rate limit, then quotas.
"""

from __future__ import annotations

import threading
from typing import Any

import numpy as np
import pyarrow as pa

from ..arguments.pages import page_params
from ..catalog.base import CollectionRecord, DatabaseRecord
from ..config import SETTINGS, Settings
from ..engine import VERSION, Engine
from ..errors import AuthorizationError, NotFoundError, QuotaError, quote_input
from ..schema import Op
from .auth import ALL, Principal
from .policy import COLLECTIONS_QUOTA, OPERATIONS_BY_NAME, RECORDS_QUOTA, Operation
from .ratelimit import RateLimiter

LIMIT_NAMES = tuple(s.name for s in SETTINGS if s.limit)
ALL_PARTS = ("embeddings", "documents", "metadatas")


class Gateway:
    """Policy in front of an `Engine`: every public method takes the caller's principal first."""

    def __init__(self, engine: Engine, settings: Settings | None = None) -> None:
        self.engine = engine
        self.settings = settings or engine.settings
        s = self.settings
        self.rates = RateLimiter(
            s.rate_read_per_second, s.rate_read_burst, s.rate_write_per_second, s.rate_write_burst
        )
        self._create_lock = threading.Lock()

    # Checks ------------------------------------------------------------------------------
    def authorize(
        self, who: Principal, operation: str, tenant: str | None, charge: bool = True
    ) -> Operation:
        """The operation, once the caller's role allows it; charges the tenant's rate limit."""
        op = OPERATIONS_BY_NAME.get(operation)
        if op is None:  # fronts only dispatch known operations; this is a guard
            raise AuthorizationError(f"Unknown operation {operation}")
        if not who.has_role(op.role):
            raise AuthorizationError(
                f"Role {who.role} may not call {operation} (it needs the {op.role} role)"
            )
        if charge:
            self.rates.charge(tenant or who.tenant, op.rate)
        return op

    def collection(
        self, who: Principal, operation: str, collection_id: str, charge: bool = True
    ) -> CollectionRecord:
        """A collection by id, visible to the caller and allowed for the operation."""
        record = self._visible_collection(who, collection_id)
        self.authorize(who, operation, record.tenant, charge)
        return record

    def _visible_collection(self, who: Principal, collection_id: str) -> CollectionRecord:
        record = self.engine.collection(collection_id).record
        if not who.sees_database(record.tenant, record.database):
            raise NotFoundError(f"Collection [{quote_input(collection_id)}] does not exist")
        return record

    def check_records_quota(self, collection_id: str, operation: str, rows: int) -> None:
        """Refuse a write whose operation has the records quota (add, upsert) past the maximum."""
        if RECORDS_QUOTA not in OPERATIONS_BY_NAME[operation].quotas:
            return
        maximum = self.settings.max_records_per_collection
        total = self.engine.count(collection_id) + rows
        if total > maximum:
            raise QuotaError(
                "max_records_per_collection", total, maximum, "Records in the collection"
            )

    # Server --------------------------------------------------------------------------------
    def heartbeat(self, who: Principal) -> int:
        """Server time in nanoseconds."""
        self.authorize(who, "heartbeat", None)
        return self.engine.heartbeat()

    def version(self, who: Principal) -> str:
        """FletchDB's version."""
        self.authorize(who, "version", None)
        return VERSION

    def limits(self, who: Principal) -> dict[str, Any]:
        """The request limits callers are held to, by name."""
        self.authorize(who, "limits", None)
        return {name: getattr(self.settings, name) for name in LIMIT_NAMES}

    def reset(self, who: Principal) -> None:
        """Delete everything: an admin of every tenant, and allow_reset."""
        self.authorize(who, "reset", None)
        if who.tenant != ALL:
            raise AuthorizationError("reset needs an admin token for every tenant (tenant '*')")
        self.engine.reset()

    # Tenants and databases -----------------------------------------------------------------
    def create_tenant(self, who: Principal, name: str) -> None:
        """Create a tenant (an admin of that tenant, or of every tenant)."""
        if not who.sees_tenant(name):
            raise AuthorizationError(f"This token may not create tenant [{quote_input(name)}]")
        self.authorize(who, "create_tenant", name)
        self.engine.create_tenant(name)

    def get_tenant(self, who: Principal, name: str) -> str:
        """A visible tenant's name."""
        if not who.sees_tenant(name):
            raise NotFoundError(f"Tenant [{quote_input(name)}] not found")
        self.authorize(who, "get_tenant", name)
        return self.engine.get_tenant(name)

    def create_database(self, who: Principal, name: str, tenant: str) -> DatabaseRecord:
        """Create a database in a visible tenant, if the token names it (or `*`)."""
        if not who.sees_tenant(tenant):
            raise NotFoundError(f"Tenant [{quote_input(tenant)}] not found")
        if not who.sees_database(tenant, name):
            raise AuthorizationError(f"This token may not create database [{quote_input(name)}]")
        self.authorize(who, "create_database", tenant)
        return self.engine.create_database(name, tenant)

    def get_database(self, who: Principal, name: str, tenant: str) -> DatabaseRecord:
        """A visible database."""
        if not who.sees_database(tenant, name):
            raise NotFoundError(
                f"Database [{quote_input(name)}] not found. Are you sure it exists?"
            )
        self.authorize(who, "get_database", tenant)
        return self.engine.get_database(name, tenant)

    def list_databases(
        self, who: Principal, tenant: str, limit: int | None, offset: int | None
    ) -> list[DatabaseRecord]:
        """The visible databases of a tenant (none for an invisible tenant, as for a missing one)."""
        page_params(limit, offset)  # the same refusals as the engine's, scoped token or not
        if not who.sees_tenant(tenant):
            return []
        self.authorize(who, "list_databases", tenant)
        if who.databases == ALL:
            return self.engine.list_databases(tenant, limit, offset)
        visible = [d for d in self.engine.list_databases(tenant) if d.name in who.databases]
        start = offset or 0
        return visible[start : None if limit is None else start + limit]

    def delete_database(self, who: Principal, name: str, tenant: str) -> None:
        """Delete a visible database and its collections."""
        if not who.sees_database(tenant, name):
            raise NotFoundError(f"Database [{quote_input(name)}] not found")
        self.authorize(who, "delete_database", tenant)
        self.engine.delete_database(name, tenant)

    # Collections ---------------------------------------------------------------------------
    def create_collection(
        self,
        who: Principal,
        name: str,
        configuration: dict[str, Any] | None,
        metadata: dict[str, Any] | None,
        get_or_create: bool,
        tenant: str,
        database: str,
    ) -> CollectionRecord:
        """Create (or get) a collection in a visible database, within the tenant's quota."""
        if not who.sees_database(tenant, database):
            raise NotFoundError(f"Database [{quote_input(database)}] does not exist")
        op = self.authorize(who, "create_collection", tenant)
        if get_or_create:
            try:
                return self.engine.get_collection(name, tenant, database)
            except NotFoundError:
                pass
        with self._create_lock:  # the count and the create as one step: no race past the quota
            if COLLECTIONS_QUOTA in op.quotas:
                self._check_collections_quota(tenant)
            return self.engine.create_collection(
                name, configuration, metadata, get_or_create, tenant, database
            )

    def _check_collections_quota(self, tenant: str) -> None:
        maximum = self.settings.max_collections_per_tenant
        databases = self.engine.list_databases(tenant)
        held = sum(self.engine.count_collections(tenant, d.name) for d in databases)
        if held + 1 > maximum:
            raise QuotaError(
                "max_collections_per_tenant", held + 1, maximum, f"Collections of tenant {tenant}"
            )

    def get_collection(
        self, who: Principal, name: str, tenant: str, database: str
    ) -> CollectionRecord:
        """A collection by name in a visible database."""
        if not who.sees_database(tenant, database):
            raise NotFoundError(f"Collection [{quote_input(name)}] does not exist")
        self.authorize(who, "get_collection", tenant)
        return self.engine.get_collection(name, tenant, database)

    def list_collections(
        self, who: Principal, tenant: str, database: str, limit: int | None, offset: int | None
    ) -> list[CollectionRecord]:
        """Collections of a visible database (none otherwise, as for a missing one)."""
        page_params(limit, offset)
        if not who.sees_database(tenant, database):
            return []
        self.authorize(who, "list_collections", tenant)
        return self.engine.list_collections(tenant, database, limit, offset)

    def count_collections(self, who: Principal, tenant: str, database: str) -> int:
        """Number of collections in a visible database (0 otherwise)."""
        if not who.sees_database(tenant, database):
            return 0
        self.authorize(who, "count_collections", tenant)
        return self.engine.count_collections(tenant, database)

    def modify_collection(
        self,
        who: Principal,
        collection_id: str,
        name: str | None,
        metadata: dict[str, Any] | None,
        configuration: dict[str, Any] | None,
    ) -> CollectionRecord:
        """Rename or re-configure a visible collection."""
        self.collection(who, "modify_collection", collection_id)
        return self.engine.modify_collection(collection_id, name, metadata, configuration)

    def delete_collection(self, who: Principal, name: str, tenant: str, database: str) -> None:
        """Delete a collection of a visible database."""
        if not who.sees_database(tenant, database):
            raise NotFoundError(f"Collection [{quote_input(name)}] does not exist")
        self.authorize(who, "delete_collection", tenant)
        self.engine.delete_collection(name, tenant, database)

    # Records ------------------------------------------------------------------------------
    def write(self, who: Principal, collection_id: str, op: Op, batch: pa.RecordBatch) -> int:
        """One atomic write batch, within quotas; its log seq once durable and visible."""
        operation = op.name.lower()
        self.collection(who, operation, collection_id)
        self.check_records_quota(collection_id, operation, batch.num_rows)
        return self.engine.write(collection_id, op, batch)

    def delete(
        self,
        who: Principal,
        collection_id: str,
        ids: list[str] | None,
        where: dict[str, Any] | None,
        where_document: dict[str, Any] | None,
    ) -> int:
        """Delete by ids and/or filters (one atomic write); how many ids the delete named."""
        self.collection(who, "delete", collection_id)
        return self.engine.delete(collection_id, ids, where, where_document)

    def count(self, who: Principal, collection_id: str) -> int:
        """Records in a visible collection."""
        self.collection(who, "count", collection_id)
        return self.engine.count(collection_id)

    def get(self, who: Principal, collection_id: str, **kwargs: Any) -> pa.Table:
        """Engine.get on a visible collection."""
        self.collection(who, "get", collection_id)
        return self.engine.get(collection_id, **kwargs)

    def export(
        self, who: Principal, collection_id: str, batch_rows: int | None
    ) -> pa.RecordBatchReader:
        """Engine.export of a visible collection (one snapshot, streamed in batches)."""
        self.collection(who, "export", collection_id)
        return self.engine.export(collection_id, batch_rows)

    def query(
        self, who: Principal, collection_id: str, embeddings: np.ndarray, **kwargs: Any
    ) -> list[pa.Table]:
        """Engine.query on a visible collection."""
        self.collection(who, "query", collection_id)
        return self.engine.query(collection_id, embeddings, **kwargs)

    def search(
        self, who: Principal, collection_id: str, searches: list[dict[str, Any]]
    ) -> list[pa.Table]:
        """Engine.search on a visible collection (one read, however many searches)."""
        self.collection(who, "search", collection_id)
        return self.engine.search(collection_id, searches)

    def sql(self, who: Principal, tenant: str, database: str, query: str, params: Any) -> pa.Table:
        """Engine.sql over a visible database: only its collections can be named."""
        if not who.sees_database(tenant, database):
            raise NotFoundError(
                f"Database [{quote_input(database)}] not found. Are you sure it exists?"
            )
        self.authorize(who, "sql", tenant)
        return self.engine.sql(query, params, tenant, database)

    def compact(self, who: Principal, collection_id: str) -> int:
        """Index a visible collection's log tail now."""
        self.collection(who, "compact", collection_id)
        return self.engine.compact(collection_id)

    def stats(self, who: Principal, collection_id: str) -> dict[str, Any]:
        """A visible collection's version, log offset and tail size."""
        self.collection(who, "stats", collection_id)
        return self.engine.stats(collection_id)

    # Listing and describing collections --------------------------------------------------
    def visible_collections(
        self, who: Principal, tenant: str | None, database: str | None
    ) -> list[CollectionRecord]:
        """Every collection the caller may see, optionally within one tenant/database."""
        # an invisible tenant's rate limit is never charged: the caller's own one is
        charged = tenant if tenant and who.sees_tenant(tenant) else None
        self.authorize(who, "list_visible_collections", charged)
        tenants = [tenant] if tenant else self._visible_tenants(who)
        out: list[CollectionRecord] = []
        for t in tenants:
            if not who.sees_tenant(t):
                continue
            for d in self._visible_databases(who, t):
                if database is None or d.name == database:
                    out.extend(self.engine.list_collections(t, d.name))
        return out

    def _visible_tenants(self, who: Principal) -> list[str]:
        if who.tenant != ALL:
            return [who.tenant]
        return sorted({c.tenant for c in self.engine.list_all_collections()})

    def _visible_databases(self, who: Principal, tenant: str) -> list[DatabaseRecord]:
        try:
            databases = self.engine.list_databases(tenant)
        except NotFoundError:
            return []
        return [d for d in databases if who.sees_database(tenant, d.name)]

    def collection_by_name(
        self, who: Principal, operation: str, tenant: str, database: str, name: str
    ) -> CollectionRecord:
        """A collection by tenant, database and name, for a describing operation."""
        if not who.sees_database(tenant, database):
            raise NotFoundError(f"Collection [{quote_input(name)}] does not exist")
        self.authorize(who, operation, tenant)
        return self.engine.get_collection(name, tenant, database)

    def record_schema(self, record: CollectionRecord) -> pa.Schema:
        """The Arrow schema of a collection's records (one a checked call returned: no charge)."""
        return self.engine.get(record.id, limit=0, columns=set(ALL_PARTS)).schema

    def record_count(self, record: CollectionRecord) -> int:
        """The records of a collection a checked call returned (no further check or charge)."""
        return self.engine.count(record.id)
