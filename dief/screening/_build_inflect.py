# ruff: noqa: RUF001, RUF003 (a multilingual lexicon: Cyrillic, Arabic and CJK text is intended)
"""Inflected forms of names and demonyms for the data builder (:mod:`dief.screening._build`,
run by hand): Russian cases, French and Spanish gender and number, German, Arabic nisbas."""

from __future__ import annotations

import re

__all__ = [
    "ar_forms",
    "ar_nisba",
    "de_forms",
    "es_forms",
    "fr_forms",
    "ru_adjective",
    "ru_noun",
    "ru_phrase",
    "ru_word",
]

_RU_ADJ_END = [
    "ий",
    "ый",
    "ой",
    "ая",
    "яя",
    "ое",
    "ее",
    "ие",
    "ые",
    "ого",
    "его",
    "ому",
    "ему",
    "им",
    "ым",
    "ом",
    "ем",
    "ей",
    "ую",
    "юю",
    "их",
    "ых",
    "ими",
    "ыми",
    "ою",
    "ею",
]
_RU_ADJ_RE = re.compile(r"(?:ий|ый|ой|ая|яя|ое|ее|ие|ые)$")


def ru_adjective(word: str) -> set[str]:
    """Every case, gender and number of a Russian adjective ("французский")."""
    stem = word[:-2]
    return {word} | {stem + e for e in _RU_ADJ_END}


def ru_noun(word: str) -> set[str]:
    """Cases and numbers of a Russian demonym noun ("француз", "американец", "россиянин")."""
    w = word
    forms = {w}
    if _RU_ADJ_RE.search(w):  # "русский" is an adjective used as a noun
        return ru_adjective(w)
    if w.endswith("ка"):  # feminine: "француженка"
        stem = w[:-1]
        forms |= {stem + e for e in ("а", "и", "е", "у", "ой", "ою", "ам", "ами", "ах")}
        forms.add(w[:-2] + "ок")
        return forms
    if w.endswith("ец"):
        stem = w[:-2] + ("йц" if w[-3] in "аеи" else "ц")
        forms |= {
            stem + e for e in ("а", "у", "ом", "ем", "е", "ы", "и", "ев", "ов", "ам", "ами", "ах")
        }
        return forms
    if w.endswith(("анин", "янин")):
        forms |= {w + e for e in ("а", "у", "ом", "е")}
        plural = w[:-2]
        forms |= {plural + e for e in ("е", "", "ам", "ами", "ах")}
        return forms
    if w.endswith("арин"):  # "болгарин" -> "болгары"
        forms |= {w[:-2] + e for e in ("ы", "", "ам", "ами", "ах")}
    if w.endswith("ок"):
        stem = w[:-2] + "к"
        forms |= {stem + e for e in ("а", "у", "ом", "е", "и", "ам", "ами", "ах")}
    soft = w[-1] in "жшчщ"
    endings = ("а", "у", "ом", "е", "ы", "и", "ов", "ам", "ами", "ах") + (
        ("ей", "ем") if soft else ()
    )
    forms |= {w + e for e in endings}
    return forms


#: Russian country names declined irregularly (fleeting vowels) or indeclinable acronyms.
_RU_IRREGULAR: dict[str, set[str]] = {
    "Египет": {"Египет", "Египта", "Египту", "Египтом", "Египте"},
}


def ru_word(word: str) -> set[str]:  # noqa: C901, PLR0911  one pass over the heuristic's cases in order; splitting it would scatter them
    """Cases of one word of a Russian place name (the nominative as given)."""
    if word in _RU_IRREGULAR:
        return _RU_IRREGULAR[word]
    if word.isupper() or len(word) < 3 or not re.search(r"[а-яё]", word.lower()):  # noqa: PLR2004  a length or count threshold of the heuristic (docs/screening.md)
        return {word}
    w = word
    low = w.lower()
    if _RU_ADJ_RE.search(low):
        return ru_adjective(w)
    if low.endswith("ия"):
        s = w[:-2]
        return {w, s + "ии", s + "ию", s + "ией", s + "иею"}
    if low.endswith("я"):
        s = w[:-1]
        return {w, s + "и", s + "е", s + "ю", s + "ей", s + "ею"}
    if low.endswith("а"):
        s = w[:-1]
        out = {w, s + "ы", s + "и", s + "е", s + "у", s + "ой", s + "ою", s + "ей"}
        if low.endswith("ова"):  # "острова" (islands)
            out |= {s + "ов", s + "ам", s + "ами", s + "ах"}
        return out
    if low.endswith("й"):
        s = w[:-1]
        return {w, s + "я", s + "ю", s + "ем", s + "е", s + "и"}
    if low.endswith("ь"):
        s = w[:-1]
        return {w, s + "я", s + "ю", s + "ем", s + "е", s + "и", s + "ью"}
    if low.endswith(("ы", "и")) and len(w) > 4:  # plural names: "Нидерланды", "Филиппины"  # noqa: PLR2004  a length or count threshold of the heuristic (docs/screening.md)
        s = w[:-1]
        return {w, s + "ов", s + "ам", s + "ами", s + "ах"}
    if low[-1] in "оеиуюэ":
        return {w}  # indeclinable: "Того", "Перу", "Чили", "Конго"
    return {w, w + "а", w + "у", w + "ом", w + "е"}


