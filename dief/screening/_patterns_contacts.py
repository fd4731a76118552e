# ruff: noqa: RUF001 (a multilingual lexicon: Cyrillic, Arabic and CJK text is intended)
"""E-mail addresses, URLs and domains, and phone numbers in free text
(:func:`~dief.screening._patterns.find_patterns` runs them).

Every detector returns ``(start, end, kind)`` spans into the text as given; the predicates
that keep quantities and dates out of the phone numbers are next to their patterns.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from dief.screening._findings import FindingKind, Span
from dief.screening._regex import finditer_in_runs

if TYPE_CHECKING:
    from collections.abc import Iterator

__all__ = [
    "TLDS",
    "digits_of",
    "emails",
    "is_grouped_phone",
    "is_phone_chunk",
    "phones",
    "trim",
    "urls",
]

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

# Runs and starts for finditer_in_runs (dief.screening._regex): a match of _EMAIL_RE starts
# in a run of user-name characters, one of _DOMAIN_WORDS_RE in a run of label characters,
# one of _IDN_RE in a run of dotted labels, each where a shorter name can only fail too.
_EMAIL_USER_RUN_RE = re.compile(r"[\w%+-]+(?:\.[\w%+-]+)*")
_EMAIL_USER_START_RE = re.compile(r"[\w%+-]")
_LABEL_RUN_RE = re.compile(r"[\w-]+")
_DOTTED_RUN_RE = re.compile(r"[^\W_][\w-]*(?:\.[^\W_][\w-]*)*")
_LABEL_START_RE = re.compile(r"[^\W_](?<![^\W\u3400-\u9fff].)(?<![.].)")
# What every run that holds a match holds or is followed by (`near` of finditer_in_runs):
# an e-mail's name ends its run, before "@" or a space and "@"; the first label of a
# spoken domain is followed by a spoken dot, glued ("mod点gov") or after spaces or a bracket.
_EMAIL_AT_RE = re.compile(r"\s?@")
# _EMAIL_OBFUSCATED_RE: a run of name characters, spaces, then "(at)"; _EMAIL_WORDS_RE: a
# name that ends with an "at" word ("th" + "at") or is followed by one after spaces or
# a bracket (every start of such a run is tried: the name is at most 64 characters).
_OBFUSCATED_RUN_RE = re.compile(r"[\w.%+-]+")
_OBFUSCATED_START_RE = re.compile(r"[\w.%+-]")
_SPACES_RE = re.compile(r"\s*")
_USER_RUN_RE = re.compile(r"[\w.+-]+")
_USER_START_RE = re.compile(r"[^\W_\u3400-\u9fff](?<![^\W\u3400-\u9fff].)(?<![.@].)")

_AT_WORD_RE = re.compile(r"[\[({<]\s*at\s*[\])}>]", re.IGNORECASE)
_AT_WORDS = r"at|arobase|arroba|собака|собачка|ат"
_AT_WORD_END_RE = re.compile(r"(?i:" + _AT_WORDS + r")(?![\w.+-])")
_DOT_WORDS = r"dot|point|punto|точка|نقطة|点"
#: "j.doe at mod dot gov dot fr", "j.doe (at) mod.gov.fr", "desk arobase defense point fr".
_EMAIL_WORDS_RE = re.compile(
    r"(?<![^\W\u3400-\u9fff])(?<![.@])(?P<user>[^\W_\u3400-\u9fff][\w.+-]{0,63})\s*[\[({<]?\s*(?P<at>"
    + _AT_WORDS
    + r")\s*[\])}>]?\s+"
    r"(?P<host>[^\W_][\w-]*(?:(?:\s*[\[({<]?\s*(?:" + _DOT_WORDS + r")\s*[\])}>]?\s*"
    r"|\.(?=\w))[^\W_][\w-]*)+)",
    re.IGNORECASE,
)
#: An "at" word (_AT_WORDS), a word and a dot word or a dot. Written to start with the
#: first letter of the "at" word, in either case (the look-behind then looks one character
#: further back), so that the search skips to those letters: twice as fast.
_AT_WORD_ONLY_RE = re.compile(
    r"[aAсСаА](?<![^\W_].)(?i:(?:(?<=a)(?:t|robase|rroba)|(?<=с)(?:обака|обачка)|(?<=а)т)"
    r"\s*[\])}>]?\s+[^\W_][\w-]*\s*[\[({<]?\s*(?:" + _DOT_WORDS + r"|\.(?=\w)))"
)
#: "mod dot gov dot fr" (two or more spoken dots).
_DOMAIN_WORDS_RE = re.compile(
    r"(?<![^\W\u3400-\u9fff])(?<![.])[^\W_][\w-]*(?:\s*[\[({<]?\s*(?:"
    + _DOT_WORDS
    + r")\s*[\])}>]?\s*"
    r"[^\W_][\w-]*){2,}",
    re.IGNORECASE,
)
# (the first character read first, with the characters that match it case-insensitively:
# "ᲄ" and "ᲅ" are a "т"; a dot word is in a run, or after it and _SPOKEN_DOT_GAP_RE)
_SPOKEN_DOT_RE = re.compile(
    r"[dDpPтТᲄᲅن点](?i:(?<=d)ot|(?<=p)oint|(?<=p)unto|(?<=т)очка|(?<=ن)قطة|(?<=点))"
)
_SPOKEN_DOT_GAP_RE = re.compile(r"\s*[\[({<]?\s*")
_DOT_SPLIT_RE = re.compile(r"\s*[\[({<]?\s*(?:" + _DOT_WORDS + r")\s*[\])}>]?\s*|\.", re.IGNORECASE)
_IDN_TLDS = (
    r"\.(?:рф|бел|укр|қаз|срб|мкд|мон|"
    r"مصر|السعودية|امارات|قطر|الاردن|المغرب|الجزائر|تونس|سورية|عمان|فلسطين|عراق|"
    r"中国|中國|公司|网络|網絡|香港|台湾|台灣)(?![^\W\u3400-\u9fff])"
)
_IDN_RE = re.compile(r"(?<![^\W\u3400-\u9fff])(?<![.])[^\W_][\w-]*(?:\.[^\W_][\w-]*)*" + _IDN_TLDS)
#: What every match of _IDN_RE ends with: searched first, as the full pattern backtracks
#: through every run of ideographs (0.5 ms in 2,000 characters of Chinese).
_IDN_TLD_RE = re.compile(_IDN_TLDS)
#: Two spoken dots with a label between: what every match of _DOMAIN_WORDS_RE holds.
_TWO_DOT_WORDS_RE = re.compile(  # the first dot word read from its first character
    r"[dDpPтТᲄᲅن点](?i:(?:(?<=d)ot|(?<=p)oint|(?<=p)unto|(?<=т)очка|(?<=ن)قطة|(?<=点))"
    r"\s*[\])}>]?\s*[^\W_][\w-]*\s*[\[({<]?\s*(?:" + _DOT_WORDS + r"))"
)

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
#: A top-level domain right after a dot or a spoken dot, and ending there (or before
#: another spoken dot): what the last label of every e-mail address in words that
#: _EMAIL_WORDS_RE reports stands in. Searched before it ("at this point" calls it).
_SPOKEN_TLD_RE = re.compile(
    r"(?:(?:" + _DOT_WORDS + r")\s*[\])}>]?\s*|\.)"
    r"(?:" + "|".join(sorted(TLDS, key=lambda t: (-len(t), t))) + r")"
    r"(?:(?![\w-])|(?=" + _DOT_WORDS + r"))",
    re.IGNORECASE,
)

_URL_RE = re.compile(
    r"(?<![^\W\u3400-\u9fff])(?<![.-])(?:(?:https?|s?ftp|ftps)://|www\d{0,3}\.)[^\s<>\"'`\u3000-\u303f\u3400-\u9fff\uff00-\uffef]+",
    re.IGNORECASE,
)
_DOMAIN_RE = re.compile(
    r"(?<![^\W\u3400-\u9fff])(?<![@.-])(?:[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?\.)+(?P<tld>[A-Za-z]{2,24})"
    r"(?![^\W\u3400-\u9fff]|\.[A-Za-z0-9])(?![-]|\.[A-Za-z0-9])(?:[/:][^\s<>\"'`]*)?"
)
_IPV4_RE = re.compile(
    r"(?<![^\W\u3400-\u9fff])(?<![.])(?:(?:25[0-5]|2[0-4]\d|1?\d?\d)\.){3}(?:25[0-5]|2[0-4]\d|1?\d?\d)(?![^\W\u3400-\u9fff]|\.\d)"
)
_DOT_LETTERS_RE = re.compile(r"[A-Za-z0-9]\.[A-Za-z]{2}")
_DOTTED_DIGITS_RE = re.compile(r"\d\.\d{1,3}\.\d")
_TRAILING_PUNCT = ".,;:!?)]}'\"\u2019\u201d"

# --------------------------------------------------------------------------- phone

_PHONE_PLUS_RE = re.compile(
    r"\+(?<![^\W\u3400-\u9fff]\+)(?<![+]\+)\s?\(?\d{1,4}\)?(?:[\s.\-/]{0,2}\(?\d{1,6}\)?){1,7}"
)
_PHONE_00_RE = re.compile(
    r"0(?<![^\W\u3400-\u9fff]0)(?<![.,/+-]0)0[1-9]\d{0,3}(?:[\s.\-/]{1,2}\(?\d{1,6}\)?){1,7}"
)
_PHONE_PAREN_RE = re.compile(
    r"\((?<![^\W\u3400-\u9fff]\()(?<![.,/+-]\()(?:0\d{1,4}|\d{2,3})\)\s?\d{2,5}(?:[\s.\-]\d{2,5}){0,4}(?![^\W\u3400-\u9fff])"
)
#: Runs of digits joined by single spaces, dots or hyphens: phone numbers, quantities, dates.
_DIGIT_CHUNK_RE = re.compile(
    r"\d(?<![^\W\u3400-\u9fff]\d)(?<![.,/+-]\d)\d*(?:[ .\-]\d+)*+(?![^\W\u3400-\u9fff]|[.,/-]\d)"
)
_ROUND_QUANTITY = re.compile(r"[1-9]\d{0,2}0{6,}")
_GROUP_SPLIT = re.compile(r"[ .\-]")


def emails(text: str) -> Iterator[Span]:
    """E-mail addresses, plain, obfuscated ("j.doe [at] mod [dot] gov") or in words."""
    if "@" in text:
        runs = finditer_in_runs(
            _EMAIL_RE, text, _EMAIL_USER_RUN_RE, _EMAIL_USER_START_RE, _EMAIL_AT_RE
        )
        for m in runs:
            if "@" in m.group():
                yield m.start(), m.end(), FindingKind.EMAIL
    if _AT_WORD_RE.search(text):
        obfuscated = finditer_in_runs(
            _EMAIL_OBFUSCATED_RE,
            text,
            _OBFUSCATED_RUN_RE,
            _OBFUSCATED_START_RE,
            _AT_WORD_RE,
            _SPACES_RE,
        )
        for m in obfuscated:
            yield m.start(), m.end(), FindingKind.EMAIL
    if _AT_WORD_ONLY_RE.search(text) and _SPOKEN_TLD_RE.search(text):
        in_words = finditer_in_runs(
            _EMAIL_WORDS_RE,
            text,
            _USER_RUN_RE,
            _USER_START_RE,
            _AT_WORD_END_RE,
            _SPOKEN_DOT_GAP_RE,
            monotonic=False,  # a name of at most 64 characters: a later start can match
        )
        for m in in_words:
            labels = [x for x in _DOT_SPLIT_RE.split(m.group("host")) if x]
            spoken = len(labels) > 1 and "." not in m.group("host").replace(" ", "")
            bracketed = m.start("at") > 0 and text[m.start("at") - 1] in "[({<"
            if (
                len(labels) >= 2  # noqa: PLR2004  a length or count threshold of the heuristic (docs/screening.md)
                and labels[-1].lower() in TLDS
                and (spoken or bracketed or m.group("at").lower() != "at")
            ):
                yield m.start(), m.end(), FindingKind.EMAIL


def trim(text: str, start: int, end: int) -> int:
    """*end* moved back over trailing punctuation (not part of an address or number)."""
    while end > start and text[end - 1] in _TRAILING_PUNCT:
        end -= 1
    return end


def urls(text: str) -> Iterator[Span]:  # noqa: C901  one pass over the heuristic's cases in order; splitting it would scatter them
    """URLs, domains (also spoken: "mod dot gov dot fr"), internationalised domains, IPv4."""
    if "://" in text or "www" in text.lower():
        for m in _URL_RE.finditer(text):
            yield m.start(), trim(text, m.start(), m.end()), FindingKind.URL
    if _DOT_LETTERS_RE.search(text):
        for m in _DOMAIN_RE.finditer(text):
            tld = m.group("tld")
            if tld.lower() in TLDS and _tld_case_ok(tld, m.group()):
                yield m.start(), trim(text, m.start(), m.end()), FindingKind.URL
    if not text.isascii() and _IDN_TLD_RE.search(text):
        for m in finditer_in_runs(_IDN_RE, text, _DOTTED_RUN_RE, _LABEL_START_RE, _IDN_TLD_RE):
            yield m.start(), m.end(), FindingKind.URL
    low = text.lower()
    if any(w in low for w in ("dot", "point", "punto", "точка")) and _TWO_DOT_WORDS_RE.search(text):
        runs = finditer_in_runs(
            _DOMAIN_WORDS_RE,
            text,
            _LABEL_RUN_RE,
            _LABEL_START_RE,
            _SPOKEN_DOT_RE,
            _SPOKEN_DOT_GAP_RE,
        )
        for m in runs:
            labels = [x for x in _DOT_SPLIT_RE.split(m.group()) if x]
            if len(labels) >= 3 and labels[-1].lower() in TLDS:  # noqa: PLR2004  a length or count threshold of the heuristic (docs/screening.md)
                yield m.start(), m.end(), FindingKind.URL
    if _DOTTED_DIGITS_RE.search(text):
        for m in _IPV4_RE.finditer(text):
            yield m.start(), m.end(), FindingKind.URL


#: Title-case words that end sentences joined without a space ("shipped.In 2024").
_TITLE_WORDS = frozenset(
    [
        "in",
        "it",
        "is",
        "at",
        "as",
        "be",
        "by",
        "do",
        "go",
        "me",
        "my",
        "no",
        "so",
        "to",
        "us",
        "am",
        "an",
        "or",
        "if",
        "of",
        "on",
        "he",
        "we",
        "up",
        "ok",
        "hi",
        "id",
    ]
)


def _tld_case_ok(tld: str, domain: str) -> bool:
    """Lower- or upper-case TLDs always; mixed case ("Mod.Gov.Fr", "example.CoM") unless
    it reads as two sentences joined without a space ("shipped.In 2024")."""
    if tld.islower() or tld.isupper():
        return True
    return not (tld.lower() in _TITLE_WORDS and domain.count(".") < 2)  # noqa: PLR2004  a length or count threshold of the heuristic (docs/screening.md)


def digits_of(s: str) -> str:
    """The digits of *s*."""
    return "".join(c for c in s if c.isdigit())


def phones(text: str) -> Iterator[Span]:  # noqa: C901  one pass over the heuristic's cases in order; splitting it would scatter them
    """Phone numbers: international (+, 00), a bracketed area code, grouped digit runs."""
    if "+" in text:
        for m in _PHONE_PLUS_RE.finditer(text):
            if len(digits_of(m.group())) >= 7:  # noqa: PLR2004  a length or count threshold of the heuristic (docs/screening.md)
                yield m.start(), trim(text, m.start(), m.end()), FindingKind.PHONE
    if "00" in text:
        for m in _PHONE_00_RE.finditer(text):
            if len(digits_of(m.group())) >= 9:  # noqa: PLR2004  a length or count threshold of the heuristic (docs/screening.md)
                yield m.start(), trim(text, m.start(), m.end()), FindingKind.PHONE
    if "(" in text:
        for m in _PHONE_PAREN_RE.finditer(text):
            digits = digits_of(m.group())
            if len(digits) >= (8 if digits.startswith("0") else 9):
                yield m.start(), m.end(), FindingKind.PHONE
    for m in _DIGIT_CHUNK_RE.finditer(text):
        chunk = m.group()
        if len(chunk) >= 9 and is_phone_chunk(chunk):  # noqa: PLR2004  a length or count threshold of the heuristic (docs/screening.md)
            yield m.start(), m.end(), FindingKind.PHONE


def is_phone_chunk(chunk: str) -> bool:
    """A run of digit groups that reads as a phone number (see :func:`is_grouped_phone`)."""
    if chunk.isdigit():
        return 9 <= len(chunk) <= 15 and not _ROUND_QUANTITY.fullmatch(chunk)  # noqa: PLR2004  a length or count threshold of the heuristic (docs/screening.md)
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
    if not 9 <= len(digits) <= 15:  # noqa: PLR2004  a length or count threshold of the heuristic (docs/screening.md)
        return False
    if digits.startswith("0"):
        return True
    if (
        len(seps) == 1
        and seps <= {" ", "."}
        and len(groups[0]) <= 3  # noqa: PLR2004  a length or count threshold of the heuristic (docs/screening.md)
        and all(len(g) == 3 for g in groups[1:])  # noqa: PLR2004  a length or count threshold of the heuristic (docs/screening.md)
    ):
        return False
    if " " in seps:
        # Spaced numbers without a trunk prefix are quantities or years ("in 2025 12 500
        # rounds") unless they have the North American 3-3-4 shape.
        return [len(g) for g in groups] == [3, 3, 4]
    return not (len(groups) == 2 and len(digits) < 10)  # noqa: PLR2004  a length or count threshold of the heuristic (docs/screening.md)
