"""JWT authentication (pyjwt): verifying bearer tokens into principals, and minting them.

Algorithms come from configuration only; `exp`, `sub`, `tenant`, `databases` and `role` are
required; `aud` and `iss` are compared exactly when configured (a token with an `aud` is refused
when none is configured); HS256 secrets must be at least 32 bytes.
"""

from __future__ import annotations

import math
import os
import secrets
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import jwt

from ..config import Settings
from ..errors import AuthenticationError, InvalidArgumentError, quote_input

ROLES = ("reader", "writer", "admin")
ALL = "*"
HMAC_ALGORITHMS = frozenset({"HS256", "HS384", "HS512"})
PUBLIC_KEY_ALGORITHMS = frozenset({"RS256", "RS384", "RS512", "ES256", "ES384", "EdDSA"})
MIN_SECRET_BYTES = 32
REQUIRED_CLAIMS = ("exp", "sub", "tenant", "databases", "role")
SECRET_FILE = "auth_secret"
VERIFIED_CACHE_SIZE = 4096
MAX_LEEWAY_SECONDS = 300


@dataclass(frozen=True)
class Principal:
    """Who is calling: subject, tenant (or `*`), databases (names, or `*`) and role."""

    sub: str
    tenant: str
    databases: tuple[str, ...] | str
    role: str

    def sees_tenant(self, tenant: str) -> bool:
        """Whether the tenant is visible to this principal."""
        return self.tenant in (ALL, tenant)

    def sees_database(self, tenant: str, database: str) -> bool:
        """Whether the database (of that tenant) is visible to this principal."""
        return self.sees_tenant(tenant) and (self.databases == ALL or database in self.databases)

    def has_role(self, role: str) -> bool:
        """Whether this principal's role is `role` or above (reader < writer < admin)."""
        return ROLES.index(self.role) >= ROLES.index(role)


DEV_PRINCIPAL = Principal(sub="insecure-dev", tenant=ALL, databases=ALL, role="admin")


class TokenVerifier:
    """Turns `authorization` header values into principals, or raises AuthenticationError."""

    def __init__(self, settings: Settings, data_dir: Path | None = None) -> None:
        self.algorithms = parse_algorithms(settings.auth_algorithms)
        self.audience = settings.auth_audience or None
        self.issuer = settings.auth_issuer or None
        self.leeway = float(settings.auth_leeway_seconds)
        if not 0 <= self.leeway <= MAX_LEEWAY_SECONDS:
            raise InvalidArgumentError(
                f"auth_leeway_seconds is {self.leeway:g}, outside 0..{MAX_LEEWAY_SECONDS} "
                "(a small clock skew allowance, not a token lifetime)"
            )
        self._keys = load_verification_keys(settings, self.algorithms, data_dir)
        # token -> (principal, exp): a verified token stays valid until exp + leeway, so repeat
        # calls skip the signature check (about 50 us of a 0.5 ms round trip)
        self._verified: dict[str, tuple[Principal, float]] = {}

    def verify_header(self, value: str | None) -> Principal:
        """The principal of an `authorization: Bearer <jwt>` header value."""
        if not value:
            raise AuthenticationError("Missing authorization header (expected: Bearer <token>)")
        scheme, _, token = value.partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            raise AuthenticationError("Malformed authorization header (expected: Bearer <token>)")
        return self.verify(token.strip())

    def verify(self, token: str) -> Principal:
        """The principal of a JWT, checked against the configured keys, algorithms and claims."""
        cached = self._verified.get(token)
        if cached is not None and time.time() <= cached[1] + self.leeway:
            return cached[0]
        try:
            header = jwt.get_unverified_header(token)
            key = self._key_for(header)
            claims = jwt.decode(
                token,
                key,
                algorithms=self.algorithms,
                audience=self.audience,
                issuer=self.issuer,
                leeway=self.leeway,
                options={"require": list(REQUIRED_CLAIMS), "verify_aud": True},
            )
        except (jwt.PyJWTError, TypeError, ValueError) as exc:
            # TypeError/ValueError: pyjwt preparing a configured key for an allowed algorithm
            # that does not fit it (an ES256 token against an RSA key when both are configured)
            raise AuthenticationError(f"Invalid token: {exc}") from None
        principal = principal_from_claims(claims)
        if len(self._verified) >= VERIFIED_CACHE_SIZE:
            self._verified.clear()
        self._verified[token] = (principal, float(claims["exp"]))
        return principal

    def _key_for(self, header: dict[str, Any]) -> Any:
        kid = header.get("kid")
        if kid is not None and not isinstance(kid, str):
            raise jwt.InvalidTokenError("kid must be a string")
        if kid in self._keys:
            return self._keys[kid]
        if kid is None and len(self._keys) == 1:
            return next(iter(self._keys.values()))
        raise jwt.InvalidTokenError(f"Unknown key id (kid) {kid!r}")


