"""Country and territory names, short forms, demonyms and ISO codes."""

from __future__ import annotations

from importlib import resources

import pycountry
import pytest

from dief.screening import FindingKind, screen_text


def spans_of(text: str) -> list[tuple[str, str]]:
    return [(text[f.start : f.end], f.kind.value) for f in screen_text("summary", text)]


def _data(name: str) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    text = resources.files("dief.screening").joinpath("data", name).read_text("utf-8")
    for line in text.splitlines():
        if not line.strip() or line.startswith("#"):
            continue
        code, _, rest = line.partition("\t")
        out.setdefault(code, []).extend(
            t.strip() for t in rest.split(";") if t.strip() and t.strip() != "-"
        )
    return out


def test_every_iso_country_name_is_refused() -> None:
    missed = []
    for country in pycountry.countries:
        for attr in ("name", "official_name", "common_name"):
            name = getattr(country, attr, None)
            if not name:
                continue
            text = f"The consignment was traced to {name} in 2024."
            findings = screen_text("summary", text)
            if not any(f.kind is FindingKind.PLACE for f in findings):
                missed.append(name)
            elif "," not in name:
                # A plain name is one span covering exactly the name (a leading "the" and a
                # closing parenthesis are not part of it).
                plain = name.removeprefix("the ").removesuffix(")")
                start = text.index(plain)
                if [(f.start, f.end) for f in findings] != [(start, start + len(plain))]:
                    missed.append(name)
    assert missed == []


def test_demonym_file_covers_every_iso_entry() -> None:
    codes = {c.alpha_2 for c in pycountry.countries}
    assert codes <= set(_data("demonyms.tsv"))
    assert set(_data("aliases.tsv")) <= codes | {"XK"}


def test_every_listed_demonym_is_refused() -> None:
    missed = []
    for forms in _data("demonyms.tsv").values():
        for form in forms:
            word = form.lstrip("^")
            text = f"Two {word} nationals were involved."
            got = spans_of(text)
            if got not in ([(word, "demonym")], [(word, "place")]):
                missed.append((word, got))
    assert missed == []


def test_every_listed_alias_is_refused() -> None:
    missed = []
    for aliases in _data("aliases.tsv").values():
        for alias in aliases:
            word = alias.lstrip("=~")
            text = f"It was routed through {word} by air."
            found = [k for _, k in spans_of(text)]
            if found != ["place"]:
                missed.append((word, spans_of(text)))
    assert missed == []


@pytest.mark.parametrize(
    ("short_form", "expected"),
    [
        ("USA", "USA"),
        ("U.S.", "U.S."),
        ("U.S.A.", "U.S.A."),
        ("the US", "US"),
        ("UK", "UK"),
        ("Britain", "Britain"),
        ("Russia", "Russia"),
        ("Ivory Coast", "Ivory Coast"),
        ("Congo", "Congo"),
        ("DRC", "DRC"),
        ("Burma", "Burma"),
        ("Holland", "Holland"),
        ("South Korea", "South Korea"),
        ("North Korea", "North Korea"),
        ("Czechia", "Czechia"),
        ("Türkiye", "Türkiye"),
        ("TURKIYE", "TURKIYE"),
        ("Syria", "Syria"),
        ("Iran", "Iran"),
        ("Laos", "Laos"),
        ("Vatican", "Vatican"),
        ("Palestine", "Palestine"),
        ("Kosovo", "Kosovo"),
        ("Taiwan", "Taiwan"),
        ("Bolivia", "Bolivia"),
        ("Venezuela", "Venezuela"),
        ("Tanzania", "Tanzania"),
        ("Moldova", "Moldova"),
        ("Jordan", "Jordan"),
        ("Guinea", "Guinea"),
        ("St. Lucia", "St. Lucia"),
        ("Saint Vincent & the Grenadines", "Saint Vincent & the Grenadines"),
        ("São Tomé and Príncipe", "São Tomé and Príncipe"),
        ("Curacao", "Curacao"),
        ("Timor Leste", "Timor Leste"),
        ("#NewZealand", "NewZealand"),
        ("CAR", "CAR"),
        ("Zaire", "Zaire"),
    ],
)
def test_short_forms_and_aliases(short_form: str, expected: str) -> None:
    text = f"Transshipped via {short_form} in 2025."
    assert spans_of(text) == [(expected, "place")]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("French and Malian officers", [("French", "demonym"), ("Malian", "demonym")]),
        ("two Americans", [("Americans", "demonym")]),
        ("Swiss-made parts", [("Swiss", "demonym")]),
        ("a British-registered firm", [("British", "demonym")]),
        ("Ivorian customs", [("Ivorian", "demonym")]),
        ("Dutch and Philippine", [("Dutch", "demonym"), ("Philippine", "demonym")]),
        (
            "South African and Papua New Guinean",
            [("South African", "demonym"), ("Papua New Guinean", "demonym")],
        ),
        ("Polish officials", [("Polish", "demonym")]),
    ],
)
def test_demonyms(text: str, expected: list[tuple[str, str]]) -> None:
    assert spans_of(text) == expected


