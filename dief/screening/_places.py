# ruff: noqa: RUF001, RUF002, RUF003 (a multilingual lexicon: Cyrillic, Arabic and CJK text is intended)
"""Country and place names, demonyms and ISO codes in free text.

Names are matched on the **match view** of the text (:mod:`dief.screening._normalize`):
case, diacritics, invisible characters, compatibility forms and the Arabic article do not
matter, and every span is mapped back to the text as given.

* **Words** are looked up in a word trie (longest phrase wins: "Papua New Guinea" over
  "New Guinea", "British Indian Ocean Territory" over the allowed "Indian Ocean"). A word
  is also tried under its Latin skeleton when it mixes scripts or is written in
  look-alikes ("Frаnce" with a Cyrillic а), under its letter readings when it mixes
  letters and digits ("Fr4nce"), and, in Arabic, without attached particles
  ("وبالعراق" -> "عراق").
* **Spaced and split spellings**: a run of three or more single letters ("F r a n c e",
  "F.R.A.N.C.E"), or two or three pieces joined by dots, hyphens, underscores or
  asterisks ("Fr.an-ce"), or by spaces when every piece is three letters or fewer
  ("Fra nce"), are joined and looked up again.
* **Misspellings**: a word of five letters or more, not itself a known word, within one
  edit (substitution, insertion, deletion, transposition) of a name or demonym of six
  letters or more ("Frannce", "Nigerai"); frequent words one edit from a name ("trench",
  "finish") are never taken for one (``data/wordlists.tsv``).
* **Chinese** names are matched as substrings of runs of ideographs, except where the
  match straddles two ordinary words ("非法国际" is 非法 + 国际, not 法国).
* **Gated** entries (ordinary words that are also place names: "Reading", "Split",
  Spanish "granada") count only when capitalised and next to a place cue ("in", "near",
  "port of", "à", "в", "في" …, or "port", "airport", "free zone" after).
* **ISO codes** are read on the pattern view (case kept): upper-case alpha-3 codes in
  mixed-case text, alpha-2 codes as before; codes that are words ("CAN", "MAR", "SUR"),
  lower-case codes and codes in all-capitals text only with a cue ("to", "from", "via",
  "customs", "authorities" …) or in a list of codes ("FRA, DEU and ITA").
"""

from __future__ import annotations

import itertools
import re
from typing import TYPE_CHECKING, Final, cast

from dief.screening._findings import FindingKind, Span
from dief.screening._normalize import (
    HAN_RE,
    WORD_RE,
    View,
    arabic_keys,
    is_arabic,
    leet_keys,
)
from dief.screening._tables import JOIN_PREFIX, Entry, Node, PlaceTables, neighbours

if TYPE_CHECKING:
    from collections.abc import Sequence

__all__ = ["find_codes", "find_places", "in_capitals"]


#: Most characters allowed between two words of one name ("Guinea - Bissau", "St. Lucia").
MAX_GAP = 3
#: Characters each side of a code looked at to decide whether the passage is in capitals.
CONTEXT_RADIUS = 48

# fmt: off
# ISO alpha-3 codes that are established non-country acronyms in trade and arms-control
# text; flagged only with a cue on both sides (the names are always flagged).
ALPHA3_NEVER: frozenset[str] = frozenset({
    "ATA",  # ATA carnet (temporary admission), not Antarctica
    "ASM", "ATG",  # air-to-surface missile, air-to-ground
    "SGS",  # pre-shipment inspection company
    "VAT", "COD", "COM", "DMA", "IOT", "MAC", "NIC",  # tax, cash on delivery, IT terms
    "NAM",  # Non-Aligned Movement
    "POL",  # petroleum, oils and lubricants
})
# Alpha-3 codes that are English words: flagged in mixed-case text only with a cue.
ALPHA3_FUNCTION_WORDS: frozenset[str] = frozenset({"AND", "ARE", "CAN", "PER", "FIN", "NOR"})
# Alpha-3 codes that are English words: in an all-capitals passage only with two cues.
ALPHA3_WORDS: frozenset[str] = frozenset({
    "ARM", "BEN", "BRA", "COG", "COL", "CUB", "DOM", "ESP", "EST", "GAB", "GEO", "GIN",
    "GUM", "GUY", "HUN", "JAM", "KEN", "LIE", "MAR", "PAN", "SUR", "TON", "TUN",
})
# Alpha-2 codes never flagged as bare codes: English words, units and abbreviations that
# are far more common in this text than the country code (the names still are flagged).
ALPHA2_NEVER: frozenset[str] = frozenset({
    "AD", "AI", "AM", "AS", "AT", "BE", "BY", "DO", "IN", "IS", "IT", "ME", "MY", "NO",
    "SO", "TO",
    "AU", "CC", "CD", "CO", "CV", "EC", "HR", "ID", "IR", "MD", "MG", "MP", "MS", "NA",
    "NE", "SE", "PA", "PH", "PK", "PM", "PR", "PS", "SN", "ST", "TM", "TV", "BL", "LC",
    "PL",
})

