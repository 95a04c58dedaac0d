"""FletchDB: Chroma's API over an Arrow-native engine. `import fletchdb as chromadb` works."""

from flight_server.config import Settings
from flight_server.engine import VERSION as __version__

from . import errors
from .client import Client, EphemeralClient, PersistentClient
from .collection import Collection, EmbeddingFunction
from .errors import (
    ChromaError,
    DuplicateIDError,
    FletchError,
    InvalidArgumentError,
    InvalidDimensionException,
    NotFoundError,
    UniqueConstraintError,
)
from .flight_transport import FlightClient
from .search import Bm25, K, Key, Knn, Rrf, Search
from .search_result import SearchResult

__all__ = [
    "Bm25",
    "Client",
    "ChromaError",
    "Collection",
    "DuplicateIDError",
    "EmbeddingFunction",
    "EphemeralClient",
    "FletchError",
    "FlightClient",
    "InvalidArgumentError",
    "InvalidDimensionException",
    "K",
    "Key",
    "Knn",
    "NotFoundError",
    "PersistentClient",
    "Rrf",
    "Search",
    "SearchResult",
    "Settings",
    "UniqueConstraintError",
    "__version__",
    "errors",
]
