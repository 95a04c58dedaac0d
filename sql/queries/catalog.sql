-- Named queries of the system database (DuckDB now, PostgreSQL later).
-- Each section starts with `-- name: <query_name>`; parameters are positional `?` placeholders.

-- Migrations ----------------------------------------------------------------------------------

-- name: create_schema_migrations
CREATE TABLE IF NOT EXISTS schema_migrations (
    version    INTEGER PRIMARY KEY,
    name       TEXT NOT NULL,
    checksum   TEXT NOT NULL,
    applied_at TIMESTAMP NOT NULL DEFAULT CURRENT_TIMESTAMP
)

-- name: select_schema_migrations
SELECT version, name, checksum FROM schema_migrations ORDER BY version

-- name: insert_schema_migration
INSERT INTO schema_migrations (version, name, checksum) VALUES (?, ?, ?)

-- Tenants and databases -----------------------------------------------------------------------

-- name: insert_tenant
INSERT INTO tenants (name) VALUES (?)

-- name: ensure_tenant
INSERT INTO tenants (name) VALUES (?) ON CONFLICT DO NOTHING

-- name: select_tenant
SELECT name FROM tenants WHERE name = ?

-- name: insert_database
INSERT INTO databases (id, name, tenant) VALUES (?, ?, ?)

-- name: ensure_database
INSERT INTO databases (id, name, tenant) VALUES (?, ?, ?) ON CONFLICT DO NOTHING

-- name: select_database
SELECT id, name, tenant FROM databases WHERE tenant = ? AND name = ?

-- name: list_databases
SELECT id, name, tenant
FROM databases
WHERE tenant = ?
ORDER BY created_seq
LIMIT ? OFFSET ?

-- name: delete_database
DELETE FROM databases WHERE tenant = ? AND name = ?

-- name: select_collection_ids_in_database
SELECT id FROM collections WHERE tenant = ? AND database_name = ? ORDER BY created_seq

-- name: delete_versions_in_database
DELETE FROM index_versions
WHERE collection_id IN (SELECT id FROM collections WHERE tenant = ? AND database_name = ?)

-- name: delete_collections_in_database
DELETE FROM collections WHERE tenant = ? AND database_name = ?

-- Collections ---------------------------------------------------------------------------------

-- name: insert_collection
INSERT INTO collections
    (id, name, tenant, database_name, dimension, configuration_json, metadata_json)
VALUES (?, ?, ?, ?, ?, ?, ?)

-- name: select_collection_by_name
SELECT id, name, tenant, database_name, dimension, configuration_json, metadata_json
FROM collections
WHERE tenant = ? AND database_name = ? AND name = ?

-- name: select_collection_by_id
SELECT id, name, tenant, database_name, dimension, configuration_json, metadata_json
FROM collections
WHERE id = ?

-- name: list_collections
SELECT id, name, tenant, database_name, dimension, configuration_json, metadata_json
FROM collections
WHERE tenant = ? AND database_name = ?
ORDER BY created_seq
LIMIT ? OFFSET ?

-- name: list_all_collections
SELECT id, name, tenant, database_name, dimension, configuration_json, metadata_json
FROM collections
ORDER BY created_seq

-- name: count_collections
SELECT count(*) FROM collections WHERE tenant = ? AND database_name = ?

-- name: update_collection_name
UPDATE collections SET name = ? WHERE id = ?

-- name: update_collection_metadata
UPDATE collections SET metadata_json = ? WHERE id = ?

-- name: update_collection_configuration
UPDATE collections SET configuration_json = ? WHERE id = ?

-- name: set_dimension_if_unset
UPDATE collections SET dimension = ? WHERE id = ? AND dimension IS NULL

-- name: select_dimension
SELECT dimension FROM collections WHERE id = ?

-- name: delete_collection
DELETE FROM collections WHERE id = ?

-- name: delete_collection_versions
DELETE FROM index_versions WHERE collection_id = ?

-- Index versions ------------------------------------------------------------------------------

-- name: select_current_version
SELECT v.collection_id, v.version, v.path, v.log_offset, v.record_count
FROM collections c
JOIN index_versions v ON v.collection_id = c.id AND v.version = c.current_version
WHERE c.id = ?

-- name: select_version_fence
SELECT c.current_version, v.log_offset
FROM collections c
LEFT JOIN index_versions v ON v.collection_id = c.id AND v.version = c.current_version
WHERE c.id = ?

-- name: insert_version
INSERT INTO index_versions (collection_id, version, path, log_offset, record_count)
VALUES (?, ?, ?, ?, ?)

-- name: advance_current_version
UPDATE collections SET current_version = ? WHERE id = ? AND current_version = ?

-- name: delete_older_versions
DELETE FROM index_versions WHERE collection_id = ? AND version < ?

-- name: version_paths
SELECT path FROM index_versions WHERE collection_id = ? ORDER BY version

-- name: all_version_paths
SELECT path FROM index_versions ORDER BY collection_id, version

-- Reset ---------------------------------------------------------------------------------------

-- name: delete_all_versions
DELETE FROM index_versions

-- name: delete_all_collections
DELETE FROM collections

-- name: delete_all_databases
DELETE FROM databases

-- name: delete_all_tenants
DELETE FROM tenants
