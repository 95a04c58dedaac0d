"""TLS and mutual TLS through Flight's own options, with certificates generated in the test.

A CA signs a server certificate (subjectAltName IP 127.0.0.1 and DNS localhost) and a client
certificate; a second, unrelated CA signs a stranger's client certificate.
"""

from __future__ import annotations

import datetime
import ipaddress
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pyarrow.flight as flight
import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from flight_server.errors import InvalidArgumentError, UnavailableError


@dataclass(frozen=True)
class Pem:
    cert: bytes
    key: bytes


@dataclass(frozen=True)
class Pki:
    ca: bytes
    server: Pem
    client: Pem
    other_ca: bytes
    stranger: Pem  # a client certificate from other_ca
    files: dict[str, str]


def _key_pem(key: Any) -> bytes:
    return key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )


def _cert(
    subject: str,
    key: Any,
    issuer: x509.Name | None = None,
    issuer_key: Any = None,
    ca: bool = False,
    sans: list[x509.GeneralName] | None = None,
    usage: Any = None,
) -> x509.Certificate:
    now = datetime.datetime.now(datetime.UTC)
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, subject)])
    builder = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(issuer or name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True)
    )
    if ca:
        builder = builder.add_extension(
            x509.KeyUsage(
                digital_signature=True,
                content_commitment=False,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=True,
                crl_sign=True,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
    if sans:
        builder = builder.add_extension(x509.SubjectAlternativeName(sans), critical=False)
    if usage:
        builder = builder.add_extension(x509.ExtendedKeyUsage([usage]), critical=False)
    return builder.sign(issuer_key or key, hashes.SHA256())


def _pem(cert: x509.Certificate) -> bytes:
    return cert.public_bytes(serialization.Encoding.PEM)


def _authority(name: str) -> tuple[Any, x509.Certificate]:
    key = ec.generate_private_key(ec.SECP256R1())
    return key, _cert(name, key, ca=True)


def _leaf(
    name: str, ca: tuple[Any, x509.Certificate], usage: Any, sans: list[x509.GeneralName] | None
) -> Pem:
    key = ec.generate_private_key(ec.SECP256R1())
    cert = _cert(name, key, ca[1].subject, ca[0], sans=sans, usage=usage)
    return Pem(_pem(cert), _key_pem(key))


@pytest.fixture(scope="module")
def pki(tmp_path_factory: pytest.TempPathFactory) -> Pki:
    ca, other = _authority("FletchDB test CA"), _authority("Some other CA")
    sans: list[x509.GeneralName] = [
        x509.IPAddress(ipaddress.ip_address("127.0.0.1")),
        x509.DNSName("localhost"),
    ]
    server = _leaf("localhost", ca, ExtendedKeyUsageOID.SERVER_AUTH, sans)
    client = _leaf("alice", ca, ExtendedKeyUsageOID.CLIENT_AUTH, None)
    stranger = _leaf("mallory", other, ExtendedKeyUsageOID.CLIENT_AUTH, None)
    folder = tmp_path_factory.mktemp("pki")
    files = {}
    for name, data in {
        "ca.pem": _pem(ca[1]),
        "server.pem": server.cert,
        "server.key": server.key,
    }.items():
        (folder / name).write_bytes(data)
        files[name] = str(folder / name)
    return Pki(_pem(ca[1]), server, client, _pem(other[1]), stranger, files)


def tls_settings(pki: Pki, mutual: bool = False) -> dict[str, str]:
    values = {"tls_cert_file": pki.files["server.pem"], "tls_key_file": pki.files["server.key"]}
    if mutual:
        values["tls_client_ca_file"] = pki.files["ca.pem"]
    return values


def raw_heartbeat(uri: str, token: str | None, **client_options: Any) -> int:
    """One heartbeat through a raw pyarrow Flight client with these connection options."""
    client = flight.FlightClient(uri, **client_options)
    try:
        headers = [(b"authorization", f"Bearer {token}".encode())] if token else []
        options = flight.FlightCallOptions(headers=headers, timeout=10)
        results = list(client.do_action(flight.Action("heartbeat", b""), options))
        return int(json.loads(results[0].body.to_pybytes())["nanosecond heartbeat"])
    finally:
        client.close()


def test_grpc_tls_round_trip(serve, mint, connect, pki: Pki) -> None:
    server = serve(**tls_settings(pki))
    assert server.uri.startswith("grpc+tls://127.0.0.1:")
    client = connect(server, mint(), tls_root_certs=pki.ca)
    col = client.create_collection("secure")
    col.add(ids=["a", "b"], embeddings=[[1.0, 0.0], [0.0, 1.0]], documents=["x", "y"])
    assert col.query(query_embeddings=[[1.0, 0.0]], n_results=1)["ids"] == [["a"]]
    assert client.heartbeat() > 0
    localhost = server.uri.replace("127.0.0.1", "localhost")  # the DNS name is in the SAN too
    assert raw_heartbeat(localhost, mint(), tls_root_certs=pki.ca) > 0


def test_a_client_without_the_ca_is_refused(serve, mint, connect, pki: Pki) -> None:
    server = serve(**tls_settings(pki))
    with pytest.raises(flight.FlightUnavailableError):
        raw_heartbeat(server.uri, mint())  # the system trust store does not know the test CA
    with pytest.raises(flight.FlightUnavailableError):
        raw_heartbeat(server.uri, mint(), tls_root_certs=pki.other_ca)
    with pytest.raises(UnavailableError):
        connect(server, mint()).heartbeat()
    # the certificate names 127.0.0.1 and localhost, not another host
    with pytest.raises(flight.FlightUnavailableError):
        raw_heartbeat(server.uri, mint(), tls_root_certs=pki.ca, override_hostname="db.example.com")


def test_plaintext_to_a_tls_server_fails(serve, mint, pki: Pki) -> None:
    server = serve(**tls_settings(pki))
    plain = server.uri.replace("grpc+tls://", "grpc://")
    with pytest.raises(flight.FlightUnavailableError):
        raw_heartbeat(plain, mint())


def test_auth_is_still_required_over_tls(serve, pki: Pki) -> None:
    server = serve(**tls_settings(pki))
    with pytest.raises(flight.FlightUnauthenticatedError):
        raw_heartbeat(server.uri, None, tls_root_certs=pki.ca)


def test_mutual_tls(serve, mint, connect, pki: Pki) -> None:
    server = serve(**tls_settings(pki, mutual=True))
    token = mint()
    # with a client certificate from the configured CA: served
    with_cert = {
        "tls_root_certs": pki.ca,
        "cert_chain": pki.client.cert,
        "private_key": pki.client.key,
    }
    assert raw_heartbeat(server.uri, token, **with_cert) > 0
    client = connect(server, token, **with_cert)
    assert client.create_collection("mtls").count() == 0
    # without one: refused during the handshake
    with pytest.raises(flight.FlightUnavailableError):
        raw_heartbeat(server.uri, token, tls_root_certs=pki.ca)
    with pytest.raises(UnavailableError):
        connect(server, token, tls_root_certs=pki.ca).heartbeat()
    # with one from another CA: refused
    stranger = {
        "tls_root_certs": pki.ca,
        "cert_chain": pki.stranger.cert,
        "private_key": pki.stranger.key,
    }
    with pytest.raises(flight.FlightUnavailableError):
        raw_heartbeat(server.uri, token, **stranger)
    # and a client certificate does not replace the token
    with pytest.raises(flight.FlightUnauthenticatedError):
        raw_heartbeat(server.uri, None, **with_cert)


@pytest.mark.parametrize(
    "files",
    [
        {"tls_key_file": "server.key"},
        {"tls_cert_file": "server.pem"},
        {"tls_client_ca_file": "ca.pem"},
        {"tls_key_file": "server.key", "tls_client_ca_file": "ca.pem"},
    ],
)
def test_incomplete_tls_settings_are_refused(serve, pki: Pki, files: dict[str, str]) -> None:
    values = {name: pki.files[file] for name, file in files.items()}
    with pytest.raises(InvalidArgumentError, match="tls_"):
        serve(**values)


def test_an_unreadable_tls_file_is_refused_at_start_naming_it(
    serve, pki: Pki, tmp_path: Path
) -> None:
    missing = str(tmp_path / "nope.pem")
    with pytest.raises(InvalidArgumentError, match=r"tls_cert_file '.*nope\.pem' cannot be read"):
        serve(tls_cert_file=missing, tls_key_file=pki.files["server.key"])
    with pytest.raises(InvalidArgumentError, match="tls_client_ca_file"):
        serve(
            tls_cert_file=pki.files["server.pem"],
            tls_key_file=pki.files["server.key"],
            tls_client_ca_file=missing,
        )
