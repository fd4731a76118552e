"""What a region released, kept where the release rule and the collector find it again.

:class:`BulletinLedger` is the seam: every bulletin let out (its random id, region, the
case and revision it came from, cycle, facts without the lesson) and each retraction. The
collector writes it as it hands a batch over; the release rule's audit reads it (every
bulletin in force is a case every reader knows). The aggregator service keeps it in its
database (:class:`dief.aggregator.store.ReleasedBulletins`, table ``released_bulletins``),
so after a restart the audit still counts every bulletin released and a revised case's
bulletin is still retracted; :class:`MemoryLedger` is the in-memory one (tests, tools).
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:
    from collections.abc import Sequence

__all__ = ["BulletinLedger", "KeptBulletin", "MemoryLedger"]


class KeptBulletin(Protocol):
    """One released bulletin as a ledger gives it back."""

    @property
    def bulletin_id(self) -> str: ...
    @property
    def case_id(self) -> str: ...
    @property
    def revision(self) -> int: ...
    @property
    def facts(self) -> str: ...


class BulletinLedger(Protocol):
    """The bulletins a region released (see the module docstring)."""

    async def keep(  # noqa: PLR0913  one keyword per column of the kept bulletin
        self,
        *,
        bulletin_id: str,
        region: str,
        case_id: str,
        revision: int,
        cycle: str,
        facts: str,
    ) -> bool:
        """Record a released bulletin; False if its id is kept already (first wins)."""
        ...

    async def retract(self, bulletin_id: str) -> None:
        """Mark a released bulletin retracted (its case was revised or withdrawn)."""
        ...

    async def released(self, region: str) -> Sequence[KeptBulletin]:
        """*region*'s released bulletins still in force."""
        ...


@dataclass(frozen=True, slots=True)
class _Kept:
    bulletin_id: str
    region: str
    case_id: str
    revision: int
    cycle: str
    facts: str
    retracted: bool = False

    def __repr__(self) -> str:  # the case id stays out of logs
        return f"KeptBulletin({self.bulletin_id[:8]}…, {self.region})"


class MemoryLedger:
    """A :class:`BulletinLedger` in memory: forgotten on restart."""

    def __init__(self) -> None:
        self._kept: dict[str, _Kept] = {}

    def __repr__(self) -> str:
        return f"MemoryLedger({len(self._kept)} bulletins)"

    async def keep(  # noqa: PLR0913  the ledger's keyword signature
        self,
        *,
        bulletin_id: str,
        region: str,
        case_id: str,
        revision: int,
        cycle: str,
        facts: str,
    ) -> bool:
        if bulletin_id in self._kept:
            return False
        self._kept[bulletin_id] = _Kept(bulletin_id, region, case_id, revision, cycle, facts)
        return True

    async def retract(self, bulletin_id: str) -> None:
        held = self._kept.get(bulletin_id)
        if held is not None:
            self._kept[bulletin_id] = replace(held, retracted=True)

    async def released(self, region: str) -> Sequence[KeptBulletin]:
        return [k for k in self._kept.values() if k.region == region and not k.retracted]
