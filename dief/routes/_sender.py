"""What the sending region publishes of a cycle, and what a reader already knows from it.

A route cell counts a subset of the sending region's cases of its cell: TLP:RED never, so
``route cell <= summary cell <= digest cell`` (the CSP summary's region row counts the
non-red cases, the meeting digest all of them). Publishing a route cell, or any bound a
table implies on it, can only tell a reader a **lower bound** on the sender's summary cell
(and through it on the digest cell). That is new information only where it exceeds what a
member of the sending region's meeting already derives from the sender's own documents:

- a summary cell the summary publishes is known exactly (its count is the cap);
- otherwise its digest cell, published or not, is at least the sum of the published month
  and quarter cells of the cycle (:func:`digest_floors`), and the summary cell at least
  that less the cycle's TLP:RED cases, which a reader knows when the cycle digest and the
  summary row both publish their totals (``red``);
- and at least one case (a listed cell).

:meth:`SenderCells.caps` gives that lower bound per cell: a route table stays consistent
with every route cell at most its cap (``dief.routes.bounds_hold``) adds nothing a
member of the sending region's meeting does not already know about any of its cells.

Which summary cells the summary publishes is not known when a table is issued (the
Secretariat protects the summary after the route tables leave); the sender's own row is
protected as the Secretariat protects it (``k_csp``, secondary suppression within the row)
and a cell it hides is taken as hidden, as is every cell of ``summary_hidden`` (a published
summary's suppressions, when the caller has them). Cells the Secretariat then hides for
another region's sake are not known here; the Secretariat no longer relies on hiding a
row cell from a meeting a route table bounds it for (the sender names its published
route cells with its summary row requirement, :mod:`dief.routes._routed`; docs/digests.md,
"Route tables and the summary").
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from dief.aggregator import TOTAL
from dief.disclosure import (
    SINGLE_VALUED,
    CellId,
    DigestPattern,
    Group,
    Key,
    PeriodCells,
    Tally,
    cell_order,
    protect,
)
from dief.periods import DEFAULT_CYCLE_START_MONTH, CspCycle, Month, Quarter, parse_period

if TYPE_CHECKING:
    from collections.abc import Collection, Iterable, Mapping

__all__ = ["SenderCells", "digest_floors", "sender_view"]

_ROW = "row"


def _row_hidden(nonred: Mapping[CellId, Tally], k_csp: int) -> frozenset[CellId]:
    """The cells of the sender's summary row (its non-red cells) that the summary's own
    rules hide: fewer than ``k_csp`` contributors, then secondary suppression over the
    row's sums (each single-valued dimension sums to the total)."""
    counts: dict[Key, int] = {(_ROW, *c): t.count for c, t in nonred.items() if t.count > 0}
    primary = {(_ROW, *c) for c, t in nonred.items() if t.count > 0 and t.contributors < k_csp}
    groups: list[Group] = []
    if (_ROW, *TOTAL) in counts:
        for dimension in SINGLE_VALUED:
            members = tuple(sorted(k for k in counts if k[1] == dimension.value))
            if members:
                groups.append(Group((_ROW, *TOTAL), members))
    # as the Secretariat's: a hidden cell of k_csp contributors counts at least k_csp
    floors = {
        (_ROW, *c): k_csp for c, t in nonred.items() if t.count > 0 and t.contributors >= k_csp
    }
    done = protect(counts, primary, groups, order=cell_order, floors=floors)
    return frozenset((key[1], key[2]) for key in done.suppressed)


