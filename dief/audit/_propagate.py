"""Bound propagation: the bounds each row gives an unknown from the others' bounds.

For a row ``sum(a_k x_k) <= b``, ``a_j x_j <= b - min(sum over k != j of a_k x_k)``; an
equality is two such rows. Repeated until nothing moves, and rounded inwards (counts are
integers), it gives valid bounds on every unknown cheaply: the LP of an unknown whose
bound some feasible point already reaches need not be solved.
"""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp  # type: ignore[import-untyped]  # scipy ships no type information

__all__ = ["propagate"]


def _one_pass(  # noqa: PLR0914  one pass of bound propagation over the rows, kept in one loop
    a: sp.coo_matrix, b: np.ndarray, lo: np.ndarray, hi: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """New (lo, hi) from the rows ``a x <= b``."""
    r, c, v = a.row, a.col, a.data
    least = np.where(v > 0, v * lo[c], v * hi[c])  # each entry's least contribution
    infinite = ~np.isfinite(least)
    m = a.shape[0]
    finite_sum = np.bincount(r, weights=np.where(infinite, 0.0, least), minlength=m)
    inf_count = np.bincount(r, weights=infinite.astype(float), minlength=m)
    rest_inf = inf_count[r] - infinite
    rest = finite_sum[r] - np.where(infinite, 0.0, least)
    ok = rest_inf == 0
    bound = np.where(ok, (b[r] - rest) / np.where(v == 0, 1.0, v), np.nan)
    new_hi, new_lo = hi.copy(), lo.copy()
    up = ok & (v > 0)
    down = ok & (v < 0)
    np.minimum.at(new_hi, c[up], bound[up])
    np.maximum.at(new_lo, c[down], bound[down])
    return new_lo, new_hi


def propagate(  # noqa: PLR0913, PLR0917  the block's LP: its four matrices and two bounds
    a_eq: sp.spmatrix,
    b_eq: np.ndarray,
    a_ub: sp.spmatrix,
    b_ub: np.ndarray,
    lower: np.ndarray,
    upper: np.ndarray,
    *,
    rounds: int = 50,
) -> tuple[np.ndarray, np.ndarray]:
    """Integer bounds implied by the rows (never looser than the given ones)."""
    a = sp.vstack([a_ub, a_eq, -a_eq]).tocoo()
    b = np.concatenate([b_ub, b_eq, -b_eq])
    lo, hi = lower.astype(float).copy(), upper.astype(float).copy()
    for _ in range(rounds):
        new_lo, new_hi = _one_pass(a, b, lo, hi)
        new_lo = np.ceil(new_lo - 1e-6)
        new_hi = np.where(np.isfinite(new_hi), np.floor(new_hi + 1e-6), new_hi)
        new_lo, new_hi = np.maximum(lo, new_lo), np.minimum(hi, new_hi)
        if np.array_equal(new_lo, lo) and np.array_equal(new_hi, hi):
            break
        lo, hi = new_lo, new_hi
    return lo, hi
