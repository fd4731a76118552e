# ruff: noqa: RUF001 (a multilingual lexicon: Cyrillic, Arabic and CJK text is intended)
"""Place names written apart from the trie's words: spaced and split spellings ("F r a n
c e", "Fr.an-ce"), misspellings one edit from a long name ("Frannce"), and Chinese names
inside runs of ideographs (:mod:`dief.screening._places`)."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, cast

from dief.screening._findings import FindingKind, Span
from dief.screening._normalize import HAN_RE, View
from dief.screening._places_cues import ZH_LEFT, ZH_RIGHT
from dief.screening._tables import JOIN_PREFIX, Entry, PlaceTables, neighbours

if TYPE_CHECKING:
    from dief.screening._places_tokens import Tokens

__all__ = ["find_fuzzy", "find_han", "find_joined"]


_JOIN_SEPARATOR_CHARS = " .-_*·/|~+"
_JOIN_SEPARATORS = frozenset(_JOIN_SEPARATOR_CHARS)
_CAPITALISED_RE = re.compile(r"(?<![^\W_])[^\W\d_a-zа-яё]")
_NON_SPACE_SEPARATORS = _JOIN_SEPARATORS - {" "}


def find_joined(  # noqa: C901, PLR0912, PLR0914, PLR0915  one pass over the heuristic's cases in order; splitting it would scatter them
    text: str,  # noqa: ARG001  the detectors share one signature (text, view, tokens, tables)
    view: View,
    toks: Tokens,
    consumed: list[bool],
    tables: PlaceTables,
) -> list[Span]:
    """Names spelt with spaces, dots or hyphens between their letters.

    A join stops as soon as the letters joined so far begin no name a join can find
    (``tables.join_prefixes``): most words of a text begin none, so most joins stop at once.
    """
    out: list[Span] = []
    vt = view.text
    size = len(vt)
    children = tables.folded.children
    prefixes = tables.join_prefixes
    n = toks.n
    keys = toks.keys
    starts = toks.starts
    ends = toks.ends
    # where a join can start: the word and the next begin a name (the prefixes of a name
    # are prefixes too: this holds for the word alone as well)
    begins = [
        i0
        for i0, pair in enumerate(map(str.__add__, keys, keys[1:]))
        if pair[:JOIN_PREFIX] in prefixes
    ]
    i = 0
    for i0 in begins:
        if i0 < i:
            continue
        joined = keys[i0]
        # a space join needs short pieces; other joins need a separator right after the word
        if len(joined) > 3 and (ends[i0] >= size or vt[ends[i0]] not in _NON_SPACE_SEPARATORS):  # noqa: PLR2004  a length or count threshold of the heuristic (docs/screening.md)
            continue
        i = i0
        if consumed[i]:
            continue
        best_end = -1
        best_entry: Entry | None = None
        spaced = False
        singles = len(joined) == 1
        short = len(joined) <= 3  # noqa: PLR2004  a length or count threshold of the heuristic (docs/screening.md)
        for j in range(i + 1, min(n, i + 24)):
            if consumed[j]:
                break
            sep = vt[ends[j - 1] : starts[j]]
            if not sep or len(sep) > 2 or sep.strip(_JOIN_SEPARATOR_CHARS):  # noqa: PLR2004  a length or count threshold of the heuristic (docs/screening.md)
                break
            piece = keys[j]
            if not piece.isalpha():
                break
            spaced = spaced or " " in sep
            singles = singles and len(piece) == 1
            short = short and len(piece) <= 3  # noqa: PLR2004  a length or count threshold of the heuristic (docs/screening.md)
            joined += piece
            if joined[:JOIN_PREFIX] not in prefixes:
                break
            pieces = j - i + 1
            if not singles and pieces > 3:  # noqa: PLR2004  a length or count threshold of the heuristic (docs/screening.md)
                break
            if singles and pieces < 3:  # noqa: PLR2004  a length or count threshold of the heuristic (docs/screening.md)
                continue
            if spaced and not singles and (not short or len(joined) < 6):  # noqa: PLR2004  a length or count threshold of the heuristic (docs/screening.md)
                continue
            if len(joined) < 4:  # noqa: PLR2004  a length or count threshold of the heuristic (docs/screening.md)
                continue
            node = children.get(joined)
            if node is not None and node.entry is not None and node.entry.kind is not None:
                e = node.entry
                if not e.gated and not e.cap_only:
                    best_end, best_entry = j, e
        if best_entry is not None and best_entry.kind is not None:
            start, end = view.span(starts[i], ends[best_end])
            out.append((start, end, best_entry.kind))
            for k in range(i, best_end + 1):
                consumed[k] = True
            i = best_end + 1
    return out


def find_fuzzy(
    text: str, view: View, toks: Tokens, consumed: list[bool], tables: PlaceTables
) -> list[Span]:
    """Words one edit away from a name or demonym of six letters or more."""
    out: list[Span] = []
    stop = tables.fuzzy_stop
    children = tables.folded.children
    keys = toks.keys
    alts = toks.alts
    for i in range(toks.n):
        if consumed[i]:
            continue
        if i not in alts:
            key = keys[i]
            if len(key) < 5 or key in stop or key in children or not key.isalpha():  # noqa: PLR2004  a length or count threshold of the heuristic (docs/screening.md)
                continue
            if key[0] > "\u04ff":
                continue  # Arabic, CJK: no misspelling index
            start = toks.starts[i] if view.starts is None else view.starts[toks.starts[i]]
            if _CAPITALISED_RE.match(text, start) is None:
                continue  # misspellings are looked for in capitalised words only
        for key in toks.options(i):
            if not 5 <= len(key) <= 24 or key in stop or key in children or not key.isalpha():  # noqa: PLR2004  a length or count threshold of the heuristic (docs/screening.md)
                continue
            match = _misspelt(key, tables)
            if match is not None:
                start, end = view.span(toks.starts[i], toks.ends[i])
                out.append((start, end, tables.fuzzy_entries[match].kind or FindingKind.PLACE))
                consumed[i] = True
                break
    return out


def _misspelt(key: str, tables: PlaceTables) -> str | None:
    """The name or demonym ``key`` is one edit from (the first found), or None (memoised)."""
    memo = tables.memo  # (a key of three: words and (word, as written) pairs are others)
    found = memo.get(("fuzzy", key, None), memo)
    if found is not memo:
        return cast("str | None", found)
    match = None
    index = tables.fuzzy
    for n in neighbours(key):
        names = index.get(n)
        if names is None:
            continue
        for name in names:
            if name != key and _osa1(key, name):
                match = name
                break
        if match is not None:
            break
    memo["fuzzy", key, None] = match
    return match


def _osa1(a: str, b: str) -> bool:
    """Whether ``a`` and ``b`` are one edit or one adjacent transposition apart."""
    la, lb = len(a), len(b)
    if abs(la - lb) > 1:
        return False
    i = 0
    while i < min(la, lb) and a[i] == b[i]:
        i += 1
    if la == lb:
        if a[i + 1 :] == b[i + 1 :]:
            return True  # substitution
        return i + 1 < la and a[i] == b[i + 1] and a[i + 1] == b[i] and a[i + 2 :] == b[i + 2 :]
    if la > lb:
        return a[i + 1 :] == b[i:]
    return a[i:] == b[i + 1 :]


def find_han(text: str, view: View, tables: PlaceTables) -> list[Span]:  # noqa: ARG001, C901, PLR0914  the detectors share one signature (text, view, tokens, tables); one pass over the heuristic's cases in order; splitting it would scatter them
    out: list[Span] = []
    han = tables.han
    lengths = tables.han_lengths
    firsts = tables.han_first
    pairs = tables.han_pairs
    if firsts is None:
        return out
    vt = view.text
    for run in HAN_RE.finditer(vt):
        s = run.group()
        base = run.start()
        n = len(s)
        p = 0  # ideographs before p are read; a name can only start at a first ideograph
        for first in firsts.finditer(s):
            if first.start() < p:
                continue
            p = first.start()
            options = lengths.get(s[p])
            if options is None or (s[p : p + 2] not in pairs and 1 not in options):
                p += 1
                continue  # no name starts with these two ideographs
            hit = None
            for length in options:
                if p + length <= n:
                    entry = han.get(s[p : p + length])
                    if entry is not None:
                        hit = (length, entry)
                        break
            if hit is None:
                p += 1
                continue
            length, entry = hit
            q = p + length
            straddles = (
                p > 0 and q < n and s[p - 1 : p + 1] in ZH_LEFT and s[q - 1 : q + 1] in ZH_RIGHT
            )
            if straddles:
                p += 1
                continue
            if entry.kind is not None and not entry.gated:
                out.append((*view.span(base + p, base + q), entry.kind))
            p = q
    return out
