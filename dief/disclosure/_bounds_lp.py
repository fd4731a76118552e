"""Check 4's step-1 linear programmes (:mod:`dief.disclosure._bounds`): the rows of a
part's equations and inequalities over its unknowns, and the programmes that find which
inequalities hold with equality in every solution — around the true counts where they are
a solution (:func:`tight_around`), else homogenised (:func:`tight`).

HiGHS (``scipy.optimize.linprog``) solves them in floating point; a slack below
:data:`TIGHT` counts as zero (the exact optimum puts every slack at 0 or 1).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
from scipy.optimize import linprog  # type: ignore[import-untyped]  # scipy ships no stubs
from scipy.sparse import coo_matrix  # type: ignore[import-untyped]  # scipy ships no stubs

from dief.aggregator import TOTAL

if TYPE_CHECKING:
    from collections.abc import Collection, Mapping, Sequence

    from dief.disclosure._suppression import Key

__all__ = [
    "INFEASIBLE",
    "ITEMS",
    "TIGHT",
    "equations_rows",
    "inequalities",
    "open_at",
    "satisfies",
    "side",
    "tight",
    "tight_anyway",
    "tight_around",
]

#: the dimension whose values count at least their table's total (every case names one)
ITEMS = "item_category"
#: ``linprog``'s status for a programme without a solution
INFEASIBLE = 2
#: a slack below this is zero (the exact optimum puts every slack at 0 or 1)
TIGHT = 0.5


def equations_rows(
    equations: Sequence[Mapping[Key, int]],
    unknown: Mapping[Key, int],
    counts: Mapping[Key, int],
) -> tuple[list[dict[int, float]], list[float]]:
    """The *equations* (cell → coefficient, = 0) over the *unknown* cells (column index),
    the other cells' counts moved to the right-hand side."""
    rows: list[dict[int, float]] = []
    rhs: list[float] = []
    for equation in equations:
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


