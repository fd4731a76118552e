"""Dimensions a digest withholds (issue #15, docs/digests.md "Tables designed for the
data"): where every value of a dimension in a period was reported by fewer than k States,
the digest lists no value of it (neither a count nor a suppressed cell) and says so.

Listed, even as suppressed cells, those values told a reader that each counts at least
one case, and with the total published a few of them summing to it were each pinned; so
the total had to be hidden. Withheld, the dimension's key is left out of ``dimensions``
(an absent key says nothing; a listed dimension without a value says that value is 0),
the notes name it (``notes.withheld_dimensions``, an extra key: DESIGN §7 "more fields are
welcome") and say why in one sentence, and every page says so where the table would be.
A re-issue keeps withheld a dimension its period's earlier issue withheld, even once a
value reaches k (:mod:`dief.disclosure._withheld`): the notes say "when this period was
first issued".
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from dief.vocab import Dimension

if TYPE_CHECKING:
    from collections.abc import Iterable

    from dief.wire import Digest, DigestNotes

__all__ = [
    "WITHHELD_DIMENSION_TEXT",
    "WITHHELD_KEY",
    "WITHHELD_NOTE",
    "with_withheld",
    "withheld_dimensions",
]

#: the key of ``notes`` that names the dimensions a digest withholds
WITHHELD_KEY = "withheld_dimensions"

#: what a page says in place of a withheld dimension's table
WITHHELD_DIMENSION_TEXT = (
    "Withheld: each value was reported by fewer than {k} States when this period was first "
    "issued, so no value is listed."
)

#: what a digest's notes say when it withholds dimensions
WITHHELD_NOTE = (
    "No value of {dimensions} is listed: each was reported by fewer than {k} States when "
    "this period was first issued, and a value listed even with its count hidden would, "
    "beside the published total, give its count away (listed later, beside the earlier "
    "issue's figures, too); their cases still count in the totals."
)


def with_withheld(notes: DigestNotes, dimensions: Iterable[Dimension], *, k: int) -> DigestNotes:
    """*notes* naming the withheld *dimensions* (none: unchanged) and saying why."""
    names = [d.value for d in Dimension if d in set(dimensions)]
    if not names:
        return notes
    text = [*notes.text, WITHHELD_NOTE.format(dimensions=", ".join(names), k=k)]
    return notes.model_copy(update={WITHHELD_KEY: names, "text": text})


def withheld_dimensions(digest: Digest) -> frozenset[Dimension]:
    """The dimensions *digest* withholds (``notes.withheld_dimensions``; unknown names are
    ignored)."""
    raw = (digest.notes.model_extra or {}).get(WITHHELD_KEY) or []
    known = {d.value: d for d in Dimension}
    return frozenset(known[name] for name in raw if isinstance(name, str) and name in known)
