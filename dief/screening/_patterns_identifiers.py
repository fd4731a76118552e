# ruff: noqa: RUF001 (a multilingual lexicon: Cyrillic, Arabic and CJK text is intended)
"""Vessel (IMO, MMSI, call sign, a name after a vessel word), container (ISO 6346) and
aircraft (ICAO nationality mark, US N-number near an aircraft word) identifiers in free text
(:func:`~dief.screening._patterns.find_patterns` runs them).
"""

from __future__ import annotations

import re
import string
from typing import TYPE_CHECKING

from dief.screening._findings import FindingKind, Span
from dief.screening._regex import by_first_character
from dief.screening._words import SENTENCE_WORDS

if TYPE_CHECKING:
    from collections.abc import Iterator

__all__ = ["identifiers", "iso6346_ok"]


_ID_CONN = r"(?:no\.?|nr\.?|number|numéro|número|n°|nº|#|номер|№|رقم|编号|号)?"
_IMO_RE = re.compile(
    r"(?<![A-Za-z0-9])(?:IMO|ИМО)\s*" + _ID_CONN + r"\s*[:：]?\s*(?P<id>\d{7})(?!\d)", re.IGNORECASE
)
_MMSI_RE = re.compile(
    r"(?<![A-Za-z0-9])(?:MMSI|ММСИ)\s*" + _ID_CONN + r"\s*[:：]?\s*(?P<id>\d{9})(?!\d)",
    re.IGNORECASE,
)
_CALLSIGN_RE = re.compile(
    r"(?<![^\W\u3400-\u9fff])(?:call\s*-?\s*sign|indicatif(?:\s+d['’]appel)?|distintivo\s+de\s+llamada|"
    r"позывной)\s*[:#]?\s*(?P<id>[A-Z0-9]{3,7})(?![^\W\u3400-\u9fff])",
    re.IGNORECASE,
)
_CONTAINER_RE = re.compile(
    r"(?<![A-Za-z0-9])(?P<id>[A-Za-z]{3}[UJZujz]\s?-?\d{6}\s?-?\d)(?![A-Za-z0-9])"
)
_VESSEL_WORDS = (
    r"vessel|ship|tanker|freighter|dhow|boat|barge|trawler|coaster|navire|cargo|buque|"
    r"barco|carguero|судно|теплоход|сухогруз|танкер"
)
_VESSEL_RE = re.compile(
    r"(?<![^\W\u3400-\u9fff])(?<!\d\s)(?:(?:MV|M/V|M\.V\.|MT|M/T|SS|FV|RV|M/S)\s+|"
    rf"(?:{_VESSEL_WORDS})\s+(?:named\s+|called\s+|nommé\s+|"
    r"llamado\s+)?)"
    r"(?P<id>[«\"“]?[A-Z][\w\-]*[»\"”]?(?:\s+[A-Z0-9][\w\-]*[»\"”]?){0,3}|[«\"“][^»\"”\n]{2,40}[»\"”])"
)
#: What every match of _VESSEL_RE holds, without its look-behinds: a vessel word and the
#: first character of a name. Every alternative starts with a letter, which the search
#: skips to; searched before _VESSEL_RE (twice as fast in English, eight times in Arabic).
_VESSEL_GATE_RE = re.compile(
    "|".join(
        rf"{a}\s+[«\"“A-Z]" for a in ("MV", "M/V", r"M\.V\.", "MT", "M/T", "SS", "FV", "RV", "M/S")
    )
    + "|"
    + "|".join(
        rf"{k}\s+(?:(?:named|called|nommé|llamado)\s+)?[«\"“A-Z]" for k in _VESSEL_WORDS.split("|")
    )
)
# Capitalised words after a vessel word that end (or are no) vessel name: the sentence
# words shared with persons (dief.screening._words), capitalised verbs ("Was", "Has")
# that end the run of capitalised words taken as the name, and the ship's people and
# offices a report names next to it. Persons' longer list (months, pronouns, Romance
# articles, institutions) is not taken: vessels are named "El Faro", "La Paloma",
# "Union Star".
_NOT_VESSEL = SENTENCE_WORDS | frozenset(
    ["Was", "Were", "Is", "Has", "Had", "Customs", "Port", "Master", "Captain", "Registry"]
)
# ICAO nationality marks (Annex 7) whose registrations are letters after a hyphen
# ("5Y-ABC", "EP-IGA", "A6-EDA", "9Q-CKS") and those that use digits ("RA-12345").
_MARKS_LETTERS = [
    "A2",
    "A3",
    "A4O",
    "A5",
    "A6",
    "A7",
    "A8",
    "A9C",
    "AP",
    "C2",
    "C3",
    "C5",
    "C6",
    "C9",
    "CC",
    "CN",
    "CP",
    "CS",
    "CU",
    "CX",
    "D2",
    "D4",
    "D6",
    "DQ",
    "E3",
    "E5",
    "E7",
    "EC",
    "EI",
    "EK",
    "EL",
    "EP",
    "ER",
    "ES",
    "ET",
    "EW",
    "EX",
    "EY",
    "EZ",
    "H4",
    "HA",
    "HB",
    "HC",
    "HH",
    "HI",
    "HK",
    "HL",
    "HP",
    "HR",
    "HS",
    "HV",
    "HZ",
    "J2",
    "J3",
    "J5",
    "J6",
    "J7",
    "J8",
    "JU",
    "JY",
    "LN",
    "LV",
    "LX",
    "LY",
    "LZ",
    "OB",
    "OD",
    "OE",
    "OH",
    "OK",
    "OM",
    "OO",
    "OY",
    "P2",
    "P4",
    "PH",
    "PJ",
    "PK",
    "PP",
    "PR",
    "PS",
    "PT",
    "PU",
    "PZ",
    "RDPL",
    "RP",
    "S2",
    "S5",
    "S7",
    "S9",
    "SE",
    "SP",
    "ST",
    "SU",
    "SX",
    "T2",
    "T3",
    "T7",
    "T8A",
    "T9",
    "TC",
    "TF",
    "TG",
    "TI",
    "TJ",
    "TL",
    "TN",
    "TR",
    "TS",
    "TT",
    "TU",
    "TY",
    "TZ",
    "UK",
    "UN",
    "UP",
    "UR",
    "V2",
    "V3",
    "V4",
    "V5",
    "V6",
    "V7",
    "V8",
    "VH",
    "VN",
    "VP",
    "VQ",
    "VT",
    "XA",
    "XB",
    "XC",
    "XT",
    "XU",
    "XY",
    "YA",
    "YI",
    "YJ",
    "YK",
    "YL",
    "YN",
    "YR",
    "YS",
    "YU",
    "YV",
    "Z3",
    "ZA",
    "ZK",
    "ZP",
    "ZS",
    "ZT",
    "ZU",
    "3A",
    "3B",
    "3C",
    "3D",
    "3X",
    "4K",
    "4L",
    "4O",
    "4R",
    "4W",
    "4X",
    "5A",
    "5B",
    "5H",
    "5N",
    "5R",
    "5T",
    "5U",
    "5V",
    "5W",
    "5X",
    "5Y",
    "6O",
    "6V",
    "6W",
    "6Y",
    "7O",
    "7P",
    "7Q",
    "7T",
    "8P",
    "8Q",
    "8R",
    "9A",
    "9G",
    "9H",
    "9J",
    "9K",
    "9L",
    "9M",
    "9N",
    "9Q",
    "9U",
    "9V",
    "9XR",
    "9Y",
]
# Single-letter marks take four letters, and Canada's and France's a fixed first letter:
# "C-SALW" (counter-SALW), "C-IED" and "F-16" are no registrations.
_MARKS_SINGLE = r"C-[FGI][A-Z]{3}|D-[A-Z]{4}|F-[GHO][A-Z]{3}|G-[A-Z]{4}|I-[A-Z]{4}|Z-[A-Z]{3}"
_MARKS_DIGITS = [
    "RA",
    "UR",
    "EW",
    "UK",
    "UP",
    "EX",
    "EY",
    "EZ",
    "4L",
    "4K",
    "ER",
    "EK",
    "B",
    "P",
    "YA",
]
_AIRCRAFT_IDS = (
    r"(?:"
    + "|".join(sorted(map(re.escape, _MARKS_LETTERS), key=len, reverse=True))
    + r")-[A-Z]{3,4}(?:[0-9]{0,2})"
    + r"|(?:"
    + "|".join(sorted(map(re.escape, _MARKS_DIGITS), key=len, reverse=True))
    + r")-\d{4,5}"
    + r"|RP-C\d{3,4}|HL\d{4}|JA\d{3,4}[A-Z]?|"
    + _MARKS_SINGLE
)
#: A registration (the whole match), branched on its first character (see
#: dief.screening._regex): the 200 nationality marks are no longer tried at every position.
_AIRCRAFT_RE = re.compile(
    f"(?:{by_first_character((('id', _AIRCRAFT_IDS, ''),), after=r'(?<![A-Za-z0-9-].)')})"
    r"(?![A-Za-z0-9-])"
)
_SIX_DIGITS_RE = re.compile(r"\d{6}")
#: What every registration holds ("5Y-ABC", "RA-12345", "RP-C1234", "HL1234", "JA123"):
#: searched first, so that "AK-47" or "1001-10000" do not start the full pattern.
_AIRCRAFT_HINT_RE = re.compile(r"-(?:(?<=[A-Z0-9]-)[A-Z]{3}|(?<=[A-Z]-)\d{4}|(?<=P-)C\d)")
_AIRCRAFT_HINT_HL_JA_RE = re.compile(r"(?:HL|JA)\d{3}")
_VESSEL_HINT_RE = re.compile(
    r"M/?[VTS]\b|M\.V\.|\b(?:SS|FV|RV)\s|vessel|ship|tanker|freighter|dhow|boat|barge|"
    r"trawler|coaster|navire|cargo|buque|barco|carguero|судно|теплоход|сухогруз|танкер",
    re.IGNORECASE,
)
_N_NUMBER_RE = re.compile(  # "N" first, then the look-behinds: a literal the search skips to
    r"(?P<id>N(?<![^\W\u3400-\u9fff].)(?<![-].)[1-9]\d{1,4}[A-Z]{0,2})"
    r"(?![^\W\u3400-\u9fff])(?![-])"
)
_AIRCRAFT_CUE_RE = re.compile(
    r"aircraft|airplane|aeroplane|plane|jet|airframe|registration|registered|tail|flight|"
    r"freighter|cargo\s+flight|Il-76|An-12|An-26|An-124|Boeing|Antonov|Ilyushin|Cessna|"
    r"avion|aeronave|avión|самол[её]т|طائرة|飞机",
    re.IGNORECASE,
)


