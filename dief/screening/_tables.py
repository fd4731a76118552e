"""The screener's lookup tables, built lazily from the shipped data files.

:func:`build_place_tables` reads ``data/`` (nothing else: no package is imported for
data) and returns immutable :class:`PlaceTables`:

* ``folded``: a word trie of names, short forms, demonyms, capitals, cities, ports, free
  zones, per-forum terms and allowed region phrases, keyed by match-view words (see
  :mod:`dief.screening._normalize`), so case, diacritics, invisible characters and the
  Arabic article do not matter;
* ``exact``: a case-sensitive word trie of acronyms ("US", "U.S.", "EAU", "США");
* ``han``: Chinese names, matched as substrings of runs of ideographs;
* ``fuzzy``: a deletion index over names and demonyms of six letters or more, for
  misspellings one edit away ("Frannce");
* the ISO 3166 alpha-2/alpha-3 code sets and the codes that are ordinary words.

Callers cache the result; nothing here runs at import.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from importlib import resources
from typing import TYPE_CHECKING

from dief.exceptions import ConfigurationError
from dief.screening._findings import FindingKind
from dief.screening._normalize import HAN_RE, WORD_RE, ar_key, fold_text, is_arabic

if TYPE_CHECKING:
    from collections.abc import Iterable, Iterator
    from pathlib import Path

__all__ = [
    "JOIN_PREFIX",
    "TOKEN_RE",
    "Entry",
    "Node",
    "PlaceTables",
    "build_place_tables",
    "fold",
    "neighbours",
    "phrase_keys",
    "read_extra_terms",
]

#: Tokens of original text (used by the code detector on the pattern view).
TOKEN_RE = re.compile(
    r"[^\W_](?:[^\W_]|[\u0300-\u036f\u1ab0-\u1aff\u1dc0-\u1dff\u20d0-\u20ff\ufe20-\ufe2f])*"
)
_APOSTROPHES = re.compile(r"['`\u2018\u2019\u02bc\u00b4]")

#: Kinds by how strongly one refuses, for two entries under the same key.
_KIND_STRENGTH: dict[FindingKind | None, int] = {
    None: 0,
    FindingKind.FORUM_TERM: 1,
    FindingKind.CITY: 2,
    FindingKind.DEMONYM: 3,
    FindingKind.PLACE: 4,
}


def fold(token: str) -> str:
    """Match-view key of one word (kept for callers of the old API)."""
    key = fold_text(token)
    return ar_key(key) if key and is_arabic(key) else key


@dataclass(frozen=True, slots=True)
class Entry:
    kind: FindingKind | None  # None: an allowed region phrase
    cap_only: bool = False  # first letter must be a capital ("Polish", not "polish")
    word_like: bool = False  # case-sensitive acronym that is a word in capitals ("US")
    dotted: bool = False  # case-sensitive acronym whose gaps must be dots ("U.S.")
    trailing_dot: bool = False  # include a following "." in the span
    gated: bool = False  # an ordinary word too: refused only with a place cue

    @property
    def strictness(self) -> int:
        if self.kind is None:
            return 0
        return (
            100 * (not self.gated)
            + 10 * _KIND_STRENGTH.get(self.kind, 1)
            + (0 if self.cap_only else 2)
        )


@dataclass(slots=True)
class Node:
    children: dict[str, Node] = field(default_factory=dict)
    entry: Entry | None = None


def _insert(root: Node, tokens: tuple[str, ...], entry: Entry) -> None:
    if not tokens:
        return
    node = root
    for token in tokens:
        node = node.children.setdefault(token, Node())
    if node.entry is None or entry.strictness > node.entry.strictness:
        node.entry = entry


@dataclass(frozen=True, slots=True)
class PlaceTables:
    """Everything the name matcher needs; immutable once built."""

    folded: Node
    exact: Node
    han: dict[str, Entry]
    han_lengths: dict[str, tuple[int, ...]]  # first ideograph -> lengths, longest first
    fuzzy: dict[str, tuple[str, ...]]  # deletion neighbour -> names
    fuzzy_entries: dict[str, Entry]
    fuzzy_stop: frozenset[str]
    alpha2: frozenset[str]
    alpha3: frozenset[str]
    code_words2: frozenset[str]  # lower-case codes that are words ("in", "it", "de")
    code_words3: frozenset[str]  # ("can", "and", "mar", "sur")
    exact_first: frozenset[str]  # folded first tokens of the case-sensitive entries
    first_keys: frozenset[str]  # any key that can start a name
    confusables: dict[str, str]
    #: the first JOIN_PREFIX characters (or fewer) of every word a spaced or split spelling
    #: can be joined into: a join stops as soon as it is no such prefix
    join_prefixes: frozenset[str] = frozenset()
    #: where a Chinese name can start: a name's first ideograph, before a second ideograph
    #: of some name (or a one-ideograph name); then its first two ideographs
    han_first: re.Pattern[str] | None = None
    han_pairs: frozenset[str] = frozenset()
    #: per-word results that depend only on the word and these tables, filled as words are
    #: met (each lookup is a pure function of its key; a race only computes twice)
    memo: dict[object, object] = field(default_factory=dict, compare=False, repr=False)


# --------------------------------------------------------------------------- reading

_DATA = "data"


def _read(name: str) -> str:
    try:
        return resources.files("dief.screening").joinpath(_DATA, name).read_text("utf-8")
    except OSError as exc:  # pragma: no cover - a broken installation
        raise ConfigurationError(f"screening data file {name!r} cannot be read") from exc


def _rows(name: str, columns: int) -> Iterator[list[str]]:
    for number, raw in enumerate(_read(name).splitlines(), start=1):
        if not raw.strip() or raw.startswith("#"):
            continue
        parts = raw.split("\t")
        if len(parts) < columns:
            raise ConfigurationError(f"screening data file {name!r}: line {number} is malformed")
        yield parts


def _read_code_file(name: str) -> Iterator[tuple[str, list[str]]]:
    """``(code, [term, ...])`` per line of a curated ``CODE<TAB>a; b`` file."""
    for number, raw in enumerate(_read(name).splitlines(), start=1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        code, sep, rest = raw.partition("\t")
        if not sep or not re.fullmatch(r"[A-Z]{2}", code.strip()):
            raise ConfigurationError(f"screening data file {name!r}: line {number} is malformed")
        terms = [t.strip() for t in rest.split(";") if t.strip() and t.strip() != "-"]
        yield code.strip(), terms


def read_extra_terms(path: Path) -> list[tuple[str, FindingKind]]:
    """A forum's extra terms: one per line, ``#`` comments, optional ``kind<TAB>term``.

    ``kind`` is one of the finding kinds (``organization``, ``city``, ``place``,
    ``person`` ...); without it a term is a ``forum_term``.
    """
    try:
        text = path.read_text("utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigurationError(f"extra screening terms {str(path)!r} cannot be read") from exc
    out: list[tuple[str, FindingKind]] = []
    for number, raw in enumerate(text.splitlines(), start=1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        kind = FindingKind.FORUM_TERM
        if "\t" in line:
            head, _, term = line.partition("\t")
            try:
                kind = FindingKind(head.strip())
            except ValueError:
                raise ConfigurationError(
                    f"extra screening terms {str(path)!r}: line {number} names an unknown kind"
                ) from None
            line = term.strip()
        if line:
            out.append((line, kind))
    return out


# --------------------------------------------------------------------------- keys


def _tokens(text: str) -> tuple[str, ...]:
    folded = fold_text(text)
    return tuple(ar_key(t) if is_arabic(t) else t for t in WORD_RE.findall(folded))


def phrase_keys(phrase: str) -> set[tuple[str, ...]]:
    """Key tuples under which ``phrase`` is recognised in the match view."""
    strings = {phrase, _APOSTROPHES.sub("", phrase)}
    out: set[tuple[str, ...]] = {_drop_leading_the(_tokens(s)) for s in strings}
    for transform in (_drop_and, _saint_to_st):
        out |= {transform(t) for t in out}
    out |= {("".join(t),) for t in out if 1 < len(t) <= 4 and all(x.isascii() for x in t)}  # noqa: PLR2004  a length or count threshold of the heuristic (docs/screening.md)
    return {t for t in out if t}


def _drop_leading_the(tokens: tuple[str, ...]) -> tuple[str, ...]:
    return tokens[1:] if len(tokens) > 1 and tokens[0] == "the" else tokens


def _drop_and(tokens: tuple[str, ...]) -> tuple[str, ...]:
    if len(tokens) < 3:  # noqa: PLR2004  a length or count threshold of the heuristic (docs/screening.md)
        return tokens
    return (tokens[0], *(t for t in tokens[1:-1] if t != "and"), tokens[-1])


def _saint_to_st(tokens: tuple[str, ...]) -> tuple[str, ...]:
    return tuple("st" if t == "saint" else t for t in tokens)


def _plural(phrase: str) -> str | None:
    low = phrase.lower()
    if low.endswith(("s", "sh", "ch", "ese", "x", "z", "man", "men")):
        return None
    return phrase + "s"


def neighbours(word: str) -> list[str]:
    """The word and every string one deletion away from it."""
    return [word] + [word[:i] + word[i + 1 :] for i in range(len(word))]


_HAN_ONLY = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]+")


class _Builder:
    def __init__(self) -> None:
        self.folded = Node()
        self.exact = Node()
        self.han: dict[str, Entry] = {}
        self.fuzzy_names: dict[str, Entry] = {}
        self._entries: dict[tuple[object, ...], Entry] = {}

    def entry(self, kind: FindingKind | None, **flags: bool) -> Entry:
        key = (kind, *sorted(flags.items()))
        e = self._entries.get(key)
        if e is None:
            e = self._entries[key] = Entry(kind, **flags)
        return e

    def add(self, phrase: str, entry: Entry, *, fuzzy: bool = False) -> None:
        folded = fold_text(phrase)
        if _HAN_ONLY.fullmatch(folded):
            old = self.han.get(folded)
            if old is None or entry.strictness > old.strictness:
                self.han[folded] = entry
            return
        for tokens in phrase_keys(phrase):
            _insert(self.folded, tokens, entry)
            if (
                fuzzy  # noqa: PLR0916  one pass over the heuristic's cases in order; splitting it would scatter them
                and len(tokens) == 1
                and len(tokens[0]) >= 6  # noqa: PLR2004  a length or count threshold of the heuristic (docs/screening.md)
                and tokens[0].isalpha()
                and entry.kind is not None
                and not entry.gated
                and not entry.cap_only
            ):
                self.fuzzy_names.setdefault(tokens[0], entry)

    def add_exact(self, alias: str, entry: Entry) -> None:
        _insert(self.exact, tuple(TOKEN_RE.findall(alias)), entry)


_KIND_OF_ROW = {
    "name": FindingKind.PLACE,
    "demonym": FindingKind.DEMONYM,
    "capital": FindingKind.CITY,
    "city": FindingKind.CITY,
    "port": FindingKind.CITY,
    "free_zone": FindingKind.CITY,
}


def build_place_tables(
    extra_places: Iterable[str] = (),
    extra_allowed: Iterable[str] = (),
    extra_terms: Iterable[tuple[str, FindingKind]] = (),
) -> PlaceTables:
    """Build the tables from ``data/``; callers cache the result."""
    b = _Builder()
    allowed = b.entry(None)
    place = b.entry(FindingKind.PLACE)
    _add_allowed(b, allowed, extra_allowed)
    alpha2, alpha3 = _add_countries(b, allowed)
    _add_places(b)
    for phrase in extra_places:
        b.add(phrase, place)
    for term, kind in extra_terms:
        b.add(term, b.entry(kind))
    _add_aliases(b, place)
    _add_demonyms(b)
    lists = _word_lists()
    exact_first = frozenset(fold(k) for k in b.exact.children)
    return PlaceTables(
        folded=b.folded,
        exact=b.exact,
        han=b.han,
        han_lengths=_han_lengths(b.han),
        fuzzy=_fuzzy_index(b.fuzzy_names),
        fuzzy_entries=b.fuzzy_names,
        fuzzy_stop=lists.fuzzy_stop,
        alpha2=alpha2,
        alpha3=alpha3,
        code_words2=lists.code_words2,
        code_words3=lists.code_words3,
        exact_first=exact_first,
        first_keys=frozenset(b.folded.children) | exact_first,
        confusables=dict(_rows("confusables.tsv", 2)),
        join_prefixes=_join_prefixes(b.folded),
        han_first=_han_first(b.han),
        han_pairs=frozenset(k[:2] for k in b.han if len(k) >= 2),  # noqa: PLR2004  a length or count threshold of the heuristic (docs/screening.md)
    )


def _add_allowed(b: _Builder, allowed: Entry, extra_allowed: Iterable[str]) -> None:
    """The allowed region phrases (and their plurals), then the forum's own."""
    for (line,) in _rows("allowed_regions.txt", 1):
        for phrase in filter(None, (line, _plural(line))):
            b.add(phrase, allowed)
    for phrase in extra_allowed:
        b.add(phrase, allowed)


