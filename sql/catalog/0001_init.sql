-- FletchDB system database, version 1: tenants > databases > collections, index versions.
--
-- Portable SQL (DuckDB and PostgreSQL). Referential integrity is enforced by the catalog inside
-- transactions rather than by FOREIGN KEY clauses, because DuckDB restricts updates and deletes on
-- referenced tables. `created_seq` gives every row its creation order for list pagination.

CREATE SEQUENCE catalog_created_seq;

CREATE TABLE tenants (
    name        TEXT PRIMARY KEY,
    created_seq BIGINT NOT NULL DEFAULT nextval('catalog_created_seq'),
    created_at  TIMESTAMP NOT NULL DEFAULT CURRENT_TIMESTAMP
);

CREATE TABLE databases (
    id          TEXT PRIMARY KEY,
    name        TEXT NOT NULL,
    tenant      TEXT NOT NULL,
    created_seq BIGINT NOT NULL DEFAULT nextval('catalog_created_seq'),
    created_at  TIMESTAMP NOT NULL DEFAULT CURRENT_TIMESTAMP,
    UNIQUE (tenant, name)
);

CREATE TABLE collections (
    id                 TEXT PRIMARY KEY,
    name               TEXT NOT NULL,
    tenant             TEXT NOT NULL,
    database_name      TEXT NOT NULL,
    dimension          INTEGER,
    configuration_json TEXT NOT NULL DEFAULT '{}',
    metadata_json      TEXT,
    current_version    BIGINT NOT NULL DEFAULT 0,
    created_seq        BIGINT NOT NULL DEFAULT nextval('catalog_created_seq'),
    created_at         TIMESTAMP NOT NULL DEFAULT CURRENT_TIMESTAMP,
    UNIQUE (tenant, database_name, name)
);

CREATE TABLE index_versions (
    collection_id TEXT NOT NULL,
    version       BIGINT NOT NULL,
    path          TEXT NOT NULL,
    log_offset    BIGINT NOT NULL,
    record_count  BIGINT NOT NULL,
    created_at    TIMESTAMP NOT NULL DEFAULT CURRENT_TIMESTAMP,
    PRIMARY KEY (collection_id, version)
);
