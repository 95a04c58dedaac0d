"""Moved to `flight_server.serve` (server assembly is not Flight's); these names stay importable."""

from __future__ import annotations

from ..serve import (
    DEV_TOKEN_TTL_SECONDS,
    Server,
    dev_token,
    is_loopback,
    serve_forever,
    start_server,
)

__all__ = [
    "DEV_TOKEN_TTL_SECONDS",
    "Server",
    "dev_token",
    "is_loopback",
    "serve_forever",
    "start_server",
]
