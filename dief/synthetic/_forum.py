"""A forum at realistic DIEF volume (issue #15): about 40 cases per region per year from
60 active States over a few years — a region sees tens of cases a year, not hundreds.

The cases are drawn like the demo's (:mod:`dief.synthetic._cases`: each region's profile,
the schema-3 fields of the Working Group's model, revisions and withdrawals), with three
differences: 60 States (12 per region), activity less skewed (every State posts now and
then), and the five regions equally busy.
"""

from __future__ import annotations

import random
from dataclasses import replace
from datetime import date
from typing import TYPE_CHECKING

from dief.synthetic._cases import (
    SIMULATED_STATES,
    SyntheticCase,
    _first_version,
    _next_revision,
    _world,
)
from dief.vocab import Region

if TYPE_CHECKING:
    from collections.abc import Iterator, Sequence

__all__ = ["FORUM_STATES", "realistic_cases"]

_MORE: dict[Region, tuple[str, ...]] = {
    Region.APG: ("IND", "IDN"),
    Region.EEG: ("SVK",),
    Region.GRULAC: ("URY",),
    Region.WEOG: ("AUT",),
}

#: The realistic forum's 60 States, 12 per region (ISO 3166 alpha-3; only ``submitted_by``).
FORUM_STATES: dict[Region, tuple[str, ...]] = {
    r: (*SIMULATED_STATES[r], *_MORE.get(r, ())) for r in Region
}


def realistic_cases(  # noqa: PLR0913  public keyword signature (the generator's knobs), used by tests and bench
    *,
    indicator_ids: Sequence[str],
    today: date,
    years: int = 3,
    per_region_year: int = 40,
    seed: int = 11,
    revised: float = 0.08,
) -> Iterator[SyntheticCase]:
    """About ``per_region_year * 5 * years`` new cases dated over the *years* before
    *today*, then ``revised`` as many revisions and withdrawals. Deterministic for *seed*."""
    rng = random.Random(seed)
    first = date(today.year - years, today.month, 1)
    world = _world(rng, indicator_ids, today, first)
    states = [(region, code) for region, codes in FORUM_STATES.items() for code in codes]
    rng.shuffle(states)
    world = replace(
        world,
        months=world.months[1:],  # exactly `years` * 12 months up to today's
        month_weights=[1.0] * (len(world.months) - 1),
        states=states,
        state_weights=[1.0 / (rank + 1) ** 0.5 for rank in range(len(states))],
        region_weights=[1] * len(world.regions),
    )
    originals: list[dict[str, object]] = []
    for _ in range(per_region_year * len(world.regions) * years):
        doc = _first_version(rng, world)
        originals.append(doc)
        yield SyntheticCase(doc)
    latest: dict[str, int] = {}
    for _ in range(round(len(originals) * revised)):
        yield SyntheticCase(_next_revision(rng, originals, latest))
