"""The Secretariat's view of a cycle: the summary it published (signed), else a preview
built from the latest digests it holds (unsigned, marked so; built exactly as the Secretariat
would publish it now), read from the Secretariat's database through :mod:`dief.secretariat`;
and whether the cycle's summary is withheld, and why (docs/secretariat.md)."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Protocol

from dief.catalogue import load_catalogue
from dief.exceptions import DiefError, is_outage
from dief.periods import CspCycle, Month
from dief.vocab import Region

if TYPE_CHECKING:
    from dief.wire import CspSummary

__all__ = ["CycleSummary", "StoreSummaries", "SummarySource", "recent_cycles"]

log = logging.getLogger("dief.portal")


@dataclass(frozen=True, slots=True)
class CycleSummary:
    """A cycle's summary: ``published`` (signed, as sent to ``csp.reporting``) or a preview;
    ``regions``: the regions whose digest of the cycle the Secretariat holds; ``withheld``:
    why the cycle's summary (its next issue, if one was published) is withheld, else
    ``None``; ``issued``: with a preview, the issue last published of the cycle (the
    preview is of the next one, from digests received since), else ``None``;
    ``complete``: every expected region's digest is in."""

    cycle: str
    summary: CspSummary | None
    published: bool
    regions: tuple[Region, ...]
    withheld: str | None = None
    issued: CspSummary | None = None
    #: whether every expected region's digest is in (else the preview covers those that
    #: are, and nothing can be published yet)
    complete: bool = True


class SummarySource(Protocol):
    async def cycle(self, cycle: str, *, current: bool = False) -> CycleSummary:
        """*cycle*'s published summary, else its preview; with *current*, a published
        cycle whose digests changed since shows the preview of its next issue."""
        ...


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

    def __init__(
        self, url: str, *, k: int, start_month: int, regions: tuple[Region, ...] = tuple(Region)
    ) -> None:
        self._url = url
        self._k = k
        self._start_month = start_month
        self._regions = regions  # the Secretariat's expected regions (DIEF_REGIONS)

    def __repr__(self) -> str:
        return f"StoreSummaries(k={self._k})"

    async def cycle(self, cycle: str, *, current: bool = False) -> CycleSummary:
        """The published summary of *cycle*, else its preview: what the Secretariat would
        sign and send now (:func:`~dief.secretariat.cycle_summary`, the same inputs), for
        the regions whose digest is in. With *current* (a cycle's own page), a published
        cycle is built again too, and shown as the preview of its next issue where that
        differs from the one published. A summary that cannot be built (disclosure
        control, a stored issue that does not parse) shows as withheld, with why.

        :raises StorageError: the Secretariat's database does not answer.
        """
        from dief.secretariat import (  # noqa: PLC0415  the Secretariat's store and summary builder: loaded by the Secretariat's portal only
            SecretariatConfig,
            SecretariatStore,
            cycle_summary,
            issued_summary,
            summary_content_hash,
        )

        config = SecretariatConfig(
            catalogue=load_catalogue(), k_csp=self._k, start_month=self._start_month,
            regions=self._regions,
        )  # fmt: skip
        async with SecretariatStore(self._url) as store:
            versions = await store.versions(cycle)
            regions = tuple(r for r in self._regions if r.value in versions)
            kept = (await store.withheld()).get(cycle)
            why = None if kept is None else kept.reason
            held: CspSummary | None = None
            try:
                held = await issued_summary(store, cycle)
                if held is not None and not current:
                    return CycleSummary(cycle, held, published=True, regions=regions, withheld=why)
                if not regions:
                    return CycleSummary(cycle, None, published=False, regions=regions, withheld=why)
                preview = await cycle_summary(store, cycle, config, partial=True)
                if held is not None and summary_content_hash(preview) == summary_content_hash(held):
                    return CycleSummary(cycle, held, published=True, regions=regions, withheld=why)
            except DiefError as exc:
                if is_outage(exc):
                    raise
                # what the Secretariat's service meets too: no preview to show, but why
                log.info("the %s summary cannot be shown: %s", cycle, exc.message)
                # the issue published, if any, stays shown
                return CycleSummary(
                    cycle, held, published=held is not None,
                    regions=regions, withheld=why or exc.message,
                )  # fmt: skip
        return CycleSummary(
            cycle, preview, published=False, regions=regions, withheld=why, issued=held,
            complete=len(regions) == len(self._regions),
        )  # fmt: skip


def this_month() -> Month:
    return Month.of(datetime.now(UTC).date())
