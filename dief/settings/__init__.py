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

from dief.settings._common import (
    AGGREGATOR_DATABASE,
    AGGREGATOR_FILE,
    DEFAULT_DIR,
    RUN_DIR,
    SECRETARIAT_DATABASE,
    SECRETARIAT_FILE,
    env_name,
    read_passphrase_file,
)
from dief.settings._groups import (
    DirectorySettings,
    KafkaSettings,
    KeyringSettings,
    LogFormat,
    LoggingSettings,
    MetricsSettings,
)
from dief.settings._load import load_settings
from dief.settings._services import (
    AggregatorSettings,
    BrokerSettings,
    KafkaRuntimeSettings,
    KeysSettings,
    NodeSettings,
    PortalSettings,
    RunSettings,
    SecretariatSettings,
)

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