def _add_countries(b: _Builder, allowed: Entry) -> tuple[frozenset[str], frozenset[str]]:
    """The country names of ``countries.tsv``; returns its alpha-2 and alpha-3 code sets."""
    alpha2: set[str] = set()
    alpha3: set[str] = set()
    for _code, _lang, kind, flags, _source, forms in _rows("countries.tsv", 6):
        if kind == "alpha2":
            alpha2.add(forms)
            continue
        if kind == "alpha3":
            alpha3.add(forms)
            continue
        if kind == "allowed":
            for form in forms.split(";"):
                b.add(form, allowed)
            continue
        entry = b.entry(_KIND_OF_ROW[kind], gated="gate" in flags)
        for form in forms.split(";"):
            if "cs" in flags:
                b.add_exact(form, b.entry(_KIND_OF_ROW[kind], dotted="." in form))
            else:
                b.add(form, entry, fuzzy=True)
    return frozenset(alpha2), frozenset(alpha3)


def _add_places(b: _Builder) -> None:
    """Capitals, cities, ports and free zones of ``places.tsv`` (``=`` exact, ``~`` gated)."""
    for _code, kind, _source, forms in _rows("places.tsv", 4):
        plain = b.entry(_KIND_OF_ROW[kind])
        gated = b.entry(_KIND_OF_ROW[kind], gated=True)
        for form in forms.split(";"):
            if form.startswith("="):
                b.add_exact(form[1:], b.entry(_KIND_OF_ROW[kind], dotted="." in form))
            elif form.startswith("~"):
                b.add(form[1:], gated)
            else:
                b.add(form, plain)


