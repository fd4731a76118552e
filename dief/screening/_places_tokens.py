# ruff: noqa: RUF003 (a multilingual lexicon: Cyrillic, Arabic and CJK text is intended)
"""The words of a text as the name tries read them (each word's keys: folded, its Latin
skeleton, its letter readings, its Arabic forms without particles), and the walk of a
trie from a word (:mod:`dief.screening._places`)."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Final, cast

from dief.screening._normalize import WORD_RE, View, arabic_keys, is_arabic, leet_keys
from dief.screening._places_cues import (
    MAX_GAP,
    PLACE_CUES_AFTER,
    PLACE_CUES_BEFORE,
    PLACE_NOUNS,
    PLACE_OF,
    in_capitals,
)

if TYPE_CHECKING:
    from collections.abc import Sequence

    from dief.screening._tables import Entry, Node, PlaceTables

__all__ = ["Tokens", "cued", "exact_ok", "longer", "walk", "walk_exact"]


_TO_CYRILLIC = str.maketrans("aceopxykmhtb", "асеорхукмнтв")
_ASCII_LETTER_RE = re.compile(r"[a-z]")


def _has_cyrillic(word: str) -> bool:
    return any("\u0400" <= c <= "\u04ff" for c in word)


#: What the name matcher reads of one word: its key, its alternative keys (``None``: none
#: tried) and whether a locative particle is attached; ``None`` for the word as it is.
_TokenInfo = tuple[str, tuple[str, ...] | None, bool] | None
_NEEDS_RAW: Final = ("raw", None, False)  # a memo value: the keys depend on the word as written
_MEMO_LIMIT = 200_000


class Tokens:
    """Word tokens of the match view, their keys and alternative keys."""

    __slots__ = ("alts", "ends", "keys", "locative", "n", "starts")

    def __init__(self, text: str, view: View, tables: PlaceTables) -> None:
        matches = list(WORD_RE.finditer(view.text))
        self.n = len(matches)
        self.starts = [m.start() for m in matches]
        self.ends = [m.end() for m in matches]
        self.keys = [m.group() for m in matches]
        self.alts: dict[int, tuple[str, ...]] = {}
        self.locative: set[int] = set()
        memo = tables.memo
        if len(memo) > _MEMO_LIMIT:  # pragma: no cover - a flood of distinct words
            memo.clear()
        for i, key in enumerate(self.keys):
            found = memo.get(key, memo)  # the memo itself: not met yet
            if found is memo:
                found = memo[key] = _token_keys(key, None, tables.confusables)
            if found is _NEEDS_RAW:
                s, e = self.starts[i], self.ends[i]
                raw = text[s:e] if view.starts is None else text[slice(*view.span(s, e))]
                found = memo.get((key, raw), memo)
                if found is memo:
                    found = memo[key, raw] = _token_keys(key, raw, tables.confusables)
            info = cast("_TokenInfo", found)
            if info is not None:
                first, alts, locative = info
                if first != key:
                    self.keys[i] = first
                if alts is not None:
                    self.alts[i] = alts
                if locative:
                    self.locative.add(i)

    def options(self, i: int) -> Sequence[str]:
        alts = self.alts.get(i)
        if alts is None:
            return (self.keys[i],)
        return (self.keys[i], *alts)

    def gap(self, i: int) -> int:
        """Characters between token ``i`` and token ``i + 1`` in the view."""
        return self.starts[i + 1] - self.ends[i]


def _token_keys(key: str, raw: str | None, conf: dict[str, str]) -> _TokenInfo:
    """What the name matcher reads of the word ``key`` (see ``_TokenInfo``), ``raw`` as
    written; without ``raw``, ``_NEEDS_RAW`` when the answer depends on it (a skeleton)."""
    options: list[str] = []
    first = key
    locative = False
    if not key.isascii():
        if is_arabic(key):
            ar, locative = arabic_keys(key)
            first = ar[0]
            options.extend(ar[1:])
        else:
            mixed = _ASCII_LETTER_RE.search(key) is not None
            if mixed and _has_cyrillic(key):
                options.append(key.translate(_TO_CYRILLIC))  # "Рoссия" (Latin o)
            if mixed or key[0] in conf:
                if raw is None:
                    return _NEEDS_RAW
                # the skeleton of the word as written (case matters: Greek "Ν" looks like
                # "N", its lower case "ν" like "v")
                if mixed or all(c in conf or c.lower() in conf for c in raw):
                    skeleton = "".join(
                        conf.get(c) or conf.get(c.lower()) or c.lower() for c in raw
                    ).lower()
                    if skeleton != key:
                        options.append(skeleton)
                        options.extend(leet_keys(skeleton))
    if not key.isalpha() and not key.isdigit():
        options.extend(leet_keys(key))
    if not options:
        return None if first == key and not locative else (first, None, locative)
    # alternatives that all equal the key still mark the word (an empty tuple)
    return first, tuple(dict.fromkeys(o for o in options if o != first)), locative


def walk(root: Node, toks: Tokens, i: int, view_text: str) -> tuple[int, Entry] | None:
    """Longest entry of ``root`` starting at token ``i``: ``(last token index, entry)``."""
    best: tuple[int, Entry] | None = None
    for key in toks.options(i):
        node = root.children.get(key)
        if node is None:
            continue
        hit = _descend(node, toks, i, view_text)
        if hit is not None and (best is None or hit[0] > best[0]):
            best = hit
    return best


def _descend(node: Node, toks: Tokens, j: int, view_text: str) -> tuple[int, Entry] | None:
    best: tuple[int, Entry] | None = (j, node.entry) if node.entry is not None else None
    if not node.children or j + 1 >= toks.n or toks.gap(j) > MAX_GAP:
        return best
    if "\n\n" in view_text[toks.ends[j] : toks.starts[j + 1]]:
        return best
    for key in toks.options(j + 1):
        child = node.children.get(key)
        if child is None:
            continue
        hit = _descend(child, toks, j + 1, view_text)
        if hit is not None and (best is None or hit[0] > best[0]):
            best = hit
    return best


def walk_exact(root: Node, raw: list[str], toks: Tokens, i: int) -> tuple[int, Entry] | None:
    node = root.children.get(raw[i])
    best: tuple[int, Entry] | None = None
    j = i
    while node is not None:
        if node.entry is not None:
            best = (j, node.entry)
        if not node.children or j + 1 >= toks.n or toks.gap(j) > MAX_GAP:
            break
        j += 1
        node = node.children.get(raw[j])
    return best


def exact_ok(text: str, view: View, toks: Tokens, i: int, j: int, e: Entry) -> bool:  # noqa: PLR0913, PLR0917  one pass over the heuristic's cases in order; splitting it would scatter them
    if e.dotted:
        for k in range(i, j):
            a = view.span(toks.starts[k], toks.ends[k])[1]
            b = view.span(toks.starts[k + 1], toks.ends[k + 1])[0]
            if text[a:b].strip() != ".":
                return False
    start = view.span(toks.starts[i], toks.ends[i])[0]
    end = view.span(toks.starts[j], toks.ends[j])[1]
    return not (e.word_like and in_capitals(text, start, end))


def cued(text: str, view: View, toks: Tokens, i: int, j: int) -> bool:
    """Whether a gated name at tokens ``i..j`` is a place here (capital letter and a cue)."""
    first = toks.keys[i]
    start, end = view.span(toks.starts[i], toks.ends[j])
    cased = not (is_arabic(first) or first[:1].isdigit())
    if cased and (not text[start : start + 1].isupper() or in_capitals(text, start, end)):
        return False
    if i in toks.locative:
        return True
    if i > 0:
        before = toks.keys[i - 1]
        if before in PLACE_CUES_BEFORE:
            return True
        if before in PLACE_OF and i > 1 and toks.keys[i - 2] in PLACE_NOUNS:
            return True
    return j + 1 < toks.n and toks.keys[j + 1] in PLACE_CUES_AFTER


def longer(best: tuple[int, Entry] | None, hit: tuple[int, Entry]) -> tuple[int, Entry]:
    """The longer of two matches at one token; on a tie a refusal beats an allowed phrase."""
    if best is None or hit[0] > best[0] or (hit[0] == best[0] and best[1].kind is None):
        return hit
    return best