#: A word before a code or a gated place name that says "a place / a country comes".
CODE_CUES_BEFORE: frozenset[str] = frozenset({
    "to", "from", "via", "through", "thru", "into", "towards", "toward", "transit",
    "destination", "origin", "flag", "flagged", "ex", "code", "iso", "country",
    "a", "vers", "depuis", "par", "pour", "hacia", "desde", "para", "por", "origen",
    "destino", "origine", "pays", "pais", "transito", "назначением", "происхождения",
    "страны",
    "в", "во", "из", "через", "до", "إلى", "الي", "من", "عبر", "nach", "aus", "uber",
})
#: A word after a code that says it names a country.
CODE_CUES_AFTER: frozenset[str] = frozenset({
    "customs", "authorities", "authority", "border", "borders", "port", "ports", "flag",
    "flagged", "registry", "registered", "government", "ministry", "embassy",
    "consulate", "police", "army", "military", "navy", "national", "nationals",
    "origin", "destination", "territory", "airspace", "waters", "officials",
    "douane", "douanes", "autorites", "aduana", "aduanas", "autoridades",
    "таможня", "таможни", "таможней", "власти", "zoll", "behorden",
})
PLACE_CUES_BEFORE: frozenset[str] = frozenset({
    "in", "at", "near", "to", "from", "via", "through", "into", "towards", "toward",
    "outside", "around", "across", "transit", "transited", "transshipped",
    "transhipped", "reached", "left", "port", "harbour", "harbor", "airport", "city",
    "of", "de", "du", "des", "d", "del",
    "en", "a", "au", "aux", "dans", "vers", "pres", "depuis", "par", "desde", "hacia",
    "por", "cerca", "puerto", "aeropuerto", "ciudad", "aeroport", "ville",
    "в", "во", "из", "через", "до", "под", "около", "возле", "порт", "порту", "порта",
    "город", "города", "городе", "аэропорт", "аэропорту",
    "في", "الي", "من", "عبر", "نحو", "قرب", "ميناء", "مطار", "مدينه", "عاصمه",
    "nach", "aus", "uber", "bei", "von", "hafen",
})
PLACE_OF: frozenset[str] = frozenset({"of", "de", "du", "del", "des"})
PLACE_NOUNS: frozenset[str] = frozenset({
    "port", "city", "harbour", "harbor", "town", "outskirts", "province", "capital",
    "airport", "suburbs", "region", "puerto", "ciudad", "ville", "aeroport", "aeropuerto",
})
PLACE_CUES_AFTER: frozenset[str] = frozenset({
    "port", "harbour", "harbor", "airport", "airfield", "free", "freezone", "zone",
    "docks", "terminal", "anchorage", "based", "city", "customs",
})

# Chinese: a match is skipped when it straddles two ordinary words — the ideograph before
# it and its first ideograph form one of LEFT, and its last ideograph and the one after
# form one of RIGHT ("非法国际": 非法 + 国际, not 法国; "其中国家": 其中 + 国家).
ZH_LEFT: frozenset[str] = frozenset({
    "非法", "合法", "违法", "执法", "方法", "办法", "立法", "司法", "守法", "依法", "犯法",
    "其中", "集中", "之中", "当中", "空中", "途中", "手中", "心中", "暗中", "期中", "从中",
    "完美", "道德", "品德", "精英", "日本", "每日", "今日", "次日", "当日", "平日", "节日",
    "英美", "欧美", "南美", "北美", "美洲", "亚洲", "非洲", "大英", "印度", "巴西", "西班",
    "以及", "可以", "所以", "用以", "予以", "加以", "难以", "足以", "得以", "借以",
})
ZH_RIGHT: frozenset[str] = frozenset({
    "国际", "国家", "国内", "国外", "国有", "国防", "国土", "国民", "国企", "国产", "国营",
    "方面", "方法", "方式", "方案", "方向", "方针", "方可", "方能", "方便", "方才", "方位",
    "军事", "军火", "军队", "军用", "军方", "制度", "制定", "制造", "制作", "制品", "制成",
    "籍贯", "本地", "本身", "本土", "本国",
})
# fmt: on


def in_capitals(text: str, start: int, end: int) -> bool:
    """True when the letters around ``text[start:end]`` are mostly capitals."""
    around = text[max(0, start - CONTEXT_RADIUS) : start] + text[end : end + CONTEXT_RADIUS]
    upper = sum(map(str.isupper, around))
    lower = sum(map(str.islower, around))
    return upper > lower


# --------------------------------------------------------------------------- names


_TO_CYRILLIC = str.maketrans("aceopxykmhtb", "асеорхукмнтв")
_ASCII_LETTER_RE = re.compile(r"[a-z]")


def _has_cyrillic(word: str) -> bool:
    return any("\u0400" <= c <= "\u04ff" for c in word)


