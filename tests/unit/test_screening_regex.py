# ruff: noqa: RUF001 (Cyrillic, Arabic and CJK text is intended)
"""The screener's faster patterns find exactly what the plain ones find.

The detectors' regular expressions were rewritten for speed (``dief.screening._regex``:
first character read first, one try per run, literal words found with ``str.find``,
per-character mappings learnt once): every rewrite is checked here against the plain
form it replaces, on random strings built from the pieces that matter (fixed seeds).
"""

from __future__ import annotations

import itertools
import random
import re
from typing import TYPE_CHECKING

import pytest

from dief.screening import Screener
from dief.screening._entities_orgs import _ORG_ZH_RE, _zh_org_matches
from dief.screening._findings import KIND_RANK, Finding, FindingKind, resolve_overlaps
from dief.screening._normalize import _fold_char, match_view
from dief.screening._patterns_contacts import (
    _DOMAIN_WORDS_RE,
    _DOTTED_RUN_RE,
    _EMAIL_AT_RE,
    _EMAIL_RE,
    _EMAIL_USER_RUN_RE,
    _EMAIL_USER_START_RE,
    _IDN_RE,
    _IDN_TLD_RE,
    _LABEL_RUN_RE,
    _LABEL_START_RE,
    _SPOKEN_DOT_GAP_RE,
    _SPOKEN_DOT_RE,
)
from dief.screening._patterns_references import (
    _CUE_WORDS_LOWER_RE,
    _CUES_NOSPACE,
    _DOC_CUES,
    _DOC_CUES_NOSPACE,
    _PHONE_CUES,
    _PHONE_CUES_NOSPACE,
    _literal_finditer,
)
from dief.screening._regex import after_first, alternatives, finditer_in_runs, first_characters

if TYPE_CHECKING:
    from collections.abc import Iterable


def _texts(seed: int, pieces: list[str], count: int, longest: int) -> Iterable[str]:
    rnd = random.Random(seed)
    for _ in range(count):
        yield "".join(rnd.choice(pieces) for _ in range(rnd.randint(0, longest)))


def test_alternatives_spreads_a_leading_group_and_keeps_the_rest() -> None:
    assert alternatives(r"(?:export|import)\s+licen[cs]e|b/l|e\.?u\.?c|x(?:a|b)") == [
        r"export\s+licen[cs]e",
        r"import\s+licen[cs]e",
        "b/l",
        r"e\.?u\.?c",
        "x(?:a|b)",
    ]
    assert alternatives("[|]a|b") == ["[|]a", "b"]  # a "|" in a class is no alternative


def test_after_first_refuses_an_alternative_that_does_not_start_with_a_character() -> None:
    with pytest.raises(ValueError, match="plain character"):
        after_first(r"abc|\d+")


@pytest.mark.parametrize(
    "alternation",
    [
        r"our|my|mon|ma|mes|mi|mis",
        r"la\s+société|l['’]entreprise|the\s+company|компания|фирма",
        r"(?:export|import)\s+licen[cs]es?|licen[cs]es?|e\.?u\.?c|b/l|#|№",
    ],
)
def test_reading_the_first_character_first_finds_the_same_matches(alternation: str) -> None:
    plain = re.compile(rf"(?<![^\W_])(?:{alternation})(?![^\W_])")
    fast = re.compile(
        f"[{re.escape(first_characters(alternation))}](?<![^\\W_].)"
        f"(?:{after_first(alternation)})(?![^\\W_])"
    )
    pieces = [*(a.replace("\\s+", " ").replace("?", "") for a in alternatives(alternation))]
    pieces += ["x", "_", " ", "  ", "1", "-", "é", "s", "中", "licence", "my", "ma"]
    for text in _texts(1, pieces, 4000, 10):
        assert [m.span() for m in fast.finditer(text)] == [m.span() for m in plain.finditer(text)]


