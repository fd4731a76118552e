"""Which suppressed cells the bounds pin (check 4 of :func:`~dief.disclosure.protect`).

A reader knows more than the equations: every listed cell counts at least one case (at
least 0 for a cell no document lists, such as the TLP:RED part of a cell, or a cell a
re-issue keeps listed at zero), no cell counts more than its table's total, and a table's
item categories count at least its total (every case names an item). Linear programming
over the equations and these inequalities can pin a suppressed cell that no equation
determines (two suppressed cells that must sum to 2 are both 1). :func:`pinned_cells` finds
every such cell, exactly over the reals, with one linear programme and one elimination:

1. The *implicit equalities*: the inequalities that hold with equality in every solution.
   One linear programme finds them all (the homogenised slack programme: maximise the sum
   of slacks ``s`` with ``A x = λ b``, ``G x + s <= λ h``, ``0 <= s <= 1``, ``λ >= 1``; an
   inequality that can be strict gets ``s = 1``, one that cannot gets ``s = 0``).
2. With those as equations, the solutions have a relative interior where every other
   inequality is strict, so a cell is pinned iff the equations determine it: the exact
   elimination of :func:`~dief.disclosure.determined_cells`.

HiGHS (``scipy.optimize.linprog``) solves the programme in floating point; a slack below
one half counts as zero (the exact optimum puts every slack at 0 or 1). Integer rounding
of fractional bounds is not modelled (the tables' sums have unit coefficients).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
from scipy.optimize import linprog  # type: ignore[import-untyped]  # scipy ships no stubs
from scipy.sparse import coo_matrix  # type: ignore[import-untyped]  # scipy ships no stubs

from dief.aggregator import TOTAL
from dief.disclosure._suppression import Group, Key, determined_cells

if TYPE_CHECKING:
    from collections.abc import Collection, Mapping, Sequence

__all__ = ["pinned_cells"]

_ITEMS = "item_category"
#: ``linprog``'s status for a programme without a solution
_INFEASIBLE = 2
#: a slack below this is zero (the exact optimum puts every slack at 0 or 1)
_TIGHT = 0.5


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


def _inequalities(
    unknown: Mapping[Key, int],
    counts: Mapping[Key, int],
    lower: Sequence[float],
) -> tuple[list[dict[int, float]], list[float], list[Key | None]]:
    """The inequalities ``row . x <= rhs`` a reader knows besides the equations: each
    unknown cell's least value, every cell at most its table's total, and the item
    categories of a table at least its total (every case names an item). Returns the rows,
    their right-hand sides and, for a least-value row, its cell (else ``None``)."""
    rows: list[dict[int, float]] = [{j: -1.0} for j in range(len(lower))]
    rhs: list[float] = [-low for low in lower]
    cells: list[Key | None] = [None] * len(lower)
    for cell, j in unknown.items():
        cells[j] = cell
    items: dict[str, list[Key]] = {}
    for key in counts:
        table, dimension, _ = key
        if key[1:] == TOTAL:
            continue
        if dimension == _ITEMS:
            items.setdefault(table, []).append(key)
        total = (table, *TOTAL)
        if total not in counts or (key not in unknown and total not in unknown):
            continue
        row, right = _side({key: 1, total: -1}, unknown, counts)
        if row:
            rows.append(row)
            rhs.append(right)
            cells.append(None)
    for table, members in items.items():
        total = (table, *TOTAL)
        if total not in counts:
            continue
        terms = dict.fromkeys(members, -1)
        terms[total] = 1
        row, right = _side(terms, unknown, counts)
        if row:
            rows.append(row)
            rhs.append(right)
            cells.append(None)
    return rows, rhs, cells


def _side(
    terms: Mapping[Key, int], unknown: Mapping[Key, int], counts: Mapping[Key, int]
) -> tuple[dict[int, float], float]:
    """*terms* (cell → coefficient, ``<= 0``) over the unknowns, the known counts moved right."""
    row: dict[int, float] = {}
    right = 0.0
    for cell, coef in terms.items():
        col = unknown.get(cell)
        if col is None:
            right -= coef * counts.get(cell, 0)
        else:
            row[col] = row.get(col, 0.0) + coef
    return {c: v for c, v in row.items() if v}, right


def _tight(
    eq: tuple[list[dict[int, float]], list[float]],
    ub: tuple[list[dict[int, float]], list[float]],
    n: int,
) -> set[int] | None:
    """The inequality rows that hold with equality in every solution (step 1); ``None``
    when there is no solution."""
    (eq_rows, eq_rhs), (ub_rows, ub_rhs) = eq, ub
    m = len(ub_rows)
    lam = n + m  # variables: x (n), s (m), lambda
    size = n + m + 1
    a_eq = _matrix(eq_rows, eq_rhs, lam, size, slack=None)
    a_ub = _matrix(ub_rows, ub_rhs, lam, size, slack=n)
    objective = np.zeros(size)
    objective[n : n + m] = -1.0
    bounds = [(None, None)] * n + [(0.0, 1.0)] * m + [(1.0, None)]
    result = linprog(
        objective,
        A_ub=a_ub,
        b_ub=np.zeros(m),
        A_eq=a_eq,
        b_eq=np.zeros(len(eq_rows)) if eq_rows else None,
        bounds=bounds,
        method="highs",
    )
    if result.status == _INFEASIBLE:
        return None  # infeasible: a least value the reader assumes does not hold
    if result.status != 0:
        # failed: every row counts as tight, and the caller protects more
        return set(range(m))
    slack = result.x[n : n + m]
    return {i for i in range(m) if slack[i] < _TIGHT}


def _matrix(
    rows: list[dict[int, float]], rhs: list[float], lam: int, size: int, *, slack: int | None
) -> object:
    """``row . x - lambda * rhs (+ s_i)`` as a sparse matrix (``None`` without rows)."""
    if not rows:
        return None
    r, c, v = [], [], []
    for i, (row, right) in enumerate(zip(rows, rhs, strict=True)):
        for col, value in row.items():
            r.append(i)
            c.append(col)
            v.append(value)
        if right:
            r.append(i)
            c.append(lam)
            v.append(-right)
        if slack is not None:
            r.append(i)
            c.append(slack + i)
            v.append(1.0)
    return coo_matrix((v, (r, c)), shape=(len(rows), size)).tocsr()


def pinned_cells(  # noqa: PLR0913  a public keyword signature (check 4's options)
    counts: Mapping[Key, int],
    unknown: Collection[Key],
    groups: Sequence[Group],
    *,
    relations: Sequence[Mapping[Key, int]] = (),
    unlisted: Collection[Key] = frozenset(),
    ignore: Collection[Key] = frozenset(),
    floors: Mapping[Key, int] | None = None,
) -> set[Key]:
    """The *unknown* cells a reader pins from the equations (*groups*, *relations*; every
    other cell known at its count), the least values (0 for *unlisted* cells, else 1, a
    cell counting 0 too unless that has no solution), every cell at most its table's total
    and the item categories at least the total. *floors*: a cell's least value read off its
    stated reason (k for a cell hidden for protection: at least k contributors), where
    higher than 1.

    The caller has checked that the equations alone determine none of them (but *ignore*,
    cells that may be pinned): step 2 then only runs where step 1 found nothing else, over
    the equations connected to the tight rows (elsewhere nothing changed).
    """
    cells = sorted(unknown)
    if not cells:
        return set()
    index = {cell: i for i, cell in enumerate(cells)}
    floor = floors or {}
    eq = _equations(groups, relations, index, counts)
    # a reader takes every listed cell to count at least one case, even one a re-issue
    # keeps listed at zero, unless that contradicts what it holds
    tight = None
    for zero in (1.0, 0.0):
        lower = [
            float(floor[c])
            if c in floor
            else 0.0
            if c in unlisted
            else 1.0
            if counts.get(c, 0) > 0
            else zero
            for c in cells
        ]
        ub_rows, ub_rhs, ub_cells = _inequalities(index, counts, lower)
        tight = _tight(eq, (ub_rows, ub_rhs), len(cells))
        if tight is not None or not any(counts.get(c, 0) <= 0 for c in cells):
            break
    if tight is None:
        tight = set(range(len(ub_rows)))
    at_least = {ub_cells[i] for i in tight if ub_cells[i] is not None}
    fixed: set[Key] = {c for c in at_least if c is not None}
    if fixed - set(ignore):
        return fixed
    extra = [
        {cells[col]: int(value) for col, value in ub_rows[i].items()}
        for i in sorted(tight)
        if ub_cells[i] is None
    ]
    if not fixed and not extra:
        return set()
    start = fixed | {c for row in extra for c in row}
    near = _component(start, set(cells), groups)
    rest = ({c for g in near for c in g.cells if c in index} | start) - fixed
    return fixed | determined_cells(rest, near, relations=[*relations, *extra])


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
