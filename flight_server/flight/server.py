"""Building and running the single-node server: engine, gateway, auth and TLS from settings."""

from __future__ import annotations

import ipaddress
import signal
import threading
from dataclasses import dataclass
from pathlib import Path
from types import FrameType

import pyarrow as pa

from ..config import Settings
from ..engine import Engine
from ..errors import InvalidArgumentError, UnavailableError
from ..gateway.auth import (
    ALL,
    HMAC_ALGORITHMS,
    TokenVerifier,
    hmac_secret,
    mint_token,
    parse_algorithms,
    read_setting_file,
)
from ..gateway.gateway import Gateway
from .service import FlightService

DEV_TOKEN_TTL_SECONDS = 30 * 86400


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
    options, scheme = tls_options(settings)
    host = f"[{settings.host}]" if ":" in settings.host else settings.host
    engine = Engine(data_dir, settings)
    location = f"{scheme}://{host}:{settings.port}"
    try:
        service = FlightService(Gateway(engine, settings), location, verifier, **options)
    except pa.ArrowException as exc:  # gRPC could not bind: the port is taken, or the address
        engine.close()
        raise UnavailableError(
            f"Cannot serve at {location} (is the port in use, or the address not this "
            f"machine's?): {exc}"
        ) from None
    except BaseException:
        engine.close()
        raise
    return Server(service, engine, dev_token(settings, data_dir))


def tls_options(settings: Settings) -> tuple[dict[str, object], str]:
    """FlightServerBase keyword arguments for TLS / mutual TLS, and the URI scheme."""
    if not settings.tls_cert_file:
        if settings.tls_client_ca_file or settings.tls_key_file:
            raise InvalidArgumentError("tls_key_file and tls_client_ca_file need tls_cert_file")
        return {}, "grpc"
    if not settings.tls_key_file:
        raise InvalidArgumentError("tls_cert_file needs tls_key_file")
    cert = read_setting_file(settings, "tls_cert_file").encode()
    key = read_setting_file(settings, "tls_key_file").encode()
    options: dict[str, object] = {"tls_certificates": [(cert, key)]}
    if settings.tls_client_ca_file:
        options["verify_client"] = True
        options["root_certificates"] = read_setting_file(settings, "tls_client_ca_file").encode()
    return options, "grpc+tls"


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
