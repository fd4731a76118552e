"""One HiGHS model kept across solves (a warm simplex start), for the disclosure audit and
the pruning's check 4.

``scipy.optimize.linprog(method="highs")`` builds and presolves the model anew for every
call: for a block of 2,000 unknowns that is about 20 ms, twice per suppressed cell. The
HiGHS bundled with scipy (pinned, 1.17.1) can keep the model and change only the cost
vector or a few bounds, so each further solve starts from the last basis (about 1 ms).
That object is private to scipy: when it is missing, :func:`session` gives ``None`` and
the caller solves the same programmes with ``linprog`` (the audit) or asks the programme
anew each time (:mod:`dief.disclosure._kept`). Shared by :mod:`dief.audit`, whose method
stays independent of the search's (a solver is not a method), and
:mod:`dief.disclosure`.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any

import numpy as np
import scipy.sparse as sp  # type: ignore[import-untyped]  # scipy ships no type information

if TYPE_CHECKING:
    from collections.abc import Mapping

__all__ = ["HighsSession", "session"]

try:  # scipy's bundled HiGHS bindings (private); linprog is the fallback
    import scipy.optimize._highspy._core as _h  # type: ignore[import-untyped]  # no stubs
except ImportError:  # pragma: no cover - depends on the scipy build
    _h = None


#: HiGHS's ``simplex_dual_edge_weight_strategy`` for Devex pricing (-1 choose, 0 Dantzig,
#: 1 Devex, 2 steepest edge)
_DEVEX = 1

#: HiGHS's ``simplex_strategy`` for the primal simplex (1 is the dual)
_PRIMAL = 4


class HighsSession:
    """A block's LP kept in HiGHS: ``minimise(j)`` / ``maximise(j)`` of one unknown."""

    def __init__(self, highs: Any, lower: np.ndarray, upper: np.ndarray) -> None:  # noqa: ANN401  scipy's HiGHS binding has no type information
        self._highs = highs
        #: the model's column bounds as passed (HiGHS's infinity): reading them back
        #: through ``getLp`` copies the whole model, once per element read
        self._lower = lower
        self._upper = upper
        self._current: int | None = None
        self.solves = 0

    def _run(self, j: int, sense: Any) -> tuple[int, float]:  # noqa: ANN401  scipy's HiGHS binding has no type information
        h = self._highs
        if self._current is not None and self._current != j:
            h.changeColCost(self._current, 0.0)
        h.changeColCost(j, 1.0)
        self._current = j
        h.changeObjectiveSense(sense)
        h.run()
        self.solves += 1
        status = h.getModelStatus()
        if status == _h.HighsModelStatus.kOptimal:
            return 0, float(h.getInfo().objective_function_value)
        if status == _h.HighsModelStatus.kInfeasible:
            return 2, math.nan
        if status in {_h.HighsModelStatus.kUnbounded, _h.HighsModelStatus.kUnboundedOrInfeasible}:
            return 3, math.nan
        return 4, math.nan

    def minimise(self, j: int) -> tuple[int, float]:
        return self._run(j, _h.ObjSense.kMinimize)

    def maximise(self, j: int) -> tuple[int, float]:
        return self._run(j, _h.ObjSense.kMaximize)

    def seed(self, local: list[int], seen_lo: np.ndarray, seen_hi: np.ndarray) -> None:
        """Minimise the sum of *local* once: a point where most are at their least."""
        h = self._highs
        idx = np.asarray(local, dtype=np.int32)
        h.changeColsCost(len(idx), idx, np.ones(len(idx)))
        h.changeObjectiveSense(_h.ObjSense.kMinimize)
        h.run()
        if h.getModelStatus() == _h.HighsModelStatus.kOptimal:
            x = self.solution()
            np.minimum(seen_lo, x, out=seen_lo)
            np.maximum(seen_hi, x, out=seen_hi)
        h.changeColsCost(len(idx), idx, np.zeros(len(idx)))
        self._current = None
        self.solves += 1

    def push(self, caps: Mapping[int, float]) -> np.ndarray | None:
        """A feasible point maximising the sum of the unknowns in *caps*, each held at
        most at its cap (bounds restored after): a point of the original programme."""
        h = self._highs
        idx = np.fromiter(caps.keys(), dtype=np.int32, count=len(caps))
        cap = np.fromiter(caps.values(), dtype=float, count=len(caps))
        lower, upper = self._lower[idx], self._upper[idx]
        h.changeColsBounds(len(idx), idx, lower, np.minimum(upper, cap))
        h.changeColsCost(len(idx), idx, np.ones(len(idx)))
        h.changeObjectiveSense(_h.ObjSense.kMaximize)
        h.run()
        self.solves += 1
        x = self.solution() if h.getModelStatus() == _h.HighsModelStatus.kOptimal else None
        h.changeColsBounds(len(idx), idx, lower, upper)
        h.changeColsCost(len(idx), idx, np.zeros(len(idx)))
        self._current = None
        return x

    def solution(self) -> np.ndarray:
        return np.asarray(self._highs.getSolution().col_value, dtype=float)

    def set_bounds(self, cols: np.ndarray, lower: np.ndarray, upper: np.ndarray) -> None:
        """The bounds of *cols* from now on (the model's own, which :meth:`push` restores)."""
        idx = np.asarray(cols, dtype=np.int32)
        lower = np.asarray(lower, dtype=float)
        upper = np.where(np.isinf(upper), _h.kHighsInf, upper).astype(float)
        self._highs.changeColsBounds(len(idx), idx, lower, upper)
        self._lower[idx] = lower
        self._upper[idx] = upper

    def basis(self) -> object:
        """The current basis, to :meth:`restore` (a copy)."""
        return self._highs.getBasis()

    def restore(self, basis: object) -> None:
        """Start the next solve from *basis* (:meth:`basis`): after bounds are put back as
        they were when it was taken, it is optimal again, where the basis of a solve made
        under other bounds may not even be dual feasible (a column freed again, nonbasic
        at its old fixed bound, sends the dual simplex back to phase 1: hundreds of
        iterations)."""
        self._highs.setBasis(basis)

    def optimum(self) -> np.ndarray | None:
        """A solution minimising the model's own costs (:func:`session`'s *cost*) from the
        last basis, or ``None`` where HiGHS finds none. For a model whose costs only this
        changes (:meth:`minimise`, :meth:`maximise`, :meth:`seed` and :meth:`push` set
        their own)."""
        h = self._highs
        h.changeObjectiveSense(_h.ObjSense.kMinimize)
        h.run()
        self.solves += 1
        return self.solution() if h.getModelStatus() == _h.HighsModelStatus.kOptimal else None


