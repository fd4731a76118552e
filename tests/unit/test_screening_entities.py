# ruff: noqa: RUF001 (multilingual and look-alike test text is intended)
"""Persons, companies, first-person national references, contacts and identifiers."""

from __future__ import annotations

import pytest

from dief.screening import screen_text
from dief.screening._patterns_identifiers import iso6346_ok as _iso6346_ok


def kinds_of(text: str) -> list[tuple[str, str]]:
    return [(text[f.start : f.end], f.kind.value) for f in screen_text("summary", text)]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Broker John Smith signed.", ("John Smith", "person")),
        ("Mr. Ahmed Hassan left.", ("Ahmed Hassan", "person")),
        ("signed by J. Harrington", ("J. Harrington", "person")),
        ("le courtier Jean-Pierre Martin", ("Jean-Pierre Martin", "person")),
        ("el señor García", ("García", "person")),
        ("Брокер Иван Петров", ("Иван Петров", "person")),
        ("капитан Сергей Николаевич", ("Сергей Николаевич", "person")),
        ("وقّع السيد أحمد الكردي", ("أحمد الكردي", "person")),
        ("中间商王某签署", ("王某", "person")),
    ],
)
def test_persons(text: str, expected: tuple[str, str]) -> None:
    assert expected in kinds_of(text)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("paid to Acme Defence Trading FZE.", "Acme Defence Trading FZE"),
        ("Blue Ridge Logistics Ltd shipped it", "Blue Ridge Logistics Ltd"),
        ("le transitaire Sahara Freight SARL", "Sahara Freight SARL"),
        ("Importadora del Pacífico S.A. de C.V.", "Importadora del Pacífico S.A. de C.V."),
        ("получатель ООО «Восток-Снаб»", "ООО «Восток-Снаб»"),
        ("收货人为深圳华信贸易有限公司。", "深圳华信贸易有限公司"),
        ("كان المستلم شركة النور للتجارة ذ.م.م", "شركة النور للتجارة ذ.م.م"),
    ],
)
def test_companies(text: str, expected: str) -> None:
    assert (expected, "organization") in kinds_of(text)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("stopped by our national customs service", "our national customs service"),
        ("My country never agreed", "My country"),
        ("notre service a saisi", "notre service"),
        ("nuestro país no fue notificado", "nuestro país"),
        ("наша таможня задержала", "наша таможня"),
        ("اعترضت جماركنا الشحنة", "جماركنا"),
        ("我国海关查获", "我国"),
    ],
)
def test_first_person_national_references(text: str, expected: str) -> None:
    assert (expected, "national_reference") in kinds_of(text)


@pytest.mark.parametrize(
    "text",
    [
        "Our analysis shows the same forwarder in four cases; our team flagged it.",
        "The Customs Service Group met; the Arms Trade Treaty applies; a criminal group.",
        "A private security company and a shell company were involved.",
        "实际收货人是一个有组织犯罪集团。",
        "The general manager and the broker met the director in March.",
    ],
)
def test_ordinary_roles_and_groups_pass(text: str) -> None:
    assert kinds_of(text) == []


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("IMO 9387421", ("9387421", "identifier")),
        ("MMSI: 538004567", ("538004567", "identifier")),
        ("container MSCU 123456 5", ("MSCU 123456 5", "identifier")),
        ("a box CSQU3054383 was opened", ("CSQU3054383", "reference_number")),
        ("an Il-76 registered EP-ICD", ("EP-ICD", "identifier")),
        ("the aircraft 5Y-ABC landed", ("5Y-ABC", "identifier")),
        ("the vessel MV Ocean Star", ("MV Ocean Star", "identifier")),
        ("the tanker named Blue Horizon sailed", ("Blue Horizon", "identifier")),
        ("export licence 77 was used", ("77", "reference_number")),
        ("лицензия № 4521", ("4521", "reference_number")),
        ("许可证号A-4521", ("A-4521", "reference_number")),
        ("j.doe at mod dot gov dot fr", ("j.doe at mod dot gov dot fr", "email")),
        ("see hxxps://x-deals[.]example[.]com", ("hxxps://x-deals[.]example[.]com", "url")),
        ("the site Acme-Trading.CoM", ("Acme-Trading.CoM", "url")),
        ("هاتف: ٠١٠٠١٢٣٤٥٦٧", ("٠١٠٠١٢٣٤٥٦٧", "phone")),
    ],
)
def test_contacts_and_identifiers(text: str, expected: tuple[str, str]) -> None:
    assert expected in kinds_of(text)


@pytest.mark.parametrize(
    "text",
    [
        "C-IED, C-SALW and F-16 programmes; a T-72 and an SU-27; 500 MT of cargo",
        "the licence 2024 and a licence 12 months old; a contract for 500 rifles",
    ],
)
def test_designations_and_counts_are_not_identifiers(text: str) -> None:
    assert kinds_of(text) == []


def test_iso6346_check_digit() -> None:
    assert _iso6346_ok("CSQU3054383")
    assert not _iso6346_ok("CSQU3054384")
