"""Server assembly: settings -> engine -> gateway -> fronts (the Flight service), auth and TLS.

The one place that wires a server: `fletchdb serve` (cli.py) and tests call `start_server`. A
front gets the gateway, the token verifier and the TLS material; a second front (REST) is one
more start call in `start_server` and one more closer in `Server.close`.
"""

from __future__ import annotations

import ipaddress
import signal
import threading
from dataclasses import dataclass
from pathlib import Path
from types import FrameType

from .config import Settings
from .engine import VERSION, Engine
from .errors import InvalidArgumentError
from .flight.listen import start_flight
from .flight.service import FlightService
from .gateway.auth import (
    ALL,
    HMAC_ALGORITHMS,
    TokenVerifier,
    hmac_secret,
    mint_token,
    parse_algorithms,
    tls_files,
)
from .gateway.gateway import Gateway

DEV_TOKEN_TTL_SECONDS = 30 * 86400
QUICKSTART = """\
FletchDB {version} serving {path} at {uri}{auth}

  import fletchdb
  client = fletchdb.FlightClient("{uri}"{token_arg})
  docs = client.get_or_create_collection("docs")
  docs.add(ids=["a", "b"], embeddings=[[1.0, 0.0], [0.0, 1.0]], documents=["hello", "world"])
  print(docs.query(query_embeddings=[[1.0, 0.1]], n_results=1))

Ctrl-C stops the server."""


def is_loopback(host: str) -> bool:
    """Whether a bind address is loopback-only."""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


@dataclass
class Server:
    """A running Flight service and the engine it owns."""

    service: FlightService
    engine: Engine
    dev_token: str | None

    @property
    def uri(self) -> str:
        """The URI clients connect to."""
        return self.service.uri

    def close(self) -> None:
        """Stop serving, wait for calls in flight, then close the engine."""
        self.service.shutdown()
        self.engine.close()

    def __enter__(self) -> Server:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def start_server(settings: Settings) -> Server:
    """Open the engine at settings.path and start serving on settings.host:settings.port."""
    if settings.insecure_dev and not is_loopback(settings.host):
        raise InvalidArgumentError(
            f"insecure_dev turns authentication off and is refused on the non-loopback "
            f"address {settings.host}"
        )
    data_dir = Path(settings.path)
    verifier = None if settings.insecure_dev else TokenVerifier(settings, data_dir)
    tls = tls_files(settings)
    engine = Engine(data_dir, settings)
    try:
        service = start_flight(Gateway(engine, settings), settings, verifier, tls)
    except BaseException:
        engine.close()
        raise
    return Server(service, engine, dev_token(settings, data_dir))


def dev_token(settings: Settings, data_dir: Path) -> str | None:
    """An admin token for every tenant, when the server made its own HS256 secret (dev setup)."""
    if settings.insecure_dev or settings.auth_secret:
        return None
    algorithms = parse_algorithms(settings.auth_algorithms)
    if not set(algorithms) <= HMAC_ALGORITHMS:
        return None
    return mint_token(
        hmac_secret(settings, data_dir),
        tenant=ALL,
        role="admin",
        sub="dev",
        ttl_seconds=DEV_TOKEN_TTL_SECONDS,
        algorithm=algorithms[0],
        audience=settings.auth_audience or None,
        issuer=settings.auth_issuer or None,
    )


def quickstart(settings: Settings, server: Server) -> str:
    """What `fletchdb serve` prints once listening: the URI, the dev token, a first session."""
    token = server.dev_token
    if token:
        auth = f"\n\nDevelopment token (admin of every tenant, 30 days):\n{token}"
    else:
        auth = "\n\nAuthentication is OFF (insecure dev)." if settings.insecure_dev else ""
    return QUICKSTART.format(
        version=VERSION,
        path=Path(settings.path).resolve(),
        uri=server.uri,
        auth=auth,
        token_arg=f', token="{token}"' if token else "",
    )


def serve(settings: Settings) -> None:
    """Start the server, print the quickstart, and serve until SIGINT or SIGTERM."""
    server = start_server(settings)
    print(quickstart(settings, server), flush=True)
    serve_forever(server)


def serve_forever(server: Server) -> None:
    """Serve until SIGINT or SIGTERM, then shut down cleanly."""
    stop = threading.Event()

    def on_signal(signum: int, frame: FrameType | None) -> None:
        stop.set()

    previous = {s: signal.signal(s, on_signal) for s in (signal.SIGINT, signal.SIGTERM)}
    try:
        while not stop.wait(0.5):
            pass
    finally:
        for s, handler in previous.items():
            signal.signal(s, handler)
        server.close()
