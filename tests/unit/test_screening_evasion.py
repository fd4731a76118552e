# ruff: noqa: RUF001, RUF003 (multilingual and look-alike test text is intended)
"""Normalisation before matching: evasions are caught and spans point at the original."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from dief.screening import FindingKind, default_screener, screen_text
from dief.screening._normalize import leet_keys, match_view, pattern_view


def spans_of(text: str) -> list[tuple[str, str]]:
    return [(text[f.start : f.end], f.kind.value) for f in screen_text("summary", text)]


@pytest.mark.parametrize(
    "spelling",
    [
        "Frannce",  # a misspelling (one insertion)
        "Farnce",  # a transposition
        "F r a n c e",  # spaced letters
        "F.R.A.N.C.E",  # dotted letters
        "Fr-an-ce",  # hyphenated pieces
        "Fra nce",  # split by a space
        "Fr4nce",  # a digit for a letter
        "Fr\u0430nce",  # Cyrillic а
        "\u0424rance".replace("\u0424", "F") + "",  # plain, for reference
        "Fr\u200bance",  # zero-width space
        "Fr\u00adance",  # soft hyphen
        "Fr\u200dance",  # zero-width joiner
        "F\u0336r\u0336a\u0336n\u0336c\u0336e\u0336",  # combining strike-through
        "\uff26\uff52\uff41\uff4e\uff43\uff45",  # full-width letters
        "\U0001d405\U0001d42b\U0001d41a\U0001d427\U0001d41c\U0001d41e",  # mathematical bold
    ],
)
def test_evasive_spellings_of_a_name_are_refused_over_their_whole_span(spelling: str) -> None:
    text = f"The rifles were re-exported to {spelling} last year."
    findings = screen_text("summary", text)
    assert len(findings) == 1, spans_of(text)
    f = findings[0]
    assert f.kind is FindingKind.PLACE
    start = text.index(spelling)
    assert (f.start, f.end) == (start, start + len(spelling))


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("via Gеrmany", "Gеrmany"),  # Cyrillic е inside a Latin word
        ("via ΚΕΝΥΑ", "ΚΕΝΥΑ"),  # Greek capitals that look like Latin ones
        ("через Рoссию", "Рoссию"),  # Latin o inside a Russian word
        ("via M4li", "M4li"),
        ("via N1ger1a", "N1ger1a"),
        ("via Ir@q", "Ir@q"),
    ],
)
def test_homoglyphs_and_leet_inside_words(text: str, expected: str) -> None:
    got = spans_of(text)
    assert got, text
    assert got[0][0] == expected, got


def test_ordinary_mixed_letters_and_digits_are_not_read_as_names() -> None:
    assert leet_keys("F35") == ()
    assert leet_keys("T72") == ()
    assert "france" in leet_keys("fr4nce")
    assert spans_of("The F35, T-72B3, AK47, HK416A5, 9M113 and M4 were listed.") == []


def test_misspelt_ordinary_words_near_names_are_not_refused() -> None:
    # "trench" is one edit from "French", "finish" from "Finnish": frequent words are
    # never taken for misspelt names (data/wordlists.tsv, fuzzy_stop).
    text = "They dug a Trench and will Finish the count; a Banish order and a Plague."
    assert spans_of(text) == []


def test_spaced_ordinary_words_are_not_joined_into_names() -> None:
    assert spans_of("I ran the checks and it was time to go; the pan was hot.") == []


def test_match_view_keeps_offsets_through_dropped_and_expanded_characters() -> None:
    text = "A\u200bß\u0301ﬁx"
    view = match_view(text)
    assert view.text == "assfix"
    assert view.span(0, 1) == (0, 2)  # "A" and the zero-width space after it
    assert view.span(1, 3) == (2, 4)  # "ß" (and its dropped accent) became "ss"
    assert view.span(3, 5) == (4, 5)  # the ligature


def test_pattern_view_re_arms_defanged_urls_with_original_offsets() -> None:
    screener = default_screener()
    screener.warm()
    text = "see hxxps://mod[.]gov[.]example/x now"
    view = pattern_view(text, {})
    assert "https://mod.gov.example/x" in view.text
    found = screener.screen("s", text)
    assert [(text[f.start : f.end], f.kind.value) for f in found] == [
        ("hxxps://mod[.]gov[.]example/x", "url")
    ]


_NOISE = st.sampled_from(
    [
        *"abcdefgh FRANCE france ,.-'\u200b\u00ad\u0301\u0430\u0435ïé4@ \n",
        *["Mali", "Peru", "mar", "CAN", "Россия", "مصر", "中国", "our", "Ltd", "Mr"],
    ]
)


@settings(max_examples=200, deadline=None)
@given(st.lists(_NOISE, max_size=60))
def test_findings_are_disjoint_spans_inside_the_original_text(parts: list[str]) -> None:
    text = "".join(parts)
    previous = 0
    for f in screen_text("summary", text):
        assert 0 <= previous <= f.start < f.end <= len(text)
        previous = f.end