def inequalities(
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
        if dimension == ITEMS:
            items.setdefault(table, []).append(key)
        total = (table, *TOTAL)
        if total not in counts or (key not in unknown and total not in unknown):
            continue
        row, right = side({key: 1, total: -1}, unknown, counts)
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
        row, right = side(terms, unknown, counts)
        if row:
            rows.append(row)
            rhs.append(right)
            cells.append(None)
    return rows, rhs, cells


def side(
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


def tight(
    eq: tuple[list[dict[int, float]], list[float]],
    ub: tuple[list[dict[int, float]], list[float]],
    n: int,
    open_rows: Collection[int] = frozenset(),
) -> set[int] | None:
    """The inequality rows that hold with equality in every solution (step 1); ``None``
    when there is no solution. *open_rows*: rows known to be strict at some solution
    (a point that satisfies every row, such as the true counts, strict there); they
    constrain the programme but get no slack of their own."""
    (eq_rows, eq_rhs), (ub_rows, ub_rhs) = eq, ub
    m = len(ub_rows)
    asked = [i for i in range(m) if i not in open_rows]
    slack_of: list[int | None] = [None] * m
    for j, i in enumerate(asked):
        slack_of[i] = n + j
    lam = n + len(asked)  # variables: x (n), s (one per asked row), lambda
    size = lam + 1
    a_eq = matrix(eq_rows, eq_rhs, lam, size, slack_of=None)
    a_ub = matrix(ub_rows, ub_rhs, lam, size, slack_of=slack_of)
    objective = np.zeros(size)
    objective[n:lam] = -1.0
    bounds = [(None, None)] * n + [(0.0, 1.0)] * len(asked) + [(1.0, None)]
    result = linprog(
        objective,
        A_ub=a_ub,
        b_ub=np.zeros(m) if m else None,
        A_eq=a_eq,
        b_eq=np.zeros(len(eq_rows)) if eq_rows else None,
        bounds=bounds,
        method="highs",
    )
    if result.status == INFEASIBLE:
        return None  # infeasible: a least value the reader assumes does not hold
    if result.status != 0:
        # failed: every row counts as tight, and the caller protects more
        return set(range(m))
    slack = result.x[n:lam]
    return {i for j, i in enumerate(asked) if slack[j] < TIGHT}


def tight_around(
    eq_rows: list[dict[int, float]],
    ub_rows: list[dict[int, float]],
    n: int,
    open_rows: Collection[int],
) -> set[int]:
    """Step 1 from a known solution ``x*`` (the true counts), at which *open_rows* are
    strict and the other rows ``T`` hold with equality: a row of ``T`` holds with equality
    in every solution iff it does along every direction ``d`` that stays in the solutions
    (``A d = 0``, ``G_T d <= 0``): a solution ``x'`` where it is strict gives
    ``d = x' - x*``, and such a ``d`` gives the solution ``x* + t d`` for a small ``t``
    (the open rows stay strict). Those directions are a cone, so one programme finds them
    all: maximise the sum of slacks ``s`` with ``G_T d + s <= 0``, ``0 <= s <= 1``. The
    open rows and the right-hand sides drop out (no ``λ``): a smaller programme than
    :func:`tight`'s, and always feasible."""
    asked = [i for i in range(len(ub_rows)) if i not in open_rows]
    if not asked:
        return set()
    size = n + len(asked)
    a_eq = matrix(eq_rows, [0.0] * len(eq_rows), None, size, slack_of=None)
    slack_of: list[int | None] = list(range(n, size))
    a_ub = matrix([ub_rows[i] for i in asked], [0.0] * len(asked), None, size, slack_of=slack_of)
    objective = np.zeros(size)
    objective[n:] = -1.0
    result = linprog(
        objective,
        A_ub=a_ub,
        b_ub=np.zeros(len(asked)),
        A_eq=a_eq,
        b_eq=np.zeros(len(eq_rows)) if eq_rows else None,
        bounds=[(None, None)] * n + [(0.0, 1.0)] * len(asked),
        method="highs",
    )
    if result.status != 0:
        # failed: every asked row counts as tight, and the caller protects more
        return set(asked)
    slack = result.x[n:]
    return {i for j, i in enumerate(asked) if slack[j] < TIGHT}


def open_at(
    rows: Sequence[Mapping[int, float]], rhs: Sequence[float], point: Sequence[float]
) -> set[int] | None:
    """The rows ``row . x <= rhs`` strict at *point*, or ``None`` when *point* breaks one
    (it is then no solution, and proves nothing)."""
    out: set[int] = set()
    for i, (row, right) in enumerate(zip(rows, rhs, strict=True)):
        value = sum(point[col] * coef for col, coef in row.items())
        if value > right + TIGHT:
            return None
        if value < right - TIGHT:
            out.add(i)
    return out


def matrix(
    rows: list[dict[int, float]],
    rhs: list[float],
    lam: int | None,
    size: int,
    *,
    slack_of: Sequence[int | None] | None,
) -> object:
    """``row . x - lambda * rhs (+ s_i)`` as a sparse matrix (``None`` without rows;
    *lam* ``None``: no ``λ`` column, the right-hand sides left out)."""
    if not rows:
        return None
    r, c, v = [], [], []
    for i, (row, right) in enumerate(zip(rows, rhs, strict=True)):
        for col, value in row.items():
            r.append(i)
            c.append(col)
            v.append(value)
        if right and lam is not None:
            r.append(i)
            c.append(lam)
            v.append(-right)
        if slack_of is not None and (column := slack_of[i]) is not None:
            r.append(i)
            c.append(column)
            v.append(1.0)
    return coo_matrix((v, (r, c)), shape=(len(rows), size)).tocsr()


def tight_anyway(
    eq: tuple[list[dict[int, float]], list[float]],
    ub: tuple[list[dict[int, float]], list[float]],
    truth: Sequence[float],
) -> set[int] | None:
    """Step 1 over every inequality *ub*: from the true counts where they are a solution
    (the rows strict there open), else the homogenised programme."""
    open_rows = open_at(*ub, truth) if satisfies(eq, truth) else None
    if open_rows is None:
        return tight(eq, ub, len(truth))
    return tight_around(eq[0], ub[0], len(truth), open_rows)


def satisfies(eq: tuple[list[dict[int, float]], list[float]], point: Sequence[float]) -> bool:
    """Whether *point* satisfies every equation of *eq*."""
    return all(
        abs(sum(point[col] * coef for col, coef in row.items()) - right) < TIGHT
        for row, right in zip(*eq, strict=True)
    )
