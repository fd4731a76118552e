"""What the screener reports: a :class:`Finding` points at a span, never carries its text."""

from __future__ import annotations

from bisect import bisect_left
from dataclasses import dataclass
from enum import StrEnum
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from collections.abc import Iterable

__all__ = ["KIND_DESCRIPTIONS", "Finding", "FindingKind", "Span", "describe_findings"]


class FindingKind(StrEnum):
    """Why a span of free text is refused; values are the kinds in ``ScreeningError.spans``."""

    PLACE = "place"
    DEMONYM = "demonym"
    CITY = "city"
    PERSON = "person"
    ORGANIZATION = "organization"
    NATIONAL_REFERENCE = "national_reference"
    EMAIL = "email"
    PHONE = "phone"
    URL = "url"
    REFERENCE_NUMBER = "reference_number"
    IDENTIFIER = "identifier"
    FORUM_TERM = "forum_term"


#: what a detector returns: ``(start, end, kind)`` into the text as given
Span = tuple[int, int, FindingKind]

KIND_DESCRIPTIONS: dict[FindingKind, str] = {
    FindingKind.PLACE: "country or territory name or code",
    FindingKind.DEMONYM: "country demonym or adjective",
    FindingKind.CITY: "capital, city, port or free zone",
    FindingKind.PERSON: "person's name",
    FindingKind.ORGANIZATION: "company or organisation name",
    FindingKind.NATIONAL_REFERENCE: "first-person national reference",
    FindingKind.EMAIL: "e-mail address",
    FindingKind.PHONE: "phone number",
    FindingKind.URL: "URL or domain name",
    FindingKind.REFERENCE_NUMBER: "licence, contract, permit or other reference number",
    FindingKind.IDENTIFIER: "vessel, container or aircraft identifier",
    FindingKind.FORUM_TERM: "term on this forum's list",
}

# When overlapping spans are equally long, the more specific kind wins: lower rank wins.
KIND_RANK: dict[FindingKind, int] = {
    FindingKind.EMAIL: 0,
    FindingKind.URL: 1,
    FindingKind.REFERENCE_NUMBER: 2,
    FindingKind.IDENTIFIER: 3,
    FindingKind.PHONE: 4,
    FindingKind.FORUM_TERM: 5,
    FindingKind.PLACE: 6,
    FindingKind.DEMONYM: 7,
    FindingKind.CITY: 8,
    FindingKind.NATIONAL_REFERENCE: 9,
    FindingKind.ORGANIZATION: 10,
    FindingKind.PERSON: 11,
}


@dataclass(frozen=True, slots=True, order=True)
class Finding:
    """One refused span: ``text[start:end]`` of ``field`` is of ``kind``.

    Offsets are Python string indices (code points) into the text as given. The matched
    text itself is deliberately not stored, so a finding can be logged, raised or written
    to ``rejected.jsonl`` without leaking what it points at.
    """

    field: str
    start: int
    end: int
    kind: FindingKind

    def describe(self) -> str:
        """``summary[34:40]: country or territory name or code`` (no text quoted)."""
        return f"{self.field}[{self.start}:{self.end}]: {KIND_DESCRIPTIONS[self.kind]}"

    def as_span(self) -> tuple[str, int, int, str]:
        """The ``(field, start, end, kind)`` tuple of ``ScreeningError.spans``."""
        return (self.field, self.start, self.end, self.kind.value)


def describe_findings(findings: Iterable[Finding]) -> str:
    """Join the descriptions of ``findings`` with ``"; "``."""
    return "; ".join(f.describe() for f in findings)


def resolve_overlaps(field: str, spans: Iterable[tuple[int, int, FindingKind]]) -> list[Finding]:
    """Keep one finding per region of text, preferring the more specific kind, and refuse
    every character some candidate covers.

    Candidates are considered longest first (an e-mail address over the domain in it,
    "Acme Kenya Ltd" over "Kenya"), then by kind rank, then leftmost. One inside the kept
    ones is dropped; the parts of one that runs past them are kept as well: they join the
    kept finding they touch when it is of the same kind (a name found twice, in
    overlapping pieces: "Mr José Luis Rodríguez" and "Luis Rodríguez Zapatero" give the
    whole name), else they are findings of their own. Dropping such a candidate whole
    left the rest of a name unrefused. The result is sorted by position, never overlapping.
    """
    ordered = sorted(set(spans), key=lambda s: (s[0] - s[1], KIND_RANK[s[2]], s[0]))
    kept: list[tuple[int, int, FindingKind]] = []  # never overlapping: sorted by start and end
    for start, end, kind in ordered:
        if start >= end:
            continue
        # the kept spans that start before this one ends, the last of them first
        k = bisect_left(kept, (end,)) - 1
        if k < 0 or kept[k][1] <= start:
            kept.insert(k + 1, (start, end, kind))
            continue
        first = k
        while first > 0 and kept[first - 1][1] > start:
            first -= 1
        _keep_the_rest(kept, first, k, (start, end, kind))
    return [Finding(field, start, end, kind) for start, end, kind in kept]


def _keep_the_rest(
    kept: list[tuple[int, int, FindingKind]],
    first: int,
    last: int,
    span: tuple[int, int, FindingKind],
) -> None:
    """Add to *kept* the parts of *span* outside ``kept[first:last + 1]`` (all overlap it)."""
    start, end, kind = span
    pieces: list[tuple[int, int, int]] = []  # (start, end, index of the kept span after it)
    cursor = start
    for i in range(first, last + 1):
        if kept[i][0] > cursor:
            pieces.append((cursor, kept[i][0], i))
        cursor = max(cursor, kept[i][1])
    if cursor < end:
        pieces.append((cursor, end, last + 1))
    for a, b, after in reversed(pieces):  # from the right: the indices before stay valid
        if after > 0 and kept[after - 1][1] == a and kept[after - 1][2] == kind:
            kept[after - 1] = (kept[after - 1][0], b, kind)
        elif after < len(kept) and kept[after][0] == b and kept[after][2] == kind:
            kept[after] = (a, kept[after][1], kind)
        else:
            kept.insert(after, (a, b, kind))
