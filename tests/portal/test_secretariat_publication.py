"""The Secretariat publishes a cycle's summary to ``csp.reporting`` only when a second person
releases it (issue 19): the editor who asked cannot release their own request; another
editor or an administrator can; both steps are in the audit log."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import pytest

from dief.portal import CycleSummary, Party, Role
from dief.portal._releases import ReleaseKind
from dief.secretariat import IncompleteCycleError
from dief.vocab import Region
from dief.wire import CspSummary
from tests.portal.conftest import PASSWORD, FakeSummaries, Site, csrf_of, hidden_of, make_site

if TYPE_CHECKING:
    from collections.abc import Iterator
    from pathlib import Path

    from fastapi.testclient import TestClient
    from httpx import Response

_TABLE = {"totals": {"cases": 5, "contributors": 3, "suppressed": 0}, "dimensions": {}}


def _summary(cycle: str) -> CspSummary:
    return CspSummary.model_validate(
        {
            "cycle": cycle, "from": "2026-09", "to": "2027-08", "k": 3, "issue": 1,
            "issued_at": "2026-12-01T00:00:00Z", "regions": {"AFR": _TABLE}, "global": _TABLE,
            "narrative": ["Five cases were reported."],
            "methodology": {"rules": ["k = 3"], "k": 3, "suppressed": 0},
        }
    )  # fmt: skip


@dataclass
class PreviewSummaries(FakeSummaries):
    """CSP13 published (as the shared fake); CSP14 a preview from the latest digests."""

    async def cycle(self, cycle: str, *, current: bool = False) -> CycleSummary:
        if cycle == "CSP14":
            return CycleSummary(cycle, _summary(cycle), published=False, regions=(Region.AFR,))
        return await super().cycle(cycle, current=current)


@dataclass
class FakePublisher:
    published: list[str] = field(default_factory=list)
    expected: list[str] = field(default_factory=list)

    async def publish(self, cycle: str, *, expected: str) -> CspSummary:
        self.published.append(cycle)
        self.expected.append(expected)
        return _summary(cycle)


EXTRA = [
    ("editor2", (Role.SECRETARIAT_EDITOR,)),
    ("admin", (Role.ADMINISTRATOR,)),
    ("admin2", (Role.ADMINISTRATOR,)),
]


def with_second_people(site: Site) -> Site:
    async def create() -> None:
        for name, roles in EXTRA:
            site.secrets[name] = await site.portal.accounts.create(name, PASSWORD, roles)

    site.call(create)
    return site


@pytest.fixture
def site(tmp_path: Path) -> Iterator[Site]:
    for made in make_site(tmp_path, Party.SECRETARIAT):
        made.portal.summaries = PreviewSummaries()
        made.portal.publisher = FakePublisher()
        yield with_second_people(made)


def post(
    site: Site, url: str, page: str, client: TestClient | None = None, **data: str
) -> Response:
    c = client or site.client
    shown = c.get(page).text
    token = csrf_of(shown)
    # a release form says what it releases: the content hash of the summary shown
    content = hidden_of(shown, "content")
    extra = {} if content is None else {"content": content}
    response: Response = c.post(
        url, data={**extra, **data, "csrf_token": token}, follow_redirects=False
    )
    return response  # typed: the test client's post is not


def _publisher(site: Site) -> FakePublisher:
    assert isinstance(site.portal.publisher, FakePublisher)
    return site.portal.publisher


def _request_publication(site: Site) -> int:
    assert site.login("editor").status_code == 303
    r = post(site, "/secretariat/CSP14/publish", "/secretariat/CSP14")
    assert r.status_code == 303, r.text
    held = site.call(site.portal.releases.open, ReleaseKind.SUMMARY)
    assert [(h.target, h.requester) for h in held] == [("CSP14", "editor")]
    return held[0].id


def test_the_editor_who_asked_cannot_release_the_publication(site: Site) -> None:
    release = _request_publication(site)
    r = post(site, f"/secretariat/releases/{release}/release", "/secretariat/CSP14")
    assert r.status_code == 403
    assert _publisher(site).published == []
    page = site.client.get("/secretariat/CSP14")
    assert "Waiting for a second person" in page.text


def test_a_second_editor_releases_the_publication_and_both_are_audited(site: Site) -> None:
    release = _request_publication(site)
    other = site.fresh_client()
    assert site.login("editor2", client=other).status_code == 303
    r = post(site, f"/secretariat/releases/{release}/release", "/secretariat/CSP14", other)
    assert r.status_code == 303, r.text
    assert _publisher(site).published == ["CSP14"]
    # released once: a second release of the same request does nothing
    r = post(site, f"/secretariat/releases/{release}/release", "/secretariat/CSP14", other)
    assert r.status_code == 409
    assert _publisher(site).published == ["CSP14"]
    entries = site.call(site.portal.accounts.audit_log)
    seen = {(e.account, e.action, e.target) for e in entries}
    assert ("editor", "request", "publish summary CSP14") in seen
    assert ("editor2", "release", "publish summary CSP14") in seen


def test_an_administrator_may_release_a_publication(site: Site) -> None:
    release = _request_publication(site)
    other = site.fresh_client()
    assert site.login("admin", client=other).status_code == 303
    r = post(site, f"/secretariat/releases/{release}/release", "/secretariat/CSP14", other)
    assert r.status_code == 303
    assert _publisher(site).published == ["CSP14"]


def test_a_publication_request_without_the_csrf_token_is_refused(site: Site) -> None:
    assert site.login("editor").status_code == 303
    r = site.client.post("/secretariat/CSP14/publish", data={}, follow_redirects=False)
    assert r.status_code == 403
    assert site.call(site.portal.releases.open) == []


def test_a_cycle_without_any_digest_cannot_be_published(site: Site) -> None:
    assert site.login("editor").status_code == 303
    r = post(site, "/secretariat/CSP12/publish", "/secretariat/CSP12")
    assert r.status_code == 409
    assert site.call(site.portal.releases.open) == []


def test_the_preview_offers_its_documents_for_download(site: Site) -> None:
    assert site.login("editor").status_code == 303
    page = site.client.get("/secretariat/CSP14")
    assert "/secretariat/CSP14/summary.docx" in page.text
    docx = site.client.get("/secretariat/CSP14/summary.docx")
    assert docx.status_code == 200
    assert docx.content[:2] == b"PK"
    assert "preview" in docx.headers["content-disposition"]
    entries = site.call(site.portal.accounts.audit_log)
    assert "summary CSP14 docx (preview)" in {e.target for e in entries}


@dataclass
class RefusingPublisher:
    async def publish(self, cycle: str, *, expected: str) -> CspSummary:

        raise IncompleteCycleError(f"no {cycle} digest from EEG yet")


def test_a_failed_publication_is_kept_with_its_reason_and_may_be_asked_again(site: Site) -> None:
    site.portal.publisher = RefusingPublisher()
    release = _request_publication(site)
    other = site.fresh_client()
    assert site.login("editor2", client=other).status_code == 303
    r = post(site, f"/secretariat/releases/{release}/release", "/secretariat/CSP14", other)
    assert r.status_code == 303
    page = other.get("/secretariat/CSP14")
    assert "not released" in page.text
    assert "incomplete_cycle" in page.text
    assert site.call(site.portal.releases.open) == []
    entries = site.call(site.portal.accounts.audit_log)
    assert ("editor2", "release failed", "publish summary CSP14") in {
        (e.account, e.action, e.target) for e in entries
    }
    r = post(site, "/secretariat/CSP14/publish", "/secretariat/CSP14")  # asked again
    assert r.status_code == 303
    assert len(site.call(site.portal.releases.open)) == 1


def test_without_the_secretariats_keyring_the_registry_page_says_so(site: Site) -> None:
    assert site.login("admin").status_code == 303
    page = site.client.get("/secretariat/registry")
    assert page.status_code == 200
    assert "started without the Secretariat" in page.text
    r = post(site, "/secretariat/registry/directory", "/secretariat/registry")
    assert r.status_code == 503


def test_the_csv_data_annex_downloads_and_is_audited(site: Site) -> None:
    assert site.login("editor").status_code == 303
    r = site.client.get("/secretariat/CSP13/summary.csv")
    assert r.status_code == 200
    assert r.headers["content-type"].startswith("text/csv")
    text = r.content.decode("utf-8-sig")
    assert text.splitlines()[0].startswith("period,region,")
    entries = site.call(site.portal.accounts.audit_log)
    assert "summary CSP13 csv" in {e.target for e in entries}