def ru_phrase(phrase: str, limit: int = 400) -> set[str]:
    """Every combination of the cases of each word of a Russian phrase (bounded)."""
    phrase = phrase.replace("о-ва", "острова").replace("о-в", "остров")
    parts = re.split(r"([\s\-]+)", phrase)
    options: list[list[str]] = []
    for part in parts:
        if not part or re.fullmatch(r"[\s\-]+", part) or not part[0].isalpha():
            options.append([part])
        else:
            options.append(sorted(ru_word(part)))
    out: set[str] = {phrase}
    count = 1
    for o in options:
        count *= len(o)
    if count > limit:  # decline the last word only
        last = max(i for i, o in enumerate(options) if len(o) > 1)
        base = [o[0] if len(o) == 1 else part for o, part in zip(options, parts, strict=True)]
        for form in options[last]:
            base[last] = form
            out.add("".join(base))
        return out
    stack: list[tuple[int, str]] = [(0, "")]
    while stack:
        i, acc = stack.pop()
        if i == len(options):
            out.add(acc)
            continue
        for form in options[i]:
            stack.append((i + 1, acc + form))  # noqa: PERF401  each step appended in the order the output reads
    return out


def fr_forms(base: str) -> set[str]:
    """Masculine, feminine, singular and plural of a French demonym ("allemand")."""
    if "/" in base:
        m, f = base.split("/", 1)
        return {m, f, m if m.endswith(("s", "x")) else m + "s", f + "s"}
    head, sep, last = base.rpartition("-")
    prefix = head + sep
    if last.endswith(("ien", "éen", "en")):
        forms = {last, last + "ne", last + "s", last + "nes"}
    elif last.endswith(("ais", "ois", "is")):
        forms = {last, last + "e", last + "es"}
    elif last.endswith("e"):
        forms = {last, last + "s"}
    else:
        forms = {last, last + "e", last + "s", last + "es"}
    return {prefix + f for f in forms}


def es_forms(base: str) -> set[str]:  # noqa: PLR0911  one pass over the heuristic's cases in order; splitting it would scatter them
    """Gender and number of a Spanish demonym ("mexicano", "francés", "alemán")."""
    b = base
    if b.endswith("o"):
        s = b[:-1]
        return {b, s + "a", s + "os", s + "as"}
    if b.endswith("és"):
        s = b[:-2]
        return {b, s + "esa", s + "eses", s + "esas"}
    if b.endswith("án"):
        s = b[:-2]
        return {b, s + "ana", s + "anes", s + "anas"}
    if b.endswith("ín"):
        s = b[:-2]
        return {b, s + "ina", s + "ines", s + "inas"}
    if b.endswith("ís"):
        s = b[:-2]
        return {b, s + "isa", s + "ises", s + "isas"}
    if b.endswith(("í", "ú")):
        return {b, b + "es", b + "s"}
    if b.endswith(("e", "a")):
        return {b, b + "s"}
    if b.endswith(("l", "r", "n")):
        return {b, b + "a", b + "es", b + "as"}
    return {b, b + "s", b + "es"}


def de_forms(base: str) -> set[str]:
    """Declension of a German national adjective ("französisch"); nouns as given."""
    if base[:1].isupper():
        return {base, base + "n", base + "in", base + "innen"}
    return {base + e for e in ("", "e", "en", "er", "es", "em")}


_AR_SKIP_FIRST = {
    "جمهورية", "المملكة", "الولايات", "جزر", "جزيرة", "دولة", "منطقة", "الأراضي",
    "الإمارات", "جنوب", "شمال", "غينيا", "سانت", "سان", "ساو", "غويانا", "كاليدونيا",
    "بولينيزيا", "ساموا", "بابوا", "ترينيداد", "أنتيغوا", "البوسنة", "تيمور", "ميانمار",
    "الكونغو", "الصحراء", "الرأس", "جبل", "الجبل", "ساحل", "سفالبارد", "هونغ", "ماكاو",
    "أفريقيا", "كوريا", "مقدونيا", "سري",
}  # fmt: skip


def ar_nisba(name: str) -> str | None:
    """The regular nisba of an Arabic country name ("فرنسا" -> "فرنسي"); None if irregular."""
    words = re.sub(r"\s*\([^)]*\)", "", name).split()
    if len(words) != 1 or words[0] in _AR_SKIP_FIRST:
        return None
    w = words[0]
    if w.startswith("ال") and len(w) > 3:  # noqa: PLR2004  a length or count threshold of the heuristic (docs/screening.md)
        w = w[2:]
    if w.endswith("يا"):
        stem = w[:-2]
    elif w.endswith(("ا", "ة", "ه", "ي", "ى")):
        stem = w[:-1]
    else:
        stem = w
    return stem + "ي" if len(stem) >= 2 else None  # noqa: PLR2004  a length or count threshold of the heuristic (docs/screening.md)


def ar_forms(nisba: str) -> set[str]:
    """A nisba and its feminine, plural and dual forms ("مصري", "مصرية", "مصريون" ...)."""
    return {nisba, nisba + "ة", nisba + "ون", nisba + "ين", nisba + "ان", nisba + "ات"}
