"""TLS material for a throw-away Kafka cluster, made at start with ``cryptography``.

A CA of its own (P-256, valid one week) and one broker certificate for ``127.0.0.1`` and
``localhost``, good for server and client authentication: the brokers present it on the
client listener and authenticate to each other's controller listener with it (its subject
is the brokers' principal, a super user). Clients trust the CA file only.
"""

from __future__ import annotations

import datetime as dt
import ipaddress
import os
import secrets
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.serialization import pkcs12
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

if TYPE_CHECKING:
    from pathlib import Path

__all__ = ["BROKER_CERT_SUBJECT", "TlsFiles", "write_tls"]

#: The brokers' certificate subject; as a principal (``User:CN=…``) it is a super user.
BROKER_CERT_SUBJECT = "CN=dief-kafka-broker"
_VALIDITY = dt.timedelta(days=7)


@dataclass(frozen=True, slots=True)
class TlsFiles:
    """Where the CA certificate (PEM) and the brokers' PKCS#12 keystore were written."""

    ca_file: Path
    keystore: Path
    keystore_password: str = field(repr=False)


def _name(common_name: str) -> x509.Name:
    return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)])


def _private_write(path: Path, data: bytes) -> None:
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as out:
        out.write(data)


def write_tls(directory: Path) -> TlsFiles:
    """Make a CA and the broker certificate; write ``ca.pem`` and ``broker.p12`` (0600,
    under a random password) into *directory*."""
    directory.mkdir(parents=True, exist_ok=True)
    now = dt.datetime.now(dt.UTC) - dt.timedelta(minutes=5)
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_name = _name("dief-kafka-test-ca")
    ca = (
        x509.CertificateBuilder()
        .subject_name(ca_name)
        .issuer_name(ca_name)
        .public_key(ca_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now)
        .not_valid_after(now + _VALIDITY)
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=False,
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
        .sign(ca_key, hashes.SHA256())
    )
    key = ec.generate_private_key(ec.SECP256R1())
    cert = (
        x509.CertificateBuilder()
        .subject_name(_name(BROKER_CERT_SUBJECT.removeprefix("CN=")))
        .issuer_name(ca_name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now)
        .not_valid_after(now + _VALIDITY)
        .add_extension(
            x509.SubjectAlternativeName(
                [x509.DNSName("localhost"), x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]
            ),
            critical=False,
        )
        .add_extension(
            x509.ExtendedKeyUsage(
                [ExtendedKeyUsageOID.SERVER_AUTH, ExtendedKeyUsageOID.CLIENT_AUTH]
            ),
            critical=False,
        )
        .sign(ca_key, hashes.SHA256())
    )
    password = secrets.token_urlsafe(18)
    keystore = pkcs12.serialize_key_and_certificates(
        b"broker", key, cert, [ca], serialization.BestAvailableEncryption(password.encode())
    )
    ca_file, keystore_file = directory / "ca.pem", directory / "broker.p12"
    ca_file.write_bytes(ca.public_bytes(serialization.Encoding.PEM))
    _private_write(keystore_file, keystore)
    return TlsFiles(ca_file=ca_file, keystore=keystore_file, keystore_password=password)