def test_cue_words_branched_on_their_first_character_are_the_cue_words() -> None:
    plain = re.compile(
        r"(?<![^\W_])(?:"
        rf"(?P<doc>(?:{_DOC_CUES})(?![^\W_]))"
        rf"|(?P<phone>(?:{_PHONE_CUES})(?![^\W_]))"
        r"|(?P<conn>(?:no|nr|num|núm|nº)\.|nr(?![^\W_])|n°|nº|n\.º|#|№)"
        r")"
    )
    pieces = [
        a.replace("\\s+", " ").replace("[\\s-]*", "-").replace("\\.?", ".").replace("\\.", ".")
        for a in alternatives(f"{_DOC_CUES}|{_PHONE_CUES}")
    ]
    pieces = [re.sub(r"[()?\[\]]", "", p) for p in pieces]
    pieces += ["no.", "nr", "n°", "nº", "#", "№", " ", "_", "1", "s", "x", "tel", "ph"]
    for text in _texts(2, pieces, 4000, 8):
        expected = [(m.lastgroup, m.end()) for m in plain.finditer(text)]
        found = [
            ((m.lastgroup or "").rpartition("_")[0], m.end())
            for m in _CUE_WORDS_LOWER_RE.finditer(text)
        ]
        assert found == expected, text


def test_arabic_and_chinese_cue_words_found_with_find_are_the_alternation() -> None:
    plain = re.compile(
        rf"(?P<doc>{_DOC_CUES_NOSPACE})|(?P<phone>{_PHONE_CUES_NOSPACE})|(?P<conn>رقم|号)"
    )
    pieces = [w for w, _ in _CUES_NOSPACE] + ["许", "可", "号", "رق", "م", " ", "a"]
    for text in _texts(3, pieces, 4000, 12):
        expected = [(m.lastgroup, m.end()) for m in plain.finditer(text)]
        assert list(_literal_finditer(text, _CUES_NOSPACE)) == expected, text


_NAME_PIECES = [
    "a", "b", "j.doe", "x-y", "_", ".", "..", "@", " @ ", "%", "+", " ", "\n", "mod", "gov",
    "fr", "com", "中", "国", "中国", "点", " dot ", "DOT", "(dot)", "[ dot ]", "point", "1", "é",
    ".рф", ".中国", "рф", "-",
]  # fmt: skip


def test_email_and_domain_patterns_tried_once_per_run_find_the_same() -> None:
    for text in _texts(4, _NAME_PIECES, 4000, 30):
        assert [m.span() for m in _IDN_RE.finditer(text)] == [
            m.span()
            for m in finditer_in_runs(_IDN_RE, text, _DOTTED_RUN_RE, _LABEL_START_RE, _IDN_TLD_RE)
        ], text
        assert [m.span() for m in _EMAIL_RE.finditer(text)] == [
            m.span()
            for m in finditer_in_runs(
                _EMAIL_RE, text, _EMAIL_USER_RUN_RE, _EMAIL_USER_START_RE, _EMAIL_AT_RE
            )
        ], text
        assert [m.span() for m in _DOMAIN_WORDS_RE.finditer(text)] == [
            m.span()
            for m in finditer_in_runs(
                _DOMAIN_WORDS_RE,
                text,
                _LABEL_RUN_RE,
                _LABEL_START_RE,
                _SPOKEN_DOT_RE,
                _SPOKEN_DOT_GAP_RE,
            )
        ], text


def test_chinese_company_names_searched_before_their_suffix_are_all_found() -> None:
    pieces = [*"中国际贸易的一由（）(a ，"] * 4 + ["有限公司", "集团", "股份有限公司", "公司"]
    for text in _texts(5, pieces, 4000, 80):
        assert [m.span() for m in _zh_org_matches(text)] == [
            m.span() for m in _ORG_ZH_RE.finditer(text)
        ], text