def principal_from_claims(claims: dict[str, Any]) -> Principal:
    """A principal from verified claims, refusing malformed tenant, databases or role."""
    sub, tenant, databases, role = (claims[c] for c in ("sub", "tenant", "databases", "role"))
    if not isinstance(sub, str) or not sub:
        raise AuthenticationError("Invalid token: sub must be a non-empty string")
    if not isinstance(tenant, str) or not tenant:
        raise AuthenticationError("Invalid token: tenant must be a non-empty string")
    if role not in ROLES:
        raise AuthenticationError(f"Invalid token: role must be one of {', '.join(ROLES)}")
    if databases == ALL:
        return Principal(sub, tenant, ALL, role)
    if not isinstance(databases, list) or not all(isinstance(d, str) for d in databases):
        raise AuthenticationError("Invalid token: databases must be '*' or a list of names")
    return Principal(sub, tenant, tuple(databases), role)


def parse_algorithms(text: str) -> list[str]:
    """The configured algorithm list; refuses `none`, unknown names and mixed key kinds."""
    algorithms = [a.strip() for a in text.split(",") if a.strip()]
    known = HMAC_ALGORITHMS | PUBLIC_KEY_ALGORITHMS
    bad = [a for a in algorithms if a not in known]
    if not algorithms or bad:
        raise InvalidArgumentError(
            f"auth_algorithms must name some of {', '.join(sorted(known))}; got {text!r}"
        )
    if set(algorithms) & HMAC_ALGORITHMS and set(algorithms) & PUBLIC_KEY_ALGORITHMS:
        # one key kind per server: an HMAC secret never doubles as a public key (alg confusion)
        raise InvalidArgumentError("auth_algorithms cannot mix HMAC and public-key algorithms")
    return algorithms


def load_verification_keys(
    settings: Settings, algorithms: list[str], data_dir: Path | None
) -> dict[str | None, Any]:
    """Keys by kid (None for a key without one): the HMAC secret, a PEM key or a JWKS set."""
    if set(algorithms) <= HMAC_ALGORITHMS:
        return {None: hmac_secret(settings, data_dir)}
    path = settings.auth_public_key_file
    if not path:
        raise InvalidArgumentError(
            f"auth_public_key_file is required for {', '.join(algorithms)} (a PEM or JWKS file)"
        )
    text = read_setting_file(settings, "auth_public_key_file")
    if text.lstrip().startswith("{"):
        try:
            keyset = jwt.PyJWKSet.from_json(text)
        except (jwt.PyJWTError, ValueError) as exc:
            raise InvalidArgumentError(f"auth_public_key_file {path!r}: {exc}") from None
        return {k.key_id: k.key for k in keyset.keys}
    return {None: text}


def read_setting_file(settings: Settings, name: str) -> str:
    """The text of the file a setting names; InvalidArgumentError naming both if unreadable."""
    path = getattr(settings, name)
    try:
        return Path(path).read_text()
    except (OSError, UnicodeDecodeError) as exc:
        raise InvalidArgumentError(f"{name} {path!r} cannot be read: {exc}") from None


