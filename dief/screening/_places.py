"""Country and territory names, short forms, demonyms and ISO codes in free text.

The tables come from :mod:`dief.screening._tables` (built once, lazily). Matching works on
*tokens* of the original text (maximal runs of letters and digits, combining marks
included), so spans are exact offsets into the text as given:

* a case-insensitive word trie holds names, aliases, demonyms and allowed region phrases;
  token keys are NFKD-folded, so diacritics, case, apostrophes and hyphens do not matter
  ("Côte d'Ivoire" with any apostrophe = "cote d ivoire" = "Cote dIvoire";
  "Guinea Bissau" = "Guinea-Bissau");
  the longest phrase starting at a token wins, so "Papua New Guinea" beats "New Guinea"
  and "British Indian Ocean Territory" beats the allowed "Indian Ocean";
* a case-sensitive trie holds acronyms that are also English words in lower case ("US",
  "CAR") or need their dots ("U.S.");
* ISO 3166 alpha-3 codes are whole upper-case tokens; alpha-2 codes count only as a
  stand-alone upper-case token in lower-case surroundings, never after a number (a unit:
  "16 GB", "500 MT"), never before "-<digit>" (a designation: "SA-7"), and never when they
  are an everyday word or abbreviation (listed below).
"""

from __future__ import annotations

import re

from dief.screening._findings import FindingKind
from dief.screening._tables import TOKEN_RE, Entry, Node, PlaceTables, fold

__all__ = ["find_places", "in_capitals"]

#: Most characters allowed between two words of one name ("Guinea - Bissau", "St. Lucia").
MAX_GAP = 3
#: Characters each side of a code looked at to decide whether the passage is in capitals.
CONTEXT_RADIUS = 48

# fmt: off
# ISO alpha-3 codes that are also English words or established non-country acronyms in
# trade and arms-control text; never flagged as codes (the names still are).
ALPHA3_NEVER: frozenset[str] = frozenset({
    "AND", "ARE", "CAN", "PER", "FIN", "NOR",  # English words
    "ATA",  # ATA carnet (temporary admission), not Antarctica
    "ASM", "ATG",  # air-to-surface missile, air-to-ground
    "SGS",  # pre-shipment inspection company
    "VAT", "COD", "COM", "DMA", "IOT", "MAC", "NIC",  # tax, cash on delivery, IT terms
    "NAM",  # Non-Aligned Movement
    "POL",  # petroleum, oils and lubricants
})
# Alpha-3 codes that are English words: not flagged inside an all-capitals passage.
ALPHA3_WORDS: frozenset[str] = frozenset({
    "ARM", "BEN", "BRA", "COG", "COL", "CUB", "DOM", "ESP", "EST", "GAB", "GEO", "GIN",
    "GUM", "GUY", "HUN", "JAM", "KEN", "LIE", "MAR", "PAN", "SUR", "TON", "TUN",
})
# Alpha-2 codes never flagged as bare codes: English words, units and abbreviations that
# are far more common in this text than the country code (the names still are flagged).
ALPHA2_NEVER: frozenset[str] = frozenset({
    # English words
    "AD", "AI", "AM", "AS", "AT", "BE", "BY", "DO", "IN", "IS", "IT", "ME", "MY", "NO",
    "SO", "TO",
    # abbreviations: African Union, carbon copy, compact disc, company / certificate of
    # origin, curriculum vitae, European Commission, human resources, identity,
    # infrared, medical doctor, machine gun, military police, manuscript, not
    # applicable, north-east, south-east, public address, pH, PK machine gun,
    # afternoon, public relations, postscript, serial number, street / saint,
    # trademark, television, bill of lading, letter of credit, packing list
    "AU", "CC", "CD", "CO", "CV", "EC", "HR", "ID", "IR", "MD", "MG", "MP", "MS", "NA",
    "NE", "SE", "PA", "PH", "PK", "PM", "PR", "PS", "SN", "ST", "TM", "TV", "BL", "LC",
    "PL",
})
# fmt: on
_DESIGNATION_AFTER = re.compile(r"-?\d")


# --------------------------------------------------------------------------- matching


def in_capitals(text: str, start: int, end: int) -> bool:
    """True when the letters around ``text[start:end]`` are mostly capitals."""
    around = text[max(0, start - CONTEXT_RADIUS) : start] + text[end : end + CONTEXT_RADIUS]
    upper = sum(1 for c in around if c.isupper())
    lower = sum(1 for c in around if c.islower())
    return upper > lower


class _Spans:
    """``spans[i]`` is the ``(start, end)`` of token ``i``, computed on demand."""

    __slots__ = ("_matches",)

    def __init__(self, matches: list[re.Match[str]]) -> None:
        self._matches = matches

    def __getitem__(self, i: int) -> tuple[int, int]:
        return self._matches[i].span()

    def __len__(self) -> int:
        return len(self._matches)


