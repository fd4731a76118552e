"""Check 4 kept in HiGHS while the pruning publishes cells one class at a time
(:mod:`dief.disclosure._prune`).

The pruning asks, for each hidden reserved cell in turn, whether publishing it pins an
unknown (check 4, :mod:`dief.disclosure._bounds`). Asked part by part from scratch, that
is one linear programme over the cell's part per candidate, and at 10 years a part is a
third of a region's history (82 s of pruning on 600 cases, session 15). Here both steps
are kept from one candidate to the next:

* **Step 1.** The whole system's programme around the true counts
  (:class:`~dief.disclosure._bounds.Cone`: directions ``d`` with ``A d = 0``,
  ``G_T d + s <= 0``, ``0 <= s <= 1``, maximise the sum of ``s``) is built once, when the
  search has reached its fixed point, and kept in HiGHS (:mod:`dief._highs`). Publishing
  a cell is the bound ``d = 0`` on its column; where the last optimum already has
  ``d = 0`` there it stays optimal, and nothing is solved, else the next solve starts
  from the last basis. The rows whose slack is zero are the implicit equalities.
* **Step 2.** The search's reduced equations with the implicit equalities added and the
  cells held at their least value constants (:meth:`Elimination.clone`,
  :meth:`~Elimination.constrain`) are kept too: a candidate asks what its cells, and the
  few implicit equalities its publication adds, determine against them
  (:meth:`~dief.disclosure._elimination.Elimination.determined_with`), and an accepted one
  is added to them.

A refused cell's column is freed again, the next solve starts from the basis kept from
before the candidate (optimal again; the refused solve's basis, with the column freed, sent
the dual simplex back to phase 1, several hundred iterations a time), nothing else
changes, and the cells it would expose are returned (the pruning tries it again once all
of them are published). Each candidate is checked exactly against everything published
before it. Where the true counts
are no solution somewhere (never in a first issue built from consistent counts) or scipy's
HiGHS binding is missing, :meth:`KeptCheck4.start` gives ``None`` and the pruning asks the
search's :class:`~dief.disclosure._bounds.BoundSystem` instead.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from dief.disclosure._bounds_lp import TIGHT
from dief.disclosure._kept_cone import cone_session

if TYPE_CHECKING:
    from collections.abc import Collection, Mapping, Sequence

    from dief._highs import HighsSession
    from dief.disclosure._bounds import Cone
    from dief.disclosure._elimination import Elimination
    from dief.disclosure._search import _Search
    from dief.disclosure._suppression import Key

__all__ = ["KeptCheck4"]

#: a direction's entry below this is zero (the programme's directions are scaled so that
#: every strict row has a slack of 1)
ZERO = 1e-7


class KeptCheck4:
    """Check 4 over one search's whole system, kept while cells are published
    (module docstring)."""

    __slots__ = (
        "_block_cells",
        "_block_rows",
        "_blocks",
        "_col",
        "_cone",
        "_held",
        "_reduced",
        "_search",
        "_session",
        "_tight",
        "_x",
    )

    def __init__(self, search: _Search, cone: Cone, kept: HighsSession, x: np.ndarray) -> None:
        self._search = search
        self._cone = cone
        self._session = kept
        self._col = {cell: j for j, cell in enumerate(cone.cells)}
        # the programme's blocks: columns no row joins are independent, and publishing a
        # cell changes its own block alone
        self._blocks = _blocks(len(cone.cells), [*cone.equations, *cone.rows])
        self._block_cells: dict[int, set[Key]] = {}
        for j, cell in enumerate(cone.cells):
            self._block_cells.setdefault(self._blocks[j], set()).add(cell)
        self._block_rows: dict[int, list[int]] = {}
        for i, row in enumerate(cone.rows):
            self._block_rows.setdefault(self._blocks[next(iter(row))], []).append(i)
        self._x = x
        self._tight = self._tight_rows(x, range(len(cone.rows)))
        # step 2's equations: the search's, the implicit equalities, the cells held at
        # their least value constants
        self._reduced: Elimination[Key] = search.elimination.clone()
        self._held: set[Key] = set()  # the unknowns held at their least value: constants
        self._add(self._tight, ())

    @classmethod
    def start(cls, search: _Search) -> KeptCheck4 | None:
        """The programme of *search*'s unknowns as they are now, or ``None`` (module
        docstring)."""
        unknown = sorted(c for c in search.hidden if c not in search.known)
        cone = search.check4.cone(unknown, search.unlisted)
        if cone is None:
            return None
        kept = cone_session(cone, free=True)
        x = None if kept is None else kept.optimum()
        return None if kept is None or x is None else cls(search, cone, kept, x)

    def publish(self, cells: Sequence[Key]) -> set[Key]:
        """Take *cells* (unknowns when :meth:`start` ran, published now in the search's
        state) as known, if no unknown of the search (but its given and free cells) is
        pinned then; returns the cells pinned (none: taken; else everything is as it
        was; a failed solve names *cells* themselves)."""
        cols = np.fromiter((self._col[c] for c in cells), dtype=np.int32, count=len(cells))
        zeros = np.zeros(len(cols))
        self._session.set_bounds(cols, zeros, zeros)
        x = self._x
        before = None
        if np.any(np.abs(x[cols]) > ZERO):
            # the last optimum moves these cells: solve again from its basis
            before = self._session.basis()
            solved = self._session.optimum()
            if solved is None:
                # failed: refused, naming the cells themselves (never tried again)
                self._undo(cols, before)
                return set(cells)
            x = solved
        blocks = sorted({self._blocks[j] for j in cols})
        rows = [i for b in blocks for i in self._block_rows.get(b, ())]
        new = self._tight_rows(x, rows) - self._tight
        pinned = self._pinned(cells, new, blocks)
        if pinned:
            self._undo(cols, before)
            return pinned
        self._x = x
        self._tight |= new
        self._add(new, cells)
        return set()

    def _undo(self, cols: np.ndarray, before: object | None) -> None:
        """A refusal: *cols* free again, and the basis as it was before their solve (if
        one was made), optimal again for the programme as it was."""
        free = np.full(len(cols), np.inf)
        self._session.set_bounds(cols, -free, free)
        if before is not None:
            self._session.restore(before)

    def _tight_rows(self, x: np.ndarray, rows: Collection[int]) -> set[int]:
        slack = x[len(self._cone.cells) :]
        return {i for i in rows if slack[i] < TIGHT}

    def _split(self, rows: Collection[int]) -> tuple[set[Key], list[dict[Key, int]]]:
        """*rows*' cells held at their least value (unknown ones) and the other rows over
        the unknowns (a known cell's term, and one held at its least value before, is a
        constant)."""
        cone, search = self._cone, self._search
        at_least = {
            cell for i in rows if (cell := cone.row_cells[i]) is not None and search.unknown(cell)
        }
        constant = self._held | at_least
        extra: list[dict[Key, int]] = []
        for i in sorted(rows):
            if cone.row_cells[i] is not None:
                continue
            row = {
                cell: int(value)
                for col, value in cone.rows[i].items()
                if search.unknown(cell := cone.cells[col]) and cell not in constant
            }
            if row:
                extra.append(row)
        return at_least, extra

    def _pinned(self, cells: Sequence[Key], new: set[int], blocks: Sequence[int]) -> set[Key]:
        """The unknowns of *blocks* (the other blocks are as they were) but given and free
        cells pinned with *cells* published and the *new* implicit equalities: held at
        their least value, or determined (step 2 against the kept equations)."""
        search = self._search
        ignore = search.given | search.free
        at_least, extra = self._split(new)
        if at_least - ignore:
            return at_least - ignore
        # a block's cells that are no unknown are constants of the kept equations (published
        # cells and those held at their least value forgotten, known cells never added)
        among = (
            self._block_cells[blocks[0]]
            if len(blocks) == 1
            else set().union(*(self._block_cells[b] for b in blocks))
        )
        return self._reduced.determined_with([*cells, *at_least], extra, among) - ignore

    def _add(self, rows: Collection[int], cells: Sequence[Key]) -> None:
        """Step 2's kept equations with *cells* published and *rows* implicit equalities."""
        at_least, extra = self._split(rows)
        self._held |= at_least
        for cell in [*cells, *sorted(at_least)]:
            self._reduced.forget(cell)
        for row in extra:
            self._reduced.constrain(row)
            for cell in row:
                self._reduced.add(cell)  # a cell no equation named (a no-op else)


def _blocks(n: int, rows: Sequence[Mapping[int, float]]) -> list[int]:
    """Each of *n* columns' block: columns a row names together are in one (union-find;
    a block is named by one of its columns)."""
    parent = list(range(n))

    def root(j: int) -> int:
        while parent[j] != j:
            parent[j] = parent[parent[j]]
            j = parent[j]
        return j

    for row in rows:
        cols = list(row)
        for col in cols[1:]:
            a, b = root(cols[0]), root(col)
            if a != b:
                parent[b] = a
    return [root(j) for j in range(n)]
