"""Protecting only the piece of a region's joint system that new data can affect (issue #15,
incremental cost; docs/digests.md, "Cost").

A re-issue keeps what the earlier issues listed (:class:`~dief.disclosure.Earlier`): every
cell they suppressed stays suppressed, and a cell they published with the count it has now
is public — known to every reader, never taken as a secondary suppression. Such a cell is a
constant in every equation a reader can write. So the region's linear system falls apart,
once the public cells are substituted, into pieces linked only through cells a reader does
not know; and whether a hidden cell can be computed or pinned (checks 1-4 of
:func:`~dief.disclosure.protect`) depends only on its own piece.

:func:`affected_piece` starts from the cells that are new since the record (a new cell, a
count that changed, a published cell now below ``k``) and follows every group (this issue's
and the earlier issue's) through cells that are not public: what it reaches is the only part
:func:`~dief.disclosure.protect` must run on. Every other cell keeps the earlier pattern
(suppressed where it was, or primary), which is the pattern the earlier issue checked with
the same public cells. A new case therefore re-protects the month, quarter, cycle, windows
and summary row it falls in, and the hidden cells linked to them, not the region's history.

A first issue has no record and is protected whole. (Building it cycle by cycle, as if
the region had issued at the end of each, was tried and measured slower: each step's
re-issue checks cost more than they save; docs/digests.md, "Cost".)
:func:`whole_system` turns the pieces off (the bench's baseline, and tests comparing the two).
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Collection, Iterable, Iterator, Mapping, Sequence
from typing import Protocol

from dief.aggregator import TOTAL
from dief.disclosure._suppression import Earlier, Group, Key, Protection

__all__ = [
    "Runner",
    "affected_piece",
    "piece_groups",
    "pieces_enabled",
    "protect_piece",
    "whole_system",
]

_state = threading.local()
#: the multi-valued dimension whose values together count at least the total (every case
#: names an item; as :mod:`dief.disclosure._bounds` reads it)
ITEMS = "item_category"
#: a piece larger than this share of the unknowns is protected whole (no gain in cutting)
WHOLE_SHARE = 0.8


def pieces_enabled() -> bool:
    """Whether patterns are computed piece by piece (the default)."""
    return not getattr(_state, "whole", False)


@contextlib.contextmanager
def whole_system() -> Iterator[None]:
    """Within the block (this thread), every pattern is computed over the region's whole
    system, as before issue #15's cost work (comparisons, the bench's baseline)."""
    before = getattr(_state, "whole", False)
    _state.whole = True
    try:
        yield
    finally:
        _state.whole = before


def affected_piece(
    counts: Mapping[Key, int],
    groups: Sequence[Group],
    earlier_groups: Sequence[Group],
    *,
    public: Collection[Key],
    recorded: Collection[Key],
    primary: Collection[Key],
    never_seeds: Collection[str] = (),
) -> set[Key] | None:
    """The cells a re-issue must protect again (see the module docstring), or ``None`` when
    that is (nearly) everything. *public*: cells the earlier issues published with the
    count they have now; *recorded*: every cell they listed; *never_seeds*: tables no issue
    lists (the TLP:RED part), reached only through the cells around them."""
    seeds = {
        key
        for key in counts
        if key[0] not in never_seeds and (key not in recorded or (key in public and key in primary))
    }
    stop = {key for key in public if key not in primary}
    of_cell: dict[Key, list[Group]] = {}
    for group in (*groups, *earlier_groups):
        for cell in group.cells:
            of_cell.setdefault(cell, []).append(group)
    reached = set(seeds)
    frontier = list(seeds)
    while frontier:
        cell = frontier.pop()
        for group in of_cell.get(cell, ()):
            for other in group.cells:
                if other not in reached and other not in stop:
                    reached.add(other)
                    frontier.append(other)
    unknown = sum(1 for key in counts if key not in stop)
    if unknown and len(reached) > WHOLE_SHARE * unknown:
        return None
    return reached


def bound_links(counts: Mapping[Key, int]) -> list[Group]:
    """The links check 4's inequalities make besides the groups (:mod:`dief.disclosure._bounds`):
    every cell with its table's total (a cell is at most the total) and a table's item
    categories with each other and its total (together at least the total). A piece must
    be closed under them too, and hold every cell they name around it."""
    links: list[Group] = []
    items: dict[str, list[Key]] = {}
    for key in counts:
        table, dimension, _ = key
        total = (table, *TOTAL)
        if key == total or total not in counts:
            continue
        if dimension == ITEMS:
            items.setdefault(table, []).append(key)
        else:
            links.append(Group(total, (key,)))
    links.extend(Group((table, *TOTAL), tuple(members)) for table, members in items.items())
    return links


def piece_groups(groups: Iterable[Group], piece: Collection[Key]) -> list[Group]:
    """The groups with a cell in *piece*."""
    return [g for g in groups if any(c in piece for c in g.cells)]


class Runner(Protocol):
    """:func:`~dief.disclosure.protect` with the caller's orders and options bound."""

    def __call__(
        self,
        counts: Mapping[Key, int],
        primary: frozenset[Key],
        groups: Sequence[Group],
        earlier: Earlier | None,
        free: frozenset[Key],
        known: frozenset[Key],
        unlisted: frozenset[Key],
    ) -> Protection: ...


def protect_piece(
    run: Runner,
    counts: Mapping[Key, int],
    primary: Collection[Key],
    groups: Sequence[Group],
    earlier: Earlier | None,
    *,
    recorded: Collection[Key],
    free: Collection[Key] = (),
    known: Collection[Key] = (),
    unlisted: Collection[Key] = (),
    never_seeds: Collection[str] = (),
) -> Protection:
    """*run* over the piece a re-issue must protect again (:func:`affected_piece`), every
    other cell keeping the earlier pattern; over everything without *earlier*, when pieces
    are off (:func:`whole_system`) or when the piece is nearly everything."""
    first, free_, known_, unlisted_ = (
        frozenset(primary),
        frozenset(free),
        frozenset(known),
        frozenset(unlisted),
    )
    piece = None
    links: list[Group] = []
    if earlier is not None and pieces_enabled():
        links = bound_links(counts)
        piece = affected_piece(
            counts,
            groups,
            [*earlier.groups, *links],
            public=earlier.unchanged | known_,
            recorded=recorded,
            primary=first,
            never_seeds=never_seeds,
        )
    if piece is None:
        return run(counts, first, groups, earlier, free_, known_, unlisted_)
    assert earlier is not None
    inner_groups = piece_groups(groups, piece)
    before_groups = piece_groups(earlier.groups, piece)
    cells = set(piece)
    for group in (*inner_groups, *before_groups, *piece_groups(links, piece)):
        cells.update(group.cells)
    inner = run(
        {key: counts[key] for key in cells},
        first & cells,
        inner_groups,
        Earlier(
            earlier.suppressed & cells,
            tuple(before_groups),
            earlier.unchanged & cells,
            earlier.given,
        ),
        free_ & cells,
        known_ & cells,
        unlisted_ & cells,
    )
    outside = counts.keys() - cells
    hidden = {k for k in outside if k in first or k in earlier.suppressed or k in free_}
    kept = {k for k in outside if k in earlier.suppressed and k not in first}
    return Protection(first, inner.suppressed | hidden, inner.rounds, inner.kept | kept)