@dataclass(frozen=True, slots=True)
class SenderCells:
    """What the sending region publishes of the same cycle.

    ``digest``: each listed cell of its cycle digest, with the published count or ``None``
    where its joint pattern suppresses it; ``nonred``: the cycle's cells without TLP:RED
    (the CSP summary's region row before protection); ``summary_hidden``: cells a published
    summary of the cycle suppressed (when one is known); ``floors``: for cells the cycle
    digest suppresses, the least count its month and quarter digests imply
    (:func:`digest_floors`; TLP:RED included, as in the digests)."""

    digest: Mapping[CellId, int | None]
    nonred: Mapping[CellId, Tally]
    k_csp: int = 3
    summary_hidden: frozenset[CellId] = frozenset()
    floors: Mapping[CellId, int] = field(default_factory=dict)

    def summary_suppressed(self) -> frozenset[CellId]:
        """The summary row's cells taken as suppressed (its own rules, and
        ``summary_hidden``)."""
        return _row_hidden(self.nonred, self.k_csp) | self.summary_hidden

    def red(self, hidden: Collection[CellId]) -> int | None:
        """The cycle's TLP:RED cases as a reader knows them (cycle digest total less the
        summary row's total), ``None`` unless both totals are published (*hidden*: the
        summary row's suppressed cells)."""
        published = self.digest.get(TOTAL)
        nonred = self.nonred.get(TOTAL)
        if published is None or nonred is None or TOTAL in hidden:
            return None
        return max(0, published - nonred.count)

    def caps(self, cells: Iterable[CellId]) -> dict[CellId, int]:
        """For each of *cells*: the least count of the sender's summary cell that a member
        of the sending region's meeting already knows (module docstring), at least 1. A
        route cell up to its cap tells nobody anything new about the sender's cells."""
        hidden = self.summary_suppressed()
        red = self.red(hidden)
        out: dict[CellId, int] = {}
        for cell in cells:
            nonred = self.nonred.get(cell)
            if nonred is not None and nonred.count > 0 and cell not in hidden:
                out[cell] = nonred.count
                continue
            published = self.digest.get(cell)
            least = published if published is not None else self.floors.get(cell, 0)
            out[cell] = max(1, least - red) if red is not None else 1
        return out


def _quarters_inside(cycle: CspCycle) -> list[Quarter]:
    return [q for q in cycle.quarters if all(cycle.contains(m) for m in q.months)]


def digest_floors(
    cycle: str,
    cells: Iterable[CellId],
    *,
    pattern: DigestPattern,
    tallies: Mapping[str, PeriodCells],
    start_month: int = DEFAULT_CYCLE_START_MONTH,
) -> dict[CellId, int]:
    """For each of *cells*: the least count of the *cycle*'s cell that the region's month
    and quarter digests imply (the cycle is the sum of its months): each published month
    or quarter cell adds its count, a suppressed one nothing (it may be a cell kept listed
    at 0), and a whole quarter inside the cycle adds the larger of its own published count
    and its months' floor. TLP:RED counts, as in the digests."""
    parsed = parse_period(cycle, start_month=start_month)
    if not isinstance(parsed, CspCycle):
        raise ValueError(f"not a CSP cycle: {cycle!r}")  # noqa: TRY004  a string naming another kind of period: a bad value, not a bad type
    quarters = _quarters_inside(parsed)
    covered = {m for q in quarters for m in q.months}
    loose: list[Month] = [m for m in parsed.months if m not in covered]

    def known(period: str, cell: CellId) -> int:
        return pattern.published(period, cell, tallies.get(period, {}).get(cell)) or 0

    out: dict[CellId, int] = {}
    for cell in cells:
        floor = sum(known(str(m), cell) for m in loose)
        for quarter in quarters:
            months = sum(known(str(m), cell) for m in quarter.months)
            floor += max(months, known(str(quarter), cell))
        out[cell] = floor
    return out


def sender_view(  # noqa: PLR0913  public keyword signature, used outside dief/routes
    cycle: str,
    *,
    pattern: DigestPattern,
    tallies: Mapping[str, PeriodCells],
    nonred: Mapping[CellId, Tally],
    k_csp: int = 3,
    start_month: int = DEFAULT_CYCLE_START_MONTH,
    summary_hidden: frozenset[CellId] = frozenset(),
) -> SenderCells:
    """What the sending region publishes of *cycle*: its cycle digest's cells under its
    joint *pattern* (over *tallies*, every period of the region), the cycle's non-red
    cells (*nonred*, the summary row), and the floors of the cells the digest hides. A
    joint *pattern* (``pattern.rows``) adds the row cells it requires suppressed to
    *summary_hidden*."""
    digest = {
        cell: pattern.published(cycle, cell, tally)
        for cell, tally in tallies.get(cycle, {}).items()
        if tally.count > 0
    }
    hidden = [cell for cell in {*digest, *nonred} if digest.get(cell) is None]
    floors = digest_floors(cycle, hidden, pattern=pattern, tallies=tallies, start_month=start_month)
    need = pattern.rows.get(cycle)
    if need is not None:  # a joint pattern: what the summary row must suppress
        summary_hidden |= need.hidden
    return SenderCells(
        digest=digest, nonred=nonred, k_csp=k_csp, summary_hidden=summary_hidden, floors=floors
    )
