"""Non-attribution screening: the public API, the error, and one test per refusal kind."""

from __future__ import annotations

import subprocess
import sys

import pytest

from dief.exceptions import FieldProblem, ScreeningError, ValidationError
from dief.screening import (
    Finding,
    FindingKind,
    Screener,
    TextScreener,
    check_text,
    default_screener,
    screen_text,
)


def spans_of(text: str, field: str = "summary") -> list[tuple[str, str]]:
    """``(matched text, kind)`` per finding, for readable assertions."""
    return [(text[f.start : f.end], f.kind.value) for f in screen_text(field, text)]


# --------------------------------------------------------------------------- each kind


@pytest.mark.parametrize(
    ("text", "offending", "kind"),
    [
        ("The rifles were re-exported to France without notice.", "France", "place"),
        ("Ammunition reached Guinea-Bissau by road.", "Guinea-Bissau", "place"),
        (
            "The hub was in the Democratic Republic of the Congo.",
            "Democratic Republic of the Congo",
            "place",
        ),
        ("Routed via the USA and then south.", "USA", "place"),
        ("Routed via the UK before transshipment.", "UK", "place"),
        ("Cargo flown from Burma in 2024.", "Burma", "place"),
        ("The broker operated from Holland.", "Holland", "place"),
        ("A vessel flagged to Türkiye was involved.", "Türkiye", "place"),
        ("A vessel flagged to Turkey was involved.", "Turkey", "place"),
        ("Seized on arrival in Chad.", "Chad", "place"),
        ("The Nigerian authorities seized the consignment.", "Nigerian", "demonym"),
        ("An Emirati trading company acted as consignee.", "Emirati", "demonym"),
        ("Two Filipino crew members testified.", "Filipino", "demonym"),
        ("The Congolese customs service reported it.", "Congolese", "demonym"),
        ("A shipment declared for FRA was diverted.", "FRA", "place"),
        (
            "Contact the analyst at jane.doe@mod.example.org for details.",
            "jane.doe@mod.example.org",
            "email",
        ),
        ("The broker's number was +44 20 7946 0958.", "+44 20 7946 0958", "phone"),
        ("The broker's number was 555-123-4567.", "555-123-4567", "phone"),
        (
            "Details at https://registry.example.org/case/77 for members.",
            "https://registry.example.org/case/77",
            "url",
        ),
        ("Details at www.example.com for members.", "www.example.com", "url"),
        ("The shell company used example-trading.biz as cover.", "example-trading.biz", "url"),
        (
            "Issued under export licence EL-2024-00123 last spring.",
            "EL-2024-00123",
            "reference_number",
        ),
        ("Issued under licence no. 4521/2023 last spring.", "4521/2023", "reference_number"),
        ("Payment under contract #AB12345 was made in cash.", "AB12345", "reference_number"),
        ("The EUC 123/45 was forged.", "123/45", "reference_number"),
    ],
)
def test_each_kind_is_refused_with_an_exact_span(text: str, offending: str, kind: str) -> None:
    findings = screen_text("summary", text)
    assert len(findings) == 1, spans_of(text)
    f = findings[0]
    assert f.field == "summary"
    assert f.kind == kind
    assert (f.start, f.end) == (text.index(offending), text.index(offending) + len(offending))


@pytest.mark.parametrize(
    "variant",
    [
        "Côte d'Ivoire",
        "Côte d\u2019Ivoire",  # typographic apostrophe
        "Côte d\u02bcIvoire",  # modifier-letter apostrophe
        "Cote d'Ivoire",
        "COTE D'IVOIRE",
        "cote divoire",
        "Co\u0302te d'Ivoire",  # decomposed (NFD) input
        "Ivory Coast",
    ],
)
def test_diacritic_and_punctuation_variants_match_the_whole_name(variant: str) -> None:
    text = f"Transit through {variant} was declared."
    findings = screen_text("summary", text)
    assert [(f.start, f.end, f.kind) for f in findings] == [
        (16, 16 + len(variant), FindingKind.PLACE)
    ]


def test_multiple_findings_across_kinds_are_all_reported_in_order() -> None:
    text = (
        "The Malian broker (tel +223 20 22 33 44, broker@example.ml) shipped to Mali "
        "under permit 77-A-2023; see www.example.org."
    )
    got = spans_of(text)
    assert got == [
        ("Malian", "demonym"),
        ("+223 20 22 33 44", "phone"),
        ("broker@example.ml", "email"),
        ("Mali", "place"),
        ("77-A-2023", "reference_number"),
        ("www.example.org", "url"),
    ]


def test_overlapping_candidates_yield_one_finding() -> None:
    # The domain contains a country name and a ccTLD; the e-mail address wins.
    text = "Write to desk@france-arms.example.fr today."
    findings = screen_text("summary", text)
    assert len(findings) == 1
    assert findings[0].kind is FindingKind.EMAIL


