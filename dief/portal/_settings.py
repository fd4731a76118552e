"""Whose part of the portal a server serves; the portal's settings are
:class:`dief.settings.PortalSettings` (``DIEF_PORTAL_*``), built at the edge by ``dief web``."""

from __future__ import annotations

from enum import StrEnum
from typing import TYPE_CHECKING

from dief.database import sqlite_url

if TYPE_CHECKING:
    from pathlib import Path

__all__ = ["Party", "portal_database"]


class Party(StrEnum):
    """Whose part of the portal a server serves (DESIGN §13)."""

    NODE = "node"
    REGION = "region"
    SECRETARIAT = "secretariat"


def portal_database(party: Party, folder: Path) -> str:
    """The default accounts database of *party*: a SQLite file of its own in *folder*."""
    return sqlite_url(folder / f"portal-{party.value}.sqlite")
