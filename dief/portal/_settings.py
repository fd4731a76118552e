"""The portal's settings (``DIEF_PORTAL_*``), built once at the edge (``dief web``).

The party's own services keep their settings (:class:`~dief.settings.NodeSettings` for the
node part, the aggregator's database for a region); these are the web server's own: where
its accounts live, how sessions are signed and how long they stay idle.
"""

from __future__ import annotations

import secrets
from enum import StrEnum
from pathlib import Path
from typing import Annotated

from pydantic import AfterValidator, Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict

from dief.database import async_url, sqlite_url
from dief.vocab import Region

__all__ = ["PORTAL_PREFIX", "Party", "PortalSettings", "portal_database"]

PORTAL_PREFIX = "DIEF_PORTAL_"
#: Where the services keep their files (``dief.settings.DEFAULT_DIR``, not imported: the
#: portal's settings load without the Kafka clients).
DEFAULT_DIR = Path(".dief")


class Party(StrEnum):
    """Whose part of the portal a server serves (DESIGN §13)."""

    NODE = "node"
    REGION = "region"
    SECRETARIAT = "secretariat"


def portal_database(party: Party, folder: Path = DEFAULT_DIR) -> str:
    """The default accounts database of *party*: a SQLite file of its own."""
    return sqlite_url(folder / f"portal-{party.value}.sqlite")


def _async(url: SecretStr | None) -> SecretStr | None:
    return None if url is None else SecretStr(async_url(url.get_secret_value()))


def _fresh_secret() -> SecretStr:
    return SecretStr(secrets.token_urlsafe(48))


class PortalSettings(BaseSettings):
    """``DIEF_PORTAL_*``. Without ``DIEF_PORTAL_SESSION_SECRET`` a random secret is made at
    start (sessions then end with the process)."""

    model_config = SettingsConfigDict(
        env_prefix=PORTAL_PREFIX,
        env_nested_delimiter="__",
        extra="ignore",
        case_sensitive=False,
        frozen=True,
    )

    party: Party = Party.NODE
    host: str = Field("127.0.0.1", min_length=1, description="Address to bind")
    port: int = Field(8080, ge=0, le=65535)
    database_url: Annotated[SecretStr | None, AfterValidator(_async)] = Field(
        None, description="The party's own accounts database (default .dief/portal-<party>.sqlite)"
    )
    session_secret: SecretStr = Field(default_factory=_fresh_secret, min_length=32)
    idle_minutes: float = Field(30.0, gt=0, description="A session ends after this idle time")
    cookie_secure: bool = Field(True, description="Session cookie only over HTTPS (and localhost)")
    login_attempts: int = Field(5, ge=1, description="Failed logins per name or address ...")
    login_window_minutes: float = Field(15.0, gt=0, description="... within this window")
    regions: list[Region] = Field(
        default_factory=list, description="A region portal: the regions whose dashboards it serves"
    )
    k_meeting: int = Field(2, ge=1)
    cycle_start_month: int = Field(9, ge=1, le=12)
    aggregator_database_url: Annotated[SecretStr | None, AfterValidator(_async)] = Field(
        None, description="A region portal: the aggregator's database (read only)"
    )
    secretariat_database_url: Annotated[SecretStr | None, AfterValidator(_async)] = Field(
        None, description="The Secretariat's portal: the Secretariat's database (read only)"
    )
    k_csp: int = Field(3, ge=1)
    work_dir: Path = Field(DEFAULT_DIR, description="Where the portal keeps its files")

    def accounts_url(self) -> str:
        if self.database_url is not None:
            return self.database_url.get_secret_value()
        return portal_database(self.party, self.work_dir)
