"""Feasible intervals by linear programming (HiGHS), and the rank (SVD) attacker.

Published counts are substituted first; what is left splits into independent blocks
(unknowns linked by no relation cannot bound each other), and each reported unknown is
minimised and maximised over its block only. Integer counts: the LP bounds are rounded
inwards, and an interval narrower than ``refine_below`` is checked again as an integer
programme (``scipy.optimize.milp``), so an unknown that only integrality pins is found.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING

import numpy as np
import scipy.sparse as sp  # type: ignore[import-untyped]  # scipy ships no type information
from scipy.optimize import Bounds, LinearConstraint, linprog, milp  # type: ignore[import-untyped]  # scipy ships no type information
from scipy.sparse.csgraph import connected_components  # type: ignore[import-untyped]  # scipy ships no type information

from dief._highs import HighsSession, session
from dief.audit._propagate import propagate
from dief.exceptions import ConfigurationError

if TYPE_CHECKING:
    from collections.abc import Sequence

    from dief.audit._system import LinearSystem

__all__ = [
    "SLACK",
    "TOL",
    "Block",
    "Interval",
    "blocks",
    "extremes",
    "intervals",
    "rank_determined",
    "seeded",
]

#: two bounds closer than this are equal: a fixed unknown
TOL = 1e-7
#: the slack a floating-point optimum is rounded to an integer with
SLACK = 1e-6
#: two floating-point values closer than this are the same bound
_SAME = 1e-9
#: scipy's linprog statuses (HighsSession's too): infeasible, unbounded
_INFEASIBLE, _UNBOUNDED = 2, 3


@dataclass(frozen=True)
class Interval:
    """An unknown's feasible integer interval; ``upper`` None when unbounded above."""

    lower: int
    upper: int | None

    @property
    def width(self) -> int | None:
        return None if self.upper is None else self.upper - self.lower


@dataclass(frozen=True)
class Block:
    """One independent part of the reduced system (free unknowns and their rows)."""

    unknowns: np.ndarray  # indices into the system
    a_eq: sp.csr_matrix
    b_eq: np.ndarray
    a_ub: sp.csr_matrix
    b_ub: np.ndarray
    lower: np.ndarray
    upper: np.ndarray


@dataclass(frozen=True)
class Reduced:
    blocks: tuple[Block, ...]
    fixed: np.ndarray  # bool per unknown
    values: np.ndarray  # the fixed values
    consistent: bool


def blocks(system: LinearSystem) -> Reduced:  # noqa: PLR0914  the reduction's steps share their arrays
    """Substitute the fixed unknowns and split the rest into independent blocks."""
    fixed = np.abs(system.upper - system.lower) <= TOL
    values = np.where(fixed, system.lower, 0.0)
    free = np.flatnonzero(~fixed)
    consistent = bool(np.all(system.lower <= system.upper + TOL))
    a_eq = system.a_eq.tocsc()
    a_ub = system.a_ub.tocsc()
    b_eq = system.b_eq - a_eq @ values
    b_ub = system.b_ub - a_ub @ values
    a_eq, a_ub = a_eq[:, free].tocsr(), a_ub[:, free].tocsr()
    eq_live = np.diff(a_eq.indptr) > 0
    ub_live = np.diff(a_ub.indptr) > 0
    if np.any(np.abs(b_eq[~eq_live]) > SLACK) or np.any(b_ub[~ub_live] < -SLACK):
        consistent = False
    a_eq, b_eq = a_eq[eq_live], b_eq[eq_live]
    a_ub, b_ub = a_ub[ub_live], b_ub[ub_live]
    incidence = sp.vstack([a_eq, a_ub]).tocsr()
    incidence.data[:] = 1.0
    m = incidence.shape[0]
    graph = sp.bmat([[None, incidence], [incidence.T, None]], format="csr") if m else None
    if graph is None:
        labels = np.arange(len(free))
    else:
        _, all_labels = connected_components(graph, directed=False)
        labels = all_labels[m:]
    eq_label = labels[a_eq.indices[a_eq.indptr[:-1]]] if a_eq.shape[0] else np.array([], int)
    ub_label = labels[a_ub.indices[a_ub.indptr[:-1]]] if a_ub.shape[0] else np.array([], int)
    out: list[Block] = []
    order = np.argsort(labels, kind="stable")
    splits = np.flatnonzero(np.diff(labels[order])) + 1
    for cols in np.split(order, splits) if len(order) else []:
        label = labels[cols[0]]
        er, ur = np.flatnonzero(eq_label == label), np.flatnonzero(ub_label == label)
        out.append(
            Block(
                unknowns=free[cols],
                a_eq=a_eq[er][:, cols],
                b_eq=b_eq[er],
                a_ub=a_ub[ur][:, cols],
                b_ub=b_ub[ur],
                lower=system.lower[free[cols]],
                upper=system.upper[free[cols]],
            )
        )
    return Reduced(tuple(out), fixed, values, consistent)