def hmac_secret(settings: Settings, data_dir: Path | None) -> bytes:
    """The HS256 secret: configured, or kept in <data_dir>/auth_secret (created 0600)."""
    if settings.auth_secret:
        secret = settings.auth_secret.encode()
    elif data_dir is not None:
        secret = _stored_secret(data_dir / SECRET_FILE)
    else:
        raise InvalidArgumentError("auth_secret is required (or a data directory to keep one)")
    if len(secret) < MIN_SECRET_BYTES:
        raise InvalidArgumentError(
            f"auth_secret is {len(secret)} bytes, under the minimum of {MIN_SECRET_BYTES}"
        )
    return secret


def _stored_secret(path: Path) -> bytes:
    if path.exists():
        return path.read_bytes().strip()
    path.parent.mkdir(parents=True, exist_ok=True)
    secret = secrets.token_urlsafe(48).encode()
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as f:
        f.write(secret)
        f.flush()
        os.fsync(f.fileno())
    return secret


def mint_token(
    key: Any,
    *,
    tenant: str,
    role: str,
    databases: list[str] | str = ALL,
    sub: str = "fletchdb",
    ttl_seconds: float = 3600.0,
    algorithm: str = "HS256",
    audience: str | None = None,
    issuer: str | None = None,
    kid: str | None = None,
) -> str:
    """A signed token carrying FletchDB's claims."""
    if role not in ROLES:
        raise InvalidArgumentError(f"role must be one of {', '.join(ROLES)}, got {role!r}")
    now = int(time.time())
    claims: dict[str, Any] = {
        "sub": sub,
        "tenant": tenant,
        "databases": databases if databases == ALL else list(databases),
        "role": role,
        "iat": now,
        "exp": now + int(ttl_seconds),
    }
    if audience:
        claims["aud"] = audience
    if issuer:
        claims["iss"] = issuer
    headers = {"kid": kid} if kid else None
    return jwt.encode(claims, key, algorithm=algorithm, headers=headers)


def parse_ttl(text: str) -> float:
    """Seconds from a duration like `90`, `30s`, `15m`, `1h`, `7d`."""
    units = {"s": 1, "m": 60, "h": 3600, "d": 86400}
    text = text.strip().lower()
    try:
        if text and text[-1] in units:
            seconds = float(text[:-1]) * units[text[-1]]
        else:
            seconds = float(text)
    except ValueError:
        raise InvalidArgumentError(
            f"ttl must be like 90, 30s, 15m, 1h or 7d, got {quote_input(text, as_repr=True)}"
        ) from None
    if not 0 < seconds < math.inf:  # 0 or less mints a token that is expired when it is made
        raise InvalidArgumentError(
            f"ttl must be a positive, finite duration (0 or less mints an expired token), "
            f"got {quote_input(text, as_repr=True)}"
        )
    return seconds


@dataclass(frozen=True)
class Tls:
    """PEM material for TLS: the server's certificate and key, and a client CA for mutual TLS."""

    cert: bytes
    key: bytes
    client_ca: bytes | None


def tls_files(settings: Settings) -> Tls | None:
    """The TLS / mutual TLS material the settings name (None: plaintext)."""
    if not settings.tls_cert_file:
        if settings.tls_client_ca_file or settings.tls_key_file:
            raise InvalidArgumentError("tls_key_file and tls_client_ca_file need tls_cert_file")
        return None
    if not settings.tls_key_file:
        raise InvalidArgumentError("tls_cert_file needs tls_key_file")
    cert = read_setting_file(settings, "tls_cert_file").encode()
    key = read_setting_file(settings, "tls_key_file").encode()
    client_ca = None
    if settings.tls_client_ca_file:
        client_ca = read_setting_file(settings, "tls_client_ca_file").encode()
    return Tls(cert, key, client_ca)
