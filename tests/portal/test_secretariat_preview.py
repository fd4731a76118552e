"""What a second person is shown before releasing a cycle's summary is what the Secretariat
signs and sends.

The portal's preview was built from the digests alone: without the regions' row
requirements (the cells their joint patterns need hidden in the summary, DESIGN §7), the
previous cycle's published issue (the trends) and the cycle's own last issue (a stable
pattern). The release then published another document, built by the Secretariat with all of
them: an approver released a summary they had not seen. Both now come from
:func:`dief.secretariat.cycle_summary`.
"""

from __future__ import annotations

from contextlib import AsyncExitStack
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import pytest

from dief.aggregator.store import CaseStore
from dief.database import sqlite_url
from dief.digests import publish_digests
from dief.kafka import CSP_TOPIC
from dief.periods import DEFAULT_CYCLE_START_MONTH
from dief.portal import Party, StoreSummaries
from dief.portal._releases import ReleaseKind, SecretariatPublisher
from dief.portal._views_secretariat import releasable
from dief.secretariat import (
    Secretariat,
    SecretariatConfig,
    SecretariatStore,
    summary_content_hash,
)
from dief.testing import MemoryRecordSink, SentRecord
from dief.vocab import Region
from dief.wire import CspSummary
from tests.portal.conftest import Site, csrf_of, hidden_of, make_site
from tests.portal.test_secretariat_publication import post, with_second_people
from tests.unit.secretariat_support import (
    CATALOGUE,
    KEYS,
    fill,
    issuer,
    records,
    region_dlqs,
)

if TYPE_CHECKING:
    from collections.abc import Iterator
    from pathlib import Path

    from fastapi.testclient import TestClient


def _content(summary: CspSummary | None) -> dict[str, object]:
    """The summary without what signing adds (signature, issue, when)."""
    assert summary is not None
    data: dict[str, object] = summary.model_dump(mode="json", by_alias=True)
    for key in ("signature", "issue", "issued_at"):
        data.pop(key, None)
    return data


async def _digests(tmp_path: Path, periods: list[str]) -> list[SentRecord]:
    """Every region's digests of *periods* from one filled history (seed 8)."""
    sink = MemoryRecordSink()
    async with CaseStore(sqlite_url(tmp_path / "cases.db")) as cases:
        await fill(cases, 8)
        for region in Region:
            await publish_digests(cases, region, periods, issuer=issuer(region, sink))
    return sink.sent


def _portal_secretariat(inbox: SecretariatStore, sink: MemoryRecordSink) -> Secretariat:
    """The portal's Secretariat: nothing is published until a second person releases it."""
    config = SecretariatConfig(catalogue=CATALOGUE, publish_complete=False)
    return Secretariat(
        inbox, KEYS.opener(), KEYS.keys_for, KEYS.secretariat_sign,
        dead_letters=region_dlqs().__getitem__, sink=sink, config=config,
    )  # fmt: skip


async def test_the_preview_is_what_the_release_publishes(tmp_path: Path) -> None:
    sent = await _digests(tmp_path, ["CSP11", "CSP12"])
    url = sqlite_url(tmp_path / "secretariat.db")
    async with SecretariatStore(url) as inbox:
        secretariat = _portal_secretariat(inbox, MemoryRecordSink())
        config = secretariat.config
        report = await secretariat.handle(records(sent))
        assert (report.outcomes, report.summaries) == ({"stored": 10}, [])
        rows = await inbox.summary_rows("CSP12")
        assert set(rows) == {r.value for r in Region}  # the regions' requirements are in
        assert await secretariat.publish_summary("CSP11") is not None  # released before

        source = StoreSummaries(url, k=config.k_csp, start_month=config.start_month)
        shown = await source.cycle("CSP12")
        assert not shown.published
        published = await secretariat.publish_summary("CSP12")  # the release

        assert _content(shown.summary) == _content(published)
        # and the trends the preview showed are the published ones, against CSP11's issue
        assert published is not None
        assert published.methodology.suppressed > 0
        after = await source.cycle("CSP12")
        assert after.published
        assert _content(after.summary) == _content(published)


