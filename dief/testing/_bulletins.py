"""A fake for the :class:`dief.seams.BulletinAuditCheck` seam: :class:`FakeBulletinAudit`."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from collections.abc import Mapping

__all__ = ["FakeBulletinAudit"]


class FakeBulletinAudit:
    """Answers *holds* (a test flips it) and keeps every question asked, in order, in
    :attr:`asked` as (region, cycle, facts)."""

    def __init__(self, holds: bool = True) -> None:  # noqa: FBT001, FBT002  the fake's public constructor, used by the bulletins' code and tests
        self.holds = holds
        self.asked: list[tuple[str, str, Mapping[str, object]]] = []

    def __repr__(self) -> str:
        return f"FakeBulletinAudit(holds={self.holds}, asked={len(self.asked)})"

    async def holds_with(self, region: str, cycle: str, facts: Mapping[str, object]) -> bool:
        self.asked.append((region, cycle, dict(facts)))
        return self.holds


if TYPE_CHECKING:  # mypy checks that the fake implements its seam
    from dief.seams import BulletinAuditCheck

    _check: BulletinAuditCheck = FakeBulletinAudit()
