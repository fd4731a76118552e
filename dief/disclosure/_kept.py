"""Check 4 kept in HiGHS while the pruning publishes cells one class at a time
(:mod:`dief.disclosure._prune`).

The pruning asks, for each hidden reserved cell in turn, whether publishing it pins an
unknown (check 4, :mod:`dief.disclosure._bounds`). Asked part by part from scratch, that
is one linear programme over the cell's part per candidate, and at 10 years a part is a
third of a region's history (82 s of pruning on 600 cases, session 15). Here the whole
system's step-1 programme around the true counts (:class:`~dief.disclosure._bounds.Cone`:
directions ``d`` with ``A d = 0``, ``G_T d + s <= 0``, ``0 <= s <= 1``, maximise the sum
of ``s``) is built once, when the search has reached its fixed point, and kept in HiGHS
(:mod:`dief._highs`). Publishing a cell is the bound ``d = 0`` on its column, and the
next solve starts from the last basis. The rows whose slack stays at zero are the
implicit equalities of the system with those cells published (the programme's parts are
independent blocks, so this is :meth:`~dief.disclosure._bounds.BoundSystem.pinned`'s step
1 on every part at once); step 2 reads them against the search's reduced equations
(:meth:`~dief.disclosure._elimination.Elimination.determined_with`), as the search's own
check 4 does. A refused cell's column is freed again.

A publication only adds to what a reader knows, so a cell refused stays refused: one
pass over the candidates, in order, each checked exactly against everything published
before it. Where the true counts are no solution somewhere (never in a first issue built
from consistent counts) or scipy's HiGHS binding is missing, :meth:`KeptCheck4.start`
gives ``None`` and the pruning asks the search's :class:`BoundSystem` instead.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import scipy.sparse as sp  # type: ignore[import-untyped]  # scipy ships no type information

from dief._highs import HighsSession, session
from dief.disclosure._bounds_lp import TIGHT, matrix

if TYPE_CHECKING:
    from collections.abc import Mapping, Sequence

    from dief.disclosure._bounds import Cone
    from dief.disclosure._search import _Search
    from dief.disclosure._suppression import Key

__all__ = ["KeptCheck4"]


class KeptCheck4:
    """Check 4 over one search's whole system, kept while cells are published
    (module docstring)."""

    __slots__ = ("_block_cells", "_block_rows", "_blocks", "_col", "_cone", "_search", "_session")

    def __init__(self, search: _Search, cone: Cone, kept: HighsSession) -> None:
        self._search = search
        self._cone = cone
        self._session = kept
        self._col = {cell: j for j, cell in enumerate(cone.cells)}
        # the programme's blocks: columns no row joins are independent, and publishing a
        # cell changes its own block alone (what step 2 then reads)
        self._blocks = _blocks(len(cone.cells), [*cone.equations, *cone.rows])
        self._block_cells: dict[int, list[Key]] = {}
        for j, cell in enumerate(cone.cells):
            self._block_cells.setdefault(self._blocks[j], []).append(cell)
        self._block_rows: dict[int, list[int]] = {}
        for i, row in enumerate(cone.rows):
            self._block_rows.setdefault(self._blocks[next(iter(row))], []).append(i)

    @classmethod
    def start(cls, search: _Search) -> KeptCheck4 | None:
        """The programme of *search*'s unknowns as they are now, or ``None`` (module
        docstring)."""
        unknown = sorted(c for c in search.hidden if c not in search.known)
        cone = search.check4.cone(unknown, search.unlisted)
        if cone is None:
            return None
        n, m = len(cone.cells), len(cone.rows)
        size = n + m
        a_eq = matrix(cone.equations, [0.0] * len(cone.equations), None, size, slack_of=None)
        a_ub = matrix(cone.rows, [0.0] * m, None, size, slack_of=list(range(n, size)))
        empty = sp.csr_matrix((0, size))
        kept = session(
            empty if a_eq is None else a_eq,
            np.zeros(len(cone.equations)),
            empty if a_ub is None else a_ub,
            np.zeros(m),
            np.concatenate([np.full(n, -np.inf), np.zeros(m)]),
            np.concatenate([np.full(n, np.inf), np.ones(m)]),
            cost=np.concatenate([np.zeros(n), -np.ones(m)]),
        )
        return None if kept is None else cls(search, cone, kept)

    def publish(self, cells: Sequence[Key]) -> bool:
        """Take *cells* (unknowns when :meth:`start` ran, now published in the search's
        state) as known; returns whether an unknown of the search (but its given and free
        cells) is pinned then. The cells stay known here until :meth:`reopen`."""
        self._bound(cells, 0.0, 0.0)
        return bool(self._pinned({self._blocks[self._col[c]] for c in cells}))

    def reopen(self, cells: Sequence[Key]) -> None:
        """*cells* unknown again (a refused publication)."""
        self._bound(cells, -np.inf, np.inf)

    def _bound(self, cells: Sequence[Key], lower: float, upper: float) -> None:
        cols = np.fromiter((self._col[c] for c in cells), dtype=np.int32, count=len(cells))
        self._session.set_bounds(cols, np.full(len(cols), lower), np.full(len(cols), upper))

    def _pinned(self, blocks: set[int]) -> set[Key]:
        """The unknowns of *blocks* pinned (the other blocks are as they were: nothing
        pinned there, but given and free cells)."""
        search, cone = self._search, self._cone
        n = len(cone.cells)
        ignore = search.given | search.free
        among = [c for b in sorted(blocks) for c in self._block_cells[b] if search.unknown(c)]
        x = self._session.optimum()
        if x is None:
            # failed: every unknown there counts as pinned, and the cells are refused
            return set(among) - ignore
        slack = x[n:]
        tight = [i for b in sorted(blocks) for i in self._block_rows.get(b, ()) if slack[i] < TIGHT]
        at_least = {
            cell for i in tight if (cell := cone.row_cells[i]) is not None and search.unknown(cell)
        }
        if at_least - ignore:
            return at_least - ignore
        extra: list[dict[Key, int]] = []
        for i in tight:
            if cone.row_cells[i] is None:
                row = {
                    cone.cells[col]: int(value)
                    for col, value in cone.rows[i].items()
                    if search.unknown(cone.cells[col])
                }
                if row:
                    extra.append(row)
        if not at_least and not extra:
            return set()
        return search.elimination.determined_with(at_least, extra, among) - ignore


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