@dataclass
class _Forum:
    """The cases, digests and Secretariat behind a wired Secretariat portal."""

    tmp_path: Path
    sink: MemoryRecordSink = field(default_factory=MemoryRecordSink)
    sent: int = 0
    stack: AsyncExitStack = field(default_factory=AsyncExitStack)
    secretariat: Secretariat | None = None

    async def start(self) -> Secretariat:
        inbox = await self.stack.enter_async_context(
            SecretariatStore(sqlite_url(self.tmp_path / "secretariat.db"))
        )
        self.secretariat = _portal_secretariat(inbox, self.sink)
        return self.secretariat

    async def digests(self, seed: int) -> None:
        """New cases (*seed*), every region's CSP12 digest issued, the Secretariat's batch."""
        out = MemoryRecordSink()
        async with CaseStore(sqlite_url(self.tmp_path / "cases.db")) as cases:
            await fill(cases, seed)
            for region in Region:
                await publish_digests(cases, region, ["CSP12"], issuer=issuer(region, out))
        assert self.secretariat is not None
        await self.secretariat.handle(records(out.sent, start=self.sent))
        self.sent += len(out.sent)

    def published(self) -> list[CspSummary]:
        return [CspSummary.model_validate_json(s.value) for s in self.sink.on(CSP_TOPIC)]


@pytest.fixture
def wired(tmp_path: Path) -> Iterator[tuple[Site, _Forum]]:
    forum = _Forum(tmp_path)
    for site in make_site(tmp_path, Party.SECRETARIAT):
        secretariat = site.call(forum.start)
        site.call(forum.digests, 8)
        site.portal.summaries = StoreSummaries(
            sqlite_url(tmp_path / "secretariat.db"), k=3, start_month=DEFAULT_CYCLE_START_MONTH
        )
        site.portal.publisher = SecretariatPublisher(secretariat)
        yield with_second_people(site), forum
        site.call(forum.stack.aclose)


def _release_as_shown(site: Site, client: TestClient, shown: str) -> None:
    """Release the pending request from the page *shown* earlier (its form, as it was)."""
    held = site.call(site.portal.releases.open, ReleaseKind.SUMMARY)
    assert len(held) == 1
    data = {"csrf_token": csrf_of(shown), "content": hidden_of(shown, "content") or ""}
    url = f"/secretariat/releases/{held[0].id}/release"
    assert client.post(url, data=data, follow_redirects=False).status_code == 303


def test_a_release_publishes_what_was_shown_or_nothing(wired: tuple[Site, _Forum]) -> None:
    site, forum = wired
    assert site.login("editor").status_code == 303
    assert post(site, "/secretariat/CSP12/publish", "/secretariat/CSP12").status_code == 303
    other = site.fresh_client()
    assert site.login("editor2", client=other).status_code == 303
    shown = other.get("/secretariat/CSP12").text
    assert "Releasing publishes the summary shown on this page" in shown

    # digests arrive between the page and the click: the release stops, nothing is sent
    site.call(forum.digests, 9)
    _release_as_shown(site, other, shown)
    assert forum.published() == []
    page = other.get("/secretariat/CSP12").text
    assert "not released" in page
    assert "changed" in page

    # asked again, shown again, released: what is published is what was shown
    assert post(site, "/secretariat/CSP12/publish", "/secretariat/CSP12").status_code == 303
    shown = other.get("/secretariat/CSP12").text
    _release_as_shown(site, other, shown)
    (first,) = forum.published()
    assert summary_content_hash(first) == hidden_of(shown, "content")
    assert first.issue == 1
    page = other.get("/secretariat/CSP12").text
    assert "Published and signed" in page
    assert "Nothing new to publish" in page

    # a later digest: the page shows the next issue (it was the published one, and a
    # release of it published a summary nobody had been shown)
    site.call(forum.digests, 10)
    page = other.get("/secretariat/CSP12").text
    assert "changed after issue 1 was published" in page
    assert post(site, "/secretariat/CSP12/publish", "/secretariat/CSP12").status_code == 303
    shown = other.get("/secretariat/CSP12").text
    _release_as_shown(site, other, shown)
    second = forum.published()[-1]
    assert (second.issue, summary_content_hash(second)) == (2, hidden_of(shown, "content"))


