"""The release rule's part this package can decide (DESIGN §13 ⚑).

:class:`ContributorRelease` lets a bulletin out once its region's current cycle counts at
least :data:`MIN_CONTRIBUTORS` distinct contributors in the aggregator's store, and then
asks the joint protection's audit (another :class:`~dief.seams.BulletinRelease`, filled by
the disclosure-control package) when one is given: without it, the "audit still holds with
it" half of the rule is not checked here.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Protocol

from dief.seams import BulletinRelease

__all__ = ["MIN_CONTRIBUTORS", "ContributorRelease"]

#: Distinct contributors the region's current cycle must count before any bulletin goes.
MIN_CONTRIBUTORS = 3

_TOTAL = ("_total", "_all")


class _CellRow(Protocol):
    @property
    def dimension(self) -> str: ...
    @property
    def value(self) -> str: ...
    @property
    def cycle(self) -> str: ...
    @property
    def contributors(self) -> int: ...


class _Cells(Protocol):
    async def cell_rows(
        self, region: str, periods: list[str], *, include_red: bool = True
    ) -> list[_CellRow]: ...


class ContributorRelease:
    """:class:`~dief.seams.BulletinRelease` from the store's counts (and *audit*, if given)."""

    def __init__(
        self,
        store: object,
        *,
        audit: BulletinRelease | None = None,
        min_contributors: int = MIN_CONTRIBUTORS,
    ) -> None:
        self._store = store
        self._audit = audit
        self._min = min_contributors

    def __repr__(self) -> str:
        return f"ContributorRelease(min_contributors={self._min}, audit={self._audit is not None})"

    async def contributors(self, region: str, cycle: str) -> int:
        """Distinct contributors of *region*'s *cycle* (all its cases, red included)."""
        rows = await self._store.cell_rows(region, [cycle])  # type: ignore[attr-defined]  # a CaseStore
        return max(
            (
                int(r.contributors)
                for r in rows
                if (r.dimension, r.value) == _TOTAL and r.cycle == cycle
            ),
            default=0,
        )

    async def may_release(self, region: str, cycle: str, facts: Mapping[str, object]) -> bool:
        if await self.contributors(region, cycle) < self._min:
            return False
        return True if self._audit is None else await self._audit.may_release(region, cycle, facts)
