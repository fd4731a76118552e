"""The release rule's part this package can decide (DESIGN §13 ⚑).

:class:`ContributorRelease` lets a bulletin out once its region's current cycle counts at
least :data:`MIN_CONTRIBUTORS` distinct contributors in the aggregator's store AND the
region's audit still holds with it (:class:`~dief.seams.BulletinAuditCheck`, the fast public
check of :mod:`dief.audit`, asked only once the first half holds). Without an audit check
the second half is not checked: the aggregator service says so at start. A bulletin refused
by either half stays queued and is asked about again at the next batch.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:
    from collections.abc import Mapping, Sequence

    from dief.seams import BulletinAuditCheck

__all__ = ["MIN_CONTRIBUTORS", "CellCounts", "ContributorRelease"]

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


class CellCounts(Protocol):
    """What the rule reads of the aggregator's store (a ``CaseStore``)."""

    async def cell_rows(
        self, region: str, periods: list[str], *, include_red: bool = True
    ) -> Sequence[_CellRow]: ...


class ContributorRelease:
    """:class:`~dief.seams.BulletinRelease` from the store's counts (and *audit*, if given)."""

    def __init__(
        self,
        store: CellCounts,
        *,
        audit: BulletinAuditCheck | None = None,
        min_contributors: int = MIN_CONTRIBUTORS,
    ) -> None:
        self._store = store
        self._audit = audit
        self._min = min_contributors

    def __repr__(self) -> str:
        return f"ContributorRelease(min_contributors={self._min}, audit={self._audit is not None})"

    async def contributors(self, region: str, cycle: str) -> int:
        """Distinct contributors of *region*'s *cycle* (all its cases, red included)."""
        rows = await self._store.cell_rows(region, [cycle])
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
        return True if self._audit is None else await self._audit.holds_with(region, cycle, facts)
