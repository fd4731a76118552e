"""Country and territory names, short forms, demonyms and ISO codes in free text.

The tables are built once, lazily (:func:`place_tables`), from pycountry and the data files
shipped next to this module. Matching works on *tokens* of the original text (maximal runs
of letters and digits, combining marks included), so spans are exact offsets into the text
as given:

* a case-insensitive word trie holds names, aliases, demonyms and allowed region phrases;
  token keys are NFKD-folded, so diacritics, case, apostrophes and hyphens do not matter
  ("Côte d'Ivoire" with any apostrophe = "cote d ivoire" = "Cote dIvoire";
  "Guinea Bissau" = "Guinea-Bissau");
  the longest phrase starting at a token wins, so "Papua New Guinea" beats "New Guinea"
  and "British Indian Ocean Territory" beats the allowed "Indian Ocean";
* a case-sensitive trie holds acronyms that are also English words in lower case ("US",
  "CAR") or need their dots ("U.S.");
* ISO 3166 alpha-3 codes are whole upper-case tokens; alpha-2 codes count only as a
  stand-alone upper-case token in lower-case surroundings, never after a number (a unit:
  "16 GB", "500 MT"), never before "-<digit>" (a designation: "SA-7"), and never when they
  are an everyday word or abbreviation (listed below).
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from importlib import resources

from dief.exceptions import ConfigurationError
from dief.screening._findings import FindingKind

__all__ = ["PlaceTables", "build_place_tables", "find_places", "fold"]

#: Tokens: a letter or digit, then letters, digits and combining marks (decomposed input).
TOKEN_RE = re.compile(
    r"[^\W_](?:[^\W_]|[\u0300-\u036f\u1ab0-\u1aff\u1dc0-\u1dff\u20d0-\u20ff\ufe20-\ufe2f])*"
)
#: Most characters allowed between two words of one name ("Guinea - Bissau", "St. Lucia").
MAX_GAP = 3
#: Characters each side of a code looked at to decide whether the passage is in capitals.
CONTEXT_RADIUS = 48

# Letters NFKD does not decompose, and apostrophe-like letters (U+02BC, U+02BB) that
# would otherwise glue "d\u02bcIvoire" into one word.
_EXTRA_FOLD = str.maketrans(
    {
        "ø": "o", "æ": "ae", "œ": "oe", "đ": "d", "ł": "l", "þ": "th", "ð": "d",
        "\u0131": "i", "\u02bc": "", "\u02bb": "",
    }
)  # fmt: skip
_APOSTROPHES = re.compile("['`\u2018\u2019\u02bc\u00b4]")

# ISO alpha-3 codes that are also English words or established non-country acronyms in
# trade and arms-control text; never flagged as codes (the names still are).
ALPHA3_NEVER: frozenset[str] = frozenset(
    {
        "AND",
        "ARE",
        "CAN",
        "PER",
        "FIN",
        "NOR",  # English words
        "ATA",  # ATA carnet (temporary admission), not Antarctica
        "ASM",
        "ATG",  # air-to-surface missile, air-to-ground
        "SGS",  # pre-shipment inspection company
        "VAT",
        "COD",
        "COM",
        "DMA",
        "IOT",
        "MAC",
        "NIC",  # tax, cash on delivery, IT terms
        "NAM",  # Non-Aligned Movement
        "POL",  # petroleum, oils and lubricants
    }
)
# Alpha-3 codes that are English words: not flagged inside an all-capitals passage.
ALPHA3_WORDS: frozenset[str] = frozenset(
    {
        "ARM",
        "BEN",
        "BRA",
        "COG",
        "COL",
        "CUB",
        "DOM",
        "ESP",
        "EST",
        "GAB",
        "GEO",
        "GIN",
        "GUM",
        "GUY",
        "HUN",
        "JAM",
        "KEN",
        "LIE",
        "MAR",
        "PAN",
        "SUR",
        "TON",
        "TUN",
    }
)
# Alpha-2 codes never flagged as bare codes: English words, units and abbreviations that
# are far more common in this text than the country code (the names still are flagged).
ALPHA2_NEVER: frozenset[str] = frozenset(
    {
        # English words
        "AD",
        "AI",
        "AM",
        "AS",
        "AT",
        "BE",
        "BY",
        "DO",
        "IN",
        "IS",
        "IT",
        "ME",
        "MY",
        "NO",
        "SO",
        "TO",
        # abbreviations: African Union, carbon copy, compact disc, company / certificate of
        # origin, curriculum vitae, European Commission, human resources, identity,
        # infrared, medical doctor, machine gun, military police, manuscript, not
        # applicable, north-east, south-east, public address, pH, PK machine gun,
        # afternoon, public relations, postscript, serial number, street / saint,
        # trademark, television, bill of lading, letter of credit, packing list
        "AU",
        "CC",
        "CD",
        "CO",
        "CV",
        "EC",
        "HR",
        "ID",
        "IR",
        "MD",
        "MG",
        "MP",
        "MS",
        "NA",
        "NE",
        "SE",
        "PA",
        "PH",
        "PK",
        "PM",
        "PR",
        "PS",
        "SN",
        "ST",
        "TM",
        "TV",
        "BL",
        "LC",
        "PL",
    }
)
_DESIGNATION_AFTER = re.compile(r"-?\d")


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
class _Entry:
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
class _Node:
    children: dict[str, _Node] = field(default_factory=dict)
    entry: _Entry | None = None


def _insert(root: _Node, tokens: tuple[str, ...], entry: _Entry) -> None:
    if not tokens:
        return
    node = root
    for token in tokens:
        node = node.children.setdefault(token, _Node())
    if node.entry is None or entry.strictness > node.entry.strictness:
        node.entry = entry


@dataclass(frozen=True, slots=True)
class PlaceTables:
    """Everything :func:`find_places` needs; immutable once built."""

    folded: _Node
    exact: _Node
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
    if low.endswith(("s", "sh", "ch", "ese", "x", "z", "men")):
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
        if not inner.lower().endswith(("part", "territory")):
            yield inner
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
    folded = _Node()
    exact = _Node()
    place = _Entry(FindingKind.PLACE)
    demonym = _Entry(FindingKind.DEMONYM)
    allowed = _Entry(None)

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

    cap_demonym = _Entry(FindingKind.DEMONYM, cap_only=True)
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


def _insert_alias(folded: _Node, exact: _Node, alias: str) -> None:
    if alias[0] in "=~":
        body = alias[1:]
        entry = _Entry(
            FindingKind.PLACE,
            word_like=alias[0] == "~",
            dotted="." in body,
            trailing_dot=body.endswith("."),
        )
        _insert(exact, tuple(TOKEN_RE.findall(body)), entry)
        return
    for tokens in _variants(alias):
        _insert(folded, tokens, _Entry(FindingKind.PLACE))


# --------------------------------------------------------------------------- matching


def in_capitals(text: str, start: int, end: int) -> bool:
    """True when the letters around ``text[start:end]`` are mostly capitals."""
    around = text[max(0, start - CONTEXT_RADIUS) : start] + text[end : end + CONTEXT_RADIUS]
    upper = sum(1 for c in around if c.isupper())
    lower = sum(1 for c in around if c.islower())
    return upper > lower


class _Spans:
    """``spans[i]`` is the ``(start, end)`` of token ``i``, computed on demand."""

    __slots__ = ("_matches",)

    def __init__(self, matches: list[re.Match[str]]) -> None:
        self._matches = matches

    def __getitem__(self, i: int) -> tuple[int, int]:
        return self._matches[i].span()

    def __len__(self) -> int:
        return len(self._matches)


def _walk(
    root: _Node,
    spans: _Spans,
    keys: list[str],
    i: int,
) -> tuple[int, _Entry] | None:
    """Longest entry of ``root`` starting at token ``i``: ``(last token index, entry)``."""
    node = root.children.get(keys[i])
    best: tuple[int, _Entry] | None = None
    j = i
    n = len(spans)
    while node is not None:
        if node.entry is not None:
            best = (j, node.entry)
        if not node.children or j + 1 >= n or spans[j + 1][0] - spans[j][1] > MAX_GAP:
            break
        j += 1
        node = node.children.get(keys[j])
    return best


def _exact_ok(text: str, spans: _Spans, i: int, j: int, e: _Entry) -> bool:
    if e.dotted and any(text[spans[k][1] : spans[k + 1][0]].strip() != "." for k in range(i, j)):
        return False
    return not (e.word_like and in_capitals(text, spans[i][0], spans[j][1]))


def _longer(best: tuple[int, _Entry] | None, hit: tuple[int, _Entry]) -> tuple[int, _Entry]:
    """The longer of two matches at one token; on a tie a refusal beats an allowed phrase."""
    if best is None or hit[0] > best[0] or (hit[0] == best[0] and best[1].kind is None):
        return hit
    return best


def find_places(text: str, tables: PlaceTables) -> list[tuple[int, int, FindingKind]]:
    """Spans of names, short forms, demonyms and codes in ``text``."""
    found = _find_codes(text, tables)
    if text.isascii():
        # The common case: lower() keeps offsets and folds every token; most texts have no
        # token that can start a name, which one C-level set test establishes.
        lowered = text.lower()
        keys = _ASCII_TOKEN_RE.findall(lowered)
        if tables.first_keys.isdisjoint(keys):
            return found
        matches = list(_ASCII_TOKEN_RE.finditer(lowered))
    else:
        matches = list(TOKEN_RE.finditer(text))
        keys = [fold(m.group()) for m in matches]
    names, consumed = _find_names(text, tables, matches, keys)
    if found and consumed:  # a code inside a matched phrase ("US Virgin Islander") is not
        found = [c for c in found if not any(a < c[1] and c[0] < b for a, b in consumed)]
    return found + names


_ASCII_TOKEN_RE = re.compile(r"[a-z0-9]+")
_UPPER_TOKEN_RE = re.compile(r"(?<![^\W_])[A-Z]{2,3}(?![^\W_])")


def _find_codes(text: str, tables: PlaceTables) -> list[tuple[int, int, FindingKind]]:
    return [
        (m.start(), m.end(), FindingKind.PLACE)
        for m in _UPPER_TOKEN_RE.finditer(text)
        if _is_code(text, m.start(), m.end(), m.group(), tables)
    ]


def _find_names(
    text: str, tables: PlaceTables, matches: list[re.Match[str]], keys: list[str]
) -> tuple[list[tuple[int, int, FindingKind]], list[tuple[int, int]]]:
    """Name and demonym findings, and the ranges of every matched phrase (allowed too)."""
    interesting = tables.first_keys
    found: list[tuple[int, int, FindingKind]] = []
    consumed: list[tuple[int, int]] = []
    raw_keys: list[str] | None = None
    next_free = 0
    spans = _Spans(matches)
    for i in [i for i, key in enumerate(keys) if key in interesting]:
        if i < next_free:
            continue  # inside a phrase already matched
        key = keys[i]
        best: tuple[int, _Entry] | None = None
        if key in tables.folded.children:
            hit = _walk(tables.folded, spans, keys, i)
            if hit is not None and (not hit[1].cap_only or text[spans[i][0]].isupper()):
                best = hit
        if key in tables.exact_first:
            if raw_keys is None:
                raw_keys = [text[m.start() : m.end()] for m in matches]
            hit = _walk(tables.exact, spans, raw_keys, i)
            if hit is not None and _exact_ok(text, spans, i, hit[0], hit[1]):
                best = _longer(best, hit)
        if best is not None:
            j, entry = best
            if entry.kind is not None:
                end = spans[j][1]
                if entry.trailing_dot and text[end : end + 1] == ".":
                    end += 1
                found.append((spans[i][0], end, entry.kind))
            consumed.append((spans[i][0], spans[j][1]))
            next_free = j + 1
    return found, consumed


def _is_code(text: str, start: int, end: int, raw: str, tables: PlaceTables) -> bool:
    size = len(raw)
    if size not in (2, 3) or not (raw.isascii() and raw.isalpha() and raw.isupper()):
        return False
    if size == 3:
        if raw not in tables.alpha3 or raw in ALPHA3_NEVER:
            return False
        return not (raw in ALPHA3_WORDS and in_capitals(text, start, end))
    if raw not in tables.alpha2 or raw in ALPHA2_NEVER:
        return False
    before = text[max(0, start - 2) : start]
    if before[-1:].isdigit() or (before[-1:] == " " and before[:1].isdigit()):
        return False  # a unit after a number: "16 GB", "500 MT"
    if _DESIGNATION_AFTER.match(text, end):
        return False  # a designation: "SA-7"
    return not in_capitals(text, start, end)
