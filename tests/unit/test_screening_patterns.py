"""E-mail, phone, URL and reference-number detection; benign texts; a throughput run."""

from __future__ import annotations

import time

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from dief.screening import FindingKind, Screener, screen_text


def spans_of(text: str) -> list[tuple[str, str]]:
    return [(text[f.start : f.end], f.kind.value) for f in screen_text("summary", text)]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("mail a.b-c+d@sub.example.co.uk.", "a.b-c+d@sub.example.co.uk"),
        ("write to desk @ example.org now", "desk @ example.org"),
        ("contact analyst [at] ministry [dot] org", "analyst [at] ministry [dot] org"),
        ("contact analyst(at)ministry.org", "analyst(at)ministry.org"),
    ],
)
def test_emails(text: str, expected: str) -> None:
    assert spans_of(text) == [(expected, "email")]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("call +1 (555) 123-4567 now", "+1 (555) 123-4567"),
        ("call +33612345678 now", "+33612345678"),
        ("call 0044 20 7946 0958 now", "0044 20 7946 0958"),
        ("call (020) 7946 0958 now", "(020) 7946 0958"),
        ("call 555-123-4567 now", "555-123-4567"),
        ("call 555.123.4567 now", "555.123.4567"),
        ("call 555 123 4567 now", "555 123 4567"),
        ("call 020 7946 0958 now", "020 7946 0958"),
        ("call 0612345678 now", "0612345678"),
        ("tel: 4521 3312, after hours", "4521 3312"),
        ("WhatsApp +2348012345678.", "+2348012345678"),
    ],
)
def test_phone_numbers(text: str, expected: str) -> None:
    assert spans_of(text) == [(expected, "phone")]


@pytest.mark.parametrize(
    "text",
    [
        "In 2026, 500 rifles were seized.",
        "1,000,000 rounds and 1 000 000 rounds and 12 500 000 rounds and 1.000.000 rounds",
        "in 2025 12 500 rounds were found",
        "dated 2026-03-15, 15.03.2026, 12/03/2026 and 03/2026",
        "over 2023-2024 and 2019-20",
        "quantity band 1001-10000 and 11-100",
        "7.62 mm, 12.7x108mm, +25% in value, 9x19mm",
        "100000000 rounds in total",
        "serial range 120-450",
    ],
)
def test_years_dates_and_quantities_are_not_phone_numbers(text: str) -> None:
    assert spans_of(text) == []


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("see https://example.org/path?x=1).", "https://example.org/path?x=1"),
        ("see http://10.0.0.1/a today", "http://10.0.0.1/a"),
        ("see www.example.com, then", "www.example.com"),
        ("see example.com, then", "example.com"),
        ("see portal.example.co.uk/report today", "portal.example.co.uk/report"),
        ("see EXAMPLE.COM today", "EXAMPLE.COM"),
        ("host 192.168.1.20 was used", "192.168.1.20"),
    ],
)
def test_urls_and_domains(text: str, expected: str) -> None:
    assert spans_of(text) == [(expected, "url")]


def test_abbreviations_and_decimals_are_not_domains() -> None:
    assert spans_of("e.g. this, i.e. that, etc. at 3 p.m.; 7.62 and 5.56; report.pdf") == []
    assert spans_of("It was shipped.In 2024 it was found; version 1.2.3.") == []


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("under licence no. 4521/2023 issued", "4521/2023"),
        ("under contract #AB12345 signed", "AB12345"),
        ("the EUC 123/45 was forged", "123/45"),
        ("the EUC-123/45 was forged", "EUC-123/45"),
        ("export licence EL-2024-00123 was used", "EL-2024-00123"),
        ("permit 77-A-2023 was used", "77-A-2023"),
        ("invoice INV-2023-0457 was used", "INV-2023-0457"),
        ("container MSCU1234567 was opened", "MSCU1234567"),
        ("AWB 176-12345675 was used", "176-12345675"),
        ("certificate No. 4521 was used", "4521"),
        ("Ref: 2023/0457 was quoted", "2023/0457"),
        ("export licence number 88 was quoted", "88"),
        ("reference DE-2023-4471 was quoted", "DE-2023-4471"),
        ("file 2024-00123 was opened", "2024-00123"),
        ("code AB-1234-X appears", "AB-1234-X"),
        ("rifle s/n 12345 was traced", "12345"),
        ("bill of lading MAEU123456789 was used", "MAEU123456789"),
    ],
)
def test_reference_numbers(text: str, expected: str) -> None:
    assert spans_of(text) == [(expected, "reference_number")]


@pytest.mark.parametrize(
    "text",
    [
        "the licence in 2024 and the 2024 licence",
        "licence 2024 was suspended",
        "AK-47, An-124-100, M1911, 9M113, COVID-19, RPG-7V, T-72B3, HK416A5, MG-42",
        "7.62x39mm in a container, and a certificate mid-2024",
        "Q3-2026, mid-2024, the 1990s, FY2026, a 1000-round lot",
        "an ISO 9001 certificate for 500 rifles",
        "a contract for 500 rifles and permits for 12 pistols",
    ],
)
def test_designations_periods_and_counts_are_not_reference_numbers(text: str) -> None:
    assert spans_of(text) == []


