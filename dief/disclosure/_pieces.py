"""Protecting only the part of a region's joint system that new data changes (issue #15,
incremental cost; docs/digests.md, "Cost").

What a re-issue takes as given (DESIGN §7, "keep patterns stable across issues"; the one
rule, with :class:`~dief.disclosure.Earlier`, which says it cell by cell): the documents of
the earlier issues are published and read together with the new ones, so

- every cell they suppressed stays suppressed (an unknown to every reader);
- every cell they published with the count it has now stays published (a constant in
  every equation a reader can write; never taken as a secondary suppression);
- and every cell of a table the new data did not change keeps exactly that status: only
  the tables the new data changed are decided again.

(The one exception is :mod:`dief.disclosure._suppression`'s "Cells published earlier": a
real leak that only a cell published earlier can stop hides that cell again; ``protect``
decides it, within the piece as anywhere.)

:func:`affected_piece` finds those tables: a table holding a cell no issue listed, a cell
published with another count than it has now, or a cell published at its count but now
below ``k`` (one new case: its month, quarter, half-cycle, cycle, checklist windows and
summary row, with the TLP:RED part of its cycle). :func:`protect_piece` runs
:func:`~dief.disclosure.protect` over their cells and every cell of every group (of this
issue and of the earlier one; check 4's links join cells of one table) that names one of
them: the cells of unchanged tables in those groups take part with the status they keep
(suppressed: an unknown, never published now; published: known), so every equation that
names a changed table is in checks 1-4, and a hidden cell on either side of the boundary that those
equations determine gets a suppression. Equations between unchanged tables only are the
earlier issue's, checked when it was issued, and left out; a chain of them joining two
boundary cells is not seen by the checks (the LP audit over both issues finds nothing on
the histories tested: tests/unit/test_disclosure_cost.py and the two-issue attacks).
That is what bounds the cost by the tables one case touches instead of the region's
history (a realistic region at 10
years: 15,000 cells, a new case's piece about 330; the whole-history walk it replaces
reached nearly all of them, since at that sparsity almost every cell is hidden and the
hidden cells chain every period to the next).

A first issue has no record and is protected whole. (Building it cycle by cycle, as if
the region had issued at the end of each, was tried and measured slower: each step's
re-issue checks cost more than they save; docs/digests.md, "Cost".)
:func:`whole_system` turns the pieces off (the bench's baseline, and tests comparing the two).
"""

from __future__ import annotations

import contextlib
import threading
from typing import TYPE_CHECKING, Protocol

from dief.aggregator import TOTAL
from dief.disclosure._suppression import Earlier, Group, Key, Protection

if TYPE_CHECKING:
    from collections.abc import Collection, Generator, Iterable, Mapping, Sequence

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
def whole_system() -> Generator[None]:
    """Within the block (this thread), every pattern is computed over the region's whole
    system, as before issue #15's cost work (comparisons, the bench's baseline)."""
    before = getattr(_state, "whole", False)
    _state.whole = True
    try:
        yield
    finally:
        _state.whole = before


def affected_piece(  # noqa: PLR0913  the earlier issue's parts, each by name
    counts: Mapping[Key, int],
    groups: Sequence[Group],
    earlier_groups: Sequence[Group],
    *,
    public: Collection[Key],
    recorded: Collection[Key],
    primary: Collection[Key],
    never_seeds: Collection[str] = (),
    suppressed: Collection[Key] = (),
    unlisted: Collection[Key] = (),
    nil: Collection[Key] = (),
) -> set[Key] | None:
    """The cells a re-issue must decide again (see the module docstring), or ``None`` when
    that is (nearly) everything: every cell of a table the new data changed.

    A table is changed when it holds a *seed*: a cell no issue listed, a cell published
    with another count than it has now (listed, neither *public* nor *suppressed*), or a
    *public* cell now below ``k`` (*primary*). *public*: cells the earlier issues published
    with the count they have now; *recorded*: every cell they listed; *suppressed*: those
    they suppressed; *never_seeds*: tables no issue lists (the TLP:RED part), taken in
    with a changed table they share a group with; *unlisted*: cells no document lists (a
    withheld dimension's values), which no issue published, so never with another count:
    like a suppressed cell, one is a seed only by its table's listed cells. Every other
    cell keeps the status the earlier issue gave it (the module docstring)."""
    seeds = {
        key
        for key in counts
        if key[0] not in never_seeds
        and key not in unlisted
        and key not in nil
        and (
            key not in recorded
            or (key in public and key in primary)
            or (key not in public and key not in suppressed)
        )
    }
    tables = {key[0] for key in seeds}
    for group in (*groups, *earlier_groups):
        names = {cell[0] for cell in group.cells}
        if names & tables:
            tables.update(name for name in names if name in never_seeds)
    reached = {key for key in counts if key[0] in tables}
    stop = {key for key in public if key not in primary}
    unknown = sum(1 for key in counts if key not in stop)
    if unknown and len(reached - stop) > WHOLE_SHARE * unknown:
        return None
    return reached


def bound_links(counts: Mapping[Key, int]) -> list[Group]:
    """The links check 4's inequalities make besides the groups (:mod:`dief.disclosure._bounds`):
    every cell with its table's total (a cell is at most the total) and a table's item
    categories with each other and its total (together at least the total). Each joins
    cells of one table, so a piece (whole tables) is closed under them, and holds every
    cell they name around it, without them (:func:`protect_piece`)."""
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
    return [g for g in groups if g.marginal in piece or any(c in piece for c in g.members)]


class Runner(Protocol):
    """:func:`~dief.disclosure.protect` with the caller's orders and options bound."""

    def __call__(  # noqa: PLR0913, PLR0917  protect's inputs in one fixed order
        self,
        counts: Mapping[Key, int],
        primary: frozenset[Key],
        groups: Sequence[Group],
        earlier: Earlier | None,
        free: frozenset[Key],
        known: frozenset[Key],
        unlisted: frozenset[Key],
    ) -> Protection: ...


def protect_piece(  # noqa: PLR0913  protect's inputs, the optional ones by name
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
    nil: Collection[Key] = (),
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
    if earlier is not None and pieces_enabled():
        # check 4's links (bound_links) are left out: each joins cells of one table, and a
        # piece is whole tables, so they add no table to it and no cell around it (issue
        # #15: at 10 years a region has 28,000, and they took a tenth of a re-issue)
        piece = affected_piece(
            counts,
            groups,
            earlier.groups,
            public=earlier.unchanged | known_,
            recorded=recorded,
            primary=first,
            never_seeds=never_seeds,
            suppressed=earlier.suppressed,
            unlisted=unlisted_,
            nil=nil,
        )
    if piece is None or earlier is None:
        return run(counts, first, groups, earlier, free_, known_, unlisted_)
    inner_groups = piece_groups(groups, piece)
    before_groups = piece_groups(earlier.groups, piece)
    cells = set(piece)
    for group in (*inner_groups, *before_groups):
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