def _solve(block: Block, objective: np.ndarray) -> tuple[int, float]:
    """(status, optimum): 0 optimal, 2 infeasible, 3 unbounded."""
    result = linprog(
        objective,
        A_ub=block.a_ub if block.a_ub.shape[0] else None,
        b_ub=block.b_ub if block.a_ub.shape[0] else None,
        A_eq=block.a_eq if block.a_eq.shape[0] else None,
        b_eq=block.b_eq if block.a_eq.shape[0] else None,
        bounds=np.column_stack([block.lower, block.upper]),
        method="highs",
    )
    return int(result.status), float(result.fun) if result.status == 0 else math.nan


def _integer(block: Block, objective: np.ndarray) -> float | None:
    constraints = []
    if block.a_eq.shape[0]:
        constraints.append(LinearConstraint(block.a_eq, block.b_eq, block.b_eq))
    if block.a_ub.shape[0]:
        constraints.append(LinearConstraint(block.a_ub, -np.inf, block.b_ub))
    result = milp(
        objective,
        constraints=constraints,
        integrality=np.ones(len(objective)),
        bounds=Bounds(block.lower, block.upper),
        options={"time_limit": 10.0},
    )
    return float(result.fun) if result.status == 0 else None


def extremes(
    block: Block, kept: HighsSession | None, k: int, seen_lo: np.ndarray, seen_hi: np.ndarray
) -> tuple[float, float, int]:
    """The min and max of unknown *k* over the block, and the max's status (3: unbounded).

    Every optimum is a feasible point: where some point already reached an unknown's own
    bound, that bound is its optimum and its programme is not solved."""
    e = np.zeros(len(block.unknowns))
    e[k] = 1.0
    results: list[tuple[int, float]] = []
    for sense in (1.0, -1.0):
        bound = block.lower[k] if sense > 0 else block.upper[k]
        seen = seen_lo[k] if sense > 0 else seen_hi[k]
        if abs(seen - bound) <= _SAME:
            results.append((0, float(bound)))
            continue
        if kept is not None:
            status, value = kept.minimise(k) if sense > 0 else kept.maximise(k)
            if status == 0:
                x = kept.solution()
                np.minimum(seen_lo, x, out=seen_lo)
                np.maximum(seen_hi, x, out=seen_hi)
        else:
            status, value = _solve(block, sense * e)
            value *= sense
        if status not in {0, _UNBOUNDED}:
            raise InfeasibleError("the solver gave no optimum")
        results.append((status, value))
    if results[0][0] != 0:
        raise InfeasibleError("the solver gave no lower optimum")
    return results[0][1], results[1][1], results[1][0]


def _least(
    block: Block, kept: HighsSession | None, k: int, seen_lo: np.ndarray, seen_hi: np.ndarray
) -> float:
    if abs(seen_lo[k] - block.lower[k]) <= _SAME:
        return float(block.lower[k])
    assert kept is not None  # noqa: S101  narrows the type: a bound not seen needs the session
    status, value = kept.minimise(k)
    if status != 0:
        raise InfeasibleError("the solver gave no lower optimum")
    x = kept.solution()
    np.minimum(seen_lo, x, out=seen_lo)
    np.maximum(seen_hi, x, out=seen_hi)
    return value


def _wide(  # noqa: PLR0913, PLR0917  the block, its session and what is seen so far
    kept: HighsSession,
    block: Block,
    local: list[int],
    enough: int,
    seen_lo: np.ndarray,
    seen_hi: np.ndarray,
) -> set[int]:
    """The targets a feasible point shows at least *enough* above their least value: each
    least value first, then one point pushing every target towards least + *enough*."""
    least = {k: _least(block, kept, k, seen_lo, seen_hi) for k in local}
    caps = {k: math.ceil(least[k] - SLACK) + enough for k in local}
    x = kept.push(caps)
    if x is not None:
        np.maximum(seen_hi, x, out=seen_hi)
    return {k for k in local if seen_hi[k] >= caps[k] - SLACK}


class InfeasibleError(ConfigurationError):
    """The reader's system has no solution: a relation the audit assumed does not hold
    (documents of different runs, or a rule of DESIGN §7 the documents do not follow)."""

    code = "infeasible"


