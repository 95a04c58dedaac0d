"""Chroma's legacy `hnsw:*` metadata key for each HNSW configuration key, written out here
(not derived from collection_config.py) so the tests check the code's table against their own."""

LEGACY = {
    "max_neighbors": "hnsw:M",
    "ef_construction": "hnsw:construction_ef",
    "ef_search": "hnsw:search_ef",
    "num_threads": "hnsw:num_threads",
    "batch_size": "hnsw:batch_size",
    "sync_threshold": "hnsw:sync_threshold",
    "resize_factor": "hnsw:resize_factor",
}
