"""A cycle's summary as the Secretariat publishes it, from the digests its store holds: one
function for the service's publication and the portal's preview, so that what a second
person is shown before releasing a summary is what is signed and sent (docs/secretariat.md,
"The preview is the publication").

:func:`cycle_summary` reads everything the summary depends on from the store: the regions'
cells, the issue last published of the cycle (a stable pattern) and of the cycle before
(trends), and each region's row requirement (one protected system, DESIGN §7).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import pydantic

from dief.exceptions import DiefError, StoredDataError
from dief.periods import DEFAULT_CYCLE_START_MONTH, CspCycle
from dief.secretariat._summary import build_summary
from dief.vocab import Region
from dief.wire import CspSummary

if TYPE_CHECKING:
    from dief.catalogue import Catalogue
    from dief.secretariat._inbox import SecretariatStore

__all__ = [
    "IncompleteCycleError",
    "SecretariatConfig",
    "cycle_summary",
    "issued_summary",
    "missing_regions",
]


class IncompleteCycleError(DiefError):
    """A cycle's summary cannot be built yet: some expected region's digest is missing."""

    code = "incomplete_cycle"


@dataclass(frozen=True, slots=True)
class SecretariatConfig:
    """How summaries are made: ``k_csp``, the cycle start and the regions expected; and
    whether a cycle's summary is published as soon as every expected region's digest is in
    (``publish_complete``; off when a second person releases each publication in the
    Secretariat's portal, which calls :meth:`Secretariat.publish_summary`)."""

    catalogue: Catalogue
    k_csp: int = 3
    start_month: int = DEFAULT_CYCLE_START_MONTH
    regions: tuple[Region, ...] = tuple(Region)
    publish_complete: bool = True


async def missing_regions(
    store: SecretariatStore, cycle: str, config: SecretariatConfig
) -> list[Region]:
    """The expected regions without a digest for *cycle*."""
    held = await store.versions(cycle)
    return [r for r in config.regions if r.value not in held]


async def issued_summary(store: SecretariatStore, cycle: str) -> CspSummary | None:
    """The summary last published for *cycle*, if any.

    :raises StoredDataError: the stored document does not parse.
    """
    held = await store.summary(cycle)
    if held is None:
        return None
    try:
        return CspSummary.model_validate_json(held[1])
    except pydantic.ValidationError as exc:
        raise StoredDataError(f"the stored {cycle} summary does not parse") from exc


async def cycle_summary(
    store: SecretariatStore, cycle: str, config: SecretariatConfig, *, partial: bool = False
) -> CspSummary:
    """The unsigned summary of *cycle* from the digests *store* holds.

    :raises IncompleteCycleError: a region's digest is missing (with *partial*, the
        summary covers the regions present; still an error if there are none).
    """
    canonical = str(CspCycle.parse(cycle, start_month=config.start_month))
    missing = await missing_regions(store, canonical, config)
    regions = list(config.regions)
    if missing:
        names = ", ".join(r.value for r in missing)
        if not partial or len(missing) == len(config.regions):
            raise IncompleteCycleError(f"no {canonical} digest from {names} yet")
        regions = [r for r in config.regions if r not in missing]
    prior = CspCycle.parse(canonical, start_month=config.start_month)
    return await build_summary(
        store,
        canonical,
        k=config.k_csp,
        catalogue=config.catalogue,
        start_month=config.start_month,
        regions=regions,
        # a stable suppression pattern: the last issue of this cycle and of the one before
        previous=await issued_summary(store, canonical),
        prior_cycle=(
            await issued_summary(store, str(prior.previous())) if prior.number > 1 else None
        ),
        # one protected system: what each region's joint pattern requires of its row
        rows=await store.summary_rows(canonical),
    )
