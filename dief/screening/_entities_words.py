# ruff: noqa: RUF001 (a multilingual lexicon: Cyrillic, Arabic and CJK text is intended)
"""What the name detectors share (:mod:`dief.screening._entities`): the capitalised-word
patterns, the text cut into words, and small helpers."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from collections.abc import Iterator

    from dief.screening._findings import FindingKind, Span

__all__ = ["CAP", "LOW", "NAME", "NAME_ALLCAPS", "Words", "group_spans", "has_range", "plain_words"]

CAP = r"[A-ZÀ-ÖØ-ÞĀ-Ž\u0410-\u042f\u0401]"
LOW = r"[a-zß-öø-ÿā-ž\u0430-\u044f\u0451]"
#: A capitalised word ("Smith", "O'Brien", "Al-Masri", "McDonald", "Петров").
NAME = rf"{CAP}(?:{LOW}|{CAP})*(?:['’\-]{CAP}?{LOW}+)*"
NAME_ALLCAPS = rf"{CAP}{{2,}}"


def group_spans(rx: re.Pattern[str], text: str, group: str, kind: FindingKind) -> Iterator[Span]:
    """Per match of *rx*: the span of *group*, or else of the first alternative group set."""
    for m in rx.finditer(text):
        for g in (group, "name2", "given", "fr", "es", "de"):
            if g in rx.groupindex and m.group(g):
                yield m.start(g), m.end(g), kind
                break


def plain_words(alternation: str) -> frozenset[str]:
    """The plain words of a regular-expression alternation (no metacharacters)."""
    out = set()
    for w in alternation.split("|"):
        w = w.replace("\\.", ".").replace("\\s+", " ").replace("\\s?", " ")  # noqa: PLW2901  the loop's item normalised in place, on purpose
        if w and not any(c in w for c in "()[]?*+\\"):
            out.add(w)
    return frozenset(out)


_WORD_RE = re.compile(r"[^\W_\u3400-\u9fff](?:[^\W\u3400-\u9fff]+|['’\-]+)*+\.?|&")


class _Gaps:
    """``gaps[i]``: the text between word ``i - 1`` and word ``i`` (computed on demand)."""

    __slots__ = ("_ends", "_starts", "_text")

    def __init__(self, text: str, starts: list[int], ends: list[int]) -> None:
        self._text, self._starts, self._ends = text, starts, ends

    def __getitem__(self, i: int) -> str:
        return self._text[self._ends[i - 1] : self._starts[i]] if i else ""


class Words:
    """The words of a text, their starts and ends, and the gaps between them."""

    __slots__ = ("ends", "gaps", "starts", "words")

    def __init__(self, text: str) -> None:
        ms = list(_WORD_RE.finditer(text))
        self.words = [m.group() for m in ms]
        self.starts = [m.start() for m in ms]
        self.ends = [m.end() for m in ms]
        self.gaps = _Gaps(text, self.starts, self.ends)


_RANGE_RES: dict[tuple[str, str], re.Pattern[str]] = {}


def has_range(text: str, lo: str, hi: str) -> bool:
    """Whether *text* has a character from *lo* to *hi* (a script's block)."""
    rx = _RANGE_RES.get((lo, hi))
    if rx is None:
        rx = _RANGE_RES[lo, hi] = re.compile(f"[{lo}-{hi}]")
    return rx.search(text) is not None
