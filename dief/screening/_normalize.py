# ruff: noqa: RUF002 (a multilingual lexicon: Cyrillic, Arabic and CJK text is intended)
"""Normalising free text for matching, with a map back to the offsets of the original.

Two views of a text are built, each keeping, for every character it holds, the span of
the original text it came from, so that a finding always points at the text as given:

* the **match view** (:func:`match_view`): default-ignorable and format characters
  removed (zero-width spaces and joiners, soft hyphens, bidi controls, variation
  selectors, tags, the Arabic tatweel), compatibility forms decomposed (NFKD: full-width
  letters, ligatures, mathematical alphabets, circled letters), combining marks dropped
  (diacritics, Arabic vowel marks, strike-through and other combining overlays), case
  folded, and a few letters folded that NFKD leaves alone (ø, æ, œ, ł, dotless i; Arabic
  ة → ه, ى → ي, Persian ی ک → ي ك; native digits → ASCII digits). Scripts are kept:
  Russian stays Cyrillic, Arabic stays Arabic.
* the **pattern view** (:func:`pattern_view`): only what the regular-expression detectors
  need — ignorable characters removed, compatibility forms and native digits folded, case
  kept, homoglyphs inside mixed-script words mapped to Latin, and defanged URLs re-armed
  (``hxxps``, ``[.]``, ``(dot)``, ``[:]``).

Each character's form in either view is worked out once and kept (``_CharMap``): a text
then costs set operations on its distinct characters and one ``str.replace`` per
character that changes, not a call per character.

Homoglyphs are handled per word (:func:`word_keys`), as in UTS #39: a word that mixes
Latin letters with Cyrillic or Greek look-alikes, or that is written entirely in
look-alikes, is also tried under its Latin skeleton (``data/confusables.tsv``, generated
from the Unicode confusables data). Digit-for-letter swaps (``Fr4nce``, ``M4li``) are
tried for words that mix letters and digits.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from functools import lru_cache
from itertools import product
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from collections.abc import Callable, Iterable, Mapping

__all__ = [
    "HAN_RE",
    "LEET",
    "WORD_RE",
    "View",
    "ar_key",
    "arabic_keys",
    "fold_text",
    "is_arabic",
    "is_ignorable",
    "leet_keys",
    "match_view",
    "pattern_view",
]

# Default_Ignorable_Code_Point (Unicode DerivedCoreProperties.txt), as ranges; every
# character of general category Cf is also removed (see is_ignorable).
_IGNORABLE_RANGES: tuple[tuple[int, int], ...] = (
    (0x00AD, 0x00AD), (0x034F, 0x034F), (0x061C, 0x061C), (0x115F, 0x1160),
    (0x17B4, 0x17B5), (0x180B, 0x180F), (0x200B, 0x200F), (0x202A, 0x202E),
    (0x2060, 0x206F), (0x3164, 0x3164), (0xFE00, 0xFE0F), (0xFEFF, 0xFEFF),
    (0xFFA0, 0xFFA0), (0xFFF0, 0xFFF8), (0x1BCA0, 0x1BCA3), (0x1D173, 0x1D17A),
    (0xE0000, 0xE0FFF),
)  # fmt: skip
_TATWEEL = "\u0640"

# Letters NFKD does not decompose, apostrophe-like letters, and Arabic spelling variants.
_EXTRA_FOLD = str.maketrans(
    {
        "ø": "o", "æ": "ae", "œ": "oe", "đ": "d", "ł": "l", "þ": "th", "ð": "d",
        "\u0131": "i", "\u02bc": "'", "\u02bb": "'", "\u2019": "'", "\u2018": "'",
        "\u00b4": "'", "\u0060": "'",
        "\u0629": "\u0647", "\u0649": "\u064a", "\u06cc": "\u064a", "\u06a9": "\u0643",
        "\u06c0": "\u0647", "\u0671": "\u0627",
    }
)  # fmt: skip

#: Word tokens of the match view: letters and digits, ``@``/``$`` inside a word (leet),
#: but not CJK ideographs or kana, which are matched by substring (see HAN_RE).
WORD_RE = re.compile(
    r"[^\W_\u2e80-\u9fff\uf900-\ufaff\U00020000-\U0002ffff]+"
    r"(?:[@$][^\W_\u2e80-\u9fff\uf900-\ufaff\U00020000-\U0002ffff]+)*"
)
#: Runs of CJK ideographs (Chinese names are matched as substrings of these runs).
HAN_RE = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\U00020000-\U0002ffff]+")

#: Digit and symbol for letter swaps tried in words that mix letters and digits.
LEET: Mapping[str, tuple[str, ...]] = {
    "0": ("o",), "1": ("l", "i"), "3": ("e",), "4": ("a",), "5": ("s",), "7": ("t",),
    "@": ("a",), "$": ("s",),
}  # fmt: skip


def is_ignorable(c: str) -> bool:
    """A default-ignorable or format character (removed before matching)."""
    cp = ord(c)
    if cp < 0xAD:  # noqa: PLR2004  a length or count threshold of the heuristic (docs/screening.md)
        return False
    if c == _TATWEEL or unicodedata.category(c) == "Cf":
        return True
    return any(lo <= cp <= hi for lo, hi in _IGNORABLE_RANGES)


_FOLD_CACHE: dict[str, str] = {}


def _fold_char(c: str) -> str:
    """The match-view form of one non-ASCII character (possibly empty or several)."""
    cached = _FOLD_CACHE.get(c)
    if cached is not None:
        return cached
    if is_ignorable(c) or unicodedata.category(c) in {"Mn", "Me"}:
        out = ""
    else:
        parts = []
        for d in unicodedata.normalize("NFKD", c):
            if unicodedata.category(d) in {"Mn", "Me"} or is_ignorable(d):
                continue
            digit = unicodedata.decimal(d, None)
            parts.append(str(digit) if digit is not None else d)
        out = "".join(parts).casefold().translate(_EXTRA_FOLD)
    if len(_FOLD_CACHE) > 65_536:  # pragma: no cover - pathological input  # noqa: PLR2004  a length or count threshold of the heuristic (docs/screening.md)
        _FOLD_CACHE.clear()
    _FOLD_CACHE[c] = out
    return out


class _CharMap:
    """The per-character mapping of one view, learnt as characters are met and kept across
    texts, so that a text costs set operations on its distinct characters, not a call per
    character. A mapping whose output holds characters that map again is "unstable" (a
    text with one is translated in one pass instead of replaced character by character).
    """

    __slots__ = ("_fn", "_state")
    _LIMIT = 100_000

    def __init__(self, fn: Callable[[str], str]) -> None:
        self._fn = fn
        # (characters met, those that change -> their output, unstable ones): swapped whole
        self._state: tuple[set[str], dict[str, str], set[str]] = (set(), {}, set())

    def changes(self, chars: set[str]) -> tuple[dict[str, str], bool]:
        """The characters of ``chars`` that change, with their output; and whether every
        output is stable (no character of an output changes)."""
        known, changed, unstable = self._state
        new = chars - known
        if new:
            if len(known) > self._LIMIT:  # pragma: no cover - a flood of distinct characters
                known, changed, unstable = self._state = (set(), {}, set())
                new = chars
            fn = self._fn
            for c in new:
                out = fn(c)
                if out != c:
                    changed[c] = out
            for c in new:
                out = changed.get(c, c)
                if out != c and any(fn(x) != x for x in out):
                    unstable.add(c)
            known |= new
        here = {c: changed[c] for c in chars & changed.keys()}
        return here, unstable.isdisjoint(here)


def _apply(text: str, changes: Mapping[str, str], *, stable: bool) -> str:
    """``text`` with every character of ``changes`` replaced by its output."""
    if not changes:
        return text
    if not stable or len(changes) > 48:  # noqa: PLR2004  a length or count threshold of the heuristic (docs/screening.md)
        return text.translate({ord(c): (f or None) for c, f in changes.items()})
    for c, f in changes.items():
        text = text.replace(c, f)  # outputs never change again: the order does not matter
    return text


def _kept(text: str, gone: Iterable[str]) -> list[int]:
    """Offsets of the characters of ``text`` that are not in ``gone``."""
    dropped: list[int] = []
    for c in gone:
        i = text.find(c)
        while i >= 0:
            dropped.append(i)
            i = text.find(c, i + 1)
    dropped.sort()
    kept: list[int] = []
    prev = 0
    for i in dropped:
        kept.extend(range(prev, i))
        prev = i + 1
    kept.extend(range(prev, len(text)))
    return kept


def _remap(text: str, changes: Mapping[str, str]) -> tuple[str, list[int], list[int]]:
    """``text`` with each character of ``changes`` replaced by its output (possibly several
    characters, or none), and per output character the original span it came from; a
    dropped character belongs to the character before it. The text between changed
    characters is copied a slice at a time."""
    changed_at: list[int] = []
    for c in changes:
        i = text.find(c)
        while i >= 0:
            changed_at.append(i)
            i = text.find(c, i + 1)
    changed_at.sort()
    out: list[str] = []
    starts: list[int] = []
    ends: list[int] = []
    prev = 0
    for i in changed_at:
        out.append(text[prev:i])
        starts.extend(range(prev, i))
        ends.extend(range(prev + 1, i + 1))
        f = changes[text[i]]
        if f:
            out.append(f)
            starts.extend([i] * len(f))
            ends.extend([i + 1] * len(f))
        elif ends:
            ends[-1] = i + 1  # a dropped mark or invisible belongs to what precedes
        prev = i + 1
    out.append(text[prev:])
    starts.extend(range(prev, len(text)))
    ends.extend(range(prev + 1, len(text) + 1))
    return "".join(out), starts, ends


def _match_char(c: str) -> str:
    return c.lower() if c.isascii() else _fold_char(c)


_MATCH_CHARS = _CharMap(_match_char)


def fold_text(text: str) -> str:
    """The match-view string of ``text`` (no offsets): for keys of data entries."""
    if text.isascii():
        return text.lower()
    return "".join(c.lower() if c.isascii() else _fold_char(c) for c in text)


@dataclass(frozen=True, slots=True)
class View:
    """A normalised string and, per character, the original span it came from.

    ``starts``/``ends`` are ``None`` when the view is the original text itself (same
    length, one character for one character).
    """

    text: str
    starts: list[int] | None
    ends: list[int] | None
    original_length: int

    def span(self, start: int, end: int) -> tuple[int, int]:
        """The original span of ``self.text[start:end]`` (``start < end``)."""
        if self.starts is None or self.ends is None:
            return start, end
        return self.starts[start], self.ends[end - 1]

    def original_index(self, i: int) -> int:
        """Original offset of view position ``i`` (``len(text)`` maps to the end)."""
        if self.starts is None:
            return i
        if i >= len(self.starts):
            return self.original_length
        return self.starts[i]


def match_view(text: str) -> View:
    """Case-folded, diacritic-free, ignorable-free view of ``text`` (see the module doc)."""
    if text.isascii():
        return View(text.lower(), None, None, len(text))
    changes, stable = _MATCH_CHARS.changes(set(text))
    if all(len(f) <= 1 for f in changes.values()):
        folded = _apply(text, changes, stable=stable)
        dropped = [c for c, f in changes.items() if not f]
        if not dropped:  # the common case: same length, offsets unchanged
            return View(folded, None, None, len(text))
        # marks and invisible characters dropped: each kept character's span runs to the
        # next kept one (a dropped mark belongs to what precedes it)
        kept = _kept(text, dropped)
        return View(folded, kept, [*kept[1:], len(text)], len(text))
    return View(*_remap(text, changes), len(text))


# --------------------------------------------------------------------------- word keys


def is_arabic(token: str) -> bool:
    return "\u0600" <= token[0] <= "\u06ff"


def ar_key(token: str) -> str:
    """An Arabic word without its definite article ("العراق" -> "عراق")."""
    if token.startswith("\u0627\u0644") and len(token) > 3:  # noqa: PLR2004  a length or count threshold of the heuristic (docs/screening.md)
        return token[2:]
    return token


_AR_CONJ = ("\u0648", "\u0641")  # wa-, fa-
_AR_PREP = ("\u0628", "\u0644", "\u0643")  # bi-, li-, ka-
_AR_LOCATIVE = ("\u0628", "\u0644")  # bi- (in, at), li- (to, for)


@lru_cache(maxsize=65_536)
def arabic_keys(token: str) -> tuple[tuple[str, ...], bool]:
    """Keys of an Arabic word with attached particles stripped, and whether a locative
    particle (bi-, li-) was attached: "وبالعراق" -> ("وبالعراق"…, "عراق"), True."""
    keys = [ar_key(token)]
    locative = False
    stems = [token]
    if len(token) > 3 and token[0] in _AR_CONJ:  # noqa: PLR2004  a length or count threshold of the heuristic (docs/screening.md)
        stems.append(token[1:])
    for stem in list(stems):
        if len(stem) > 3 and stem[0] in _AR_PREP:  # noqa: PLR2004  a length or count threshold of the heuristic (docs/screening.md)
            rest = stem[1:]
            if stem[0] in _AR_LOCATIVE:
                locative = True
            # li- + al- is written "لل": "للعراق" = li + al-Iraq
            if stem[0] == "\u0644" and rest.startswith("\u0644") and len(rest) > 2:  # noqa: PLR2004  a length or count threshold of the heuristic (docs/screening.md)
                keys.append(rest[1:])
            stems.append(rest)
    for stem in stems[1:]:
        keys.append(ar_key(stem))  # noqa: PERF401  each step appended in the order the output reads
    seen: dict[str, None] = dict.fromkeys(keys)
    return tuple(seen), locative


def leet_keys(token: str) -> tuple[str, ...]:
    """Letter readings of a word that mixes letters with digits or ``@``/``$``.

    Only words with at least two letters, and only readings that are all letters and at
    least four long, so "F35", "T72" or "AK47" yield nothing ("Fr4nce" -> "france",
    "N1ger1a" -> "nigeria", "nlgerla", ...).
    """
    if sum(c.isalpha() for c in token) < 2:  # noqa: PLR2004  a length or count threshold of the heuristic (docs/screening.md)
        return ()
    options: list[tuple[str, ...]] = []
    swaps = 0
    for c in token:
        alts = LEET.get(c)
        if alts is None:
            if not c.isalpha():
                return ()
            options.append((c,))
        else:
            swaps += 1
            options.append(alts)
    if swaps == 0 or swaps > 4 or len(token) < 4:  # noqa: PLR2004  a length or count threshold of the heuristic (docs/screening.md)
        return ()
    return tuple("".join(p) for p in product(*options))


# --------------------------------------------------------------------------- pattern view

_DEFANG_RE = re.compile(
    r"hxxps?(?=(?:\[:\]|:)//)|\[\.\]|\(\.\)|\{\.\}|\[dot\]|\(dot\)|\{dot\}|\[:\]|\[/\]",
    re.IGNORECASE,
)


def _defanged(m: re.Match[str]) -> str:
    s = m.group().lower()
    if s.startswith("hxxp"):
        return "http" + s[4:]
    if s == "[:]":
        return ":"
    if s == "[/]":
        return "/"
    return "."


_PV_CACHE: dict[str, str] = {}


def _pattern_char(c: str) -> str:
    """The pattern-view form of one non-ASCII character (empty when it is dropped)."""
    cached = _PV_CACHE.get(c)
    if cached is not None:
        return cached
    if is_ignorable(c) or unicodedata.category(c) in {"Mn", "Me"}:
        out = ""
    else:
        digit = unicodedata.decimal(c, None)
        if digit is not None:
            out = str(digit)
        else:
            nfkc = unicodedata.normalize("NFKC", c) if c not in "ºª°" else c
            out = nfkc if nfkc.isascii() and nfkc else c
    _PV_CACHE[c] = out
    return out


_MIXED_WORD_RE = re.compile(r"[^\W_]+")
_ASCII_LETTER_RE = re.compile(r"[A-Za-z]")
#: An ASCII letter next to a letter of another script: a word that mixes scripts.
_MIXED_SCRIPT_RE = re.compile(r"[A-Za-z](?:(?=[^\W\d_A-Za-z])|(?<=[^\W\d_A-Za-z].))")
_ASCII = frozenset(map(chr, range(128)))


def _pattern_view_char(c: str) -> str:
    return c if c.isascii() else _pattern_char(c)


_PATTERN_CHARS = _CharMap(_pattern_view_char)
_LOOKALIKE: dict[int, tuple[Mapping[str, str], dict[str, bool]]] = {}


def _has_lookalike(chars: Iterable[str], confusables: Mapping[str, str]) -> bool:
    """Whether any of ``chars`` has a Latin look-alike (memoised per table)."""
    entry = _LOOKALIKE.get(id(confusables))
    if entry is None or entry[0] is not confusables:
        entry = _LOOKALIKE[id(confusables)] = (confusables, {})
    seen = entry[1]
    for c in chars:
        hit = seen.get(c)
        if hit is None:
            hit = seen[c] = bool(confusables.get(c) or confusables.get(c.lower()))
        if hit:
            return True
    return False


def pattern_view(text: str, confusables: Mapping[str, str]) -> View:  # noqa: C901, PLR0912, PLR0914, PLR0915  one pass over the heuristic's cases in order; splitting it would scatter them
    """The view the regular-expression detectors read (see the module doc)."""
    plain = text.isascii()
    if plain and not any(c in text for c in "[({") and "xx" not in text.lower():
        return View(text, None, None, len(text))
    starts: list[int] | None = None
    ends: list[int] | None = None
    unchanged: set[str] = set()  # non-ASCII characters kept as they are
    if plain:
        first = text
    else:
        nonascii = set(text) - _ASCII
        changed, stable = _PATTERN_CHARS.changes(nonascii)
        unchanged = nonascii - changed.keys()
        if not changed:
            first = text
        elif all(len(f) <= 1 for f in changed.values()):
            first = _apply(text, changed, stable=stable)
            gone = [c for c, f in changed.items() if not f]
            if gone:
                kept = _kept(text, gone)
                starts, ends = kept, [*kept[1:], len(text)]
        else:
            first, starts, ends = _remap(text, changed)
    # 2. homoglyphs inside words that mix Latin letters with look-alikes (only characters
    # kept as they are can be look-alikes: the others are ASCII now)
    if unchanged and _has_lookalike(unchanged, confusables) and _MIXED_SCRIPT_RE.search(first):
        chars: list[str] | None = None
        for m in _MIXED_WORD_RE.finditer(first):
            word = m.group()
            if word.isascii() or _ASCII_LETTER_RE.search(word) is None:
                continue
            if chars is None:
                chars = list(first)
            for k in range(m.start(), m.end()):
                ch = chars[k]
                if ch.isascii():
                    continue
                mapped = confusables.get(ch) or confusables.get(ch.lower())
                if mapped is not None:
                    chars[k] = mapped if ch.islower() else mapped.upper()
        if chars is not None:
            first = "".join(chars)
    # 3. defanged URLs
    if not _DEFANG_RE.search(first):
        if starts is None and first is text:
            return View(text, None, None, len(text))
        return View(first, starts, ends, len(text))
    if starts is None or ends is None:
        starts = list(range(len(first)))
        ends = list(range(1, len(first) + 1))
    out2: list[str] = []
    starts2: list[int] = []
    ends2: list[int] = []
    pos = 0
    for m in _DEFANG_RE.finditer(first):
        out2.append(first[pos : m.start()])  # the text between, as it is
        starts2.extend(starts[pos : m.start()])
        ends2.extend(ends[pos : m.start()])
        armed = _defanged(m)
        out2.append(armed)
        starts2.extend([starts[m.start()]] * len(armed))
        ends2.extend([ends[m.end() - 1]] * len(armed))
        pos = m.end()
    out2.append(first[pos:])
    starts2.extend(starts[pos:])
    ends2.extend(ends[pos:])
    return View("".join(out2), starts2, ends2, len(text))
