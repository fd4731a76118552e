"""A CSP summary the Secretariat withheld (disclosure control could not protect it) is shown
as withheld, with why, on the Secretariat's pages: the list of cycles still opens (it
failed with 404 as a whole: the preview of the withheld cycle raised), and the cycle's page
says what to do instead of "no digest has arrived"."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import pytest

from dief.aggregator.store import CaseStore
from dief.database import sqlite_url
from dief.digests import publish_digests
from dief.exceptions import StorageError, UnprotectedCellError
from dief.portal import Party, StoreSummaries
from dief.portal._summaries import CycleSummary, SummarySource
from dief.secretariat import SecretariatStore, build_summary
from dief.testing import MemoryRecordSink
from dief.vocab import Region
from tests.portal.conftest import Site, make_site
from tests.unit.secretariat_support import fill, issuer, records, region_dlqs, secretariat

if TYPE_CHECKING:
    from collections.abc import Iterator
    from pathlib import Path

    from dief.wire import CspSummary

CELL = ("CSP12", "end_user_type", "civilian_market")
#: what the Secretariat's build and the portal's preview both call
BUILDER = "dief.secretariat._cycle_summary.build_summary"


def _cannot(cycle_wanted: str) -> Any:  # noqa: ANN401  build_summary's stand-in
    async def cannot(stores: SecretariatStore, cycle: str, **kwargs: Any) -> CspSummary:  # noqa: ANN401  build_summary's keywords, passed through
        if cycle == cycle_wanted:
            raise UnprotectedCellError(CELL)
        return await build_summary(stores, cycle, **kwargs)

    return cannot


async def _held(tmp_path: Path) -> str:
    """A Secretariat database holding every region's CSP12 digest, CSP12 withheld."""
    url = sqlite_url(tmp_path / "secretariat.db")
    sink = MemoryRecordSink()
    async with CaseStore(sqlite_url(tmp_path / "cases.db")) as cases:
        await fill(cases, 8)
        for region in Region:
            await publish_digests(cases, region, ["CSP12"], issuer=issuer(region, sink))
    async with SecretariatStore(url) as inbox:
        report = await secretariat(inbox, MemoryRecordSink(), region_dlqs()).handle(
            records(sink.sent)
        )
    assert list(report.withheld) == ["CSP12"]
    return url


async def test_the_summary_source_reports_a_withheld_cycle(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(BUILDER, _cannot("CSP12"))
    url = await _held(tmp_path)
    # the portal's preview of the cycle fails the same way (it is the same build)
    found = await StoreSummaries(url, k=3, start_month=9).cycle("CSP12")
    assert found.summary is None
    assert not found.published
    assert set(found.regions) == set(Region)
    assert found.withheld is not None
    assert "end_user_type/civilian_market" in found.withheld
    # a cycle nobody withheld says so
    other = await StoreSummaries(url, k=3, start_month=9).cycle("CSP11")
    assert other.withheld is None


async def test_a_preview_that_cannot_be_protected_is_withheld_even_unrecorded(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A database from before the Secretariat kept what it withheld: the preview itself
    cannot be protected, and the page says so instead of failing."""
    monkeypatch.setattr(BUILDER, _cannot("CSP12"))
    url = await _held(tmp_path)
    async with SecretariatStore(url) as inbox:
        await inbox.clear_withheld("CSP12")
    found = await StoreSummaries(url, k=3, start_month=9).cycle("CSP12")
    assert found.summary is None
    assert found.withheld is not None
    assert "end_user_type/civilian_market" in found.withheld


class WithheldSummaries:
    """CSP13 withheld (no issue published), CSP12 published once and withheld since."""

    async def cycle(self, cycle: str, *, current: bool = False) -> CycleSummary:
        why = "a cell no suppression can protect: CSP13 end_user_type/civilian_market"
        if cycle == "CSP13":
            return CycleSummary(cycle, None, published=False, regions=(Region.AFR,), withheld=why)
        return CycleSummary(cycle, None, published=False, regions=())


class UnreachableSummaries:
    """The Secretariat's database does not answer."""

    async def cycle(self, cycle: str, *, current: bool = False) -> CycleSummary:
        raise StorageError(f"reading the summary of {cycle} failed: connection refused")


def _secretariat_site(tmp_path: Path, summaries: SummarySource) -> Iterator[Site]:
    """The Secretariat's portal reading its cycles from *summaries*."""
    for site in make_site(tmp_path, Party.SECRETARIAT):
        site.portal.summaries = summaries
        yield site


@pytest.fixture
def unreachable_site(tmp_path: Path) -> Iterator[Site]:
    yield from _secretariat_site(tmp_path, UnreachableSummaries())


def test_a_database_that_does_not_answer_is_no_missing_cycle(unreachable_site: Site) -> None:
    """503 (try again), not 404 (no such cycle)."""
    unreachable_site.login("editor")
    assert unreachable_site.client.get("/secretariat").status_code == 503
    assert unreachable_site.client.get("/secretariat/CSP13").status_code == 503


@pytest.fixture
def withheld_site(tmp_path: Path) -> Iterator[Site]:
    yield from _secretariat_site(tmp_path, WithheldSummaries())


def test_the_secretariat_pages_say_a_summary_is_withheld_and_why(withheld_site: Site) -> None:
    site = withheld_site
    site.login("editor")
    home = site.client.get("/secretariat")
    assert home.status_code == 200
    assert "Withheld" in home.text
    page = site.client.get("/secretariat/CSP13")
    assert page.status_code == 200
    assert "civilian_market" in page.text
    assert "No digest of this cycle has arrived yet." not in page.text