def iso6346_ok(code: str) -> bool:
    """The ISO 6346 check digit of a container number ("MSCU1234565")."""
    chars = re.sub(r"[\s-]", "", code).upper()
    if not re.fullmatch(r"[A-Z]{3}[UJZ]\d{7}", chars):
        return False
    values = []
    v = 10
    table: dict[str, int] = {}
    for letter in string.ascii_uppercase:
        if v % 11 == 0:
            v += 1
        table[letter] = v
        v += 1
    for c in chars[:10]:
        values.append(table[c] if c.isalpha() else int(c))  # noqa: PERF401  each step appended in the order the output reads
    total = sum(val << i for i, val in enumerate(values))
    return total % 11 % 10 == int(chars[10])


def identifiers(text: str) -> Iterator[Span]:  # noqa: C901, PLR0912  one pass over the heuristic's cases in order; splitting it would scatter them
    """Vessel, container and aircraft identifiers (module docstring)."""
    kind = FindingKind.IDENTIFIER
    low = text.lower()
    for rx, hints in (
        (_IMO_RE, ("imo", "имо")),
        (_MMSI_RE, ("mmsi", "ммси")),
        (_CALLSIGN_RE, ("call", "indicatif", "distintivo", "позывн")),
    ):
        if any(h in low for h in hints):
            for m in rx.finditer(text):
                yield m.start("id"), m.end("id"), kind
    if _SIX_DIGITS_RE.search(text):
        for m in _CONTAINER_RE.finditer(text):
            code = m.group("id")
            if code[:4].isupper() or iso6346_ok(code):
                yield m.start("id"), m.end("id"), kind
    if _AIRCRAFT_HINT_RE.search(text) or _AIRCRAFT_HINT_HL_JA_RE.search(text):
        for m in _AIRCRAFT_RE.finditer(text):
            yield m.start(), m.end(), kind
    if "N" in text and _N_NUMBER_RE.search(text) and _AIRCRAFT_CUE_RE.search(text):
        for m in _N_NUMBER_RE.finditer(text):
            window = text[max(0, m.start() - 60) : m.end() + 60]
            if _AIRCRAFT_CUE_RE.search(window):
                yield m.start("id"), m.end("id"), kind
    if _VESSEL_GATE_RE.search(text) is None or _VESSEL_RE.search(text) is None:
        return  # no position matches (a match at a hint needs a match somewhere)
    vessels = (_VESSEL_RE.match(text, h.start()) for h in _VESSEL_HINT_RE.finditer(text))
    for m in (v for v in vessels if v is not None):
        words = m.group("id").split()
        while words and words[-1].strip('»"”') in _NOT_VESSEL:
            words.pop()
        if words and words[0].strip('«"“') not in _NOT_VESSEL:
            start = m.start("id")
            yield start, start + len(" ".join(words)), kind