def test_capital_only_demonyms_ignore_everyday_words() -> None:
    assert spans_of("The surface was given a polish; a pole was found.") == []
    assert spans_of("Two Poles and a Dane.") == [("Poles", "demonym"), ("Dane", "demonym")]


def test_country_words_that_are_ordinary_words_are_still_refused() -> None:
    # Documented choice: a leak is worse than a rewrite.
    assert spans_of("crates of china clay") == [("china", "place")]
    assert spans_of("a turkey farm") == [("turkey", "place")]


@pytest.mark.parametrize(
    "text",
    [
        "Diversion patterns in the Sahel and the Balkans.",
        "Caribbean routes and West Africa hubs.",
        "Piracy in the Gulf of Guinea and the Indian Ocean.",
        "Flows around the Lake Chad Basin and the Great Lakes region.",
        "Seizures in Latin America and among Latin Americans.",
        "Maritime routes in the South China Sea and the Persian Gulf.",
        "Legacy Soviet-era and Yugoslav stocks.",
        "The Central African region and the Korean Peninsula.",
        "Documents were translated into English.",
    ],
)
def test_region_level_words_are_allowed(text: str) -> None:
    assert spans_of(text) == []


def test_a_country_name_containing_an_allowed_region_still_wins() -> None:
    text = "Routed via the British Indian Ocean Territory and Papua New Guinea."
    assert spans_of(text) == [
        ("British Indian Ocean Territory", "place"),
        ("Papua New Guinea", "place"),
    ]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("declared for MLI and FRA", [("MLI", "place"), ("FRA", "place")]),
        ("the FR authorities were told", [("FR", "place")]),
        ("the US authorities were told", [("US", "place")]),
        ("mla and fra in lower case", []),
        ("IN the end, IT systems said NO", []),
        ("a 16 GB card and 500 MT of cargo", []),
        ("SA-7 and MG-42 launchers", []),
        ("AND/OR, CAN, the ATA carnet, an SGS report, VAT and NAM", []),
        ("SHIPMENT OF ARMS AND AMMUNITION CAN BE SEEN IN THE US PORT", []),
        ("SHIPMENT FROM THE USA AND MLI", [("USA", "place"), ("MLI", "place")]),
        ("AU and ECOWAS observers, the EU and the UN", []),
    ],
)
def test_iso_codes(text: str, expected: list[tuple[str, str]]) -> None:
    assert spans_of(text) == expected


def test_possessive_and_hyphenated_forms() -> None:
    assert spans_of("Nigeria's ports") == [("Nigeria", "place")]
    assert spans_of("Franco-German cooperation") == [("German", "demonym")]
    assert spans_of("Guinea - Bissau") == [("Guinea - Bissau", "place")]
