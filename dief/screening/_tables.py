"""The lookup tables of :mod:`dief.screening._places`, built lazily from pycountry and data.

:func:`build_place_tables` reads pycountry (current and historic names) and the files in
``data/`` and returns immutable :class:`PlaceTables`: a word trie of case-insensitive
names, aliases, demonyms and allowed region phrases (keys folded by :func:`fold`), a
word trie of case-sensitive acronyms, and the ISO code sets. Callers cache the result;
nothing here runs at import.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from importlib import resources

from dief.exceptions import ConfigurationError
from dief.screening._findings import FindingKind

__all__ = ["TOKEN_RE", "Entry", "Node", "PlaceTables", "build_place_tables", "fold"]

#: Tokens: a letter or digit, then letters, digits and combining marks (decomposed input).
TOKEN_RE = re.compile(
    r"[^\W_](?:[^\W_]|[\u0300-\u036f\u1ab0-\u1aff\u1dc0-\u1dff\u20d0-\u20ff\ufe20-\ufe2f])*"
)

# Letters NFKD does not decompose, and apostrophe-like letters (U+02BC, U+02BB) that
# would otherwise glue "d\u02bcIvoire" into one word.
_EXTRA_FOLD = str.maketrans(
    {
        "ø": "o", "æ": "ae", "œ": "oe", "đ": "d", "ł": "l", "þ": "th", "ð": "d",
        "\u0131": "i", "\u02bc": "", "\u02bb": "",
    }
)  # fmt: skip
_APOSTROPHES = re.compile("['`\u2018\u2019\u02bc\u00b4]")


def fold(token: str) -> str:
    """Case-, diacritic- and ligature-insensitive key of one token."""
    if token.isascii():
        return token.lower()
    cached = _FOLD_CACHE.get(token)
    if cached is not None:
        return cached
    decomposed = unicodedata.normalize("NFKD", token)
    stripped = "".join(c for c in decomposed if not unicodedata.combining(c))
    key = stripped.casefold().translate(_EXTRA_FOLD)
    if len(_FOLD_CACHE) > 65_536:
        _FOLD_CACHE.clear()
    _FOLD_CACHE[token] = key
    return key


_FOLD_CACHE: dict[str, str] = {}


@dataclass(frozen=True, slots=True)
class Entry:
    kind: FindingKind | None  # None: an allowed region phrase
    cap_only: bool = False  # first letter must be a capital ("Polish", not "polish")
    word_like: bool = False  # case-sensitive acronym that is a word in capitals ("US")
    dotted: bool = False  # case-sensitive acronym whose gaps must be dots ("U.S.")
    trailing_dot: bool = False  # include a following "." in the span

    @property
    def strictness(self) -> int:
        if self.kind is None:
            return 0
        return (2 if self.kind is FindingKind.PLACE else 1) + (0 if self.cap_only else 2)


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
    """Everything :func:`find_places` needs; immutable once built."""

    folded: Node
    exact: Node
    alpha2: frozenset[str]
    alpha3: frozenset[str]
    exact_first: frozenset[str]  # folded first tokens of the case-sensitive entries
    first_keys: frozenset[str]  # any folded token that can start a name


# --------------------------------------------------------------------------- building


def _read_data(name: str) -> Iterator[tuple[str, list[str]]]:
    """``(code, [term, ...])`` per line of a shipped ``CODE<TAB>a; b`` file."""
    for code, rest in _data_lines(name, columns=2):
        terms = [t.strip() for t in rest.split(";") if t.strip() and t.strip() != "-"]
        yield code, terms


def _data_lines(name: str, *, columns: int) -> Iterator[tuple[str, str]]:
    try:
        text = resources.files("dief.screening").joinpath("data", name).read_text("utf-8")
    except OSError as exc:  # pragma: no cover - a broken installation
        raise ConfigurationError(f"screening data file {name!r} cannot be read") from exc
    for number, raw in enumerate(text.splitlines(), start=1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        if columns == 1:
            yield "", line
            continue
        code, sep, rest = raw.partition("\t")
        if not sep or not re.fullmatch(r"[A-Z]{2}", code.strip()):
            raise ConfigurationError(f"screening data file {name!r}: line {number} is malformed")
        yield code.strip(), rest


def _tokens(text: str) -> tuple[str, ...]:
    return tuple(fold(t) for t in TOKEN_RE.findall(text))


def _variants(phrase: str) -> set[tuple[str, ...]]:
    """Token tuples under which ``phrase`` is recognised."""
    strings = {phrase, _APOSTROPHES.sub("", phrase)}
    # A leading "the" is never part of the span: "the Gambia" matches as "Gambia".
    out: set[tuple[str, ...]] = {_drop_leading_the(_tokens(s)) for s in strings}
    for transform in (_drop_and, _saint_to_st):
        out |= {transform(t) for t in out}
    out |= {("".join(t),) for t in out if 1 < len(t) <= 4}
    return {t for t in out if t}


def _drop_leading_the(tokens: tuple[str, ...]) -> tuple[str, ...]:
    return tokens[1:] if len(tokens) > 1 and tokens[0] == "the" else tokens


def _drop_and(tokens: tuple[str, ...]) -> tuple[str, ...]:
    if len(tokens) < 3:
        return tokens
    return (tokens[0], *(t for t in tokens[1:-1] if t != "and"), tokens[-1])


def _saint_to_st(tokens: tuple[str, ...]) -> tuple[str, ...]:
    return tuple("st" if t == "saint" else t for t in tokens)


def _plural(phrase: str) -> str | None:
    low = phrase.lower()
    if low.endswith(("s", "sh", "ch", "ese", "x", "z", "man", "men")):
        return None
    return phrase + "s"


def _pycountry_names() -> Iterator[str]:
    import pycountry  # imported lazily: the tables are built on first use, not at import

    # Multi-State predecessors (like "Balkans", they name no single present-day State) and
    # generic phrases among the historic entries are left out on purpose.
    skip_historic = {"SUN", "YUG", "CSK", "NTZ", "PCI"}
    current = list(pycountry.countries)
    historic = [r for r in pycountry.historic_countries if r.alpha_3 not in skip_historic]
    for record in (*current, *historic):
        for attr in ("name", "official_name", "common_name"):
            value = getattr(record, attr, None)
            if isinstance(value, str) and value:
                yield from _name_forms(value)


def _name_forms(name: str) -> Iterator[str]:
    """ISO list forms to reading forms: "Korea, Republic of" -> "Korea", "Republic of Korea"."""
    for inner in re.findall(r"\(([^)]*)\)", name):
        # "(Vatican City State)" is a name; "(French part)", "(trust territory)" are not,
        # and single words ("(Keeling)", "(Malvinas)") come from aliases.tsv as phrases.
        if len(inner.split()) > 1 and not inner.lower().endswith(("part", "territory")):
            yield inner
    if "(" in name:
        yield name.replace("(", " ").replace(")", " ")  # the whole ISO form, as written
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


def _iso_codes() -> tuple[frozenset[str], frozenset[str]]:
    import pycountry

    alpha2 = {c.alpha_2 for c in pycountry.countries} | {"XK"}
    alpha3 = {c.alpha_3 for c in pycountry.countries} | {"XKX"}
    return frozenset(alpha2), frozenset(alpha3)


def build_place_tables(
    extra_places: Iterable[str] = (), extra_allowed: Iterable[str] = ()
) -> PlaceTables:
    """Build the tables (reads pycountry and the data files); callers cache the result."""
    folded = Node()
    exact = Node()
    place = Entry(FindingKind.PLACE)
    demonym = Entry(FindingKind.DEMONYM)
    allowed = Entry(None)

    for _, line in _data_lines("allowed_regions.txt", columns=1):
        for phrase in filter(None, (line, _plural(line))):
            for tokens in _variants(phrase):
                _insert(folded, tokens, allowed)
    for phrase in extra_allowed:
        for tokens in _variants(phrase):
            _insert(folded, tokens, allowed)

    for name in _pycountry_names():
        for tokens in _variants(name):
            _insert(folded, tokens, place)
    for phrase in extra_places:
        for tokens in _variants(phrase):
            _insert(folded, tokens, place)

    for _, aliases in _read_data("aliases.tsv"):
        for alias in aliases:
            _insert_alias(folded, exact, alias)

    cap_demonym = Entry(FindingKind.DEMONYM, cap_only=True)
    for _, forms in _read_data("demonyms.tsv"):
        for form in forms:
            entry = cap_demonym if form.startswith("^") else demonym
            form = form.lstrip("^")
            for phrase in filter(None, (form, _plural(form))):
                for tokens in _variants(phrase):
                    _insert(folded, tokens, entry)

    alpha2, alpha3 = _iso_codes()
    exact_first = frozenset(fold(k) for k in exact.children)
    return PlaceTables(
        folded=folded,
        exact=exact,
        alpha2=alpha2,
        alpha3=alpha3,
        exact_first=exact_first,
        first_keys=frozenset(folded.children) | exact_first,
    )


def _insert_alias(folded: Node, exact: Node, alias: str) -> None:
    if alias[0] in "=~":
        body = alias[1:]
        entry = Entry(
            FindingKind.PLACE,
            word_like=alias[0] == "~",
            dotted="." in body,
            trailing_dot=body.endswith("."),
        )
        _insert(exact, tuple(TOKEN_RE.findall(body)), entry)
        return
    for tokens in _variants(alias):
        _insert(folded, tokens, Entry(FindingKind.PLACE))
