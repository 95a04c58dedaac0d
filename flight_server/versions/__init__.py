"""Immutable index versions: the version store, its document trigram index, and materialization.

`store.py` writes and loads versions crash-safe (records as Arrow IPC, the usearch index, trigram
and BM25 tables); `doc_index.py` is the `$contains` trigram index kept with each version;
`materialize.py` applies Chroma's write semantics (add, upsert, update, delete) column by column,
for the compactor's fold and the executor's view of the log tail.
"""