#: What the name matcher reads of one word: its key, its alternative keys (``None``: none
#: tried) and whether a locative particle is attached; ``None`` for the word as it is.
_TokenInfo = tuple[str, tuple[str, ...] | None, bool] | None
_NEEDS_RAW: Final = ("raw", None, False)  # a memo value: the keys depend on the word as written
_MEMO_LIMIT = 200_000


class _Tokens:
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


def _walk(root: Node, toks: _Tokens, i: int, view_text: str) -> tuple[int, Entry] | None:
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


def _descend(node: Node, toks: _Tokens, j: int, view_text: str) -> tuple[int, Entry] | None:
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


def _walk_exact(root: Node, raw: list[str], toks: _Tokens, i: int) -> tuple[int, Entry] | None:
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


def _exact_ok(text: str, view: View, toks: _Tokens, i: int, j: int, e: Entry) -> bool:  # noqa: PLR0913, PLR0917  one pass over the heuristic's cases in order; splitting it would scatter them
    if e.dotted:
        for k in range(i, j):
            a = view.span(toks.starts[k], toks.ends[k])[1]
            b = view.span(toks.starts[k + 1], toks.ends[k + 1])[0]
            if text[a:b].strip() != ".":
                return False
    start = view.span(toks.starts[i], toks.ends[i])[0]
    end = view.span(toks.starts[j], toks.ends[j])[1]
    return not (e.word_like and in_capitals(text, start, end))


def _cued(text: str, view: View, toks: _Tokens, i: int, j: int) -> bool:
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


def _longer(best: tuple[int, Entry] | None, hit: tuple[int, Entry]) -> tuple[int, Entry]:
    """The longer of two matches at one token; on a tie a refusal beats an allowed phrase."""
    if best is None or hit[0] > best[0] or (hit[0] == best[0] and best[1].kind is None):
        return hit
    return best


def find_places(text: str, view: View, tables: PlaceTables) -> list[Span]:  # noqa: C901, PLR0912, PLR0914  one pass over the heuristic's cases in order; splitting it would scatter them
    """Spans of names, short forms, demonyms, cities, ports and forum terms in ``text``."""
    found: list[Span] = []
    vt = view.text
    if HAN_RE.search(vt) if not vt.isascii() else False:
        found.extend(_find_han(text, view, tables))
    toks = _Tokens(text, view, tables)
    if toks.n == 0:
        return found
    consumed = [False] * toks.n
    interesting = tables.first_keys
    raw: list[str] | None = None
    next_free = 0
    alts = toks.alts
    candidates = [
        i
        for i, key in enumerate(toks.keys)
        if key in interesting or (i in alts and any(k in interesting for k in alts[i]))
    ]
    for i in candidates:
        if i < next_free:
            continue
        keys = toks.options(i)
        best: tuple[int, Entry] | None = None
        hit = _walk(tables.folded, toks, i, vt)
        if hit is not None:
            j, entry = hit
            if entry.cap_only:
                start = view.span(toks.starts[i], toks.ends[i])[0]
                if not text[start : start + 1].isupper():
                    hit = None
            if hit is not None and entry.gated and not _cued(text, view, toks, i, j):
                hit = None
            best = hit
        if keys[0] in tables.exact_first:
            if raw is None:
                raw = [
                    text[slice(*view.span(s, e))]
                    for s, e in zip(toks.starts, toks.ends, strict=True)
                ]
            ehit = _walk_exact(tables.exact, raw, toks, i)
            if ehit is not None and _exact_ok(text, view, toks, i, ehit[0], ehit[1]):
                best = _longer(best, ehit)
        if best is None:
            continue
        j, entry = best
        start, end = view.span(toks.starts[i], toks.ends[j])
        if entry.kind is not None:
            if entry.trailing_dot and text[end : end + 1] == ".":
                end += 1
            found.append((start, end, entry.kind))
        for k in range(i, j + 1):
            consumed[k] = True
        next_free = j + 1
    found.extend(_find_joined(text, view, toks, consumed, tables))
    found.extend(_find_fuzzy(text, view, toks, consumed, tables))
    return found


_JOIN_SEPARATOR_CHARS = " .-_*·/|~+"
_JOIN_SEPARATORS = frozenset(_JOIN_SEPARATOR_CHARS)
_CAPITALISED_RE = re.compile(r"(?<![^\W_])[^\W\d_a-zа-яё]")
_NON_SPACE_SEPARATORS = _JOIN_SEPARATORS - {" "}


def _find_joined(  # noqa: C901, PLR0912, PLR0914, PLR0915  one pass over the heuristic's cases in order; splitting it would scatter them
    text: str,  # noqa: ARG001  the detectors share one signature (text, view, tokens, tables)
    view: View,
    toks: _Tokens,
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


def _find_fuzzy(
    text: str, view: View, toks: _Tokens, consumed: list[bool], tables: PlaceTables
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


def _find_han(text: str, view: View, tables: PlaceTables) -> list[Span]:  # noqa: ARG001, C901, PLR0914  the detectors share one signature (text, view, tokens, tables); one pass over the heuristic's cases in order; splitting it would scatter them
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


# --------------------------------------------------------------------------- codes

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