def _add_aliases(b: _Builder, place: Entry) -> None:
    """Short forms and acronyms of ``aliases.tsv`` (``=`` and ``~``: case-sensitive)."""
    for _, aliases in _read_code_file("aliases.tsv"):
        for alias in aliases:
            if alias[0] in "=~":
                body = alias[1:]
                b.add_exact(
                    body,
                    b.entry(
                        FindingKind.PLACE,
                        word_like=alias[0] == "~",
                        dotted="." in body,
                        trailing_dot=body.endswith("."),
                    ),
                )
            else:
                b.add(alias, place, fuzzy=True)


def _add_demonyms(b: _Builder) -> None:
    """The demonyms of ``demonyms.tsv`` and their plurals (``^``: capitalised only)."""
    demonym = b.entry(FindingKind.DEMONYM)
    cap_demonym = b.entry(FindingKind.DEMONYM, cap_only=True)
    for _, demonyms in _read_code_file("demonyms.tsv"):
        for raw_form in demonyms:
            entry = cap_demonym if raw_form.startswith("^") else demonym
            form = raw_form.lstrip("^")
            for phrase in filter(None, (form, _plural(form))):
                b.add(phrase, entry, fuzzy=True)


@dataclass(frozen=True, slots=True)
class _WordLists:
    """The word lists of ``wordlists.tsv``."""

    fuzzy_stop: frozenset[str]
    code_words2: frozenset[str]
    code_words3: frozenset[str]


