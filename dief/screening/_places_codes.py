"""ISO 3166 codes in free text (:func:`find_codes`), read on the pattern view (case kept):
where a code stands alone, where a cue or a list of codes says it is one
(:mod:`dief.screening._places`)."""

from __future__ import annotations

import itertools
import re
from typing import TYPE_CHECKING

from dief.screening._findings import FindingKind, Span
from dief.screening._places_cues import (
    ALPHA2_NEVER,
    ALPHA3_FUNCTION_WORDS,
    ALPHA3_NEVER,
    ALPHA3_WORDS,
    CODE_CUES_AFTER,
    CODE_CUES_BEFORE,
    in_capitals,
)

if TYPE_CHECKING:
    from dief.screening._tables import PlaceTables

__all__ = ["find_codes"]


# A code is a whole word; an ideograph next to it is a boundary ("经由FRA中转").
# (its first letter is read before the look-behind, so that the search skips non-ASCII text)
_CODE_TOKEN_RE = re.compile(
    r"[A-Za-z](?<![^\W_\u3400-\u9fff].)[A-Za-z]{1,2}(?![^\W_\u3400-\u9fff])"
)
_WORD_RE_ASCII = re.compile(r"[^\W_]+")
_DESIGNATION_AFTER = re.compile(r"-?\d")
_LIST_SEP = re.compile(r"\s*(?:[,;/&+]|\band\b|\bor\b|\bet\b|\by\b|\bи\b)\s*", re.IGNORECASE)


def _neighbour_word(text: str, start: int, end: int, *, after: bool) -> str:
    if after:
        m = _WORD_RE_ASCII.search(text, end, min(len(text), end + 40))
        if m is None or text[end : m.start()].strip(" -") not in {"", ","}:
            return ""
        return m.group().lower()
    window = text[max(0, start - 40) : start]
    words: list[str] = _WORD_RE_ASCII.findall(window)
    if not words or window[window.rfind(words[-1]) + len(words[-1]) :].strip(" -\"'("):
        return ""
    if words[-1].lower() == "the" and len(words) > 1:
        return words[-2].lower()
    return words[-1].lower()


def find_codes(text: str, tables: PlaceTables) -> list[Span]:
    """ISO 3166 alpha-2/alpha-3 codes where the context says they are codes."""
    candidates: list[tuple[int, int, str]] = []
    for m in _CODE_TOKEN_RE.finditer(text):
        raw = m.group()
        up = raw.upper()
        if (len(raw) == 3 and up in tables.alpha3) or (len(raw) == 2 and up in tables.alpha2):  # noqa: PLR2004  a length or count threshold of the heuristic (docs/screening.md)
            candidates.append((m.start(), m.end(), raw))
    if not candidates:
        return []
    listed = _code_lists(text, candidates, tables)
    out: list[Span] = []
    for start, end, raw in candidates:
        if (start, end) in listed or _is_code(text, start, end, raw, tables):
            out.append((start, end, FindingKind.PLACE))
    return out


def _code_lists(
    text: str, candidates: list[tuple[int, int, str]], tables: PlaceTables
) -> set[tuple[int, int]]:
    """Codes in a list of two or more codes of one length, one of them not a word."""
    out: set[tuple[int, int]] = set()
    run: list[tuple[int, int, str]] = [candidates[0]]

    def flush() -> None:
        if len(run) >= 2 and len({len(r[2]) for r in run}) == 1:  # noqa: PLR2004  a length or count threshold of the heuristic (docs/screening.md)
            words = tables.code_words3 if len(run[0][2]) == 3 else tables.code_words2  # noqa: PLR2004  a length or count threshold of the heuristic (docs/screening.md)
            if any(r[2].lower() not in words and r[2].upper() not in ALPHA2_NEVER for r in run):
                out.update((r[0], r[1]) for r in run)

    for prev, cur in itertools.pairwise(candidates):
        if _LIST_SEP.fullmatch(text[prev[1] : cur[0]]):
            run.append(cur)
        else:
            flush()
            run[:] = [cur]
    flush()
    return out


def _is_code(text: str, start: int, end: int, raw: str, tables: PlaceTables) -> bool:  # noqa: C901, PLR0911  one pass over the heuristic's cases in order; splitting it would scatter them
    up = raw.upper()
    size = len(raw)
    if not raw.isupper():
        low = raw.lower()
        if size == 2 and (low in tables.code_words2 or up in ALPHA2_NEVER):  # noqa: PLR2004  a length or count threshold of the heuristic (docs/screening.md)
            return False  # "in", "at", "it", "de", "la": words first, whatever the cues
        words = tables.code_words3 if size == 3 else tables.code_words2  # noqa: PLR2004  a length or count threshold of the heuristic (docs/screening.md)
        need_both = size == 2 or low in words  # noqa: PLR2004  a length or count threshold of the heuristic (docs/screening.md)
        after = _neighbour_word(text, start, end, after=True)
        cue_after = after in CODE_CUES_AFTER
        if need_both and not cue_after:
            return False
        before = _neighbour_word(text, start, end, after=False)
        cue_before = before in CODE_CUES_BEFORE
        return (cue_before and cue_after) if need_both else (cue_before or cue_after)
    caps = in_capitals(text, start, end)
    before = _neighbour_word(text, start, end, after=False)
    after = _neighbour_word(text, start, end, after=True)
    cue_before = before in CODE_CUES_BEFORE
    cue_after = after in CODE_CUES_AFTER
    both = cue_before and cue_after
    if raw.isupper():
        if size == 3:  # noqa: PLR2004  a length or count threshold of the heuristic (docs/screening.md)
            if up in ALPHA3_NEVER:
                return both
            if up in ALPHA3_FUNCTION_WORDS or (caps and up in ALPHA3_WORDS):
                return both if caps else (cue_before or cue_after)
            return True
        if up in ALPHA2_NEVER:
            return False
        prefix = text[max(0, start - 2) : start]
        if prefix[-1:].isdigit() or (prefix[-1:] == " " and prefix[:1].isdigit()):
            return False  # a unit after a number: "16 GB", "500 MT"
        if _DESIGNATION_AFTER.match(text, end):
            return False  # a designation: "SA-7"
        return not caps or both
    # lower or mixed case: only with cues
    low = raw.lower()
    words = tables.code_words3 if size == 3 else tables.code_words2  # noqa: PLR2004  a length or count threshold of the heuristic (docs/screening.md)
    if low in words or (size == 2 and up in ALPHA2_NEVER):  # noqa: PLR2004  a length or count threshold of the heuristic (docs/screening.md)
        return both
    if size == 2:  # noqa: PLR2004  a length or count threshold of the heuristic (docs/screening.md)
        return both
    return cue_before or cue_after
