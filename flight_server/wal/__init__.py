"""The write-ahead log: every write is one Arrow batch, made durable before it is acknowledged."""

from .base import CollectionLog, LogEntry, LogStore
from .local import LocalCollectionLog, LocalLogStore, LogStats

__all__ = [
    "CollectionLog",
    "LocalCollectionLog",
    "LocalLogStore",
    "LogEntry",
    "LogStats",
    "LogStore",
]
