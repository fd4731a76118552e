"""E-mail addresses, URLs and domains, phone numbers and reference numbers in free text.

Every detector returns ``(start, end, kind)`` spans into the text as given. The regular
expressions are compiled at import (cheap, no I/O); the heuristics that keep years,
dates, quantities, calibres and weapon designations out are in small predicate functions
next to each pattern, so they can be read and tested one by one.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

from dief.screening._findings import FindingKind

__all__ = ["find_patterns"]

Span = tuple[int, int, FindingKind]

# --------------------------------------------------------------------------- e-mail

_EMAIL_RE = re.compile(
    r"[\w%+-]+(?:\.[\w%+-]+)*"
    r"(?:\s?@\s?[^\W_](?:[\w-]*[^\W_])?(?:\.[^\W_](?:[\w-]*[^\W_])?)+"  # user @ dom.tld
    r"|@[^\W_][\w-]*[^\W_])"  # user@host (no dot, no spaces)
)
_EMAIL_OBFUSCATED_RE = re.compile(
    r"[\w.%+-]+\s*[\[({<]\s*at\s*[\])}>]\s*[^\W_][\w-]*"
    r"(?:\s*(?:[\[({<]\s*dot\s*[\])}>]|\.)\s*[^\W_][\w-]*)+",
    re.IGNORECASE,
)

_AT_WORD_RE = re.compile(r"[\[({<]\s*at\s*[\])}>]", re.IGNORECASE)

# --------------------------------------------------------------------------- URL, domain

_ISO_TLDS = (
    "ac ad ae af ag ai al am ao aq ar as at au aw ax az ba bb bd be bf bg bh bi bj bm bn bo "
    "bq br bs bt bv bw by bz ca cc cd cf cg ch ci ck cl cm cn co cr cu cv cw cx cy cz de dj "
    "dk dm do dz ec ee eg eh er es et eu fi fj fk fm fo fr ga gb gd ge gf gg gh gi gl gm gn "
    "gp gq gr gs gt gu gw gy hk hm hn hr ht hu id ie il im in io iq ir is it je jm jo jp ke "
    "kg kh ki km kn kp kr kw ky kz la lb lc li lk lr ls lt lu lv ly ma mc md me mf mg mh mk "
    "ml mm mn mo mp mq mr ms mt mu mv mw mx my mz na nc ne nf ng ni nl no np nr nu nz om pa "
    "pe pf pg ph pk pl pm pn pr ps pt pw py qa re ro rs ru rw sa sb sc sd se sg sh si sj sk "
    "sl sm sn so sr ss st su sv sx sy sz tc td tf tg th tj tk tl tm tn to tr tt tv tw tz ua "
    "ug uk um us uy uz va vc ve vg vi vn vu wf ws xk ye yt za zm zw"
)
_GENERIC_TLDS = (
    "com net org edu gov mil int info biz name pro aero coop museum mobi asia tel travel jobs "
    "cat post app dev ai xyz online site top club shop store tech news blog web website space "
    "live life world today global email cloud digital network agency company center solutions "
    "services group international media link click page host press ngo ong onion lat africa "
    "arpa"
)
TLDS: frozenset[str] = frozenset((_ISO_TLDS + " " + _GENERIC_TLDS).split())

_URL_RE = re.compile(
    r"(?<![\w.-])(?:(?:https?|s?ftp|ftps)://|www\d{0,3}\.)[^\s<>\"'`]+", re.IGNORECASE
)
_DOMAIN_RE = re.compile(
    r"(?<![\w@.-])(?:[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?\.)+(?P<tld>[A-Za-z]{2,24})"
    r"(?![\w-]|\.[A-Za-z0-9])(?:[/:][^\s<>\"'`]*)?"
)
_IPV4_RE = re.compile(
    r"(?<![\w.])(?:(?:25[0-5]|2[0-4]\d|1?\d?\d)\.){3}(?:25[0-5]|2[0-4]\d|1?\d?\d)(?![\w]|\.\d)"
)
_DOT_LETTERS_RE = re.compile(r"[A-Za-z0-9]\.[A-Za-z]{2}")
_DOTTED_DIGITS_RE = re.compile(r"\d\.\d{1,3}\.\d")
_TRAILING_PUNCT = ".,;:!?)]}'\"\u2019\u201d"

# --------------------------------------------------------------------------- phone

_PHONE_PLUS_RE = re.compile(r"\+(?<![\w+]\+)\s?\(?\d{1,4}\)?(?:[\s.\-/]{0,2}\(?\d{1,6}\)?){1,7}")
_PHONE_00_RE = re.compile(r"0(?<![\w.,/+-]0)0[1-9]\d{0,3}(?:[\s.\-/]{1,2}\(?\d{1,6}\)?){1,7}")
_PHONE_PAREN_RE = re.compile(
    r"\((?<![\w.,/+-]\()(?:0\d{1,4}|\d{2,3})\)\s?\d{2,5}(?:[\s.\-]\d{2,5}){0,4}(?!\w)"
)
#: Runs of digits joined by single spaces, dots or hyphens: phone numbers, quantities, dates.
_DIGIT_CHUNK_RE = re.compile(r"\d(?<![\w.,/+-]\d)\d*(?:[ .\-]\d+)*+(?![\w]|[.,/-]\d)")
_YEAR = re.compile(r"(?:19|20)\d\d")
_ROUND_QUANTITY = re.compile(r"[1-9]\d{0,2}0{6,}")
_GROUP_SPLIT = re.compile(r"[ .\-]")

# --------------------------------------------------------------------------- cue words

# One pass finds every word that announces a number; an anchored "tail" pattern then reads
# the number that follows it.
_DOC_CUES = (
    r"end[\s-]*users?\s+(?:certificate|statement|undertaking)s?|e\.?u\.?c|e\.?u\.?s"
    r"|(?:export|import|transit|transfer|brokering|broker'?s?)\s+"
    r"(?:licen[cs]e|permit|authori[sz]ation)s?"
    r"|licen[cs]es?|permits?|authori[sz]ations?|certificates?|contracts?|invoices?"
    r"|bills?\s+of\s+lading|b/l|awb|air\s*waybills?|waybills?|manifests?|containers?"
    r"|purchase\s+orders?|p\.?o|letters?\s+of\s+credit|l/c|declarations?|dossiers?|files?"
    r"|ref(?:erence)?s?|serials?|s/n|registrations?|tenders?|dockets?"
)
_PHONE_CUES = (
    r"tel|t[eé]l[eé]phone|phone|ph|fax|mobile|mob|cell(?:phone)?|gsm|whatsapp|signal|viber"
    r"|telegram"
)
_CUE_PATTERN = (
    r"(?<![^\W_])(?:"
    rf"(?P<doc>(?:{_DOC_CUES})(?![^\W_]))"
    rf"|(?P<phone>(?:{_PHONE_CUES})(?![^\W_]))"
    r"|(?P<conn>(?:no|nr|num)\.|nr(?![^\W_])|n°|#)"
    r")"
)
# Matching lower-cased text is more than twice as fast as re.IGNORECASE; the
# case-insensitive form is kept for the rare text whose lower() changes its length.
_CUE_LOWER_RE = re.compile(_CUE_PATTERN)
_CUE_RE = re.compile(_CUE_PATTERN, re.IGNORECASE)
_CODE = r"(?P<code>[A-Za-z0-9]+(?:[-/.][A-Za-z0-9]+)*)"
_CONNECTOR = r"(?:no|nr|n°|num|numbers?|ref)(?![^\W_])\.?"
_DOC_TAIL_RE = re.compile(
    r"\.?(?P<conn>\s*" + _CONNECTOR + r")?\s*[:#-]?\s*" + _CODE, re.IGNORECASE
)
_CONN_TAIL_RE = re.compile(r"\s*[:#]?\s*" + _CODE)
_PHONE_TAIL_RE = re.compile(
    r"\.?\s*(?:(?:no|nr|number|num)\.?\s*)?[:#]?\s*(?P<num>\+?\(?\d[\d\s().\-/]{3,22}\d)",
    re.IGNORECASE,
)

# --------------------------------------------------------------------------- references

_MIXED_RE = re.compile(
    r"(?<![A-Za-z0-9])(?<![A-Za-z0-9][./-])(?=[A-Za-z0-9./-]*\d)"
    r"[A-Za-z0-9]+(?:[-/.][A-Za-z0-9]+)*"
)
#: Letter prefixes that make a code a document reference by themselves: "EUC-123/45".
REF_PREFIXES: frozenset[str] = frozenset(
    {"EUC", "EUS", "LIC", "EL", "REF", "INV", "AWB", "PO", "CTR", "PRM", "EXL"}
)


def find_patterns(text: str) -> list[Span]:
    """All e-mail, URL, phone and reference-number spans (possibly overlapping)."""
    spans: list[Span] = []
    spans.extend(_emails(text))
    spans.extend(_urls(text))
    spans.extend(_phones(text))
    spans.extend(_cued_numbers(text))
    spans.extend(_reference_tokens(text))
    return spans


def _emails(text: str) -> Iterator[Span]:
    if "@" in text:
        for m in _EMAIL_RE.finditer(text):
            if "@" in m.group():
                yield m.start(), m.end(), FindingKind.EMAIL
    if _AT_WORD_RE.search(text):
        for m in _EMAIL_OBFUSCATED_RE.finditer(text):
            yield m.start(), m.end(), FindingKind.EMAIL


def _trim(text: str, start: int, end: int) -> int:
    while end > start and text[end - 1] in _TRAILING_PUNCT:
        end -= 1
    return end


def _urls(text: str) -> Iterator[Span]:
    if "://" in text or "www" in text.lower():
        for m in _URL_RE.finditer(text):
            yield m.start(), _trim(text, m.start(), m.end()), FindingKind.URL
    if _DOT_LETTERS_RE.search(text):
        for m in _DOMAIN_RE.finditer(text):
            tld = m.group("tld")
            if tld.lower() in TLDS and (tld.islower() or tld.isupper()):
                yield m.start(), _trim(text, m.start(), m.end()), FindingKind.URL
    if _DOTTED_DIGITS_RE.search(text):
        for m in _IPV4_RE.finditer(text):
            yield m.start(), m.end(), FindingKind.URL


def _digits(s: str) -> str:
    return "".join(c for c in s if c.isdigit())


def _phones(text: str) -> Iterator[Span]:
    if "+" in text:
        for m in _PHONE_PLUS_RE.finditer(text):
            if len(_digits(m.group())) >= 7:
                yield m.start(), _trim(text, m.start(), m.end()), FindingKind.PHONE
    if "00" in text:
        for m in _PHONE_00_RE.finditer(text):
            if len(_digits(m.group())) >= 9:
                yield m.start(), _trim(text, m.start(), m.end()), FindingKind.PHONE
    if "(" in text:
        for m in _PHONE_PAREN_RE.finditer(text):
            digits = _digits(m.group())
            if len(digits) >= (8 if digits.startswith("0") else 9):
                yield m.start(), m.end(), FindingKind.PHONE
    for m in _DIGIT_CHUNK_RE.finditer(text):
        chunk = m.group()
        if len(chunk) >= 9 and is_phone_chunk(chunk):
            yield m.start(), m.end(), FindingKind.PHONE


def is_phone_chunk(chunk: str) -> bool:
    """A run of digit groups that reads as a phone number (see :func:`is_grouped_phone`)."""
    if chunk.isdigit():
        return 9 <= len(chunk) <= 15 and not _ROUND_QUANTITY.fullmatch(chunk)
    return is_grouped_phone(chunk)


def is_grouped_phone(s: str) -> bool:
    """Digit groups with separators that read as a phone number, not a quantity or date.

    9 to 15 digits; a leading 0 (trunk prefix) is decisive. Not a phone number: thousands
    written with spaces or dots ("12 500 000", "1.000.000"), space-separated groups other
    than 3-3-4 ("in 2025 12 500 rounds"), two groups of fewer than 10 digits
    ("1001-10000"). Dates have at most 8 digits and never get here.
    """
    groups = _GROUP_SPLIT.split(s)
    seps = set(_GROUP_SPLIT.findall(s))
    digits = "".join(groups)
    if not 9 <= len(digits) <= 15:
        return False
    if digits.startswith("0"):
        return True
    if (
        len(seps) == 1
        and seps <= {" ", "."}
        and len(groups[0]) <= 3
        and all(len(g) == 3 for g in groups[1:])
    ):
        return False
    if " " in seps:
        # Spaced numbers without a trunk prefix are quantities or years ("in 2025 12 500
        # rounds") unless they have the North American 3-3-4 shape.
        return [len(g) for g in groups] == [3, 3, 4]
    return not (len(groups) == 2 and len(digits) < 10)


def _cued_numbers(text: str) -> Iterator[Span]:
    """Numbers right after a document word, a number sign or a phone word."""
    lowered = text.lower()
    cues = _CUE_LOWER_RE.finditer(lowered) if len(lowered) == len(text) else _CUE_RE.finditer(text)
    for cue in cues:
        if cue.group("doc") is not None:
            m = _DOC_TAIL_RE.match(text, cue.end())
            if m is not None:
                code = m.group("code")
                if any(c.isdigit() for c in code) and (m.group("conn") or is_strong_code(code)):
                    yield m.start("code"), m.end("code"), FindingKind.REFERENCE_NUMBER
        elif cue.group("conn") is not None:
            m = _CONN_TAIL_RE.match(text, cue.end())
            if m is not None:
                code = m.group("code")
                if is_strong_code(code) or (len(_digits(code)) >= 3 and not _YEAR.fullmatch(code)):
                    yield m.start("code"), m.end("code"), FindingKind.REFERENCE_NUMBER
        else:
            m = _PHONE_TAIL_RE.match(text, cue.end())
            if m is not None and len(_digits(m.group("num"))) >= 5:
                end = _trim(text, m.start("num"), m.end("num"))
                yield m.start("num"), end, FindingKind.PHONE


def _reference_tokens(text: str) -> Iterator[Span]:
    for m in _MIXED_RE.finditer(text):
        if is_reference_token(m.group()):
            yield m.start(), m.end(), FindingKind.REFERENCE_NUMBER


def is_strong_code(code: str) -> bool:
    """A code right after a document word that is a number, not a year, count or calibre.

    A reference-shaped token (see :func:`is_reference_token`); letters and digits
    ("AB123", "77-A"); a separator and two or more digits ("123/45"); four or more digits
    that are not a year ("4521"). Not: a year ("2024"), a count ("500"), a period
    ("mid-2024"), a calibre ("7.62x39mm", "12.7mm").
    """
    digits = _digits(code)
    if not digits:
        return False
    if is_reference_token(code):
        return True
    if _CALIBRE.search(code) or any(
        s.isalpha() and len(s) >= 3 and not s.isupper() for s in re.split(r"[-/.]", code)
    ):
        return False
    if any(c.isalpha() for c in code):
        return True
    if re.search(r"[-/.]", code):
        return len(digits) >= 2 and not re.fullmatch(r"\d+\.\d+", code)
    return len(digits) >= 4 and not _YEAR.fullmatch(code)


_CALIBRE = re.compile(r"\d(?:mm|x\d|cal)|^\d+(?:\.\d+)?[a-z]+$", re.IGNORECASE)


def is_reference_token(token: str) -> bool:
    """A stand-alone token that looks like a licence, contract or permit number.

    Refused: letters with a run of 5+ digits ("AB12345", "MSCU1234567"); a document
    prefix with 2+ digits ("EUC-123/45", "LIC2023"); letters, a separator and a 4-digit run
    that is not a year ("DE-2023-4471"); three or more segments with a year and another
    number ("EL-2024-12"); digits over a year ("4521/2023"); a year then a serial
    ("2024-00123"). Not refused: calibres ("7.62x39mm"), designations ("AK-47", "An-124-100",
    "M1911", "SA-7"), periods ("mid-2024", "Q3-2026", "1990s"), quantities
    ("1000-round"), year ranges ("2023-2024"), dates.
    """
    segments = re.split(r"[-/.]", token)
    has_sep = len(segments) > 1
    runs = re.findall(r"\d+", token)
    if not runs:
        return False
    if not any(c.isalpha() for c in token):
        if len(segments) != 2:
            return False
        first, second = segments
        if "/" in token and len(first) >= 3 and _YEAR.fullmatch(second):
            return True
        return bool(_YEAR.fullmatch(first) and len(second) >= 3 and not _YEAR.fullmatch(second))
    prefix = re.match(r"[A-Za-z]+", token)
    if prefix and prefix.group().upper() in REF_PREFIXES and len("".join(runs)) >= 2:
        return True
    if any(s.isalpha() and len(s) >= 3 and not s.isupper() for s in segments):
        return False  # a word in it: "1000-round", "mid-2024"
    if any(len(r) >= 5 for r in runs):
        return True
    if not has_sep:
        return False
    if any(len(r) == 4 and not _YEAR.fullmatch(r) for r in runs):
        return True
    return len(segments) >= 3 and any(_YEAR.fullmatch(r) for r in runs) and len(runs) >= 2
