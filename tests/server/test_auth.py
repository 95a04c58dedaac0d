"""Authentication over the wire: JWT attacks refused, key configurations, and refused server configs.

Every token is checked in the auth middleware as the call starts, so each test makes a raw Flight
call (a heartbeat, or a DoPut) carrying a crafted `authorization` header against a real server.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import os
import stat
import time
from pathlib import Path
from typing import Any

import jwt
import pyarrow as pa
import pyarrow.flight as flight
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa
from jwt.algorithms import ECAlgorithm, OKPAlgorithm, RSAAlgorithm

from flight_server.config import Settings
from flight_server.errors import InvalidArgumentError
from flight_server.flight.protocol import request
from flight_server.flight.server import start_server
from flight_server.gateway.auth import mint_token

from .conftest import SECRET

AUDIENCE = "fletchdb"
ISSUER = "https://auth.example.com"


# Helpers -------------------------------------------------------------------------------------
def claims(**overrides: Any) -> dict[str, Any]:
    """Valid FletchDB claims; an override of None removes the claim."""
    now = int(time.time())
    body: dict[str, Any] = {
        "sub": "alice",
        "tenant": "default_tenant",
        "databases": "*",
        "role": "admin",
        "iat": now,
        "exp": now + 600,
    }
    body.update(overrides)
    return {k: v for k, v in body.items() if v is not None}


def hs256(secret: str = SECRET, headers: dict[str, Any] | None = None, **overrides: Any) -> str:
    """A token signed with an HMAC secret."""
    return jwt.encode(claims(**overrides), secret, algorithm="HS256", headers=headers)


def b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def handmade(header: dict[str, Any], payload: dict[str, Any], key: bytes | None) -> str:
    """A JWT assembled by hand: HMAC-SHA256 over it with `key`, or no signature at all."""
    signing_input = f"{b64(json.dumps(header).encode())}.{b64(json.dumps(payload).encode())}"
    if key is None:
        return signing_input + "."
    mac = hmac.new(key, signing_input.encode(), hashlib.sha256).digest()
    return f"{signing_input}.{b64(mac)}"


def heartbeat(uri: str, authorization: bytes | str | None) -> int:
    """One raw heartbeat DoAction with this authorization header value (None: no header)."""
    client = flight.FlightClient(uri)
    try:
        headers = []
        if authorization is not None:
            value = authorization.encode() if isinstance(authorization, str) else authorization
            headers.append((b"authorization", value))
        options = flight.FlightCallOptions(headers=headers)
        results = list(client.do_action(flight.Action("heartbeat", b""), options))
        return int(json.loads(results[0].body.to_pybytes())["nanosecond heartbeat"])
    finally:
        client.close()


def accepted(uri: str, token: str) -> None:
    assert heartbeat(uri, f"Bearer {token}") > 0


def refused(uri: str, authorization: bytes | str | None) -> str:
    """The message of the unauthenticated error the call gets (asserting it is one)."""
    with pytest.raises(flight.FlightUnauthenticatedError) as info:
        heartbeat(uri, authorization)
    body = json.loads(info.value.extra_info)
    assert body["code"] == "unauthenticated", body
    assert body["name"] == "AuthError"
    return str(body["message"])


def refused_token(uri: str, token: str) -> str:
    return refused(uri, f"Bearer {token}")


# Key material --------------------------------------------------------------------------------
def _private_pem(key: Any) -> bytes:
    return key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )


def _public_pem(key: Any) -> bytes:
    return key.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )


def _new_key(algorithm: str) -> Any:
    if algorithm == "RS256":
        return rsa.generate_private_key(public_exponent=65537, key_size=2048)
    if algorithm == "ES256":
        return ec.generate_private_key(ec.SECP256R1())
    return ed25519.Ed25519PrivateKey.generate()


_JWK = {"RS256": RSAAlgorithm, "ES256": ECAlgorithm, "EdDSA": OKPAlgorithm}


def _jwk(algorithm: str, key: Any, kid: str) -> dict[str, Any]:
    entry = dict(_JWK[algorithm].to_jwk(key.public_key(), as_dict=True))
    entry.update(kid=kid, use="sig", alg=algorithm)
    return entry


@pytest.fixture(scope="module")
def rsa_key() -> Any:
    return _new_key("RS256")


# Auth on by default ---------------------------------------------------------------------------
def test_auth_is_on_by_default(serve, tmp_path: Path) -> None:
    assert Settings().insecure_dev is False
    server = serve(auth_secret="", path=str(tmp_path / "own-secret"))
    secret_file = tmp_path / "own-secret" / "auth_secret"
    assert stat.S_IMODE(os.stat(secret_file).st_mode) == 0o600
    assert len(secret_file.read_bytes().strip()) >= 32
    assert "Missing authorization header" in refused(server.uri, None)
    refused_token(server.uri, hs256())  # the test secret is not the server's own one
    assert server.dev_token is not None
    accepted(server.uri, server.dev_token)


def test_a_valid_token_is_accepted(serve) -> None:
    server = serve()
    accepted(server.uri, hs256())
    assert heartbeat(server.uri, f"bearer {hs256()}") > 0  # the scheme is case-insensitive


@pytest.mark.parametrize(
    "header",
    [
        None,
        "",
        "Bearer",
        "Bearer ",
        "Basic YWxpY2U6cGFzcw==",
        "Token abc",
        "Bearer garbage",
        "Bearer a.b.c",
        "Bearer ..",
    ],
)
def test_missing_or_malformed_header_is_refused(serve, header: Any) -> None:
    server = serve()
    refused(server.uri, header)
    accepted(server.uri, hs256())  # and the server is fine


# Attacks ----------------------------------------------------------------------------------------
@pytest.mark.parametrize("alg", ["none", "None", "NONE", "nOnE"])
def test_alg_none_is_refused(serve, alg: str) -> None:
    server = serve()
    token = handmade({"alg": alg, "typ": "JWT"}, claims(), None)
    refused_token(server.uri, token)
    if alg == "none":
        refused_token(server.uri, jwt.encode(claims(), None, algorithm="none"))  # type: ignore[arg-type]


def test_hs256_signed_with_the_rsa_public_key_is_refused(serve, tmp_path: Path, rsa_key) -> None:
    public_pem = _public_pem(rsa_key)
    key_file = tmp_path / "public.pem"
    key_file.write_bytes(public_pem)
    server = serve(auth_secret="", auth_algorithms="RS256", auth_public_key_file=str(key_file))
    accepted(
        server.uri, mint_token(_private_pem(rsa_key), tenant="t", role="admin", algorithm="RS256")
    )
    # the classic confusion: the public key (exactly as the server holds it) as an HMAC secret
    for secret in (public_pem, public_pem.strip(), key_file.read_text().encode()):
        refused_token(server.uri, handmade({"alg": "HS256", "typ": "JWT"}, claims(), secret))
    refused_token(server.uri, handmade({"alg": "HS256", "typ": "JWT"}, claims(), b""))


def test_a_server_cannot_mix_hmac_and_public_key_algorithms(serve, tmp_path: Path, rsa_key) -> None:
    key_file = tmp_path / "public.pem"
    key_file.write_bytes(_public_pem(rsa_key))
    with pytest.raises(InvalidArgumentError, match="cannot mix"):
        serve(auth_algorithms="HS256,RS256", auth_public_key_file=str(key_file))


def _tamper(token: str, **changes: Any) -> str:
    header, payload, signature = token.split(".")
    body = json.loads(unb64(payload))
    body.update(changes)
    return f"{header}.{b64(json.dumps(body).encode())}.{signature}"


def test_a_tampered_token_is_refused(serve) -> None:
    server = serve()
    token = mint_token(SECRET.encode(), tenant="acme", role="reader", databases=["main"])
    accepted(server.uri, token)
    for changes in (
        {"role": "admin"},
        {"tenant": "*"},
        {"tenant": "other"},
        {"databases": "*"},
        {"exp": int(time.time()) + 10**8},
        {"sub": "root"},
    ):
        assert "Signature verification failed" in refused_token(
            server.uri, _tamper(token, **changes)
        )
    header, payload, signature = token.split(".")
    flipped = signature[:-2] + ("AA" if signature[-2:] != "AA" else "BB")
    refused_token(server.uri, f"{header}.{payload}.{flipped}")
    refused_token(server.uri, f"{header}.{payload}.")  # signature stripped
    refused_token(server.uri, f"{header}.{payload}")
    other_header = b64(json.dumps({"alg": "HS512", "typ": "JWT"}).encode())
    refused_token(server.uri, f"{other_header}.{payload}.{signature}")
    refused_token(server.uri, hs256(secret="x" * 40))  # signed with another secret


@pytest.mark.parametrize("claim", ["exp", "sub", "tenant", "databases", "role"])
def test_a_token_missing_a_required_claim_is_refused(serve, claim: str) -> None:
    server = serve()
    message = refused_token(server.uri, hs256(**{claim: None}))
    assert claim in message


@pytest.mark.parametrize(
    "overrides",
    [
        {"role": "root"},
        {"role": "ADMIN"},
        {"role": ["admin"]},
        {"tenant": ""},
        {"tenant": 7},
        {"sub": ""},
        {"sub": 42},
        {"databases": "all"},
        {"databases": [1, 2]},
        {"databases": {"main": True}},
        {"exp": "tomorrow"},
        {"nbf": "now"},
    ],
)
def test_a_token_with_a_malformed_claim_is_refused(serve, overrides: dict[str, Any]) -> None:
    server = serve()
    refused_token(server.uri, hs256(**overrides))


def test_expired_and_not_yet_valid_tokens_beyond_the_leeway_are_refused(serve) -> None:
    server = serve(auth_leeway_seconds=10)
    now = int(time.time())
    assert "expired" in refused_token(server.uri, hs256(exp=now - 60)).lower()
    assert "not yet valid" in refused_token(server.uri, hs256(nbf=now + 60)).lower()
    assert "not yet valid" in refused_token(server.uri, hs256(iat=now + 60)).lower()
    # within the small leeway, clock skew is tolerated
    accepted(server.uri, hs256(exp=now - 2))
    accepted(server.uri, hs256(nbf=now + 2))
    # no leeway at all: just-expired is refused
    strict = serve(auth_leeway_seconds=0)
    refused_token(strict.uri, hs256(exp=now - 2))


@pytest.mark.parametrize(
    "overrides",
    [
        {"aud": None},
        {"iss": None},
        {"aud": "other"},
        {"aud": AUDIENCE.upper()},
        {"aud": AUDIENCE + "-evil"},  # suffix tricks
        {"aud": "evil-" + AUDIENCE},
        {"aud": AUDIENCE[:-1]},  # a substring of the configured audience
        {"aud": ""},
        {"aud": ["other", "evil"]},
        {"iss": "https://evil.example.com"},
        {"iss": ISSUER + ".evil.net"},
        {"iss": "https://evil.net/" + ISSUER},
        {"iss": ISSUER + "/"},
        {"iss": ISSUER[:-4]},  # a prefix: substring matching would pass it
        {"iss": "auth.example.com"},
        {"iss": ISSUER.upper()},
        {"iss": ""},
    ],
)
def test_wrong_audience_or_issuer_is_refused(serve, overrides: dict[str, Any]) -> None:
    server = serve(auth_audience=AUDIENCE, auth_issuer=ISSUER)
    good = {"aud": AUDIENCE, "iss": ISSUER}
    accepted(server.uri, hs256(**good))
    refused_token(server.uri, hs256(**{**good, **overrides}))


def test_a_list_issuer_is_refused(serve) -> None:
    server = serve(auth_audience=AUDIENCE, auth_issuer=ISSUER)
    payload = claims(aud=AUDIENCE, iss=[ISSUER])  # pyjwt will not encode this; sign it by hand
    refused_token(server.uri, handmade({"alg": "HS256", "typ": "JWT"}, payload, SECRET.encode()))
    good = handmade(
        {"alg": "HS256", "typ": "JWT"}, claims(aud=AUDIENCE, iss=ISSUER), SECRET.encode()
    )
    accepted(server.uri, good)


def test_an_audience_is_refused_when_none_is_configured(serve) -> None:
    server = serve()
    refused_token(server.uri, hs256(aud=AUDIENCE))
    accepted(server.uri, hs256(iss=ISSUER))  # iss is only compared when configured


# Public-key configurations ---------------------------------------------------------------------
@pytest.mark.parametrize("algorithm", ["RS256", "ES256", "EdDSA"])
def test_public_key_pem_config(serve, tmp_path: Path, algorithm: str, rsa_key) -> None:
    key = rsa_key if algorithm == "RS256" else _new_key(algorithm)
    key_file = tmp_path / "public.pem"
    key_file.write_bytes(_public_pem(key))
    server = serve(auth_secret="", auth_algorithms=algorithm, auth_public_key_file=str(key_file))
    assert server.dev_token is None
    token = mint_token(_private_pem(key), tenant="t", role="reader", algorithm=algorithm)
    accepted(server.uri, token)
    stranger = _new_key(algorithm)
    forged = mint_token(_private_pem(stranger), tenant="t", role="admin", algorithm=algorithm)
    refused_token(server.uri, forged)
    refused_token(server.uri, hs256())  # HMAC tokens are not accepted by a public-key server


@pytest.mark.parametrize("algorithm", ["RS256", "ES256", "EdDSA"])
def test_public_key_jwks_config_with_kid(serve, tmp_path: Path, algorithm: str, rsa_key) -> None:
    first = rsa_key if algorithm == "RS256" else _new_key(algorithm)
    second = _new_key(algorithm)
    keys = {"k1": first, "k2": second}
    jwks = {"keys": [_jwk(algorithm, k, kid) for kid, k in keys.items()]}
    key_file = tmp_path / "jwks.json"
    key_file.write_text(json.dumps(jwks))
    server = serve(auth_secret="", auth_algorithms=algorithm, auth_public_key_file=str(key_file))

    def token(key: Any, kid: str | None) -> str:
        return mint_token(
            _private_pem(key), tenant="t", role="reader", algorithm=algorithm, kid=kid
        )

    accepted(server.uri, token(first, "k1"))
    accepted(server.uri, token(second, "k2"))
    assert "Unknown key id" in refused_token(server.uri, token(first, "k3"))  # unknown kid
    assert "Unknown key id" in refused_token(server.uri, token(first, None))  # no kid, two keys
    refused_token(server.uri, token(first, "k2"))  # the wrong key for that kid
    refused_token(server.uri, token(_new_key(algorithm), "k1"))  # a stranger's key
    header, payload, signature = token(first, "k1").split(".")
    numeric_kid = b64(json.dumps({"alg": algorithm, "typ": "JWT", "kid": 1}).encode())
    refused_token(server.uri, f"{numeric_kid}.{payload}.{signature}")


def test_unknown_kid_is_refused_by_a_single_key_server(serve) -> None:
    server = serve()
    accepted(server.uri, hs256())
    assert "Unknown key id" in refused_token(server.uri, hs256(headers={"kid": "other"}))


# Refused server configurations --------------------------------------------------------------------
@pytest.mark.parametrize("secret", ["s" * 31, "short", "é" * 15])
def test_a_short_hs256_secret_is_refused_at_start(serve, secret: str) -> None:
    with pytest.raises(InvalidArgumentError, match="under the minimum of 32"):
        serve(auth_secret=secret)


def test_a_32_byte_secret_is_enough(serve) -> None:
    server = serve(auth_secret="k" * 32)
    accepted(server.uri, hs256(secret="k" * 32))


def test_a_short_stored_secret_is_refused_at_start(serve, tmp_path: Path) -> None:
    data = tmp_path / "stored"
    data.mkdir()
    (data / "auth_secret").write_bytes(b"tooshort")
    with pytest.raises(InvalidArgumentError, match="under the minimum"):
        serve(auth_secret="", path=str(data))


@pytest.mark.parametrize("algorithms", ["none", "none,HS256", "", "HS1", "RS256,none", "hs256"])
def test_bad_algorithm_lists_are_refused_at_start(serve, algorithms: str) -> None:
    with pytest.raises(InvalidArgumentError, match="auth_algorithms"):
        serve(auth_algorithms=algorithms)


def test_a_public_key_algorithm_needs_a_key_file(serve) -> None:
    with pytest.raises(InvalidArgumentError, match="auth_public_key_file"):
        serve(auth_secret="", auth_algorithms="RS256")


@pytest.mark.parametrize("host", ["0.0.0.0", "::", "192.0.2.10", "example.com"])
def test_insecure_dev_is_refused_off_loopback(tmp_path: Path, host: str) -> None:
    settings = Settings(path=str(tmp_path / "data"), host=host, port=0, insecure_dev=True)
    with pytest.raises(InvalidArgumentError, match="insecure_dev"):
        start_server(settings)
    assert not (tmp_path / "data").exists()  # refused before anything was opened


def test_insecure_dev_on_loopback_needs_no_token(serve) -> None:
    server = serve(insecure_dev=True, auth_secret="")
    assert server.dev_token is None
    assert heartbeat(server.uri, None) > 0
    assert heartbeat(server.uri, "Bearer not-even-a-jwt") > 0


# An unauthenticated DoPut with a large body ---------------------------------------------------------
BATCH_ROWS = 1024
PLANNED_BATCHES = 2048  # 2 GiB of documents, were it all sent


def _big_batch() -> pa.RecordBatch:
    dim = 4
    vectors = pa.FixedSizeListArray.from_arrays(
        pa.array([0.5] * (BATCH_ROWS * dim), pa.float32()), dim
    )
    return pa.record_batch(
        {
            "id": pa.array([f"id{i}" for i in range(BATCH_ROWS)]),
            "embedding": vectors,
            "document": pa.array(["x" * 1024] * BATCH_ROWS),
        }
    )


def _put_big(uri: str, collection_id: str, authorization: str | None) -> tuple[int, Exception]:
    """Stream up to 2 GiB to DoPut; how many 1 MiB batches went out before the error, and it."""
    client = flight.FlightClient(uri)
    batch = _big_batch()
    headers = [(b"authorization", authorization.encode())] if authorization else []
    descriptor = flight.FlightDescriptor.for_command(request(op="add", collection_id=collection_id))
    sent, writer = 0, None
    try:
        writer, _ = client.do_put(
            descriptor, batch.schema, flight.FlightCallOptions(headers=headers)
        )
        for _ in range(PLANNED_BATCHES):
            writer.write_batch(batch)
            sent += 1
        writer.done_writing()
        writer.close()
    except Exception as exc:  # noqa: BLE001 - the error is the result
        if writer is not None:
            try:
                writer.close()
            except Exception:  # noqa: BLE001 - the same refusal again
                pass
        return sent, exc
    finally:
        client.close()
    raise AssertionError("the whole body was accepted")


@pytest.mark.parametrize(
    ("caller", "error"),
    [
        ("none", flight.FlightUnauthenticatedError),
        ("junk", flight.FlightUnauthenticatedError),
        ("expired", flight.FlightUnauthenticatedError),
        ("reader", flight.FlightUnauthorizedError),  # authenticated, but may not write
        ("wrong-tenant", pa.ArrowKeyError),  # the collection does not exist for it
    ],
)
def test_a_refused_doput_with_a_large_body_is_refused_before_the_body(
    serve, mint, connect, caller: str, error: type[Exception]
) -> None:
    server = serve()
    admin = connect(server, mint())
    col = admin.create_collection("target")
    authorization = {
        "none": None,
        "junk": "Bearer junk",
        "expired": f"Bearer {hs256(exp=int(time.time()) - 3600)}",
        "reader": f"Bearer {mint(role='reader')}",
        "wrong-tenant": f"Bearer {mint(tenant='mallory')}",
    }[caller]
    sent, raised = _put_big(server.uri, col.id, authorization)
    assert isinstance(raised, error), raised
    assert sent < 64, f"{sent} MiB were streamed before the refusal"  # of 2048 MiB planned
    assert col.count() == 0
    assert admin.get_collection("target").count() == 0
    stats = col.stats()
    assert (stats["tail_records"], stats["indexed_records"], stats["count"]) == (0, 0, 0), stats
    assert heartbeat(server.uri, f"Bearer {mint()}") > 0


@pytest.mark.parametrize("key_format", ["pem", "jwks"])
def test_a_token_whose_alg_does_not_fit_the_key_is_refused(
    serve, tmp_path: Path, rsa_key, key_format: str
) -> None:
    # several public-key algorithms configured, one RSA key: an ES256 or EdDSA token names an
    # allowed algorithm that the key cannot verify. Pinned: that came back as a TypeError from
    # pyjwt escaping the middleware, not as unauthenticated.
    if key_format == "pem":
        key_file, kid = tmp_path / "public.pem", None
        key_file.write_bytes(_public_pem(rsa_key))
    else:
        key_file, kid = tmp_path / "jwks.json", "k1"
        key_file.write_text(json.dumps({"keys": [_jwk("RS256", rsa_key, "k1")]}))
    server = serve(
        auth_secret="", auth_algorithms="RS256,ES256,EdDSA", auth_public_key_file=str(key_file)
    )

    def token(key: Any, algorithm: str) -> str:
        return mint_token(_private_pem(key), tenant="t", role="admin", algorithm=algorithm, kid=kid)

    accepted(server.uri, token(rsa_key, "RS256"))
    for algorithm in ("ES256", "EdDSA"):
        refused_token(server.uri, token(_new_key(algorithm), algorithm))
    accepted(server.uri, token(rsa_key, "RS256"))  # and the server is fine


def test_a_verified_token_is_cached_only_until_it_expires() -> None:
    from flight_server.errors import AuthenticationError
    from flight_server.gateway.auth import TokenVerifier

    verifier = TokenVerifier(Settings(auth_secret=SECRET, auth_leeway_seconds=60))
    token = hs256(exp=int(time.time()) - 5)  # expired, but inside the leeway
    first = verifier.verify(token)
    assert verifier.verify(token) is first  # the second call is served from the cache
    verifier.leeway = 0.0  # the same token, now past exp + leeway: the cache must not serve it
    with pytest.raises(AuthenticationError, match="expired"):
        verifier.verify(token)


@pytest.mark.parametrize("text", ["{not json", '{"keys": 5}', None])
def test_an_unusable_public_key_file_is_refused_at_start(serve, tmp_path: Path, text) -> None:
    path = tmp_path / "keys.json"
    if text is not None:
        path.write_text(text)
    with pytest.raises(InvalidArgumentError, match="auth_public_key_file"):
        serve(auth_algorithms="RS256", auth_public_key_file=str(path))


@pytest.mark.parametrize("leeway", [-1, 301, 86400])
def test_a_leeway_that_is_not_small_is_refused_at_start(serve, leeway: int) -> None:
    with pytest.raises(InvalidArgumentError, match="auth_leeway_seconds"):
        serve(auth_leeway_seconds=leeway)
