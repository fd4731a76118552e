# ruff: noqa: RUF001 (multilingual and look-alike test text is intended)
"""Names, demonyms, codes, places, persons, companies and first-person references in the
six UN languages (and German), and the ordinary words that must still pass."""

from __future__ import annotations

import pytest

from dief.screening import screen_text


def spans_of(text: str) -> list[tuple[str, str]]:
    return [(text[f.start : f.end], f.kind.value) for f in screen_text("summary", text)]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("réexporté par l'Allemagne", ("Allemagne", "place")),
        ("un courtier allemand", ("allemand", "demonym")),
        ("des douanières allemandes", ("allemandes", "demonym")),
        ("llegó de Estados Unidos", ("Estados Unidos", "place")),
        ("un comerciante mexicano", ("mexicano", "demonym")),
        ("las autoridades colombianas", ("colombianas", "demonym")),
        ("через Россию", ("Россию", "place")),
        ("из России", ("России", "place")),
        ("немецкого брокера", ("немецкого", "demonym")),
        ("двое украинцев", ("украинцев", "demonym")),
        ("عبر مصر", ("مصر", "place")),
        ("وبالعراق", ("وبالعراق", "place")),
        ("السلطات السودانية", ("السودانية", "demonym")),
        ("经中国转运", ("中国", "place")),
        ("一名德国籍中间商", ("德国", "place")),
        ("über Deutschland", ("Deutschland", "place")),
        ("ein französischer Händler", ("französischer", "demonym")),
    ],
)
def test_names_and_demonyms_in_every_language(text: str, expected: tuple[str, str]) -> None:
    assert expected in spans_of(text)


@pytest.mark.parametrize(
    "text",
    [
        "des grenades à main dans des caisses",  # French "grenade" (also Grenada)
        "granadas de mano en el depósito",  # Spanish "granada" (also Grenada)
        "la zona franca del puerto",  # "Franca" is a city
        "того же мнения и в порту",  # Russian pronoun "того" (also Togo)
        "تحويل مالي والقوة القاهرة",  # "financial" (also Mali), force majeure (Cairo)
        "打击非法国际贩运，其中国家之间合作不足",  # 非法 + 国际, 其中 + 国家
        "a mobile phone, reading the split list, a nice orange label",
    ],
)
def test_ordinary_words_that_are_also_place_names_pass(text: str) -> None:
    assert spans_of(text) == []


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("transshipped in Split", [("Split", "city")]),
        ("the port of Granada", [("Granada", "place")]),  # also Spanish for Grenada
        ("transbordé à Nice", [("Nice", "city")]),
        ("в Того", [("Того", "place")]),
        ("في مالي", [("مالي", "place")]),
    ],
)
def test_gated_names_count_with_a_place_cue(text: str, expected: list[tuple[str, str]]) -> None:
    assert spans_of(text) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("declared to fra customs", "fra"),
        ("through CAN customs", "CAN"),
        ("shipped from mli via a third country", "mli"),
        ("codes FRA, DEU and ITA", "DEU"),
        ("destino COL", "COL"),
        ("经FRA中转", "FRA"),
    ],
)
def test_codes_in_context(text: str, expected: str) -> None:
    assert (expected, "place") in spans_of(text)


@pytest.mark.parametrize(
    "text",
    [
        "in it we can and are per se sur le mar por la tarde",
        "the SA-7 and AND/OR, the ATA carnet, 16 GB and 500 MT",
        "WE CAN SEE IT IN THE REPORT AND ARE DONE",
    ],
)
def test_words_that_are_codes_pass(text: str) -> None:
    assert spans_of(text) == []


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("near Khartoum", ("Khartoum", "city")),
        ("transshipped in Rotterdam", ("Rotterdam", "city")),
        ("the Jebel Ali free zone", ("Jebel Ali free zone", "city")),
        ("in the Colón Free Zone", ("Colón Free Zone", "city")),
        ("в порту Новороссийска", ("Новороссийска", "city")),
        ("في ميناء الحديدة", ("الحديدة", "city")),
        ("在蒙巴萨港卸货", ("蒙巴萨", "city")),
    ],
)
def test_capitals_cities_ports_and_free_zones(text: str, expected: tuple[str, str]) -> None:
    assert expected in spans_of(text)


def test_region_level_phrases_in_other_languages_pass() -> None:
    for text in (
        "en Amérique latine et dans le golfe de Guinée",
        "en América Latina y el golfo de Guinea",
        "в Латинской Америке и Индийском океане",
        "في أمريكا اللاتينية والمحيط الهندي",
        "在拉丁美洲和印度洋",
    ):
        assert spans_of(text) == [], text
