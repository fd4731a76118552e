# ruff: noqa: RUF001 (a multilingual lexicon: Cyrillic, Arabic and CJK text is intended)
"""Names of persons (:func:`find_persons`): a title or role followed by a capitalised name
("Mr Smith", "Broker John Smith", "le courtier Dupont", "el señor García", "господин
Петров", "السيد أحمد", "王先生", "张某"); a common given name followed by a capitalised
surname ("John Smith", "Ahmed Hassan", "Иван Петров"); initials and a surname ("J. Smith",
"И. И. Петров"); a Russian patronymic ("Петрович")."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from dief.screening._entities_words import CAP, LOW, NAME, group_spans, has_range, plain_words
from dief.screening._findings import FindingKind
from dief.screening._regex import after_first
from dief.screening._words import NAME_ARTICLES, NAME_PARTICLES, SENTENCE_WORDS, particle_name

if TYPE_CHECKING:
    from collections.abc import Iterator

    from dief.screening._entities_words import Words
    from dief.screening._findings import Span

__all__ = ["find_persons"]

# fmt: off
_TITLES = (
    # English
    r"Mr|Mrs|Ms|Miss|Mx|Dr|Prof|Sir|Dame|Lord|Lady|Capt|Cpt|Col|Gen|Maj|Lt|Sgt|Cdr|Cpl|Brig|"
    r"Adm|Insp|Det|Hon|Rev|Sheikh|Sheik|Shaikh|Captain|Colonel|General|Major|Lieutenant|"
    r"Sergeant|Commander|Admiral|Brigadier|Corporal|Inspector|Detective|Judge|Minister|"
    r"Ambassador|Senator|Emir|Prince|Princess|"
    # French, Spanish, German, Portuguese, Italian
    r"M\.|MM\.|Mme|Mmes|Mlle|Me|Monsieur|Madame|Mademoiselle|Maître|Sr|Sra|Srta|Señor|Señora|"
    r"Señorita|Don|Doña|Herr|Frau|Dott|Sig|Sra|"
    r"(?i:señor|señora|señorita|monsieur|madame|mademoiselle|doña)"
)
_TITLES_RU = r"господин|госпожа|г-н|г-жа|гражданин|гражданка|товарищ"
# Roles in lower case (the name after them must be capitalised).
_ROLES = (
    r"broker|brokers|dealer|trader|intermediary|middleman|agent|consignee|consignor|"
    r"shipper|forwarder|director|manager|owner|captain|pilot|master|businessman|"
    r"businesswoman|accountant|official|officer|employee|colonel|general|major|lieutenant|"
    r"sergeant|commander|suspect|smuggler|trafficker|signatory|buyer|seller|supplier|"
    r"courtier|intermédiaire|négociant|trafiquant|directeur|gérant|capitaine|commandant|"
    r"colonel|sieur|dénommé|nommé|corredor|intermediario|comerciante|traficante|"
    r"director|gerente|capitán|coronel|teniente|sargento|llamado|apodado|alias|"
    r"брокер|посредник|торговец|директор|капитан|полковник|генерал|майор|подполковник|"
    r"контрабандист|гражданин|Makler|Händler|named|called|aka|a\.k\.a\."
)
# Common given names of the regions that write to the forum, that are not ordinary words.
_GIVEN = (
    r"John|James|Robert|Michael|David|Richard|Joseph|Thomas|Charles|Christopher|Daniel|"
    r"Matthew|Anthony|Steven|Paul|Andrew|Joshua|Kenneth|Kevin|Brian|George|Timothy|Ronald|"
    r"Edward|Jason|Jeffrey|Ryan|Jacob|Gary|Nicholas|Eric|Jonathan|Stephen|Larry|Justin|"
    r"Scott|Brandon|Benjamin|Samuel|Gregory|Alexander|Patrick|Peter|Henry|Douglas|Walter|"
    r"Harold|Jeremy|Keith|Roger|Gerald|Arthur|Lawrence|Albert|Bruce|Gabriel|Alan|Ralph|"
    r"Eugene|Vincent|Russell|Louis|Philip|Mary|Patricia|Jennifer|Linda|Elizabeth|Barbara|"
    r"Susan|Jessica|Sarah|Karen|Nancy|Lisa|Margaret|Sandra|Emily|Michelle|Dorothy|"
    r"Amanda|Melissa|Deborah|Stephanie|Rebecca|Sharon|Laura|Cynthia|Kathleen|Helen|Anna|"
    r"Nicole|Emma|Samantha|Katherine|Christine|Rachel|Catherine|Janet|Maria|Heather|Diane|"
    r"Julie|Olivia|Andrea|Hannah|Jacqueline|Teresa|Julia|Sophia|Marie|Diana|Natalie|"
    r"Jean|Pierre|Michel|André|Philippe|Alain|Jacques|Bernard|Claude|François|Christophe|"
    r"Nicolas|Laurent|Stéphane|Frédéric|Olivier|Julien|Sébastien|Thierry|Didier|Yves|"
    r"Guillaume|Mathieu|Antoine|Jérôme|Nathalie|Isabelle|Sylvie|Françoise|Valérie|"
    r"Sandrine|Véronique|Sophie|Céline|Amadou|Moussa|Ibrahima|Mamadou|Ousmane|Souleymane|"
    r"Abdoulaye|Boubacar|Cheikh|Seydou|Aminata|Fatoumata|Awa|José|Juan|Luis|Carlos|Jorge|"
    r"Manuel|Francisco|Antonio|Miguel|Javier|Pedro|Alejandro|Fernando|Ricardo|Eduardo|"
    r"Roberto|Diego|Andrés|Sergio|Raúl|Pablo|Rafael|Alberto|Enrique|Gustavo|Héctor|"
    r"Guillermo|Ramón|Carmen|Lucía|Marta|Isabel|Gabriela|Sofía|Valentina|Camila|Daniela|"
    r"Alejandra|Mariana|Fernanda|Verónica|Claudia|Adriana|Mohammed|Muhammad|Mohamed|"
    r"Mohammad|Mohamad|Ahmed|Ahmad|Ali|Hassan|Hussein|Husain|Omar|Umar|Khalid|Khaled|"
    r"Abdullah|Abdallah|Abdul|Ibrahim|Youssef|Yusuf|Mahmoud|Mustafa|Mostafa|Hamza|Tariq|"
    r"Tarek|Karim|Samir|Nabil|Walid|Faisal|Saeed|Sami|Rami|Ziad|Fadi|Bilal|Ayman|Osama|"
    r"Anwar|Jamal|Adel|Hisham|Majid|Nasser|Rashid|Fatima|Aisha|Layla|Leila|Zainab|Amina|"
    r"Salma|Rania|Yasmin|Ivan|Sergei|Sergey|Dmitri|Dmitry|Alexei|Alexey|Andrei|Andrey|"
    r"Vladimir|Nikolai|Mikhail|Yuri|Oleg|Igor|Viktor|Pavel|Boris|Anatoly|Evgeny|Yevgeny|"
    r"Konstantin|Maxim|Natalia|Olga|Elena|Yelena|Irina|Tatiana|Svetlana|Ekaterina|Marina|"
    r"Yulia|Wei|Jing|Ming|"
    r"Иван|Сергей|Дмитрий|Алексей|Андрей|Владимир|Николай|Михаил|Юрий|Олег|Игорь|Виктор|"
    r"Павел|Борис|Анатолий|Евгений|Константин|Максим|Александр|Роман|Наталья|Ольга|Елена|"
    r"Ирина|Татьяна|Светлана|Анна|Екатерина|Марина|Юлия"
)
_AR_PERSON_CUES = (
    r"السيد|السيدة|الشيخ|المدعو|المدعوة|العقيد|العميد|النقيب|الكابتن|القبطان|الحاج"
)
_AR_GIVEN = (
    r"محمد|أحمد|احمد|خالد|إبراهيم|ابراهيم|يوسف|مصطفى|حسين|عبد الله|عبدالله|فاطمة|عائشة|"
    r"مريم|زينب|طارق|وليد|فيصل|ماجد|هشام|أيمن|أسامة|بلال|حمزة|زياد|فادي|رامي|نبيل|سمير"
)
_ZH_SURNAMES = (
    "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程"
    "苏魏吕丁任沈姚卢姜崔钟谭陆汪范金石廖贾夏韦付方白邹孟熊秦邱江尹薛闫段雷侯龙史陶黎贺顾毛郝"
    "龚邵万钱严覃武戴莫孔向汤"
)
_ZH_PERSON_SUFFIX = (
    r"某某|某|先生|女士|小姐|经理|总经理|董事长|局长|处长|科长|主任|上校|少校|中校|将军|船长|机长"
)
# fmt: on

# Words that start a sentence or a heading in capitals and are no names: after a given
# name or title they mean the pattern did not find a name. The sentence words shared with
# vessel names (dief.screening._words) and, for persons only, more of a sentence's start
# (pronouns, "But", "Via"), the authorities and documents a report names in capitals,
# months and weekdays, and Romance articles.
_NOT_NAMES = SENTENCE_WORDS | frozenset(
    [
        "But",
        "Without",
        "Via",
        "These",
        "Those",
        "Its",
        "He",
        "She",
        "They",
        "We",
        "Our",
        "Their",
        "His",
        "Her",
        "Customs",
        "Police",
        "Army",
        "Navy",
        "Ministry",
        "Government",
        "State",
        "National",
        "International",
        "Company",
        "Ltd",
        "Limited",
        "Inc",
        "Group",
        "Port",
        "Airport",
        "Lesson",
        "Lessons",
        "Note",
        "Case",
        "End",
        "User",
        "Certificate",
        "Licence",
        "License",
        "Contract",
        "Risk",
        "Indicator",
        "Post",
        "Shipment",
        "January",
        "February",
        "March",
        "April",
        "May",
        "June",
        "July",
        "August",
        "September",
        "October",
        "November",
        "December",
        "Monday",
        "Tuesday",
        "Wednesday",
        "Thursday",
        "Friday",
        "Saturday",
        "Sunday",
        "Le",
        "La",
        "Les",
        "Un",
        "Une",
        "Des",
        "Du",
        "De",
        "Et",
        "El",
        "Los",
        "Las",
        "Una",
        "Del",
        "Y",
        "Assembly",
        "Secretary",
        "Secretariat",
        "Staff",
        "Directorate",
        "Council",
        "Conference",
        "Office",
        "Manager",
        "Inspection",
        "Administration",
        "Services",
        "Service",
        "Unit",
        "Division",
        "Department",
        "Agency",
        "Bureau",
        "Command",
        "Forces",
        "Force",
        "Intelligence",
        "Defence",
        "Defense",
        "Security",
        "Border",
        "Trade",
        "Treaty",
        "Nations",
        "Union",
    ]
)

_PERSON_TITLE_RU_RE = re.compile(
    rf"[гГтТ](?<![^\W\u3400-\u9fff].)(?i:(?:{after_first(_TITLES_RU)})\s+"
    rf"(?P<name>{NAME}(?:\s+{NAME})?))"
)
#: Initials and a surname ("J. Smith", "И. И. Петров") or a surname and initials ("Петров
#: И. И."); the whole match is the name. Written to start with its capital (the
#: look-behinds then look one character further back), so that the search skips to the
#: next capital instead of trying the look-behinds at every character: eight times faster.
_PERSON_INITIALS_RE = re.compile(
    rf"{CAP}(?:(?<![^\W\u3400-\u9fff].)(?<![.].)\.\s?(?:{CAP}\.\s?){{0,2}}{CAP}{LOW}+"
    r"|(?<=[А-ЯЁ])[а-яё]+\s+(?:[А-ЯЁ]\.\s?){1,2}(?![^\W\u3400-\u9fff]))"
)
_PATRONYMIC_RE = re.compile(
    r"(?P<name>[А-ЯЁ](?<![^\W\u3400-\u9fff].)(?:[а-яё]+\s+[А-ЯЁ])?[а-яё]+"
    r"(?:ович|евич|ич|овна|евна|ична|инична)(?:\s+[А-ЯЁ][а-яё]+)?)(?![^\W\u3400-\u9fff])"
)
_AR_PERSON_RE = re.compile(
    rf"(?:(?<=\s)|^)[وف]?(?:{_AR_PERSON_CUES})\s+(?P<name>[\u0621-\u064a]+(?:\s+(?:بن|ابن|أبو|ابو|عبد|آل)?\s*[\u0621-\u064a]+)?)"
    rf"|(?:(?<=\s)|^)(?P<given>(?:{_AR_GIVEN})\s+(?:بن\s+|ابن\s+|عبد\s+)?[\u0621-\u064a]{{3,}})"
)
_ZH_PERSON_RE = re.compile(
    rf"[{_ZH_SURNAMES}](?:{_ZH_PERSON_SUFFIX})(?![国些种地处时项个一方批类次天日月年件])|[{_ZH_SURNAMES}][\u4e00-\u9fff]{{1,2}}(?=先生|女士|经理|局长|处长)"
)


def _trim_names(text: str, start: int, end: int) -> tuple[int, int] | None:
    """Drop trailing/leading words that are not names (a sentence start, a month)."""
    words = list(re.finditer(r"\S+", text[start:end]))
    while words and words[-1].group().strip(".,;:") in _NOT_NAMES:
        words.pop()
    while words and words[0].group().strip(".,;:") in _NOT_NAMES:
        words.pop(0)
    if not words:
        return None
    return start + words[0].start(), start + words[-1].end()


_TITLE_SET = plain_words(_TITLES) | {"M.", "MM."}
_TITLE_CI = frozenset(
    [
        "señor",
        "señora",
        "señorita",
        "monsieur",
        "madame",
        "mademoiselle",
        "doña",
        "don",
        "господин",
        "госпожа",
        "г-н",
        "г-жа",
        "гражданин",
        "гражданка",
        "товарищ",
    ]
)
_ROLE_SET = frozenset(w.lower() for w in plain_words(_ROLES))
_GIVEN_SET = plain_words(_GIVEN)
_LEADS_LOWER = frozenset(w.lower().rstrip(".") for w in _TITLE_SET) | _TITLE_CI | _ROLE_SET
# The particles shared with organisations (dief.screening._words), the articles that
# follow them or stand alone ("de la Cruz", "van der Berg", "John le Carré"), "des"
# ("Jean des Roches") and the Spanish "y" of a double surname ("Ortega y Gasset"); taken
# only in a run that ends with a capitalised name. The other connectors organisations add
# ("and", "&", "et") are left out: between two persons' names they join two persons, not
# one name ("y" can too: both names are then refused as one, which leaks nothing).
_NAME_PARTICLES = NAME_PARTICLES | NAME_ARTICLES | {"des", "y"}
#: Most particles in a row inside a name ("de la", "van der", "bin al-").
_PARTICLE_RUN = 3
#: Most name words after a title or role ("Broker João Pedro dos Santos Silva Pereira"),
#: and after a given name; the overlapping findings of a longer name join
#: (:func:`dief.screening._findings.resolve_overlaps`).
_MOST_AFTER_LEAD = 5
_MOST_AFTER_GIVEN = 4


def _is_name(w: str) -> bool:
    """A capitalised word that can be part of a name ("Smith", "O'Brien", "Петров"), or
    one written with its particle ("al-Maktoum")."""
    core = w.rstrip(".")
    tail = particle_name(core)
    if tail is not None:
        return _is_name(tail)
    return (
        len(core) >= 2  # noqa: PLR2004  a length or count threshold of the heuristic (docs/screening.md)
        and core[0].isupper()
        and not core.isupper()
        and core.replace("-", "").replace("'", "").replace("’", "").isalpha()
        and core not in _NOT_NAMES
        and not any(c.isdigit() for c in core)
    )


def _name_after_particles(ws: Words, j: int) -> bool:
    """Whether word ``j`` starts a run of particles that a capitalised name ends ("de la
    Cruz"), each word after the one before with only spaces between."""
    words = ws.words
    for k in range(j, min(j + _PARTICLE_RUN, len(words) - 1)):
        if words[k].lower() not in _NAME_PARTICLES:
            return False
        gap = ws.gaps[k + 1]
        if gap.strip() or "\n" in gap:
            return False
        if _is_name(words[k + 1]):
            return True
    return False


def _names_after(ws: Words, i: int, most: int) -> int:
    """Index of the last name word of a run of names starting at ``i`` (or ``i - 1``)."""
    j = i
    last = i - 1
    count = 0
    while j < len(ws.words) and count < most:
        gap = ws.gaps[j]
        if gap.strip() not in {"", ",", ":"} or "\n" in gap or (j > i and gap.strip()):
            break
        w = ws.words[j]
        if _is_name(w):
            last = j
            count += 1
        elif not _name_after_particles(ws, j):
            break
        if w.endswith(".") and len(w) > 3:  # noqa: PLR2004  a length or count threshold of the heuristic (docs/screening.md)
            break  # a sentence ends
        j += 1
    return last


def _latin_persons(ws: Words) -> Iterator[Span]:
    words = ws.words
    n = len(words)
    for i, w in enumerate(words):
        if i + 1 >= n:
            break
        core = w.rstrip(".")
        if core not in _GIVEN_SET and core.lower() not in _LEADS_LOWER:
            continue
        lead = (
            w in _TITLE_SET
            or core in _TITLE_SET
            or core.lower() in _TITLE_CI
            or core.lower() in _ROLE_SET
        )
        if lead:
            gap = ws.gaps[i + 1]
            if "\n" in gap or gap.strip() not in {"", ",", ":", "."}:
                continue
            if gap.strip() == "." and core not in _TITLE_SET:
                continue
            last = _names_after(ws, i + 1, _MOST_AFTER_LEAD)
            if last > i:
                yield (
                    ws.starts[i + 1],
                    ws.ends[last] - (1 if words[last].endswith(".") else 0),
                    (FindingKind.PERSON),
                )
            continue
        if core in _GIVEN_SET and not w.endswith("."):
            gap = ws.gaps[i + 1]
            if (
                not gap.strip()
                and "\n" not in gap
                and (_is_name(words[i + 1]) or _name_after_particles(ws, i + 1))
            ):
                last = _names_after(ws, i + 1, _MOST_AFTER_GIVEN)
                end = ws.ends[last] - (1 if words[last].endswith(".") else 0)
                yield ws.starts[i], end, FindingKind.PERSON


_AR_PERSON_WORDS = tuple(_AR_PERSON_CUES.split("|")) + tuple(
    w for w in _AR_GIVEN.split("|") if " " not in w
)


def find_persons(text: str, ws: Words) -> Iterator[Span]:
    """Spans of persons' names in *text* (cut into words: *ws*)."""
    if not text.isascii():
        if has_range(text, "\u0400", "\u04ff"):
            yield from group_spans(_PERSON_TITLE_RU_RE, text, "name", FindingKind.PERSON)
            yield from group_spans(_PATRONYMIC_RE, text, "name", FindingKind.PERSON)
        if has_range(text, "\u0600", "\u06ff") and any(w in text for w in _AR_PERSON_WORDS):
            yield from group_spans(_AR_PERSON_RE, text, "name", FindingKind.PERSON)
        if has_range(text, "\u4e00", "\u9fff"):
            for m in _ZH_PERSON_RE.finditer(text):
                yield m.start(), m.end(), FindingKind.PERSON
    for start, end, kind in _latin_persons(ws):
        trimmed = _trim_names(text, start, end)
        if trimmed is not None and not text[trimmed[0] : trimmed[1]].isupper():
            yield (*trimmed, kind)
    for m in _PERSON_INITIALS_RE.finditer(text):
        trimmed = _trim_names(text, m.start(), m.end())
        if trimmed is not None:
            yield (*trimmed, FindingKind.PERSON)