def test_a_request_for_a_summary_that_changed_since_cannot_be_released(
    wired: tuple[Site, _Forum],
) -> None:
    """Four eyes on one document: the requester's and the releaser's. A digest arriving
    after the request makes the request stale; the releaser is told, and a release of the
    new summary (which the requester never saw) is refused."""
    site, forum = wired
    assert site.login("editor").status_code == 303
    asked = site.client.get("/secretariat/CSP12").text
    assert post(site, "/secretariat/CSP12/publish", "/secretariat/CSP12").status_code == 303
    site.call(forum.digests, 9)
    other = site.fresh_client()
    assert site.login("editor2", client=other).status_code == 303
    shown = other.get("/secretariat/CSP12").text
    assert "The summary changed after the publication was asked for" in shown
    assert "Release: sign and publish" not in shown
    assert hidden_of(shown, "content") != hidden_of(asked, "content")
    # a release made by hand, of what the releaser sees now: refused, nothing sent
    held = site.call(site.portal.releases.open, ReleaseKind.SUMMARY)
    data = {"csrf_token": csrf_of(shown), "content": hidden_of(shown, "content") or ""}
    url = f"/secretariat/releases/{held[0].id}/release"
    assert other.post(url, data=data, follow_redirects=False).status_code == 409
    assert forum.published() == []
    # a request made from a page the summary changed after: refused too
    stale = {"csrf_token": csrf_of(asked), "content": hidden_of(asked, "content") or ""}
    r = site.client.post("/secretariat/CSP12/publish", data=stale, follow_redirects=False)
    assert r.status_code == 409
    assert site.call(site.portal.releases.open, ReleaseKind.SUMMARY) == held
    # the second editor asks for the summary they see: it replaces the stale request (its
    # requester need not be there), and the first editor, shown the same, releases it
    assert post(site, "/secretariat/CSP12/publish", "/secretariat/CSP12", other).status_code == 303
    (now,) = site.call(site.portal.releases.open, ReleaseKind.SUMMARY)
    assert (now.requester, now.content) == ("editor2", hidden_of(shown, "content"))
    superseded = site.call(site.portal.releases.get, held[0].id)
    assert superseded is not None
    assert superseded.outcome.startswith("superseded")
    page = site.client.get("/secretariat/CSP12").text
    _release_as_shown(site, site.client, page)
    (published,) = forum.published()
    assert summary_content_hash(published) == hidden_of(shown, "content")


async def test_a_cycle_missing_a_regions_digest_offers_no_publication(tmp_path: Path) -> None:
    """The preview covers the regions whose digest is in, but the Secretariat publishes a
    cycle only once every expected region's is: a request could only fail."""
    sent = await _digests(tmp_path, ["CSP12"])
    url = sqlite_url(tmp_path / "secretariat.db")
    async with SecretariatStore(url) as inbox:
        secretariat = _portal_secretariat(inbox, MemoryRecordSink())
        four = [s for s in sent if s.key != Region.WEOG.value.encode()]
        assert (await secretariat.handle(records(four))).outcomes == {"stored": 4}
    source = StoreSummaries(url, k=3, start_month=DEFAULT_CYCLE_START_MONTH)
    found = await source.cycle("CSP12", current=True)
    assert found.summary is not None
    assert not found.complete
    assert releasable(found) is None
    assert found.regions == tuple(r for r in Region if r is not Region.WEOG)
