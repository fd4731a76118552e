"""Which suppressed cells the bounds pin (check 4 of :func:`~dief.disclosure.protect`).

A reader knows more than the equations: every listed cell counts at least one case (at
least 0 for a cell no document lists, such as the TLP:RED part of a cell, or a cell a
re-issue keeps listed at zero). Linear programming over the equations and these bounds can
pin a suppressed cell that no equation determines (two suppressed cells that must sum to 2
are both 1). :func:`pinned_cells` finds every such cell, exactly, with one linear programme
and one elimination:

1. The *implicit equalities*: the cells that sit at their least value in every solution.
   One linear programme finds them all (the homogenised slack programme: maximise the sum
   of slacks ``s`` with ``A x = λ b``, ``x - λ l >= s``, ``0 <= s <= 1``, ``λ >= 1``; a cell
   that can rise above its least value gets ``s = 1``, one that cannot gets ``s = 0``).
2. With those fixed, the solutions have a relative interior where every other bound is
   slack, so a cell is pinned there iff the equations determine it: the exact elimination
   of :func:`~dief.disclosure.determined_cells` with the implicit equalities as known.

HiGHS (``scipy.optimize.linprog``) solves the programme in floating point; a slack below
one half counts as zero (the exact optimum puts every slack at 0 or 1).
"""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence

import numpy as np
from scipy.optimize import linprog  # type: ignore[import-untyped]  # scipy ships no stubs
from scipy.sparse import coo_matrix  # type: ignore[import-untyped]  # scipy ships no stubs

from dief.disclosure._suppression import Group, Key, determined_cells

__all__ = ["pinned_cells"]


def _equations(
    groups: Sequence[Group],
    relations: Sequence[Mapping[Key, int]],
    unknown: Mapping[Key, int],
    counts: Mapping[Key, int],
) -> tuple[list[dict[int, float]], list[float]]:
    """The equations over the *unknown* cells (column index), the other cells' counts moved
    to the right-hand side."""
    rows: list[dict[int, float]] = []
    rhs: list[float] = []
    candidates: list[Mapping[Key, int]] = []
    for group in groups:
        row: dict[Key, int] = {}
        for member in group.members:
            row[member] = row.get(member, 0) + 1
        row[group.marginal] = row.get(group.marginal, 0) - 1
        candidates.append(row)
    candidates.extend(relations)
    for equation in candidates:
        left: dict[int, float] = {}
        right = 0.0
        for cell, coef in equation.items():
            if not coef:
                continue
            col = unknown.get(cell)
            if col is None:
                right -= coef * counts.get(cell, 0)
            else:
                left[col] = left.get(col, 0.0) + coef
        left = {c: v for c, v in left.items() if v}
        if left:
            rows.append(left)
            rhs.append(right)
    return rows, rhs


def _implicit(rows: list[dict[int, float]], rhs: list[float], lower: list[float]) -> set[int]:
    """The columns at their least value in every solution (the module docstring, step 1)."""
    n = len(lower)
    lam = 2 * n  # variables: x (n), s (n), lambda
    eq_r, eq_c, eq_v = [], [], []
    for i, (row, b) in enumerate(zip(rows, rhs, strict=True)):
        for col, value in row.items():
            eq_r.append(i)
            eq_c.append(col)
            eq_v.append(value)
        if b:
            eq_r.append(i)
            eq_c.append(lam)
            eq_v.append(-b)
    ub_r, ub_c, ub_v = [], [], []
    for j in range(n):  # -x_j + l_j * lambda + s_j <= 0
        ub_r += [j, j, j]
        ub_c += [j, lam, n + j]
        ub_v += [-1.0, lower[j], 1.0]
    size = 2 * n + 1
    a_eq = coo_matrix((eq_v, (eq_r, eq_c)), shape=(len(rows), size)).tocsr() if rows else None
    a_ub = coo_matrix((ub_v, (ub_r, ub_c)), shape=(n, size)).tocsr()
    objective = np.zeros(size)
    objective[n : 2 * n] = -1.0
    bounds = [(0.0, None)] * n + [(0.0, 1.0)] * n + [(1.0, None)]
    result = linprog(
        objective,
        A_ub=a_ub,
        b_ub=np.zeros(n),
        A_eq=a_eq,
        b_eq=np.zeros(len(rows)) if rows else None,
        bounds=bounds,
        method="highs",
    )
    if result.status != 0:
        # infeasible or failed: the true counts are a solution, so this is numerical;
        # treat nothing as slack (every cell at its bound): the caller protects more
        return set(range(n))
    slack = result.x[n : 2 * n]
    return {j for j in range(n) if slack[j] < 0.5}


def pinned_cells(
    counts: Mapping[Key, int],
    unknown: Collection[Key],
    groups: Sequence[Group],
    *,
    relations: Sequence[Mapping[Key, int]] = (),
    unlisted: Collection[Key] = frozenset(),
    ignore: Collection[Key] = frozenset(),
) -> set[Key]:
    """The *unknown* cells a reader pins from the equations (*groups*, *relations*; every
    other cell known at its count) and the least values: 0 for *unlisted* cells and cells
    counting 0, else 1.

    The caller has checked that the equations alone determine none of them (but *ignore*,
    cells that may be pinned): step 2 then only runs where step 1 found nothing else, over
    the equations connected to the implicit equalities (elsewhere nothing changed).
    """
    cells = sorted(unknown)
    if not cells:
        return set()
    index = {cell: i for i, cell in enumerate(cells)}
    rows, rhs = _equations(groups, relations, index, counts)
    lower = [0.0 if c in unlisted or counts.get(c, 0) <= 0 else 1.0 for c in cells]
    tight = {cells[j] for j in _implicit(rows, rhs, lower)}
    if not tight or tight - set(ignore):
        return tight
    near = _component(tight, set(cells), groups)
    rest = {c for g in near for c in g.cells if c in index} - tight
    return tight | determined_cells(rest, near, relations=relations)


def _component(start: set[Key], unknown: set[Key], groups: Sequence[Group]) -> list[Group]:
    """The groups reachable from *start* through *unknown* cells."""
    of_cell: dict[Key, list[int]] = {}
    for i, group in enumerate(groups):
        for cell in group.cells:
            if cell in unknown:
                of_cell.setdefault(cell, []).append(i)
    seen: set[int] = set()
    visited = set(start)
    frontier = list(start)
    while frontier:
        cell = frontier.pop()
        for i in of_cell.get(cell, ()):
            if i in seen:
                continue
            seen.add(i)
            for other in groups[i].cells:
                if other in unknown and other not in visited:
                    visited.add(other)
                    frontier.append(other)
    return [groups[i] for i in sorted(seen)]
