"""Step 1 of check 4 kept in HiGHS across a search's rounds
(:meth:`dief.disclosure._bounds.BoundSystem.pinned`).

A search asks check 4 again after every round of suppressions, and a round changes a few
cells of the largest part, which at 10 years is most of a region's history: solved from
scratch (``linprog``, with its presolve) each round, that part's programme, and the
building of its rows, were most of the search's check 4 (session 17).

Here the programme of step 1 around the true counts (:class:`~dief.disclosure._bounds.Cone`)
is built once over every cell of the system that can be an unknown of it (a cell where the
true counts are a solution: :meth:`BoundSystem._broken` is never asked here), and kept:

* a cell that is no unknown now is a column bounded to 0 (a published cell is a
  constant; its direction is 0), an unknown a free column; a call changes only the bounds
  of the cells hidden or published since the last one, and HiGHS solves again from the
  last basis (Devex pricing: no steepest-edge weights to recompute);
* a row that names no unknown now is slack 0 and is not read (no such row is built when
  the programme is built over the unknowns alone); every other row's slack says whether
  it is tight, as :func:`~dief.disclosure._bounds_lp.tight_around` reads it.

Over the unknowns, the kept programme is the same as the one built over them alone: the
same equations and inequality rows, each restricted to the unknowns (the other cells'
directions are 0), so the same rows are tight. Each row's unknowns lie in one part (parts
are joined by exactly these rows), so the caller splits the answer part by part.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import scipy.sparse as sp  # type: ignore[import-untyped]  # scipy ships no type information

from dief._highs import HighsSession, session
from dief.disclosure._bounds_lp import TIGHT, matrix

if TYPE_CHECKING:
    from collections.abc import Collection

    from dief.disclosure._bounds import Cone
    from dief.disclosure._suppression import Key

__all__ = ["KeptCone", "cone_session"]


def cone_session(cone: Cone, *, free: bool) -> HighsSession | None:
    """*cone*'s programme kept in HiGHS (``A d = 0``, ``G_T d + s <= 0``, ``0 <= s <= 1``,
    maximise the sum of ``s``; Devex pricing): the directions free (*free*: the pruning's,
    whose solves follow columns bounded to 0, by the dual simplex) or every one bounded to
    0 until freed (a search's, whose rounds mostly free columns, by the primal simplex:
    :func:`dief._highs.session`); ``None`` where scipy's HiGHS binding is missing.

    Every optimum has the same slacks (each row that is no implicit equality at 1, the
    others at 0: the directions form a cone), so the simplex used changes no tight row."""
    n, m = len(cone.cells), len(cone.rows)
    size = n + m
    a_eq = matrix(cone.equations, [0.0] * len(cone.equations), None, size, slack_of=None)
    a_ub = matrix(cone.rows, [0.0] * m, None, size, slack_of=list(range(n, size)))
    empty = sp.csr_matrix((0, size))
    bound = np.inf if free else 0.0
    return session(
        empty if a_eq is None else a_eq,
        np.zeros(len(cone.equations)),
        empty if a_ub is None else a_ub,
        np.zeros(m),
        np.concatenate([np.full(n, -bound), np.zeros(m)]),
        np.concatenate([np.full(n, bound), np.ones(m)]),
        cost=np.concatenate([np.zeros(n), -np.ones(m)]),
        devex=True,
        primal=not free,
    )


class KeptCone:
    """Step 1's programme over every cell that can be an unknown, kept across calls with
    different unknowns (module docstring)."""

    __slots__ = ("_col", "_cone", "_pattern", "_session", "_unknown")

    def __init__(self, cone: Cone, kept: HighsSession) -> None:
        self._cone = cone
        self._session = kept
        self._col = {cell: j for j, cell in enumerate(cone.cells)}
        self._unknown: frozenset[Key] = frozenset()  # the unknowns now (free columns)
        # which columns each inequality row names (to read only rows naming an unknown)
        n, m = len(cone.cells), len(cone.rows)
        rows = [i for i, row in enumerate(cone.rows) for _ in row]
        cols = [j for row in cone.rows for j in row]
        self._pattern = sp.csr_matrix((np.ones(len(rows)), (rows, cols)), shape=(m, n))

    @classmethod
    def build(cls, cone: Cone) -> KeptCone | None:
        """The programme of *cone* (every column bounded to 0 until :meth:`tight` frees
        the unknowns), or ``None`` where scipy's HiGHS binding is missing."""
        kept = cone_session(cone, free=False)
        return None if kept is None else cls(cone, kept)

    def covers(self, cells: Collection[Key]) -> bool:
        """Whether every cell of *cells* is a column (a cell where the true counts are a
        solution, named when the programme was built)."""
        # the last call's unknowns are columns: only the others are looked up
        return self._col.keys() >= frozenset(cells) - self._unknown

    def tight(self, unknown: Collection[Key], *, wanted: Collection[Key]) -> list[int] | None:
        """The inequality rows of the cone (:attr:`Cone.rows`, in order) that hold with
        equality along every direction, with exactly *unknown* free (every cell of it a
        column: :meth:`covers`), among the rows that name one of *wanted* (some of
        *unknown*: the caller's parts it asks about); ``None`` where HiGHS finds no
        optimum (the caller solves from scratch)."""
        # only the cells hidden or published since the last call are looked up (a call
        # names tens of thousands of unknowns at 10 years of 3,000 cases)
        now = frozenset(unknown)
        col = self._col
        opened = np.sort(np.fromiter((col[c] for c in now - self._unknown), dtype=np.int64))
        closed = np.sort(np.fromiter((col[c] for c in self._unknown - now), dtype=np.int64))
        self._unknown = now
        if len(opened):
            inf = np.full(len(opened), np.inf)
            self._session.set_bounds(opened, -inf, inf)
        if len(closed):
            zeros = np.zeros(len(closed))
            self._session.set_bounds(closed, zeros, zeros)
        x = self._session.optimum()
        if x is None:
            return None
        slack = x[len(self._cone.cells) :]
        asked = np.zeros(len(self._cone.cells))
        asked[np.fromiter(map(col.__getitem__, wanted), dtype=np.int64, count=len(wanted))] = 1.0
        named = self._pattern @ asked > 0
        return np.flatnonzero(named & (slack < TIGHT)).tolist()

    def row_over(self, i: int, unknown: Collection[Key]) -> dict[Key, int]:
        """Inequality row *i* over the cells of *unknown* (the others' terms are 0)."""
        cells = self._cone.cells
        return {
            cell: int(value)
            for col, value in self._cone.rows[i].items()
            if (cell := cells[col]) in unknown
        }

    def row_cell(self, i: int) -> Key | None:
        """Row *i*'s cell if it is a least-value row, else ``None`` (a table's link)."""
        return self._cone.row_cells[i]
