"""The route tables a digest shows (DESIGN §5 ``related_regions``), as every rendering reads
them: "Cases elsewhere whose route passes through this region", one table per sending
region and cycle, as the sending region gave them.

A suppressed cell stays suppressed (``count`` ``None``): the renderings print "suppressed",
never a number; a withheld table shows no count at all.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from dief.vocab import REGION_NAMES, Dimension
from dief.wire import Cell, Digest, Totals, digest_routes

if TYPE_CHECKING:
    from collections.abc import Sequence

__all__ = ["ROUTES_INTRO", "ROUTES_TITLE", "WITHHELD_TEXT", "RouteView", "route_views"]

ROUTES_TITLE = "Cases elsewhere whose route passes through this region"
ROUTES_INTRO = (
    "Counted and protected by the region where each case was reported, and shown as it "
    "sent them; these cases do not count in this region's tables above."
)
WITHHELD_TEXT = "Withheld by the sending region (no count could be published safely)."


@dataclass(frozen=True, slots=True)
class RouteView:
    """One received route table as rendered: ``key`` (``route-<FROM>``, unique in a
    digest, which holds one table per sending region), its heading, and what it lists."""

    key: str
    title: str
    withheld: bool
    totals: Totals
    dimensions: Sequence[tuple[Dimension, Sequence[Cell]]]
    notes: Sequence[str]

    @property
    def cases(self) -> int | None:
        """The published number of cases (``None``: suppressed or withheld)."""
        if self.withheld or self.totals.withheld:
            return None
        return self.totals.cases


def route_views(digest: Digest) -> list[RouteView]:
    """The route tables *digest* carries (its ``routes`` field), by sending region."""
    return [
        RouteView(
            key=f"route-{table.from_region.value}",
            title=(
                f"From {REGION_NAMES[table.from_region]} ({table.from_region.value}), "
                f"{table.period}"
            ),
            withheld=table.withheld,
            totals=table.totals,
            dimensions=[(d, cells) for d, cells in table.dimensions.items() if cells],
            notes=table.notes,
        )
        for table in digest_routes(digest)
    ]
