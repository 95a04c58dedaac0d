"""FletchDB: Chroma's API over an Arrow-native engine. `import fletchdb as chromadb` works."""

from flight_server.api import VERSION as __version__

from . import config, errors
from .client import AsyncHttpClient, Client, EphemeralClient, HttpClient, PersistentClient
from .collection import Collection, EmbeddingFunction
from .config import Settings
from .errors import (
    ChromaError,
    DuplicateIDError,
    FletchError,
    InvalidArgumentError,
    InvalidDimensionException,
    NotFoundError,
    NotSupportedError,
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
    "AsyncHttpClient",
    "DuplicateIDError",
    "EmbeddingFunction",
    "EphemeralClient",
    "FletchError",
    "FlightClient",
    "HttpClient",
    "InvalidArgumentError",
    "InvalidDimensionException",
    "K",
    "Key",
    "Knn",
    "NotFoundError",
    "NotSupportedError",
    "PersistentClient",
    "Rrf",
    "Search",
    "SearchResult",
    "Settings",
    "UniqueConstraintError",
    "__version__",
    "config",
    "errors",
]
