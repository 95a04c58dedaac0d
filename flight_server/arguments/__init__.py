"""What a client hands the engine, checked before anything is written: record batches and their
metadata (`validate.py`), a collection's own metadata (`collection_meta.py`) and HNSW
configuration (`collection_config.py`), and query arguments (`query_args.py`).

Light to import (no DuckDB, no usearch): the SDK runs the same checks through `flight_server.api`.
"""