def test_empty_text_has_no_findings() -> None:
    assert screen_text("summary", "") == []


# --------------------------------------------------------------------------- the error

LEAKY = "Diverted by the Kenyan agent jane.doe@example.org via Uganda, licence no. 4521/2023."
LEAKY_PARTS = ("Kenyan", "jane.doe", "example.org", "Uganda", "4521", "2023")


def test_check_text_raises_screening_error_pointing_at_each_span() -> None:
    with pytest.raises(ScreeningError) as info:
        check_text({"summary": LEAKY})
    err = info.value
    assert isinstance(err, ValidationError)
    assert err.code == "screening"
    k = LEAKY.index("Kenyan")
    e = LEAKY.index("jane.doe")
    u = LEAKY.index("Uganda")
    n = LEAKY.index("4521")
    assert err.spans == (
        ("summary", k, k + 6, "demonym"),
        ("summary", e, e + len("jane.doe@example.org"), "email"),
        ("summary", u, u + 6, "place"),
        ("summary", n, n + 9, "reference_number"),
    )
    assert f"summary[{k}:{k + 6}]: country demonym or adjective" in err.message
    assert f"summary[{e}:{e + 20}]: e-mail address" in err.message
    assert f"summary[{u}:{u + 6}]: country or territory name" in err.message
    assert f"summary[{n}:{n + 9}]: licence, contract, permit" in err.message
    assert err.errors[0] == FieldProblem(
        ("summary",), "screening.demonym", f"summary[{k}:{k + 6}]: country demonym or adjective"
    )


def test_error_message_and_repr_never_contain_the_refused_text() -> None:
    with pytest.raises(ScreeningError) as info:
        check_text({"summary": LEAKY})
    err = info.value
    rendered = (str(err), repr(err), err.message, repr(err.spans), repr(err.errors))
    for part in LEAKY_PARTS:
        for r in rendered:
            assert part not in r
    for finding in screen_text("summary", LEAKY):
        for part in LEAKY_PARTS:
            assert part not in repr(finding)
            assert part not in finding.describe()


def test_check_text_covers_several_fields_and_skips_missing_ones() -> None:
    with pytest.raises(ScreeningError) as info:
        check_text({"summary": "Seized in Peru.", "note": None, "remarks": "ok", "x": "Fiji"})
    assert [(s[0], s[3]) for s in info.value.spans] == [("summary", "place"), ("x", "place")]
    assert "summary[10:14]" in info.value.message
    assert "x[0:4]" in info.value.message


def test_check_text_accepts_clean_fields() -> None:
    clean = "Small arms were diverted after delivery."
    assert screen_text("summary", clean) == []
    check_text({"summary": clean, "note": None})  # and so check_text raises nothing


def test_finding_is_frozen_and_has_no_text() -> None:
    f = Finding("summary", 3, 9, FindingKind.PLACE)
    with pytest.raises(AttributeError):
        f.start = 4  # type: ignore[misc]  # frozen: the refused assignment is under test
    assert f.as_span() == ("summary", 3, 9, "place")
    assert f.describe() == "summary[3:9]: country or territory name or code"
    assert not hasattr(f, "text")


# --------------------------------------------------------------------------- the screener


def test_screener_satisfies_the_protocol_and_builds_lazily() -> None:
    screener = Screener(extra_places=["Port Zenith"])
    assert isinstance(screener, TextScreener)
    assert screener._tables is None  # nothing built by the constructor
    assert spans_of("Unloaded at Port Zenith.") == []  # not in the default tables
    text = "Unloaded at port  zenith."
    assert [(text[f.start : f.end], f.kind) for f in screener.screen("s", text)] == [
        ("port  zenith", FindingKind.PLACE)
    ]
    assert screener._tables is not None
    with pytest.raises(ScreeningError):
        screener.check({"summary": text})


def test_screener_extra_allowed_phrase_passes() -> None:
    screener = Screener(extra_allowed=["Niger Delta"])
    assert screener.screen("s", "Flows across the Niger Delta.") == []
    assert spans_of("Flows across the Niger Delta.") == [("Niger", "place")]


def test_default_screener_is_shared_and_repr_is_safe() -> None:
    assert default_screener() is default_screener()
    assert (
        repr(Screener(extra_places=["Secret Port"])) == "Screener(extra_places=1, extra_allowed=0)"
    )


def test_import_builds_nothing() -> None:
    code = (
        "import sys, dief.screening as s\n"
        "from dief.screening import _screener\n"
        "assert 'pycountry' not in sys.modules, 'pycountry imported at import time'\n"
        "assert _screener._tables.cache_info().currsize == 0\n"
        "s.screen_text('x', 'France')\n"
        "assert _screener._tables.cache_info().currsize == 1\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=False
    )
    assert result.returncode == 0, result.stderr
