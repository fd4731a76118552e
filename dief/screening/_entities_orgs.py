# ruff: noqa: RUF001, RUF002, RUF003 (a multilingual lexicon: Cyrillic, Arabic and CJK text is intended)
"""Names of organisations (:func:`find_organizations`): capitalised words before a legal
form in any of the forum's languages (Ltd, LLC, FZE, GmbH, SARL, S.A., ООО, 有限公司 …),
after "Messrs" or a company word with a quoted name ("компания «Восток»"), or before a
sector word ("Acme Defence Trading")."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from dief.screening._entities_words import NAME, group_spans, has_range, plain_words
from dief.screening._findings import FindingKind
from dief.screening._regex import after_first
from dief.screening._words import NAME_ARTICLES, NAME_PARTICLES, particle_name

if TYPE_CHECKING:
    from collections.abc import Iterator

    from dief.screening._entities_words import Words
    from dief.screening._findings import Span

__all__ = ["find_organizations"]

# fmt: off
_LEGAL_FORMS = (
    r"Ltd|Limited|LLC|L\.L\.C|Inc|Incorporated|Corp|Corporation|Co\.|PLC|Plc|plc|LLP|LP|"
    r"Pty|Pte|Bhd|Sdn\s+Bhd|Tbk|GmbH|AG|KG|OHG|UG|SE|SARL|S\.A\.R\.L|SAS|S\.A\.S|SA|S\.A|"
    r"SpA|S\.p\.A|SRL|S\.R\.L|Srl|S\.L|BV|B\.V|NV|N\.V|ASA|A/S|ApS|Oy|Oyj|Kft|Zrt|"
    r"sp\.\s?z\s?o\.o|s\.r\.o|d\.o\.o|EOOD|OOD|Ltda|S\.A\.\s?de\s?C\.V|"
    r"SAPI|EIRL|EURL|SCI|FZE|FZCO|FZC|FZ-LLC|FZ\s?LLC|DMCC|JSC|OJSC|CJSC|PJSC|OAO|ZAO|"
    r"OOO|TOO|JLT|WLL|W\.L\.L|SPC|SAOG|SAOC|KSC|KSCC|PSC|QSC|BSC|"
    r"ООО|ОАО|ЗАО|ПАО|АО|НАО|ИП|ТОО|ЧП|ЧУП|ОДО|УП|ГУП|ФГУП|"
    r"Holding|Holdings|Group|Trading|Enterprises|Industries"
)
# fmt: on
_ORG_WORDS = (
    r"Trading|Logistics|Shipping|Holdings|Holding|Group|Industries|Enterprises|Arms|"
    r"Defence|Defense|Security|Aviation|Airlines|Airways|Air|Cargo|Freight|Marine|"
    r"Maritime|Lines|Transport|Transports|Import|Export|Imports|Exports|Consulting|"
    r"Services|Solutions|Technologies|Systems|International|Global|Partners|Brothers|"
    r"Bros|Investments|Ventures|Resources|Supplies|Supply|Commodities|General\s+Trading|"
    r"Armaments|Munitions|Ammunition|Firearms|Tactical|Handels|Handel|Trade|Commerce|"
    r"Négoce|Comercial|Comercializadora|Importadora|Exportadora|Distribuidora|Transportes"
)
_COMPANY_WORDS = (
    r"la\s+société|l['’]entreprise|la\s+firme|la\s+compagnie(?:\s+aérienne)?|"
    r"la\s+empresa|la\s+sociedad|la\s+compañía|la\s+firma|la\s+aerolínea|la\s+naviera|"
    r"die\s+Firma|the\s+company|the\s+airline|the\s+shipping\s+line|компания|компании|"
    r"фирма|фирмы|предприятие"
)
_ORG_COMPANY_RE = re.compile(
    rf"[lLdDtTкКфФпП](?<![^\W\u3400-\u9fff].)(?i:{after_first(_COMPANY_WORDS)})\s+"
    r"(?P<name>[«\"“„'](?:[^»\"”'\n]{2,60})[»\"”']|"
    r"(?:[A-ZÀ-Þ][\w&\-]*(?:\s+(?:(?:de|del|la|du|des|of|y|et|and|&)\s+)?[A-ZÀ-Þ][\w&\-]*){0,3}))"
)
_ORG_RU_FORM_RE = re.compile(
    rf"(?P<name>[ОЗПАНТИЧ](?<![^\W\u3400-\u9fff].)(?:{after_first('ООО|ОАО|ЗАО|ПАО|АО|НАО|ТОО|ИП|ЧП')})"
    r"\s*[«\"“„][^»\"”\n]{2,60}[»\"”])"
)
_ORG_AR_FORM_RE = re.compile(
    r"(?P<name>(?:شركة|مؤسسة)\s+[\u0621-\u064a\s]{2,40}?\s+(?:ذ\.?\s?م\.?\s?م\.?|ش\.?\s?م\.?\s?م\.?|ش\.?\s?م\.?\s?ع\.?|المحدودة|م\.?\s?م\.?\s?ح))"
)
_ORG_ZH_RE = re.compile(
    r"(?P<name>[\u4e00-\u9fff（）()]{2,16}?(?:股份有限公司|有限责任公司|集团有限公司|有限公司|(?<=[\u4e00-\u9fff])集团))"
)
_ZH_GROUP_GENERIC = ("犯罪", "武装", "走私", "贩", "恐怖", "组织", "利益", "集团化")
_ZH_ORG_STOP = "的一由向和与在是为从经将被了该这那其及对把给于即"
_MESSRS_RE = re.compile(
    rf"(?<![^\W\u3400-\u9fff])Messrs\.?\s+(?P<name>{NAME}(?:\s+(?:&|and)?\s*{NAME}){{0,3}})"
)

_ORG_GENERIC_FIRST = frozenset(
    [
        "The",
        "A",
        "An",
        "Our",
        "Their",
        "This",
        "That",
        "These",
        "Those",
        "National",
        "State",
        "Public",
        "Private",
        "Military",
        "Armed",
        "Federal",
        "Central",
        "Regional",
        "Local",
        "Customs",
        "Border",
        "Police",
        "Defence",
        "Defense",
        "Security",
        "Arms",
        "Trade",
        "Treaty",
        "Post",
        "End",
        "User",
        "Risk",
        "Case",
        "Lesson",
        "Transport",
        "Import",
        "Export",
        "General",
        "International",
        "Global",
        "Several",
        "Two",
        "Three",
        "Four",
        "Five",
        "Many",
        "Some",
        "Each",
        "Every",
        "Both",
        "Shell",
        "Front",
        "Unknown",
        "Another",
        "Other",
        "Such",
        "Its",
        "His",
        "Her",
        "Air",
        "Sea",
        "Land",
        "Cargo",
        "Freight",
        "Small",
        "Light",
        "Heavy",
        "Major",
        "Joint",
        "United",
        "Le",
        "La",
        "Les",
        "Un",
        "Une",
        "El",
        "Los",
        "Las",
        "Die",
        "Der",
        "Das",
    ]
)
_ORG_GENERIC_FIRST |= frozenset(
    [
        "Service",
        "Services",
        "Verification",
        "Unit",
        "Group",
        "Division",
        "Department",
        "Agency",
        "Bureau",
        "Office",
        "Authority",
        "Ministry",
        "Directorate",
        "Council",
        "Commission",
        "Team",
        "Task",
        "Force",
        "Intelligence",
        "Investigation",
    ]
)
_LEGAL_SET = frozenset(w for w in plain_words(_LEGAL_FORMS) if " " not in w and "." not in w) | {
    "Ltd.",
    "Inc.",
    "Co.",
    "Corp.",
    "Ltda.",
    "Bros.",
}
_ORG_WORD_SET = plain_words(_ORG_WORDS)
# The name particles shared with persons (dief.screening._words), "des" ("Compagnie des
# Indes") and the connectors that join the owners' names in a company's name ("Smith &
# Sons", "Dupont et Fils", "García y Hijos"): a word before a sector word makes it a
# company's name only when it is capitalised or one of these.
_PARTICLE_SET = NAME_PARTICLES | {"des", "et", "y", "and", "&"}
# Inside a name only, between its capitalised words: the articles that follow a particle
# as in "Société Générale de la Banque Ltd", "Banco de los Andes S.A." or "van der Berg
# B.V.", the Portuguese "do" of "Banco do Nordeste S.A." and the English "of the" of
# "Bank of the Levant Ltd". A run of names stopped at them and left the name's first
# words out; a name found does not start with one of them.
_INNER_WORDS = NAME_ARTICLES | {"do", "of", "the"}
#: Most words of a name before its legal form (its particles and articles counted):
#: "Banco Nacional de Fomento de la Industria del Sur S.A." has 9.
_MOST_NAME_WORDS = 10
_DOTTED_LEGAL_RE = re.compile(
    r"[SBNLWP](?<![^\W\u3400-\u9fff].)(?:"
    + after_first(
        r"S\.\s?A\.(?:\s?(?:de\s?)?C\.\s?V\.)?|S\.A\.R\.L\.?|S\.A\.S\.?|"
        r"S\.p\.A\.?|S\.R\.L\.?|S\.L\.|B\.V\.?|N\.V\.?|L\.L\.C\.?|W\.L\.L\.?|P\.L\.C\.?"
    )
    + ")"
)


def _is_org_part(w: str, *, inside: bool = False) -> bool:
    """A word of a company's name: capitalised, a particle or connector, a word written
    with its particle ("al-Salam"), and *inside* a name one of :data:`_INNER_WORDS`."""
    core = w.rstrip(".")
    return (
        bool(core)
        and (
            core[0].isupper()
            or core in _PARTICLE_SET
            or particle_name(core) is not None
            or (inside and core in _INNER_WORDS)
        )
        and not core.isdigit()
    )


def _latin_orgs(text: str, ws: Words) -> Iterator[Span]:  # noqa: C901, PLR0912  one pass over the heuristic's cases in order; splitting it would scatter them
    words = ws.words
    anchors: list[tuple[int, int]] = []  # (index of the first word after the name, end)
    for i, w in enumerate(words):
        core = w.rstrip(",")
        if i == 0:
            continue
        if core in _LEGAL_SET or core.rstrip(".") in _LEGAL_SET:
            if ws.gaps[i].strip() in {"", ","} and "\n" not in ws.gaps[i]:
                # "FZE." ends a sentence; "Ltd." and "Co." carry their dot
                dot = core.endswith(".") and core not in _LEGAL_SET
                anchors.append((i, ws.ends[i] - (1 if dot else 0)))
        elif core in _ORG_WORD_SET and _is_org_part(words[i - 1]) and not ws.gaps[i].strip():
            j = i
            while (
                j + 1 < len(words) and words[j + 1] in _ORG_WORD_SET and not ws.gaps[j + 1].strip()
            ):
                j += 1
            anchors.append((i, ws.ends[j]))
    if "." in text:
        for m in _DOTTED_LEGAL_RE.finditer(text):
            k = next((x for x, st in enumerate(ws.starts) if st >= m.start()), len(words))
            anchors.append((k, m.end()))
    for first_after, end in anchors:
        j = first_after - 1
        start_idx = first_after
        names = 0
        while j >= 0 and first_after - j <= _MOST_NAME_WORDS:
            w = words[j]
            gap = ws.gaps[j + 1] if j + 1 < len(words) else ""
            if "\n" in gap or gap.strip() not in {"", ","}:
                break
            if not _is_org_part(w, inside=True) or (
                w.rstrip(".") in _LEGAL_SET and j != first_after - 1
            ):
                break
            if w.endswith(".") and j != first_after - 1 and w.rstrip(".") not in _LEGAL_SET:
                break  # the previous sentence
            if w[0].isupper():
                names += 1
            start_idx = j
            j -= 1
        while start_idx < first_after and words[start_idx] in _INNER_WORDS:
            start_idx += 1  # "of", "the", "la" start no name
        if names == 0 or start_idx >= len(words):
            continue
        trimmed = _trim_org(text, ws.starts[start_idx], end)
        if trimmed is not None:
            yield trimmed[0], trimmed[1], FindingKind.ORGANIZATION


#: A company word. The first letter is read first (with every character that matches it
#: case-insensitively: "ſ" is an "s"), then, case-insensitively, the rest after it: the
#: search skips to those letters instead of trying every alternative at every character.
_COMPANY_HINT = re.compile(
    r"[sSſeEfFcCaAnNкКфФпП](?i:(?<=s)oci[ée]t[ée]|(?<=e)ntreprise|(?<=f)irme|(?<=c)ompagnie"
    r"|(?<=e)mpresa|(?<=s)ociedad|(?<=c)ompañ[ií]a|(?<=f)irma|(?<=a)erol[ií]nea|(?<=n)aviera"
    r"|(?<=c)ompany|(?<=a)irline|(?<=s)hipping\s+line|(?<=к)омпани|(?<=ф)ирм|(?<=п)редприяти)"
)


_ORG_ZH_SUFFIX_RE = re.compile(
    r"股份有限公司|有限责任公司|集团有限公司|有限公司|(?<=[\u4e00-\u9fff])集团"
)
_ORG_ZH_NAME = 16  # most ideographs of a name before its suffix (``_ORG_ZH_RE``)
_ORG_ZH_SUFFIX = 6  # longest suffix


def _zh_org_matches(text: str) -> Iterator[re.Match[str]]:
    """What ``_ORG_ZH_RE.finditer`` finds, searching only just before each legal suffix.

    A match ends with a suffix that starts 2 to 16 characters after the match, so a match
    that starts no later than 2 characters before a suffix ``s`` (and after every match
    before it) ends with ``s`` and is found by a search from ``s - 16`` to the end of ``s``;
    one that starts later ends with a later suffix. Searching from the start of the text
    instead retries the lazy name at every ideograph (0.4 ms in 2,000 characters).
    """
    suffixes: set[int] = set()
    for word, offsets in (("公司", (4, 2)), ("集团", (0,))):
        i = text.find(word)
        while i >= 0:
            suffixes.update(i - k for k in offsets if i - k >= 0)
            i = text.find(word, i + 1)
    cursor = 0
    for s in sorted(suffixes):
        lo = max(cursor, s - _ORG_ZH_NAME)
        if lo > s - 2 or _ORG_ZH_SUFFIX_RE.match(text, s) is None:
            continue
        m = _ORG_ZH_RE.search(text, lo, s + _ORG_ZH_SUFFIX)
        if m is not None and m.start() <= s - 2:
            cursor = m.end()
            yield m


def _zh_orgs(text: str) -> Iterator[Span]:
    for m in _zh_org_matches(text):
        start = m.start()
        name = m.group()
        cut = max(name.rfind(c) for c in _ZH_ORG_STOP)
        if cut >= 0:
            start += cut + 1
        name = text[start : m.end()]
        if name.endswith("集团") and any(w in name for w in _ZH_GROUP_GENERIC):
            continue  # 犯罪集团, 武装集团: a criminal or armed group, not a company
        if m.end() - start > len("有限公司"):
            yield start, m.end(), FindingKind.ORGANIZATION


def _trim_org(text: str, start: int, end: int) -> tuple[int, int] | None:
    """Drop leading generic words ("The", "National", "Customs") and the words that join
    them to the name ("of the"); None if nothing is left but these and the legal form or
    sector word."""
    words = list(re.finditer(r"\S+", text[start:end]))
    while words and (
        words[0].group().strip(",") in _ORG_GENERIC_FIRST or words[0].group() in _INNER_WORDS
    ):
        words.pop(0)
    if len(words) < 2:  # noqa: PLR2004  a length or count threshold of the heuristic (docs/screening.md)
        return None
    return start + words[0].start(), end


def find_organizations(text: str, ws: Words) -> Iterator[Span]:
    """Spans of organisations' names in *text* (cut into words: *ws*)."""
    kind = FindingKind.ORGANIZATION
    if not text.isascii():
        if has_range(text, "\u0400", "\u04ff"):
            yield from group_spans(_ORG_RU_FORM_RE, text, "name", kind)
        if has_range(text, "\u0600", "\u06ff") and ("شركة" in text or "مؤسسة" in text):
            yield from group_spans(_ORG_AR_FORM_RE, text, "name", kind)
        if has_range(text, "\u4e00", "\u9fff") and ("公司" in text or "集团" in text):
            yield from _zh_orgs(text)
    yield from _latin_orgs(text, ws)
    if "Messrs" in text:
        yield from group_spans(_MESSRS_RE, text, "name", kind)
    if _COMPANY_HINT.search(text):
        for start, end, found in group_spans(_ORG_COMPANY_RE, text, "name", kind):
            name = text[start:end]
            if name[:1] in "«\"“„'" or name.split()[0] not in _ORG_GENERIC_FIRST:
                yield start, end, found
