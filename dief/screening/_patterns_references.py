# ruff: noqa: RUF001 (a multilingual lexicon: Cyrillic, Arabic and CJK text is intended)
"""Reference numbers in free text: a number after a cue word (a document, a number sign, a
phone word) and stand-alone tokens shaped like a licence or contract number
(:func:`~dief.screening._patterns.find_patterns` runs them). The predicates that keep
years, counts, calibres and weapon designations out are small functions, readable and
tested one by one.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from dief.screening._findings import FindingKind, Span
from dief.screening._patterns_contacts import digits_of, trim
from dief.screening._regex import by_first_character

if TYPE_CHECKING:
    from collections.abc import Iterator

__all__ = [
    "REF_PREFIXES",
    "cued_numbers",
    "is_reference_token",
    "is_short_reference",
    "is_strong_code",
    "reference_tokens",
]

_YEAR = re.compile(r"(?:19|20)\d\d")

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
    # French, Spanish, German
    r"|certificats?\s+d['’]utilisateur\s+final|certificados?\s+de\s+usuario\s+final"
    r"|certificados?\s+de\s+destino\s+final|licencias?\s+de\s+exportaci[oó]n"
    r"|permisos?\s+de\s+exportaci[oó]n|сертификат[аеуом]?\s+конечного\s+пользователя"
    r"|licences?\s+d['’]exportation|contrats?|certificats?|factures?|connaissements?"
    r"|autorisations?|permis|déclarations?|marchés?|licencias?|contratos?|certificados?"
    r"|facturas?|permisos?|autorizaci[oó]n(?:es)?|declaraci[oó]n(?:es)?|expedientes?"
    r"|conocimientos?\s+de\s+embarque|lizenz(?:en)?|genehmigung(?:en)?|vertrag|vertr[aä]ge"
    r"|rechnung(?:en)?|ausfuhrgenehmigung(?:en)?"
    # Russian
    r"|лицензи[яиюей]|лицензия|разрешени[еяюиём]|контракт[аеуом]?|договор[аеуом]?"
    r"|сертификат[аеуом]?|счет[аеуом]?|счёт[аеуом]?|инвойс[аеуом]?|коносамент[аеуом]?"
    r"|накладн(?:ая|ой|ую)|деклараци[яиюей]|дел[оау]"
)
#: Cue words of scripts without capital letters or word spaces, matched anywhere.
_DOC_CUES_NOSPACE = (
    r"رخصة|رخصه|ترخيص|تصريح|عقد|العقد|شهادة|شهاده|فاتورة|فاتوره|بوليصة|بوليصه|بيان"
    r"|许可证|许可|合同|证书|证明|发票|提单|运单|报关单|批文|编号|文号"
)
_PHONE_CUES = (
    r"tel|t[eé]l[eé]phone|phone|ph|fax|mobile|mob|cell(?:phone)?|gsm|whatsapp|signal|viber"
    r"|telegram|tél|portable|teléfono|telefono|móvil|celular|telefon|handy"
    r"|тел|телефон[ау]?|факс|моб|мобильн(?:ый|ого)"
)
_PHONE_CUES_NOSPACE = r"هاتف|الهاتف|جوال|الجوال|فاكس|واتساب|电话|手机|传真|微信"
_CUE_PATTERN = (
    r"(?<![^\W_])(?:"
    rf"(?P<doc>(?:{_DOC_CUES})(?![^\W_]))"
    rf"|(?P<phone>(?:{_PHONE_CUES})(?![^\W_]))"
    r"|(?P<conn>(?:no|nr|num|núm|nº)\.|nr(?![^\W_])|n°|nº|n\.º|#|№)"
    r")"
    rf"|(?P<doc2>{_DOC_CUES_NOSPACE})|(?P<phone2>{_PHONE_CUES_NOSPACE})|(?P<conn2>رقم|号)"
)
# Matching lower-cased text is more than twice as fast as re.IGNORECASE; the
# case-insensitive form is kept for the rare text whose lower() changes its length.
_CUE_RE = re.compile(_CUE_PATTERN, re.IGNORECASE)
# On lower-cased text the two halves of _CUE_PATTERN are searched apart (their matches
# cannot overlap: one is Latin, Cyrillic, "#" and "№", the other Arabic and Chinese), the
# second only in text with Arabic or Chinese in it. The first half is branched on the
# first character of its cue words (see dief.screening._regex): twice as fast.
_CONN_CUES = r"(?:no|nr|num|núm|nº)\.|nr(?![^\W_])|n°|nº|n\.º|#|№"
_CUE_WORDS_LOWER_RE = re.compile(
    by_first_character(
        (
            ("doc", _DOC_CUES, r"(?![^\W_])"),
            ("phone", _PHONE_CUES, r"(?![^\W_])"),
            ("conn", _CONN_CUES, ""),
        ),
        after=r"(?<![^\W_].)",
    )
)
#: The cue words of _CUE_PATTERN's second half, in its order, with their kind: plain words,
#: found with str.find (five times faster than the alternation).
_CUES_NOSPACE: tuple[tuple[str, str], ...] = (
    *((w, "doc") for w in _DOC_CUES_NOSPACE.split("|")),
    *((w, "phone") for w in _PHONE_CUES_NOSPACE.split("|")),
    ("رقم", "conn"),
    ("号", "conn"),
)
_ARABIC_OR_HAN_RE = re.compile(r"[\u0600-\u06ff\u3400-\u9fff]")
_DIGIT_RE = re.compile(r"\d")
_ALNUM = r"[A-Za-z0-9А-Яа-яЁё]"
_CODE = (
    rf"(?P<code>{_ALNUM}*\d{_ALNUM}*(?:[-/.]{_ALNUM}+)*"
    r"|[A-Za-z0-9]+(?:[-/.][A-Za-z0-9]+)*|[А-ЯЁ]{1,5}-\d[\w/.-]*)"
)
_CONNECTOR = (
    r"(?:no|nr|n°|nº|n\.º|núm|num|numbers?|numéro|número|ref|№|رقم|号|编号|номер)"
    r"(?![^\W_])\.?"
)
_DOC_TAIL_RE = re.compile(
    r"\.?(?P<conn>\s*" + _CONNECTOR + r")?\s*[:：#-]?\s*" + _CODE, re.IGNORECASE
)
_CONN_TAIL_RE = re.compile(r"\s*[:：#]?\s*" + _CODE)
_PHONE_TAIL_RE = re.compile(
    r"\.?\s*(?:(?:no|nr|number|num|№|رقم)\.?\s*)?[:：#]?\s*(?P<num>\+?\(?\d[\d\s().\-/]{3,22}\d)",
    re.IGNORECASE,
)

# --------------------------------------------------------------------------- references

#: A token of ASCII letters and digits (joined by "-", "/" or "."), with a digit in it, not
#: part of a longer one. Its first character is read before the look-arounds (which look
#: one character further back), so that the search skips what is not ASCII.
_MIXED_RE = re.compile(
    r"[A-Za-z0-9](?<![A-Za-z0-9].)(?<![A-Za-z0-9][./-].)(?:(?<=[0-9])|(?=[A-Za-z0-9./-]*\d))"
    r"[A-Za-z0-9]*(?:[-/.][A-Za-z0-9]+)*"
)
#: Letter prefixes that make a code a document reference by themselves: "EUC-123/45".
REF_PREFIXES: frozenset[str] = frozenset(
    {"EUC", "EUS", "LIC", "EL", "REF", "INV", "AWB", "PO", "CTR", "PRM", "EXL", "CUF", "CDUF"}
)


def _cues(text: str) -> Iterator[tuple[str, int]]:
    """``(kind, end)`` of every cue of :func:`cued_numbers`: ``doc``, ``conn`` or ``phone``."""
    lowered = text.lower()
    if len(lowered) != len(text):
        for cue in _CUE_RE.finditer(text):
            if cue.group("doc") is not None or cue.group("doc2") is not None:
                yield "doc", cue.end()
            elif cue.group("conn") is not None or cue.group("conn2") is not None:
                yield "conn", cue.end()
            else:
                yield "phone", cue.end()
        return
    for cue in _CUE_WORDS_LOWER_RE.finditer(lowered):
        yield (cue.lastgroup or "").rpartition("_")[0], cue.end()  # "doc_3" -> "doc"
    if _ARABIC_OR_HAN_RE.search(lowered):
        yield from _literal_finditer(lowered, _CUES_NOSPACE)


def _literal_finditer(text: str, words: tuple[tuple[str, str], ...]) -> Iterator[tuple[str, int]]:
    """``(kind, end)`` of what ``re.finditer`` of the alternation of ``words`` (plain words, in
    order) finds: the leftmost word, the first listed of those there, then on after it."""
    first: dict[int, tuple[str, str]] = {}  # position -> the first word listed found there
    for word, kind in words:
        i = text.find(word)
        while i >= 0:
            first.setdefault(i, (word, kind))
            i = text.find(word, i + 1)
    cursor = 0
    for pos in sorted(first):
        if pos >= cursor:
            word, kind = first[pos]
            cursor = pos + len(word)
            yield kind, cursor


def cued_numbers(text: str) -> Iterator[Span]:
    """Numbers right after a document word, a number sign or a phone word."""
    if _DIGIT_RE.search(text) is None:
        return  # every number read after a cue has a digit
    for kind, end in _cues(text):
        if kind == "doc":
            m = _DOC_TAIL_RE.match(text, end)
            if m is not None:
                code = m.group("code")
                if any(c.isdigit() for c in code) and (
                    m.group("conn") or is_strong_code(code) or is_short_reference(text, m)
                ):
                    yield m.start("code"), m.end("code"), FindingKind.REFERENCE_NUMBER
        elif kind == "conn":
            m = _CONN_TAIL_RE.match(text, end)
            if m is not None:
                code = m.group("code")
                numbered = len(digits_of(code)) >= 3 and not _YEAR.fullmatch(code)  # noqa: PLR2004  a length or count threshold of the heuristic (docs/screening.md)
                if is_strong_code(code) or numbered:
                    yield m.start("code"), m.end("code"), FindingKind.REFERENCE_NUMBER
        else:
            m = _PHONE_TAIL_RE.match(text, end)
            if m is not None and len(digits_of(m.group("num"))) >= 5:  # noqa: PLR2004  a length or count threshold of the heuristic (docs/screening.md)
                end = trim(text, m.start("num"), m.end("num"))  # noqa: PLW2901  the loop's item normalised in place, on purpose
                yield m.start("num"), end, FindingKind.PHONE


#: Nouns that make a number after a document word a count or a duration, not a reference.
_COUNT_AFTER = re.compile(
    r"\s*(?:x\s*)?(?:rifles?|pistols?|rounds?|items?|units?|pieces?|pcs|crates?|boxes|"
    r"tonnes?|tons?|kg|t\b|days?|weeks?|months?|years?|hours?|%|percent|per\s*cent|"
    r"times|copies|pages?|fusils?|armes?|cartouches?|jours?|mois|ans|fusiles|armas|"
    r"cartuchos|d[ií]as|meses|años|штук|единиц|дней|месяцев|лет)\b",
    re.IGNORECASE,
)


def is_short_reference(text: str, m: re.Match[str]) -> bool:
    """A short code right after a document word ("licence 77", "contract 12-B").

    Not a reference: a year ("licence 2024"), a period or a calibre ("mid-2024",
    "7.62x39mm"), a word with a number in it ("1000-round"), or a count or duration
    ("a licence 12 months old", "contract 500 rifles").
    """
    code = m.group("code")
    if _YEAR.fullmatch(code) or _CALIBRE.search(code):
        return False
    if any(seg.isalpha() and len(seg) >= 3 and seg.islower() for seg in re.split(r"[-/.]", code)):  # noqa: PLR2004  a length or count threshold of the heuristic (docs/screening.md)
        return False
    if re.fullmatch(r"\d+\.\d+", code):
        return False
    return _COUNT_AFTER.match(text, m.end("code")) is None


def reference_tokens(text: str) -> Iterator[Span]:
    """Stand-alone tokens that read as reference numbers (:func:`is_reference_token`)."""
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
    digits = digits_of(code)
    if not digits:
        return False
    if is_reference_token(code):
        return True
    if _CALIBRE.search(code) or any(
        s.isalpha() and len(s) >= 3 and not s.isupper()  # noqa: PLR2004  a length or count threshold of the heuristic (docs/screening.md)
        for s in re.split(r"[-/.]", code)
    ):
        return False
    if any(c.isalpha() for c in code):
        return True
    if re.search(r"[-/.]", code):
        return len(digits) >= 2 and not re.fullmatch(r"\d+\.\d+", code)  # noqa: PLR2004  a length or count threshold of the heuristic (docs/screening.md)
    return len(digits) >= 4 and not _YEAR.fullmatch(code)  # noqa: PLR2004  a length or count threshold of the heuristic (docs/screening.md)


_CALIBRE = re.compile(r"\d(?:mm|x\d|cal)|^\d+(?:\.\d+)?[a-z]+$", re.IGNORECASE)


def is_reference_token(token: str) -> bool:  # noqa: PLR0911  one pass over the heuristic's cases in order; splitting it would scatter them
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
        if len(segments) != 2:  # noqa: PLR2004  a length or count threshold of the heuristic (docs/screening.md)
            return False
        first, second = segments
        if "/" in token and len(first) >= 3 and _YEAR.fullmatch(second):  # noqa: PLR2004  a length or count threshold of the heuristic (docs/screening.md)
            return True
        return bool(_YEAR.fullmatch(first) and len(second) >= 3 and not _YEAR.fullmatch(second))  # noqa: PLR2004  a length or count threshold of the heuristic (docs/screening.md)
    prefix = re.match(r"[A-Za-z]+", token)
    if prefix and prefix.group().upper() in REF_PREFIXES and len("".join(runs)) >= 2:  # noqa: PLR2004  a length or count threshold of the heuristic (docs/screening.md)
        return True
    if any(s.isalpha() and len(s) >= 3 and not s.isupper() for s in segments):  # noqa: PLR2004  a length or count threshold of the heuristic (docs/screening.md)
        return False  # a word in it: "1000-round", "mid-2024"
    if any(len(r) >= 5 for r in runs):  # noqa: PLR2004  a length or count threshold of the heuristic (docs/screening.md)
        return True
    if not has_sep:
        return False
    if any(len(r) == 4 and not _YEAR.fullmatch(r) for r in runs):  # noqa: PLR2004  a length or count threshold of the heuristic (docs/screening.md)
        return True
    return len(segments) >= 3 and any(_YEAR.fullmatch(r) for r in runs) and len(runs) >= 2  # noqa: PLR2004  a length or count threshold of the heuristic (docs/screening.md)
