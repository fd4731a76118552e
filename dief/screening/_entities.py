# ruff: noqa: RUF001, RUF002 (a multilingual lexicon: Cyrillic, Arabic and CJK text is intended)
"""Names of persons and organisations, and first-person national references
(:func:`find_entities`; persons in :mod:`dief.screening._entities_persons`, organisations
in :mod:`dief.screening._entities_orgs`, what they share in
:mod:`dief.screening._entities_words`).

Run on the pattern view (case kept, homoglyphs in mixed-script words mapped to Latin):

* **persons**: a title or role followed by a capitalised name ("Mr Smith", "Broker John
  Smith", "le courtier Dupont", "el señor García", "господин Петров", "السيد أحمد",
  "王先生", "张某"); a common given name followed by a capitalised surname ("John
  Smith", "Ahmed Hassan", "Иван Петров"); initials and a surname ("J. Smith", "И. И.
  Петров"); a Russian patronymic ("Петрович"); "named/called/alias" and a capitalised
  name;
* **organisations**: capitalised words before a legal form in any of the forum's
  languages (Ltd, LLC, FZE, GmbH, SARL, S.A., ООО, 有限公司 …), after "Messrs" or a
  company word with a quoted name ("компания «Восток»"), or before a sector word
  ("Acme Defence Trading");
* **first-person national references**: "our/my" with a national institution ("our
  national customs service", "my country", "notre service", "nuestro país", "наша
  таможня", "بلدنا", "我国").
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from dief.screening._entities_orgs import find_organizations
from dief.screening._entities_persons import find_persons
from dief.screening._entities_words import Words, group_spans, has_range
from dief.screening._findings import FindingKind
from dief.screening._regex import after_first

if TYPE_CHECKING:
    from collections.abc import Iterator

    from dief.screening._findings import Span

__all__ = ["find_entities"]

# --------------------------------------------------------------------------- first person

_FIRST_PERSON_NOUNS_EN = (
    r"country|nation|state|government|ministry|ministries|authorities|authority|customs|"
    r"customs\s+service|police|army|armed\s+forces|forces|navy|air\s+force|military|"
    r"embassy|embassies|consulate|capital|ports?|borders?|territory|territories|agency|"
    r"agencies|service|services|parliament|president|king|prime\s+minister|intelligence|"
    r"licensing\s+authority|export\s+control\s+authority|national\s+\w+|"
    r"(?:national\s+)?customs\s+\w+|flag|citizens|nationals|coast\s+guard|"
    r"gendarmerie|administration|republic|kingdom|federation|homeland|motherland"
)
_FIRST_PERSON_RE = re.compile(
    rf"(?<![^\W\u3400-\u9fff])(?P<name>(?:our|my)\s+(?:(?:own|competent|relevant|national|federal|state|"
    rf"central|foreign|interior|border|customs|licensing|export|security|defence|defense|"
    rf"home|armed)\s+){{0,2}}"
    rf"(?:{_FIRST_PERSON_NOUNS_EN}))(?![^\W\u3400-\u9fff])"
    rf"|(?<![^\W\u3400-\u9fff])(?P<fr>(?:notre|nos|mon|ma|mes)\s+(?:propre\s+)?(?:pays|nation|état|"
    rf"gouvernement|ministère|ministères|autorités|autorité|douane|douanes|service|"
    rf"services|police|armée|forces\s+armées|gendarmerie|ambassade|capitale|port|ports|"
    rf"frontière|frontières|territoire|administration|république|royaume|agence|"
    rf"président|roi)(?:\s+national(?:e|es|aux)?)?)(?![^\W\u3400-\u9fff])"
    rf"|(?<![^\W\u3400-\u9fff])(?P<es>(?:nuestro|nuestra|nuestros|nuestras|mi|mis)\s+(?:propio\s+|propia\s+)?"
    rf"(?:país|nación|estado|gobierno|ministerio|ministerios|autoridades|autoridad|aduana|"
    rf"aduanas|servicio|servicios|policía|ejército|fuerzas\s+armadas|embajada|capital|"
    rf"puerto|puertos|frontera|fronteras|territorio|administración|república|reino|"
    rf"agencia|presidente|rey)(?:\s+nacional(?:es)?)?)(?![^\W\u3400-\u9fff])"
    rf"|(?<![^\W\u3400-\u9fff])(?P<de>(?:unser|unsere|unserer|unserem|unseren|unseres|mein|meine|meinem|"
    rf"meinen|meiner)\s+(?:Land|Landes|Staat|Staates|Regierung|Ministerium|Behörde|"
    rf"Behörden|Zoll|Zollbehörde|Polizei|Armee|Streitkräfte|Botschaft|Hauptstadt|Hafen|"
    rf"Grenze|Grenzen|Territorium|Dienst|Republik))(?![^\W\u3400-\u9fff])",
    re.IGNORECASE,
)
_RU_OUR = (
    r"наш|наша|наше|наши|нашего|нашей|нашему|нашим|нашем|нашу|наших|нашими|"
    r"мой|моя|моё|мое|мои|моего|моей|моему|моим|моём|моем|мою|моих|моими"
)
_RU_NOUNS = (
    r"стран|государств|правительств|министерств|ведомств|таможн|власт|полици|арми|"
    r"вооружённ|вооруженн|посольств|столиц|порт|границ|территори|служб|агентств|"
    r"республик|президент|родин|отечеств|пограничн|спецслужб"
)
_FIRST_PERSON_RU_RE = re.compile(
    rf"(?P<name>[нНмМ](?<![^\W\u3400-\u9fff].)(?i:(?:{after_first(_RU_OUR)})\s+(?:[а-яё]+\s+)?"
    rf"(?:{_RU_NOUNS})[а-яё]*))(?![^\W\u3400-\u9fff])"
)
_AR_OUR = (
    r"بلدنا|بلادنا|دولتنا|حكومتنا|وزارتنا|جماركنا|سلطاتنا|وطننا|أراضينا|اراضينا|حدودنا|"
    r"موانئنا|مينائنا|جيشنا|شرطتنا|قواتنا|سفارتنا|عاصمتنا|مصالحنا|أجهزتنا|اجهزتنا|"
    r"جمهوريتنا|مملكتنا|بلدي|وطني|حكومتي|وزارتي|دولتي|مصلحتنا|إدارتنا|ادارتنا|هيئتنا"
)
_FIRST_PERSON_AR_RE = re.compile(
    rf"(?:(?<=[\s،.؛:(\"«])|^)(?P<name>[وفبل]?(?:ال)?(?:{_AR_OUR}))(?![\u0621-\u064a])"
)
_FIRST_PERSON_ZH_RE = re.compile(
    r"(?P<name>我国|我們國家|我们国家|本国|本國|我方|我部|我局|我署|我厅|我委|我馆|我驻|我海关|我国海关|我军|我國)"
)


_FIRST_PERSON_HINT = re.compile(
    r"(?i)(?<![^\W_])(?:our|my|notre|nos|mon|ma|mes|nuestr\w*|mis?|unser\w*|mein\w*)(?![^\W_])"
)
#: Where a first-person reference can start: the first letter of a possessive ("our",
#: "notre", "mis", "unsere" …, in any case) after no letter or digit (or an ideograph).
_FIRST_PERSON_START = re.compile(r"[oOmMnNuU](?<![^\W\u3400-\u9fff].)")


def _first_person(text: str) -> Iterator[Span]:
    """What ``_FIRST_PERSON_RE.finditer`` finds, trying it only where a match can start."""
    cursor = 0
    for start in _FIRST_PERSON_START.finditer(text):
        if start.start() < cursor:
            continue
        m = _FIRST_PERSON_RE.match(text, start.start())
        if m is not None:
            cursor = m.end()
            yield m.start(), m.end(), FindingKind.NATIONAL_REFERENCE


_AR_OUR_WORDS = tuple(_AR_OUR.split("|"))


def _national_references(text: str) -> Iterator[Span]:
    """First-person national references in Cyrillic, Arabic and Chinese script."""
    kind = FindingKind.NATIONAL_REFERENCE
    if has_range(text, "\u0400", "\u04ff"):
        yield from group_spans(_FIRST_PERSON_RU_RE, text, "name", kind)
    if has_range(text, "\u0600", "\u06ff") and any(w in text for w in _AR_OUR_WORDS):
        yield from group_spans(_FIRST_PERSON_AR_RE, text, "name", kind)
    if has_range(text, "\u4e00", "\u9fff"):
        yield from group_spans(_FIRST_PERSON_ZH_RE, text, "name", kind)


def find_entities(text: str) -> list[Span]:
    """Spans of persons, organisations and first-person national references."""
    out: list[Span] = []
    first_person = list(_first_person(text))
    if first_person and _FIRST_PERSON_HINT.search(text):
        out.extend(first_person)
    if not text.isascii():
        out.extend(_national_references(text))
    ws = Words(text)
    out.extend(find_persons(text, ws))
    out.extend(find_organizations(text, ws))
    return out
