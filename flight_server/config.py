"""Every limit and setting, declared once with its default and help text.

`SETTINGS` is the single source: `Settings` is built from it, environment variables `FLETCHDB_<NAME>`
override defaults, and docs/settings.md is generated from it (a test fails if they drift apart).
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Any

from .errors import InvalidArgumentError


@dataclass(frozen=True)
class Setting:
    """One named setting: its default, its help text and whether it is a request limit."""

    name: str
    default: Any
    help: str
    limit: bool = False


SETTINGS: tuple[Setting, ...] = (
    # Request limits (enforced on every write/read; the gateway enforces them for remote callers).
    Setting("max_batch_rows", 100_000, "Records in one write batch (one atomic write).", True),
    Setting("max_batch_bytes", 256 * 2**20, "Bytes of one write batch as Arrow buffers.", True),
    Setting("max_dimension", 8192, "Embedding dimension of a collection.", True),
    Setting("max_id_bytes", 1024, "UTF-8 bytes of one record id.", True),
    Setting("max_document_bytes", 1 * 2**20, "UTF-8 bytes of one document.", True),
    Setting("max_metadata_keys", 64, "Keys in one record's metadata.", True),
    Setting(
        "max_metadata_value_bytes", 64 * 2**10, "UTF-8 bytes of one string metadata value.", True
    ),
    Setting("max_where_predicates", 256, "Predicates in one where / where_document filter.", True),
    Setting("max_where_depth", 64, "Nesting depth of one where / where_document filter.", True),
    Setting("max_n_results", 10_000, "n_results of one query.", True),
    Setting("max_get_limit", 1_000_000, "limit of one get.", True),
    Setting("max_query_embeddings", 10_000, "Query embeddings in one query request.", True),
    Setting("max_searches", 100, "Searches in one collection.search request.", True),
    Setting(
        "max_search_ranks", 16, "Rankers (Knn, Bm25, Rrf) in one search's rank expression.", True
    ),
    Setting("max_text_query_terms", 64, "Distinct terms in one Bm25 text query.", True),
    Setting("max_sql_result_rows", 1_000_000, "Rows of one client.sql result.", True),
    Setting("max_sql_result_bytes", 256 * 2**20, "Arrow bytes of one client.sql result.", True),
    Setting(
        "sql_timeout_seconds",
        30.0,
        "Seconds one client.sql query may run before it is interrupted (0 = no limit).",
        True,
    ),
    Setting(
        "max_sql_memory_bytes",
        1 * 2**30,
        "DuckDB memory one client.sql query may use (its sandbox database's memory_limit).",
        True,
    ),
    # Server-wide budgets and collection-configuration maxima.
    Setting(
        "sql_memory_bytes",
        2 * 2**30,
        "DuckDB memory all client.sql queries of the server may use together: each query gets "
        "sql_memory_bytes / sql_max_concurrent (or max_sql_memory_bytes, if lower).",
        True,
    ),
    Setting(
        "sql_max_concurrent",
        4,
        "client.sql queries that run at once; more wait up to sql_queue_seconds, then are refused.",
        True,
    ),
    Setting(
        "sql_queue_seconds",
        10.0,
        "Seconds a client.sql query waits for a free slot before it is refused (server busy).",
        True,
    ),
    Setting(
        "max_sql_nesting",
        256,
        "Nested parentheses in one client.sql query (DuckDB's parser needs memory quadratic in "
        "unclosed ones).",
        True,
    ),
    Setting("max_hnsw_m", 128, "HNSW max_neighbors (hnsw:M) of a collection.", True),
    Setting(
        "max_hnsw_construction_ef",
        4096,
        "HNSW ef_construction (hnsw:construction_ef) of a collection.",
        True,
    ),
    Setting("max_hnsw_search_ef", 4096, "HNSW ef_search (hnsw:search_ef) of a collection.", True),
    Setting("max_hnsw_num_threads", 1024, "HNSW num_threads (accepted, unused).", True),
    Setting("max_hnsw_batch_size", 1_000_000, "HNSW batch_size (accepted, unused).", True),
    Setting("max_hnsw_sync_threshold", 1_000_000, "HNSW sync_threshold (accepted, unused).", True),
    Setting("max_hnsw_resize_factor", 100.0, "HNSW resize_factor (accepted, unused).", True),
    Setting(
        "max_compaction_memory_bytes",
        0,
        "Memory the HNSW index of one compaction may need (estimated before it is built; over "
        "it, the compaction is refused and the collection is served from its log tail). "
        "0 = half of the machine's physical memory.",
        True,
    ),
    # Limits the gateway enforces for remote callers (the server's quotas).
    Setting(
        "max_stream_bytes", 16 * 2**30, "Bytes of Arrow data in one DoPut/DoExchange stream.", True
    ),
    Setting(
        "max_request_bytes", 64 * 2**20, "Bytes of one JSON ticket, command or action body.", True
    ),
    Setting("max_collections_per_tenant", 10_000, "Collections one tenant may hold.", True),
    Setting(
        "max_records_per_collection",
        100_000_000,
        "Records one collection may hold (an add/upsert is refused if count + rows would pass it).",
        True,
    ),
    Setting(
        "rate_read_per_second", 5_000.0, "Per-tenant read requests per second (0 = off).", True
    ),
    Setting("rate_read_burst", 10_000.0, "Per-tenant read burst (token-bucket size).", True),
    Setting(
        "rate_write_per_second", 2_000.0, "Per-tenant write batches per second (0 = off).", True
    ),
    Setting("rate_write_burst", 4_000.0, "Per-tenant write burst (token-bucket size).", True),
    # Engine settings.
    Setting("allow_reset", False, "Allow client.reset() to delete every tenant and collection."),
    Setting("compaction_tail_records", 20_000, "Log-tail records that trigger a compaction."),
    Setting(
        "compaction_tail_seconds", 30.0, "Age of the oldest unindexed write that triggers one."
    ),
    Setting(
        "compaction_max_records",
        50_000,
        "Log records folded into one index version at most (or compaction_growth_fraction of the "
        "indexed records, if more).",
    ),
    Setting(
        "compaction_growth_fraction",
        1.0,
        "A compaction may fold this fraction of the already indexed records: each version rewrites "
        "every record, so a backlog folded in growing steps costs O(n log n), not O(n^2).",
    ),
    Setting(
        "compaction_rebuild_fraction",
        0.2,
        "Rebuild the HNSW index from scratch once removed vectors pass this fraction of it.",
    ),
    Setting("compaction_enabled", True, "Run the background compactor thread."),
    Setting("wal_segment_bytes", 64 * 2**20, "Size at which a write-ahead-log segment is rolled."),
    Setting(
        "transfer_batch_rows",
        20_000,
        "Records per batch when ingesting a table or exporting a collection (capped by "
        "max_batch_rows); each ingest batch is one atomic write.",
    ),
    Setting(
        "exact_search_max_rows",
        4096,
        "Versions with at most this many records are searched exactly, not through HNSW.",
    ),
    Setting(
        "exact_search_max_candidates",
        20_000,
        "Filtered queries search exactly below this many candidates.",
    ),
    Setting("filtered_oversample", 4.0, "HNSW oversampling factor for filtered queries above it."),
    Setting("hnsw_space", "l2", "Default distance space: l2 (squared), cosine or ip."),
    Setting("hnsw_m", 16, "Default HNSW connectivity (Chroma's hnsw:M)."),
    Setting("hnsw_construction_ef", 100, "Default HNSW expansion at build time."),
    Setting(
        "hnsw_search_ef",
        100,
        "Default HNSW expansion at query time (Chroma's default). On real MiniLM text embeddings "
        "100 gives recall@10 ~0.99 (Chroma 0.9875 at its default); 128 gives 0.9905-0.9945 at "
        "+25% search time (benchmarks/README.md).",
    ),
    Setting(
        "hnsw_dtype",
        "f16",
        "Default vector quantization in the index: f16, f32 or i8. Index hits are re-ranked "
        "with exact float32 distances, so f16 (half the memory, faster builds and searches) "
        "returns Chroma's distances.",
    ),
    # Server (single-node Flight gateway) settings.
    Setting("path", "./fletchdb_data", "Data directory the server serves."),
    Setting("host", "127.0.0.1", "Address the Flight server binds."),
    Setting("port", 8815, "Port the Flight server binds (0 = any free port)."),
    Setting("insecure_dev", False, "Turn authentication off (refused on a non-loopback host)."),
    Setting(
        "auth_algorithms",
        "HS256",
        "Comma-separated JWT algorithms accepted: HS256, or RS256/ES256/EdDSA with public keys.",
    ),
    Setting(
        "auth_secret",
        "",
        "HS256 secret (>= 32 bytes). Empty: a random one kept in <path>/auth_secret (mode 0600).",
    ),
    Setting("auth_public_key_file", "", "PEM public key or JWKS file for RS256/ES256/EdDSA."),
    Setting("auth_audience", "", "Required exact `aud` claim (empty: tokens must carry none)."),
    Setting("auth_issuer", "", "Required exact `iss` claim (empty: not checked)."),
    Setting("auth_leeway_seconds", 10.0, "Clock leeway for `exp`, `nbf` and `iat` (0 to 300)."),
    Setting("tls_cert_file", "", "PEM certificate chain: serve grpc+tls instead of grpc."),
    Setting("tls_key_file", "", "PEM private key of tls_cert_file."),
    Setting("tls_client_ca_file", "", "PEM CA bundle: require client certificates (mutual TLS)."),
)

_BY_NAME = {s.name: s for s in SETTINGS}


class Settings:
    """Resolved settings: defaults < environment (`FLETCHDB_<NAME>`) < explicit keyword arguments."""

    def __init__(self, **overrides: Any) -> None:
        unknown = set(overrides) - set(_BY_NAME)
        if unknown:
            raise InvalidArgumentError(f"Unknown setting(s): {', '.join(sorted(unknown))}")
        self._values: dict[str, Any] = {}
        for s in SETTINGS:
            env = os.environ.get(f"FLETCHDB_{s.name.upper()}")
            value = overrides.get(s.name, env if env is not None else s.default)
            self._values[s.name] = _coerce(s, value)

    def __getattr__(self, name: str) -> Any:
        try:
            return self._values[name]
        except KeyError:
            raise AttributeError(name) from None

    def as_dict(self) -> dict[str, Any]:
        """All resolved values by name."""
        return dict(self._values)

    def replace(self, **changes: Any) -> Settings:
        """A copy with some values changed."""
        return Settings(**{**self._values, **changes})


def _coerce(setting: Setting, value: Any) -> Any:
    kind = type(setting.default)
    if isinstance(value, kind) and not (kind is int and isinstance(value, bool)):
        return value
    try:
        if kind is bool:
            text = str(value).strip().lower()
            if text in ("1", "true", "yes", "on"):
                return True
            if text in ("0", "false", "no", "off"):
                return False
            raise ValueError(value)
        if isinstance(value, bool) or (isinstance(value, float) and not value.is_integer()):
            raise ValueError(value)  # True is no number, and 1.5 rows is no count
        return kind(value)
    except (TypeError, ValueError):
        raise InvalidArgumentError(
            f"Setting {setting.name} expects {kind.__name__}, got {value!r}"
        ) from None


def settings_markdown() -> str:
    """The settings table as Markdown (docs/settings.md is this text)."""
    lines = [
        "# Settings and limits",
        "",
        "Generated from `flight_server/config.py` (`SETTINGS`); every value can be set with an",
        "environment variable `FLETCHDB_<NAME>` or passed to the client as `settings=Settings(...)`.",
        "",
        "| name | default | limit | help |",
        "|---|---|---|---|",
    ]
    for s in SETTINGS:
        lines.append(f"| `{s.name}` | `{s.default!r}` | {'yes' if s.limit else ''} | {s.help} |")
    return "\n".join(lines) + "\n"
