"""The nested setting groups the services share: the broker (``DIEF_KAFKA__*``), the
keyring (``DIEF_KEYRING__*``), the forum directory (``DIEF_DIRECTORY__*``), the metrics
endpoint (``DIEF_METRICS__*``) and the log format (``DIEF_LOG_FORMAT``)."""

from __future__ import annotations

import ssl
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Literal

from pydantic import BaseModel, BeforeValidator, Field, SecretStr
from pydantic_settings import BaseSettings

from dief.exceptions import ConfigurationError
from dief.keyring import PartyView, SimulatedForum, open_party
from dief.settings._common import (
    DEFAULT_DIR,
    GROUP_CONFIG,
    SERVICE_CONFIG,
    env_name,
    read_passphrase_file,
)

__all__ = [
    "DirectorySettings",
    "KafkaSettings",
    "KeyringSettings",
    "LogFormat",
    "LoggingSettings",
    "MetricsSettings",
]


class KafkaSettings(BaseModel):
    """How to reach the Kafka-protocol broker (``DIEF_KAFKA__*``).

    Topics are not created by the services (``deploy/kafka/setup.sh`` does, or ``dief
    broker`` with ``DIEF_BROKER_PARTITIONS``), so there is no partition count here.
    """

    model_config = GROUP_CONFIG

    bootstrap: str = Field("127.0.0.1:9092", description="host:port[,host:port…]")
    security_protocol: Literal["PLAINTEXT", "SSL", "SASL_PLAINTEXT", "SASL_SSL"] = "PLAINTEXT"
    sasl_mechanism: Literal["SCRAM-SHA-256", "SCRAM-SHA-512", "PLAIN"] | None = None
    username: str | None = None
    password: SecretStr | None = None
    ca_file: Path | None = None
    #: The embedded broker (Tansu) supports neither idempotent producers nor transactions.
    embedded: bool = False

    def tls_context(self) -> ssl.SSLContext | None:
        """The TLS context of ``SSL`` and ``SASL_SSL`` (trusting *ca_file* if given, else
        the system's CAs); None for the other protocols. Reads the CA file: called when a
        client connects, and once by :func:`load_settings` to refuse a bad file up front.

        :raises ConfigurationError: the CA file is missing, unreadable or holds no
            certificate; the message names ``DIEF_KAFKA__CA_FILE`` and the path.
        """
        if self.security_protocol not in {"SSL", "SASL_SSL"}:
            return None
        cafile = str(self.ca_file) if self.ca_file is not None else None
        try:
            return ssl.create_default_context(cafile=cafile)
        except OSError as exc:  # FileNotFoundError, PermissionError, ssl.SSLError
            reason = exc.strerror or getattr(exc, "reason", None) or type(exc).__name__
            raise ConfigurationError(
                f"cannot use the Kafka CA file {self.ca_file} "
                f"({env_name('kafka', 'ca_file')}): {reason}"
            ) from exc


class KeyringSettings(BaseModel):
    """Where the keyring lives and how to unlock its private keys (``DIEF_KEYRING__*``)."""

    model_config = GROUP_CONFIG

    path: Path = DEFAULT_DIR / "keys"
    passphrase: SecretStr | None = None
    passphrase_file: Path | None = None

    def read_passphrase(self) -> SecretStr | None:
        """The passphrase from ``DIEF_KEYRING__PASSPHRASE``, else the first line of
        ``DIEF_KEYRING__PASSPHRASE_FILE``, if either is given.

        :raises ConfigurationError: the passphrase file cannot be read or is empty.
        """
        if self.passphrase is not None:
            return self.passphrase
        if self.passphrase_file is not None:
            return read_passphrase_file(
                self.passphrase_file, env_name("keyring", "passphrase_file")
            )
        return None

    def unlock(
        self,
        passphrase: SecretStr | None,
        purpose: str,
        directory: DirectorySettings | None = None,
    ) -> PartyView | SimulatedForum:
        """The keys at *path*, unlocked with *passphrase*: one party's keyring with the
        directory of *directory* (pinned to its root fingerprint), or a simulated forum.

        *purpose* names what needs the private keys ("the region keys are"); without a
        passphrase this raises :class:`ConfigurationError` saying how to give one.
        """
        if passphrase is None:
            raise ConfigurationError(
                f"{purpose} encrypted: give the keyring passphrase "
                "(DIEF_KEYRING__PASSPHRASE, DIEF_KEYRING__PASSPHRASE_FILE or the prompt)"
            )
        directory = directory if directory is not None else DirectorySettings()
        return open_party(
            self.path,
            passphrase.get_secret_value(),
            root_fingerprint=directory.read_root_fingerprint(),
            directory=directory.read_directory(),
        )


class DirectorySettings(BaseModel):
    """The signed forum directory a service trusts (``DIEF_DIRECTORY__*``, DESIGN §4): the
    forum root's fingerprint it is pinned to, and the directory file to start from (the
    service then follows ``dief.directory`` for newer versions)."""

    model_config = GROUP_CONFIG

    root_fingerprint: str | None = Field(
        None, description="Hex SHA-256 of the forum root's public key (64 characters)"
    )
    root_fingerprint_file: Path | None = None
    file: Path | None = Field(None, description="The signed directory to start from")

    def read_root_fingerprint(self) -> str | None:
        """The pinned fingerprint, from the variable or the first line of the file.

        :raises ConfigurationError: the file cannot be read or is empty.
        """
        if self.root_fingerprint is not None:
            return self.root_fingerprint
        if self.root_fingerprint_file is not None:
            return read_passphrase_file(
                self.root_fingerprint_file, env_name("directory", "root_fingerprint_file")
            ).get_secret_value()
        return None

    def read_directory(self) -> bytes | None:
        """The raw directory file, if one is given.

        :raises ConfigurationError: it cannot be read.
        """
        if self.file is None:
            return None
        try:
            return self.file.read_bytes()
        except OSError as exc:
            raise ConfigurationError(
                f"cannot read the forum directory {self.file} "
                f"({env_name('directory', 'file')}): {exc.strerror}"
            ) from exc


class MetricsSettings(BaseModel):
    """The service's own HTTP endpoint (``DIEF_METRICS__*``): ``/metrics`` (Prometheus text),
    ``/healthz`` and ``/readyz``.

    Off unless a port is given. It binds the loopback address by default: a scraper on
    another host needs ``DIEF_METRICS__HOST`` set to an address it can reach (the metrics
    carry regions, reasons and outcomes only, never a State, but the endpoint has no
    authentication).
    """

    model_config = GROUP_CONFIG

    port: int | None = Field(
        None, ge=0, le=65535, description="TCP port; None serves nothing, 0 picks a free one"
    )
    host: str = Field("127.0.0.1", min_length=1, description="Address to bind")


class LogFormat(StrEnum):
    """How the services log: Rich-formatted text, or one JSON object per line."""

    TEXT = "text"
    JSON = "json"


def _lower(value: object) -> object:
    return value.lower() if isinstance(value, str) else value


class LoggingSettings(BaseSettings):
    """``DIEF_LOG_FORMAT`` (``text`` or ``json``), read by every command that logs; the
    ``--log-format`` option of ``dief node`` and ``dief aggregate`` overrides it."""

    model_config = SERVICE_CONFIG

    log_format: Annotated[LogFormat, BeforeValidator(_lower)] = LogFormat.TEXT
