"""The Secretariat's view of a cycle: the summary it published (signed), else a preview
built from the latest digests it holds (unsigned, marked so), read from the Secretariat's
database through :mod:`dief.secretariat`; and whether the cycle's summary is withheld, and
why (disclosure control could not protect it: docs/secretariat.md)."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Protocol

from dief.catalogue import load_catalogue
from dief.exceptions import DisclosureError
from dief.periods import CspCycle, Month
from dief.vocab import Region
from dief.wire import CspSummary

__all__ = ["CycleSummary", "StoreSummaries", "SummarySource", "recent_cycles"]

log = logging.getLogger("dief.portal")


@dataclass(frozen=True, slots=True)
class CycleSummary:
    """A cycle's summary: ``published`` (signed, as sent to ``csp.reporting``) or a preview;
    ``regions``: the regions whose digest of the cycle the Secretariat holds; ``withheld``:
    why the cycle's summary (its next issue, if one was published) is withheld, else
    ``None``."""

    cycle: str
    summary: CspSummary | None
    published: bool
    regions: tuple[Region, ...]
    withheld: str | None = None


class SummarySource(Protocol):
    async def cycle(self, cycle: str) -> CycleSummary: ...


def recent_cycles(today: Month, *, start_month: int, count: int = 4) -> list[str]:
    """The cycle of *today* and the ones before it, newest first."""
    cycle = CspCycle.of(today, start_month=start_month)
    found = []
    for _ in range(count):
        found.append(str(cycle))
        cycle = cycle.previous()
    return found


class StoreSummaries:
    """:class:`SummarySource` over the Secretariat's database (opened per request)."""

    def __init__(self, url: str, *, k: int, start_month: int) -> None:
        self._url = url
        self._k = k
        self._start_month = start_month

    def __repr__(self) -> str:
        return f"StoreSummaries(k={self._k})"

    async def cycle(self, cycle: str) -> CycleSummary:
        from dief.secretariat import SecretariatStore, build_summary  # noqa: PLC0415  the Secretariat's store and summary builder: loaded by the Secretariat's portal only

        async with SecretariatStore(self._url) as store:
            held = await store.summary(cycle)
            versions = await store.versions(cycle)
            regions = tuple(r for r in Region if r.value in versions)
            kept = (await store.withheld()).get(cycle)
            why = None if kept is None else kept.reason
            if held is not None:
                summary = CspSummary.model_validate_json(held[1])
                return CycleSummary(cycle, summary, published=True, regions=regions, withheld=why)
            if not regions:
                return CycleSummary(cycle, None, published=False, regions=regions, withheld=why)
            try:
                preview = await build_summary(
                    store, cycle, k=self._k, catalogue=load_catalogue(),
                    start_month=self._start_month, regions=list(regions),
                )  # fmt: skip
            except DisclosureError as exc:
                # what the Secretariat's service meets too: no preview to show, but why
                log.info("the %s preview cannot be protected: %s", cycle, exc.message)
                return CycleSummary(
                    cycle, None, published=False, regions=regions, withheld=why or exc.message
                )
        return CycleSummary(cycle, preview, published=False, regions=regions, withheld=why)


def this_month() -> Month:
    return Month.of(datetime.now(UTC).date())
