"""The region's meeting pack (issue 19): the digest since the last meeting (the current
half-cycle, or the most recent one with cases) as DOCX in English, French and Spanish, with
headings, labels, vocabulary and the period in words from the portal's catalogues; PDF where
LibreOffice is. The region's page lists the halves among its periods."""

from __future__ import annotations

import io
import shutil
from dataclasses import dataclass
from typing import TYPE_CHECKING

import docx
import pytest

from dief.portal import Dashboard, Party
from dief.portal._dashboard import newest_first
from dief.portal._meeting_pack import pack_period, pack_period_words, render_meeting_pack
from dief.vocab import Region
from dief.wire import Digest
from tests.portal.conftest import Site, call_in, make_site

if TYPE_CHECKING:
    from collections.abc import Iterator
    from pathlib import Path

HEADINGS = {
    "en": ["Headline numbers", "What changed", "Risk-indicator checklist", "Lessons by stage"],
    "fr": [
        "Chiffres clés",
        "Ce qui a changé",
        "Liste de contrôle des indicateurs de risque",
        "Enseignements par étape",
    ],
    "es": [
        "Cifras principales",
        "Qué cambió",
        "Lista de verificación de indicadores de riesgo",
        "Lecciones por etapa",
    ],
}
SMALL_ARMS = {"en": "Small arms", "fr": "Armes légères de petit calibre", "es": "Armas pequeñas"}
#: CSP13-H1 (September 2025 start): September 2026 - February 2027, in words in each language
SINCE = {
    "en": "Since the last meeting: September 2026 \u2013 February 2027",
    "fr": "Depuis la dernière réunion : septembre 2026 \u2013 février 2027",
    "es": "Desde la última reunión: septiembre de 2026 \u2013 febrero de 2027",
}


def _digest(region: Region, period: str) -> Digest:
    return Digest.model_validate(
        {
            "region": region.value, "period": period, "k": 2,
            "totals": {"cases": 9, "contributors": 4, "suppressed": 1, "previous": 5},
            "dimensions": {
                "item_category": [
                    {"value": "small_arms", "count": 6, "contributors": 3, "previous": 2,
                     "change": 4, "trend": "rising"},
                    {"value": "ammunition", "count": None, "contributors": None,
                     "suppressed": True, "reason": "contributors"},
                ],
            },
            "checklist": [
                {"id": "DOC-01", "question": "Is the end-user certificate consistent?",
                 "count": 5, "prevalence": 0.55, "trend": "new"},
            ],
            "lessons": [{"text": "Check the stamp against the register.", "tlp": "green",
                         "stage": "pre_transfer"}],
        }
    )  # fmt: skip


@dataclass
class PackDigests:
    """A region with a month, a quarter, two cycles and three halves: the pack takes the
    latest half (since the last meeting)."""

    async def periods(self, region: Region) -> list[str]:
        return ["CSP13-H1", "CSP12-H2", "CSP12-H1", "CSP13", "CSP12", "2026-Q2", "2026-05"]

    async def dashboard(self, region: Region, period: str) -> Dashboard:
        return Dashboard(_digest(region, period), None)


@pytest.fixture
def site(tmp_path: Path) -> Iterator[Site]:
    for made in make_site(tmp_path, Party.REGION):
        made.portal.digests = PackDigests()
        yield made


def _headings(raw: bytes) -> list[str]:
    document = docx.Document(io.BytesIO(raw))
    return [
        p.text
        for p in document.paragraphs
        if p.style is not None and p.style.name.startswith(("Heading", "Title"))
    ]


def _paragraphs(raw: bytes) -> list[str]:
    return [p.text for p in docx.Document(io.BytesIO(raw)).paragraphs]


def _cells(raw: bytes) -> set[str]:
    document = docx.Document(io.BytesIO(raw))
    return {c.text for t in document.tables for row in t.rows for c in row.cells}


@pytest.mark.parametrize("lang", ["en", "fr", "es"])
def test_each_languages_pack_has_translated_headings_and_labels(site: Site, lang: str) -> None:
    assert site.login("afr-member").status_code == 303
    page = site.client.get("/region/AFR/pack", headers={"accept-language": lang})
    assert page.status_code == 200
    assert f"/region/AFR/CSP13-H1/pack.{lang}.docx" in page.text  # since the last meeting
    r = site.client.get(f"/region/AFR/CSP13-H1/pack.{lang}.docx")
    assert r.status_code == 200
    assert r.content[:2] == b"PK"
    assert f"-{lang}.docx" in r.headers["content-disposition"]
    headings = _headings(r.content)
    for expected in HEADINGS[lang]:
        assert any(expected in h for h in headings), (expected, headings)
    assert SMALL_ARMS[lang] in _cells(r.content)
    assert SINCE[lang] in _paragraphs(r.content)  # the period named in words
    entries = call_in(site.client, site.portal.accounts.audit_log)
    assert f"meeting pack AFR CSP13-H1 {lang} docx" in {e.target for e in entries}