def seeded(
    whole: Block, members: Sequence[int]
) -> tuple[Block, HighsSession | None, np.ndarray, np.ndarray]:
    """*whole* with its bounds propagated (:class:`InfeasibleError` where they cross), its
    model kept in HiGHS (``None`` without scipy's binding), and the least and greatest
    value of each unknown over the points seen so far: the point of the least sum of
    *members* (block positions)."""
    least, most = propagate(
        whole.a_eq, whole.b_eq, whole.a_ub, whole.b_ub, whole.lower, whole.upper
    )
    if np.any(least > most):
        raise InfeasibleError("the relations have no integer solution")
    block = replace(whole, lower=least, upper=most)
    kept = session(block.a_eq, block.b_eq, block.a_ub, block.b_ub, block.lower, block.upper)
    seen_lo = np.full(len(block.unknowns), np.inf)
    seen_hi = np.full(len(block.unknowns), -np.inf)
    if kept is not None:
        kept.seed(list(members), seen_lo, seen_hi)
    return block, kept, seen_lo, seen_hi


def intervals(  # noqa: C901, PLR0914  the per-block loop: solve, propagate, then each unknown's ends
    system: LinearSystem,
    targets: Sequence[int],
    *,
    refine_below: int = 0,
    enough: int | None = None,
) -> dict[int, Interval]:
    """The feasible integer interval of every target unknown (fixed ones included).

    *enough*: an upper end at least *enough* above the lower one is not computed exactly
    (``upper`` None, as for an unbounded one): a feasible point that reaches it is proof
    enough that the unknown is neither determined nor narrowed below *enough*. Faster
    (most maximisations are skipped), the same verdicts for any level up to *enough*."""
    reduced = blocks(system)
    if not reduced.consistent:
        raise InfeasibleError("published counts contradict the relations")
    wanted = set(targets)
    out: dict[int, Interval] = {}
    for j in wanted:
        if reduced.fixed[j]:
            v = round(float(reduced.values[j]))
            out[j] = Interval(v, v)
    for whole in reduced.blocks:
        local = [k for k, j in enumerate(whole.unknowns) if int(j) in wanted]
        if not local:
            continue
        status, _ = _solve(whole, np.zeros(len(whole.unknowns)))
        if status == _INFEASIBLE:
            raise InfeasibleError("the relations have no solution")
        block, kept, seen_lo, seen_hi = seeded(whole, local)
        wide: set[int] = set()
        if kept is not None and enough is not None:
            wide = _wide(kept, block, local, enough, seen_lo, seen_hi)
        for k in local:
            if k in wide:
                lower = math.ceil(_least(block, kept, k, seen_lo, seen_hi) - SLACK)
                out[int(block.unknowns[k])] = Interval(lower, None)
                continue
            lo, hi, status = extremes(block, kept, k, seen_lo, seen_hi)
            lower = math.ceil(lo - SLACK)
            upper = None if status == _UNBOUNDED else math.floor(hi + SLACK)
            if upper is not None and 0 < upper - lower < refine_below:
                e = np.zeros(len(block.unknowns))
                e[k] = 1.0
                ilo, ihi = _integer(block, e), _integer(block, -e)
                lower = lower if ilo is None else max(lower, math.ceil(ilo - SLACK))
                upper = upper if ihi is None else min(upper, math.floor(-ihi + SLACK))
            out[int(block.unknowns[k])] = Interval(
                lower, max(lower, upper) if upper is not None else None
            )
    return out


def rank_determined(system: LinearSystem, targets: Sequence[int]) -> set[int]:  # noqa: PLR0914  the rank test's linear algebra, in one place
    """Targets whose value the equalities alone give: the unit vector lies in the row space
    of the published-equality rows restricted to the unknowns (numpy SVD, per connected
    part of the equalities)."""
    n = system.size
    fixed = np.abs(system.upper - system.lower) <= TOL
    wanted = set(targets)
    found = {j for j in wanted if fixed[j]}
    free = np.flatnonzero(~fixed)
    a = system.a_eq.tocsc()[:, free].tocsr()
    a = a[np.diff(a.indptr) > 0]
    if not a.shape[0]:
        return found
    m = a.shape[0]
    pattern = a.copy()
    pattern.data[:] = 1.0
    graph = sp.bmat([[None, pattern], [pattern.T, None]], format="csr")
    _, labels = connected_components(graph, directed=False)
    row_label, col_label = labels[:m], labels[m:]
    local = np.array([j in wanted for j in free]) if n else np.zeros(0, bool)
    for label in np.unique(col_label[local]):
        cols = np.flatnonzero(col_label == label)
        rows = np.flatnonzero(row_label == label)
        if not len(rows):
            continue
        dense = a[rows][:, cols].toarray()
        _, sing, vt = np.linalg.svd(dense, full_matrices=False)
        basis = vt[: int(np.sum(sing > _SAME * max(1.0, float(sing[0]))))]
        weight = np.sum(basis * basis, axis=0)
        found.update(
            int(free[c]) for c, w in zip(cols, weight, strict=True) if w > 1 - SLACK and local[c]
        )
    return found
