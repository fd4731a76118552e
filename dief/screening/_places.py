# ruff: noqa: RUF002 (a multilingual lexicon: Cyrillic, Arabic and CJK text is intended)
"""Country and place names, demonyms and ISO codes in free text.

Names are matched on the **match view** of the text (:mod:`dief.screening._normalize`):
case, diacritics, invisible characters, compatibility forms and the Arabic article do not
matter, and every span is mapped back to the text as given. By concept: the cue words and
code lists (:mod:`dief.screening._places_cues`), the text's words and the walk of the name
tries (:mod:`dief.screening._places_tokens`), spaced, split, misspelt and Chinese names
(:mod:`dief.screening._places_variants`), ISO codes (:mod:`dief.screening._places_codes`).

* **Words** are looked up in a word trie (longest phrase wins: "Papua New Guinea" over
  "New Guinea", "British Indian Ocean Territory" over the allowed "Indian Ocean"). A word
  is also tried under its Latin skeleton when it mixes scripts or is written in
  look-alikes ("Frаnce" with a Cyrillic а), under its letter readings when it mixes
  letters and digits ("Fr4nce"), and, in Arabic, without attached particles
  ("وبالعراق" -> "عراق").
* **Spaced and split spellings**: a run of three or more single letters ("F r a n c e",
  "F.R.A.N.C.E"), or two or three pieces joined by dots, hyphens, underscores or
  asterisks ("Fr.an-ce"), or by spaces when every piece is three letters or fewer
  ("Fra nce"), are joined and looked up again.
* **Misspellings**: a word of five letters or more, not itself a known word, within one
  edit (substitution, insertion, deletion, transposition) of a name or demonym of six
  letters or more ("Frannce", "Nigerai"); frequent words one edit from a name ("trench",
  "finish") are never taken for one (``data/wordlists.tsv``).
* **Chinese** names are matched as substrings of runs of ideographs, except where the
  match straddles two ordinary words ("非法国际" is 非法 + 国际, not 法国).
* **Gated** entries (ordinary words that are also place names: "Reading", "Split",
  Spanish "granada") count only when capitalised and next to a place cue ("in", "near",
  "port of", "à", "в", "في" …, or "port", "airport", "free zone" after).
* **ISO codes** are read on the pattern view (case kept): upper-case alpha-3 codes in
  mixed-case text, alpha-2 codes as before; codes that are words ("CAN", "MAR", "SUR"),
  lower-case codes and codes in all-capitals text only with a cue ("to", "from", "via",
  "customs", "authorities" …) or in a list of codes ("FRA, DEU and ITA").
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from dief.screening._normalize import HAN_RE, View
from dief.screening._places_codes import find_codes
from dief.screening._places_cues import in_capitals
from dief.screening._places_tokens import Tokens, cued, exact_ok, longer, walk, walk_exact
from dief.screening._places_variants import find_fuzzy, find_han, find_joined

if TYPE_CHECKING:
    from dief.screening._findings import Span
    from dief.screening._tables import Entry, PlaceTables

__all__ = ["find_codes", "find_places", "in_capitals"]


def find_places(text: str, view: View, tables: PlaceTables) -> list[Span]:  # noqa: C901, PLR0912, PLR0914  one pass over the heuristic's cases in order; splitting it would scatter them
    """Spans of names, short forms, demonyms, cities, ports and forum terms in ``text``."""
    found: list[Span] = []
    vt = view.text
    if HAN_RE.search(vt) if not vt.isascii() else False:
        found.extend(find_han(text, view, tables))
    toks = Tokens(text, view, tables)
    if toks.n == 0:
        return found
    consumed = [False] * toks.n
    interesting = tables.first_keys
    raw: list[str] | None = None
    next_free = 0
    alts = toks.alts
    candidates = [
        i
        for i, key in enumerate(toks.keys)
        if key in interesting or (i in alts and any(k in interesting for k in alts[i]))
    ]
    for i in candidates:
        if i < next_free:
            continue
        keys = toks.options(i)
        best: tuple[int, Entry] | None = None
        hit = walk(tables.folded, toks, i, vt)
        if hit is not None:
            j, entry = hit
            if entry.cap_only:
                start = view.span(toks.starts[i], toks.ends[i])[0]
                if not text[start : start + 1].isupper():
                    hit = None
            if hit is not None and entry.gated and not cued(text, view, toks, i, j):
                hit = None
            best = hit
        if keys[0] in tables.exact_first:
            if raw is None:
                raw = [
                    text[slice(*view.span(s, e))]
                    for s, e in zip(toks.starts, toks.ends, strict=True)
                ]
            ehit = walk_exact(tables.exact, raw, toks, i)
            if ehit is not None and exact_ok(text, view, toks, i, ehit[0], ehit[1]):
                best = longer(best, ehit)
        if best is None:
            continue
        j, entry = best
        start, end = view.span(toks.starts[i], toks.ends[j])
        if entry.kind is not None:
            if entry.trailing_dot and text[end : end + 1] == ".":
                end += 1
            found.append((start, end, entry.kind))
        for k in range(i, j + 1):
            consumed[k] = True
        next_free = j + 1
    found.extend(find_joined(text, view, toks, consumed, tables))
    found.extend(find_fuzzy(text, view, toks, consumed, tables))
    return found