def session(  # noqa: PLR0913, PLR0917  the block's LP: its four matrices and two bounds
    a_eq: sp.csr_matrix,
    b_eq: np.ndarray,
    a_ub: sp.csr_matrix,
    b_ub: np.ndarray,
    lower: np.ndarray,
    upper: np.ndarray,
    cost: np.ndarray | None = None,
    *,
    devex: bool = False,
    primal: bool = False,
) -> HighsSession | None:
    """A kept HiGHS model of ``a_eq x = b_eq, a_ub x <= b_ub, lower <= x <= upper``;
    *cost*: its own objective (minimised by :meth:`HighsSession.optimum`; default none).
    *devex*: the dual simplex prices by Devex weights instead of steepest-edge ones, which
    HiGHS computes afresh (one solve per row) whenever a solve starts from a basis it was
    given (:meth:`HighsSession.restore`): a model solved again and again from a restored
    basis after a few iterations each (the pruning's check 4: 20,000 rows at 10 years, a
    second read of about half a solve's time). *primal*: solves by the primal simplex, for
    a model whose solves mostly follow bounds relaxed (a column freed keeps the last basis
    primal feasible, where the dual simplex starts with a phase 1: check 4 kept across a
    search's rounds, about 1,500 dual iterations a round at 10 years of 3,000 cases, a few
    primal ones)."""
    if _h is None:  # pragma: no cover
        return None
    n = a_eq.shape[1]
    matrix = sp.vstack([a_eq, a_ub]).tocsc()
    lp = _h.HighsLp()
    lp.num_col_ = n
    lp.num_row_ = matrix.shape[0]
    lp.a_matrix_.num_col_ = n
    lp.a_matrix_.num_row_ = matrix.shape[0]
    lp.a_matrix_.format_ = _h.MatrixFormat.kColwise
    lp.col_cost_ = np.zeros(n) if cost is None else np.asarray(cost, dtype=float)
    col_lower = np.asarray(lower, dtype=float)
    col_upper = np.where(np.isinf(upper), _h.kHighsInf, upper).astype(float)
    lp.col_lower_ = col_lower
    lp.col_upper_ = col_upper
    lp.row_lower_ = np.concatenate([b_eq, np.full(a_ub.shape[0], -_h.kHighsInf)])
    lp.row_upper_ = np.concatenate([b_eq, b_ub])
    lp.a_matrix_.start_ = matrix.indptr
    lp.a_matrix_.index_ = matrix.indices
    lp.a_matrix_.value_ = matrix.data
    highs = _h._Highs()  # noqa: SLF001  scipy exposes HiGHS only through its private binding
    highs.setOptionValue("output_flag", False)  # noqa: FBT003  HiGHS's option API takes the value positionally
    if devex:
        highs.setOptionValue("simplex_dual_edge_weight_strategy", _DEVEX)
    if primal:
        highs.setOptionValue("simplex_strategy", _PRIMAL)
    if highs.passModel(lp) == _h.HighsStatus.kError:
        return None
    return HighsSession(highs, col_lower, col_upper)
