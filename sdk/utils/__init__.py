"""Helpers mirroring `chromadb.utils`: `fletchdb.utils.embedding_functions`."""
