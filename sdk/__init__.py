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

__all__ = [
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
    "NotFoundError",
    "PersistentClient",
    "Settings",
    "UniqueConstraintError",
    "__version__",
    "errors",
]
