"""Starting the Flight front on a bound address: location, TLS options, bind errors."""

from __future__ import annotations

import pyarrow as pa

from ..config import Settings
from ..errors import UnavailableError
from ..gateway.auth import Tls, TokenVerifier
from ..gateway.gateway import Gateway
from .service import FlightService


def start_flight(
    gateway: Gateway, settings: Settings, verifier: TokenVerifier | None, tls: Tls | None
) -> FlightService:
    """The Flight service over the gateway, listening on settings.host:settings.port."""
    options, scheme = tls_options(tls)
    host = f"[{settings.host}]" if ":" in settings.host else settings.host
    location = f"{scheme}://{host}:{settings.port}"
    try:
        return FlightService(gateway, location, verifier, **options)
    except pa.ArrowException as exc:  # gRPC could not bind: the port is taken, or the address
        raise UnavailableError(
            f"Cannot serve at {location} (is the port in use, or the address not this "
            f"machine's?): {exc}"
        ) from None


def tls_options(tls: Tls | None) -> tuple[dict[str, object], str]:
    """FlightServerBase keyword arguments for TLS / mutual TLS, and the URI scheme."""
    if tls is None:
        return {}, "grpc"
    options: dict[str, object] = {"tls_certificates": [(tls.cert, tls.key)]}
    if tls.client_ca is not None:
        options["verify_client"] = True
        options["root_certificates"] = tls.client_ca
    return options, "grpc+tls"