def test_a_member_cannot_download_another_regions_pack(site: Site) -> None:
    assert site.login("afr-member").status_code == 303
    assert site.client.get("/region/EEG/pack").status_code == 403
    assert site.client.get("/region/EEG/CSP13/pack.fr.docx").status_code == 403


def test_an_unknown_language_has_no_pack(site: Site) -> None:
    assert site.login("afr-member").status_code == 303
    assert site.client.get("/region/AFR/CSP13/pack.de.docx").status_code == 404


def test_the_pack_period_is_the_latest_half_since_the_last_meeting() -> None:
    periods = ["2026-05", "CSP9-H2", "CSP12-H2", "CSP13-H1", "CSP12-H1", "CSP13", "2026-Q2"]
    assert pack_period(periods, start_month=9) == "CSP13-H1"
    # the current half has no case yet: the most recent half with cases
    assert pack_period(["CSP12-H1", "CSP12-H2", "CSP12"], start_month=9) == "CSP12-H2"
    assert pack_period(["CSP9-H2", "CSP12-H1"], start_month=9) == "CSP12-H1"  # 12 > 9
    # a store without halves: the latest cycle to date, else the latest period
    assert pack_period(["2026-05", "CSP9", "CSP13", "2026-Q2"], start_month=9) == "CSP13"
    assert pack_period(["2026-04", "2026-05"], start_month=9) == "2026-05"
    assert pack_period([], start_month=9) is None


def test_the_pack_names_its_period_in_words() -> None:
    assert pack_period_words("CSP12-H1", "en", start_month=9) == (
        "Since the last meeting: September 2025 \u2013 February 2026"
    )
    assert pack_period_words("CSP12-H2", "fr", start_month=9) == (
        "Depuis la dernière réunion : mars 2026 \u2013 août 2026"
    )
    assert pack_period_words("CSP12-H1", "es", start_month=1) == (
        "Desde la última reunión: enero de 2025 \u2013 junio de 2025"
    )
    assert pack_period_words("CSP12", "en", start_month=9) == (
        "Period: September 2025 \u2013 August 2026"
    )
    assert pack_period_words("2026-05", "fr", start_month=9) == "Période : mai 2026"


def test_the_region_page_lists_the_halves_first(site: Site) -> None:
    assert site.login("afr-member").status_code == 303
    page = site.client.get("/region/AFR").text
    headings = ["Since the last meeting (half-cycles)", "CSP cycles", "Quarters", "Months"]
    assert [page.index(h) for h in headings] == sorted(page.index(h) for h in headings)
    since = page[page.index(headings[0]) : page.index(headings[1])]
    assert [p for p in ("CSP13-H1", "CSP12-H2", "CSP12-H1") if f"/region/AFR/{p}" in since] == [
        "CSP13-H1",
        "CSP12-H2",
        "CSP12-H1",
    ]
    assert '/region/AFR/CSP13"' not in since  # whole cycles are listed under their own heading


def test_store_periods_are_listed_halves_first_newest_first() -> None:
    found = ["2025-12", "2026-Q1", "CSP9", "CSP12", "CSP12-H1", "CSP12-H2", "CSP9-H2", "2026-01"]
    assert newest_first(found) == [
        "CSP12-H2",
        "CSP12-H1",
        "CSP9-H2",
        "CSP12",
        "CSP9",
        "2026-Q1",
        "2026-01",
        "2025-12",
    ]


def test_suppressed_cells_stay_suppressed_in_every_language() -> None:
    digest = _digest(Region.AFR, "CSP13")
    for lang, word in (("en", "suppressed"), ("fr", "masqué"), ("es", "oculto")):
        cells = _cells(render_meeting_pack(digest, lang, start_month=9))
        assert word in {c.lower() for c in cells}, lang


@pytest.mark.skipif(shutil.which("soffice") is None, reason="LibreOffice (soffice) is absent")
def test_the_pack_as_pdf_where_libreoffice_is(site: Site) -> None:
    assert site.login("afr-member").status_code == 303
    r = site.client.get("/region/AFR/CSP13/pack.fr.pdf")
    assert r.status_code == 200
    assert r.content[:5] == b"%PDF-"
