"""Cells a bulletin cannot narrow, shown by feasible points (#15, DESIGN §13 ⚑).

The release check (:func:`dief.audit.check_bulletin`) asks whether a candidate narrows a
reported cell below its level. It re-solved every reported unknown of each block the
candidate touches, two linear programmes each. Where months withhold dimensions, their
cells link a region's tables into one block (realistic AFR: 6,185 of 6,658 unknowns, 4,211
reported; bound propagation and dropping the inequalities the bounds make redundant still
leave 5,944 linked), so a check took minutes: restricting the programmes to the block
that reaches the candidate's cells cannot help.

Most of those cells are far from narrowed, and two feasible points prove it for many at
once: where two points of the candidate's programme give a cell values whose rounding
inwards is at least its level apart, its interval is at least that wide, so it is not
exposed, whatever the exact interval is. :func:`kept_wide` finds such points a few at a
time — the least sum of the cells still open (a point with most at their least), then the
greatest sum with each held to its least there plus its level (one more point) — over the
same programme :func:`dief.audit._solve.intervals` solves (the block's rows, its bounds
propagated first); where their sum does not move (cells of one fixed total), the next
pair aims at half of them. Of the cells left, one narrower than its level without the
candidate is not solved either (the check never names it: ``_exposed``; those intervals
are the baseline's, kept from one candidate to the next). The check then solves exactly,
as before, only the cells left, so its answers are the same
(tests/unit/test_audit_witness.py compares them on random systems). Realistic AFR with
withheld dimensions: of 4,211 cells, the points show about 3,770 wide in 5 pairs, most of
the rest were narrow already without the candidate, about 25 are solved; 10 candidates in
about 40 s (4 by the LP at 5-13 s each, under a shared machine's load), where 10 did not
finish in 6 minutes.
"""

from __future__ import annotations

import math
from dataclasses import replace
from typing import TYPE_CHECKING

import numpy as np

from dief._highs import session
from dief.audit._propagate import propagate
from dief.audit._solve import SLACK, intervals

if TYPE_CHECKING:
    from collections.abc import Callable, Mapping, Sequence

    from dief.audit._solve import Block, Interval, Reduced
    from dief.audit._system import LinearSystem

__all__ = ["ROUNDS", "kept_wide", "narrowed"]

#: at most this many pairs of points per block (each pair: two linear programmes; on
#: realistic AFR 5 pairs show about 3,770 of 4,211 cells wide, 12 about 3,860, each later
#: pair fewer than the cells it costs to solve)
ROUNDS = 5


def narrowed(
    system: LinearSystem,
    reduced: Reduced,
    levels: Mapping[int, int],
    *,
    enough: int,
    before: Callable[[Sequence[int]], Mapping[int, Interval]] | None = None,
) -> dict[int, Interval]:
    """The unknowns of *levels* (unknown → its level, at most *enough*) whose interval in
    *system* (*reduced*: its blocks) is narrower than their level, with that interval.

    Without *before*, every one is solved (:func:`~dief.audit._solve.intervals`). With
    *before* (the intervals without the candidate, of the unknowns asked), those
    :func:`kept_wide` shows wide are not solved, nor those narrower than their level
    before: a candidate cannot expose them (``_exposed``), so the check's answer is the
    same. Raises :class:`~dief.audit._solve.InfeasibleError` as ``intervals`` does."""
    open_ = list(levels)
    if before is not None:
        wide = kept_wide(reduced, levels)
        if wide is not None:
            open_ = [j for j in open_ if j not in wide]
            old = before(open_)
            open_ = [j for j in open_ if not _narrower(old[j], levels[j])]
    found = intervals(system, open_, enough=enough)
    return {j: found[j] for j in open_ if _narrower(found[j], levels[j])}


def _narrower(interval: Interval, level: int) -> bool:
    width = interval.width
    return width is not None and width < level


def kept_wide(
    reduced: Reduced, levels: Mapping[int, int], *, rounds: int = ROUNDS
) -> set[int] | None:
    """The unknowns of *levels* (unknown → its level) that two feasible points of
    *reduced*'s programme show at least their level wide (module docstring). ``None``
    where a block of them has no feasible point or its bounds cross (the exact check
    says so: the caller solves every cell as before)."""
    out: set[int] = set()
    for block in reduced.blocks:
        local = [k for k, j in enumerate(block.unknowns) if int(j) in levels]
        if not local:
            continue
        wide = _block_wide(block, local, levels, rounds)
        if wide is None:
            return None
        out.update(int(block.unknowns[k]) for k in wide)
    return out


def _block_wide(
    whole: Block, local: list[int], levels: Mapping[int, int], rounds: int
) -> set[int] | None:
    least, most = propagate(
        whole.a_eq, whole.b_eq, whole.a_ub, whole.b_ub, whole.lower, whole.upper
    )
    if np.any(least > most):
        return None
    block = replace(whole, lower=least, upper=most)
    kept = session(block.a_eq, block.b_eq, block.a_ub, block.b_ub, block.lower, block.upper)
    if kept is None:  # pragma: no cover - depends on the scipy build
        return set()
    level = {k: levels[int(block.unknowns[k])] for k in local}
    seen_lo = np.full(len(block.unknowns), np.inf)
    seen_hi = np.full(len(block.unknowns), -np.inf)
    wide: set[int] = set()
    open_ = list(local)
    focus = open_  # the cells this round's two points aim at
    for _ in range(rounds):
        low = np.full(len(block.unknowns), np.inf)
        high = np.full(len(block.unknowns), -np.inf)
        kept.seed(focus, low, high)
        if not np.all(np.isfinite(low)):
            return None  # no optimum: the exact check finds why
        np.minimum(seen_lo, low, out=seen_lo)
        np.maximum(seen_hi, high, out=seen_hi)
        point = kept.push({k: math.ceil(low[k] - SLACK) + level[k] for k in focus})
        if point is not None:
            np.minimum(seen_lo, point, out=seen_lo)
            np.maximum(seen_hi, point, out=seen_hi)
        shown = {
            k
            for k in open_
            if math.floor(seen_hi[k] + SLACK) - math.ceil(seen_lo[k] - SLACK) >= level[k]
        }
        wide |= shown
        open_ = [k for k in open_ if k not in shown]
        if not open_:
            break
        if shown:
            focus = open_
        elif len(focus) > 1:
            # their sum may not move (cells of one fixed total): half of them may
            focus = focus[: len(focus) // 2]
        else:
            break
    return wide