def _word_lists() -> _WordLists:
    lists: dict[str, set[str]] = {"fuzzy_stop": set(), "code_word2": set(), "code_word3": set()}
    for list_name, word, _source in _rows("wordlists.tsv", 3):
        if list_name in lists:
            lists[list_name].add(word)
    return _WordLists(
        fuzzy_stop=frozenset(lists["fuzzy_stop"]),
        code_words2=frozenset(lists["code_word2"]),
        code_words3=frozenset(lists["code_word3"]),
    )


def _fuzzy_index(names: Iterable[str]) -> dict[str, tuple[str, ...]]:
    """The deletion index: each one-deletion neighbour to the names it comes from."""
    fuzzy: dict[str, list[str]] = {}
    for name in names:
        for n in neighbours(name):
            fuzzy.setdefault(n, []).append(name)
    return {k: tuple(v) for k, v in fuzzy.items()}


def _han_lengths(names: Iterable[str]) -> dict[str, tuple[int, ...]]:
    """The lengths of the Chinese names starting with each ideograph, longest first."""
    lengths: dict[str, set[int]] = {}
    for s in names:
        lengths.setdefault(s[0], set()).add(len(s))
    return {k: tuple(sorted(v, reverse=True)) for k, v in lengths.items()}


def _han_first(names: Iterable[str]) -> re.Pattern[str] | None:
    """Where a Chinese name can start (see ``PlaceTables.han_first``)."""
    singles = "".join(sorted({k for k in names if len(k) == 1}))
    firsts = "".join(sorted({k[0] for k in names if len(k) >= 2}))  # noqa: PLR2004  a length or count threshold of the heuristic (docs/screening.md)
    seconds = "".join(sorted({k[1] for k in names if len(k) >= 2}))  # noqa: PLR2004  a length or count threshold of the heuristic (docs/screening.md)
    parts = [f"[{re.escape(singles)}]"] if singles else []
    if firsts:
        parts.append(f"[{re.escape(firsts)}](?=[{re.escape(seconds)}])")
    return re.compile("|".join(parts)) if parts else None


#: Length of the prefixes in ``PlaceTables.join_prefixes`` (41k prefixes, ~3 MB).
JOIN_PREFIX = 5


def _join_prefixes(root: Node) -> frozenset[str]:
    """Prefixes of the one-word keys a spaced or split spelling is looked up under."""
    out: set[str] = set()
    for key, node in root.children.items():
        e = node.entry
        if e is None or e.kind is None or e.gated or e.cap_only or len(key) < 4:  # noqa: PLR2004  a length or count threshold of the heuristic (docs/screening.md)
            continue
        out.update(key[:i] for i in range(1, min(JOIN_PREFIX, len(key)) + 1))
    return frozenset(out)


__all__ += ["HAN_RE"]