def test_overlaps_resolved_with_a_sorted_list_keep_what_the_pairwise_rule_keeps() -> None:
    rnd = random.Random(6)
    kinds = list(FindingKind)
    for _ in range(2000):
        spans = []
        for _ in range(rnd.randint(0, 30)):
            start = rnd.randint(0, 60)
            spans.append((start, start + rnd.randint(0, 12), rnd.choice(kinds)))
        resolved = resolve_overlaps("f", spans)
        assert resolved == _pairwise(spans)
        # every character a candidate covers is refused, by findings that never overlap
        assert {i for f in resolved for i in range(f.start, f.end)} == {
            i for s, e, _ in spans for i in range(s, e)
        }
        assert all(a.end <= b.start for a, b in itertools.pairwise(resolved))


def _pairwise(spans: list[tuple[int, int, FindingKind]]) -> list[object]:
    """The rule, character by character: a candidate that overlaps no kept span is kept;
    one inside the kept spans is dropped; each run of its other characters joins a kept
    span of its kind that it touches (the one before it first), or is kept on its own."""
    ordered = sorted(set(spans), key=lambda s: (s[0] - s[1], KIND_RANK[s[2]], s[0]))
    kept: list[tuple[int, int, FindingKind]] = []
    for start, end, kind in ordered:
        if start >= end:
            continue
        covered = {i for s, e, _ in kept for i in range(s, e)}
        if covered.isdisjoint(range(start, end)):
            kept.append((start, end, kind))  # overlapping nothing kept, it joins nothing
            continue
        runs: list[list[int]] = []
        for i in range(start, end):
            if i in covered:
                continue
            if runs and runs[-1][-1] == i - 1:
                runs[-1].append(i)
            else:
                runs.append([i])
        for run in runs:
            a, b = run[0], run[-1] + 1
            before = [x for x in kept if x[1] == a and x[2] == kind]
            after = [x for x in kept if x[0] == b and x[2] == kind]
            if before:
                kept.remove(before[0])
                kept.append((before[0][0], b, kind))
            elif after:
                kept.remove(after[0])
                kept.append((a, after[0][1], kind))
            else:
                kept.append((a, b, kind))
    return [Finding("f", s, e, k) for s, e, k in sorted(kept)]


def _match_view_by_character(text: str) -> tuple[str, list[int], list[int]]:
    out: list[str] = []
    starts: list[int] = []
    ends: list[int] = []
    for i, c in enumerate(text):
        folded = c.lower() if c.isascii() else _fold_char(c)
        if not folded and ends:
            ends[-1] = i + 1
        for f in folded:
            out.append(f)
            starts.append(i)
            ends.append(i + 1)
    return "".join(out), starts, ends


def test_match_view_learnt_per_character_is_the_view_read_character_by_character() -> None:
    pool = [chr(c) for c in [*range(32, 127), *range(0xC0, 0x180), *range(0x300, 0x370)]]
    pool += [chr(c) for c in [*range(0x400, 0x460), *range(0x620, 0x660), 0x640, 0x200B]]
    pool += ["\u00ad", "\u2026", "\u2122", "\ufb01", "\uff26", "\u0130", "中", "ß", "ǅ"]
    for text in _texts(7, pool, 3000, 40):
        view = match_view(text)
        expected = _match_view_by_character(text)
        if not view.text:  # nothing kept: no offsets to compare
            assert not expected[0], text
        elif view.starts is None:
            assert (view.text, len(view.text)) == (expected[0], len(text)), text
        else:
            assert (view.text, view.starts, view.ends) == expected, text


def test_a_long_chinese_text_with_addresses_is_screened_in_one_pass() -> None:
    """Patterns tried at every ideograph used to cost the square of a run's length."""
    body = "该批货物经由第三国转运并伪造了最终用户证书" * 400  # 8,800 ideographs, no spaces
    text = f"{body}联系 j.doe@mod.example.fr {body} 或 mod dot gov dot cn {body}"
    kinds = {f.kind for f in Screener().screen("summary", text)}
    assert FindingKind.EMAIL in kinds
    assert FindingKind.URL in kinds
