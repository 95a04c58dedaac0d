"""FletchDB's errors under Chroma's names (`from fletchdb.errors import NotFoundError`)."""

from flight_server.errors import *  # noqa: F403
from flight_server.errors import ERROR_TABLE, ERRORS_BY_CODE  # noqa: F401