BENIGN = [
    (
        "Consignment of small arms ammunition was re-routed through a transshipment hub; the "
        "end-user certificate was later found forged; the 2026 shipment of 500 rifles was "
        "intercepted before delivery."
    ),
    (
        "A broker registered a shell company two weeks before the application; the declared end "
        "user had no record of prior imports. Lesson: verify the consignee's trading history "
        "before approving the licence."
    ),
    (
        "Post-shipment verification in 2025 found that 1,200 of the 5,000 rounds of 7.62x39mm "
        "ammunition were missing from the stockpile; records had been altered."
    ),
    (
        "Parts and components for armoured combat vehicles were misdeclared as agricultural "
        "machinery on the air waybill and flown on a chartered An-124-100 in mid-2024."
    ),
    (
        "Light weapons recovered from a non-state armed group in the Sahel carried markings "
        "matching a lot exported in 2019 under a licence that prohibited re-export."
    ),
    (
        "The EUC bore a genuine stamp, but the signatory had left the ministry in 2023; a call "
        "to the issuing authority revealed the forgery."
    ),
    (
        "A transit State was not notified; the vessel changed its declared port of call twice "
        "and switched off its AIS transponder for 36 hours in the Gulf of Guinea."
    ),
    (
        "Theft from a poorly secured depot: about 300 pistols and 40 light machine guns; the "
        "inventory had not been reconciled since 2021. PSSM measures were recommended."
    ),
    (
        "Pattern seen across West Africa and the Great Lakes region: diversion at the point of "
        "import through insider collusion at customs."
    ),
    (
        "Brokering activity spanned three continents; payment went through a correspondent bank "
        "and the letter of credit was amended after shipment. Require notification of "
        "amendments."
    ),
    (
        "Deactivated rifles were converted back to live fire in a workshop; 25 were seized in "
        "Q3-2026. Recommend stricter deactivation standards and marking of converted items."
    ),
    (
        "Ammunition boxes were repackaged into unmarked crates and declared as mining "
        "explosives (quantity band 1001-10000); a customs risk profile flagged the consignment."
    ),
    (
        "Aircraft spare parts were routed via a free-trade zone where the consignee's address "
        "was a shared office; the company was dissolved on 2026-03-15."
    ),
    (
        "An open-source investigation linked serial numbers on recovered rifles to a lot "
        "reported lost from a peacekeeping contingent's inventory in 2018."
    ),
    (
        "Online marketplace listings advertised pistol parts; postal and courier shipments were "
        "split into small parcels below the declaration threshold."
    ),
    (
        "The stated end use (training by a private security company) was inconsistent with the "
        "quantity requested: 2,000 assault rifles and 1 000 000 rounds over 2023-2024."
    ),
    (
        "Caribbean transshipment: firearms concealed in household goods, shipped in 20-foot "
        "containers by sea freight, discovered on X-ray scanning at the port of entry."
    ),
    (
        "MANPADS were reported missing after a change of government; the Balkans stockpile "
        "destruction programme had not yet reached that site. Soviet-era 12.7 mm rounds were "
        "also found."
    ),
    (
        "Risk indicators present: the price was well above market value, payment was in cash, "
        "and the route was unusually complex for the goods. The ATA carnet and the SGS "
        "inspection report, dated 12/03/2026, contradicted the manifest."
    ),
    (
        "Between 2019 and 2021, 14 shipments of 11-100 items each were diverted, for a total "
        "value of USD 2.5 million; regional cooperation in Latin America and the Indian Ocean "
        "helped trace them. The UN, the EU, the AU and ECOWAS were informed."
    ),
    (
        "Insider diversion at a military depot: an NCO altered the ledger and sold 9x19mm "
        "ammunition in lots of 50 to a criminal organization; AK-47 and PKM magazines too."
    ),
]


def test_there_are_about_twenty_benign_texts() -> None:
    assert len(BENIGN) >= 20
    assert all(len(t) <= 2000 for t in BENIGN)


@pytest.mark.parametrize("text", BENIGN)
def test_benign_diversion_lessons_are_accepted(text: str) -> None:
    assert spans_of(text) == []


_ALPHABET = st.sampled_from(
    list("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789 .,-/@+()#:'\u2019é\n")
)


@settings(max_examples=200, deadline=None)
@given(st.text(_ALPHABET, max_size=300))
def test_findings_are_sorted_disjoint_spans_inside_the_text(text: str) -> None:
    findings = screen_text("summary", text)
    previous_end = 0
    for f in findings:
        assert 0 <= previous_end <= f.start < f.end <= len(text)
        assert f.kind in set(FindingKind)
        previous_end = f.end


@settings(max_examples=100, deadline=None)
@given(
    st.lists(
        st.sampled_from(["small", "arms", "were", "diverted", "via", "a", "hub"]), max_size=12
    ),
    st.sampled_from(["Kenya", "Peru", "Viet Nam", "Bosnia and Herzegovina", "Côte d'Ivoire"]),
    st.integers(min_value=0, max_value=12),
)
def test_a_country_name_anywhere_in_benign_words_is_found(
    words: list[str], name: str, position: int
) -> None:
    position = min(position, len(words))
    before = " ".join(words[:position])
    prefix = before + " " if before else ""
    text = prefix + name + " " + " ".join(words[position:])
    assert spans_of(text) == [(name, "place")]


def test_throughput_sanity() -> None:
    """Screen 1,000 benign texts of about 2,000 characters each (time printed, not asserted)."""
    texts = []
    for i in range(1000):
        parts: list[str] = []
        j = i
        while sum(len(p) + 1 for p in parts) + len(BENIGN[j % len(BENIGN)]) < 2000:
            parts.append(BENIGN[j % len(BENIGN)])
            j += 7
        texts.append(" ".join(parts))
    screener = Screener()
    screener.warm()
    started = time.perf_counter()
    total = sum(len(screener.screen("summary", t)) for t in texts)
    elapsed = time.perf_counter() - started
    mean_chars = sum(map(len, texts)) / len(texts)
    print(f"screened {len(texts)} texts of {mean_chars:.0f} chars in {elapsed:.3f} s")  # noqa: T201  the corpus report, printed for the test log (pytest -s)
    assert total == 0
    assert mean_chars > 1800