def _walk(
    root: Node,
    spans: _Spans,
    keys: list[str],
    i: int,
) -> tuple[int, Entry] | None:
    """Longest entry of ``root`` starting at token ``i``: ``(last token index, entry)``."""
    node = root.children.get(keys[i])
    best: tuple[int, Entry] | None = None
    j = i
    n = len(spans)
    while node is not None:
        if node.entry is not None:
            best = (j, node.entry)
        if not node.children or j + 1 >= n or spans[j + 1][0] - spans[j][1] > MAX_GAP:
            break
        j += 1
        node = node.children.get(keys[j])
    return best


def _exact_ok(text: str, spans: _Spans, i: int, j: int, e: Entry) -> bool:
    if e.dotted and any(text[spans[k][1] : spans[k + 1][0]].strip() != "." for k in range(i, j)):
        return False
    return not (e.word_like and in_capitals(text, spans[i][0], spans[j][1]))


def _longer(best: tuple[int, Entry] | None, hit: tuple[int, Entry]) -> tuple[int, Entry]:
    """The longer of two matches at one token; on a tie a refusal beats an allowed phrase."""
    if best is None or hit[0] > best[0] or (hit[0] == best[0] and best[1].kind is None):
        return hit
    return best


def find_places(text: str, tables: PlaceTables) -> list[tuple[int, int, FindingKind]]:
    """Spans of names, short forms, demonyms and codes in ``text``."""
    found = _find_codes(text, tables)
    if text.isascii():
        # The common case: lower() keeps offsets and folds every token; most texts have no
        # token that can start a name, which one C-level set test establishes.
        lowered = text.lower()
        keys = _ASCII_TOKEN_RE.findall(lowered)
        if tables.first_keys.isdisjoint(keys):
            return found
        matches = list(_ASCII_TOKEN_RE.finditer(lowered))
    else:
        matches = list(TOKEN_RE.finditer(text))
        keys = [fold(m.group()) for m in matches]
    names, consumed = _find_names(text, tables, matches, keys)
    if found and consumed:  # a code inside a matched phrase ("US Virgin Islander") is not
        found = [c for c in found if not any(a < c[1] and c[0] < b for a, b in consumed)]
    return found + names


_ASCII_TOKEN_RE = re.compile(r"[a-z0-9]+")
_UPPER_TOKEN_RE = re.compile(r"(?<![^\W_])[A-Z]{2,3}(?![^\W_])")


def _find_codes(text: str, tables: PlaceTables) -> list[tuple[int, int, FindingKind]]:
    return [
        (m.start(), m.end(), FindingKind.PLACE)
        for m in _UPPER_TOKEN_RE.finditer(text)
        if _is_code(text, m.start(), m.end(), m.group(), tables)
    ]


def _find_names(
    text: str, tables: PlaceTables, matches: list[re.Match[str]], keys: list[str]
) -> tuple[list[tuple[int, int, FindingKind]], list[tuple[int, int]]]:
    """Name and demonym findings, and the ranges of every matched phrase (allowed too)."""
    interesting = tables.first_keys
    found: list[tuple[int, int, FindingKind]] = []
    consumed: list[tuple[int, int]] = []
    raw_keys: list[str] | None = None
    next_free = 0
    spans = _Spans(matches)
    for i in [i for i, key in enumerate(keys) if key in interesting]:
        if i < next_free:
            continue  # inside a phrase already matched
        key = keys[i]
        best: tuple[int, Entry] | None = None
        if key in tables.folded.children:
            hit = _walk(tables.folded, spans, keys, i)
            if hit is not None and (not hit[1].cap_only or text[spans[i][0]].isupper()):
                best = hit
        if key in tables.exact_first:
            if raw_keys is None:
                raw_keys = [text[m.start() : m.end()] for m in matches]
            hit = _walk(tables.exact, spans, raw_keys, i)
            if hit is not None and _exact_ok(text, spans, i, hit[0], hit[1]):
                best = _longer(best, hit)
        if best is not None:
            j, entry = best
            if entry.kind is not None:
                end = spans[j][1]
                if entry.trailing_dot and text[end : end + 1] == ".":
                    end += 1
                found.append((spans[i][0], end, entry.kind))
            consumed.append((spans[i][0], spans[j][1]))
            next_free = j + 1
    return found, consumed


def _is_code(text: str, start: int, end: int, raw: str, tables: PlaceTables) -> bool:
    size = len(raw)
    if size not in (2, 3) or not (raw.isascii() and raw.isalpha() and raw.isupper()):
        return False
    if size == 3:
        if raw not in tables.alpha3 or raw in ALPHA3_NEVER:
            return False
        return not (raw in ALPHA3_WORDS and in_capitals(text, start, end))
    if raw not in tables.alpha2 or raw in ALPHA2_NEVER:
        return False
    before = text[max(0, start - 2) : start]
    if before[-1:].isdigit() or (before[-1:] == " " and before[:1].isdigit()):
        return False  # a unit after a number: "16 GB", "500 MT"
    if _DESIGNATION_AFTER.match(text, end):
        return False  # a designation: "SA-7"
    return not in_capitals(text, start, end)
