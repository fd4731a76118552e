"""Whether publishing one suppressed cell would expose another (issue #15, "provably unsafe").

A first issue's pruned pattern (:mod:`dief.disclosure._prune`) hides a total with k
contributors only where publishing it, with everything else as issued, breaks a check of
the search (with its twins: cells one alone would give away, published together or not
at all). :func:`check_publication` puts the same question to the audit, a solver that
shares nothing with the search: the reader's documents with those cells published at
their true counts, against the same documents as issued (an :class:`~dief.audit.AuditBaseline`).
The publication *exposes* a cell when that cell's interval becomes narrower than its level
and narrower than it was (:func:`_narrowed_by`): a pair of cells of exactly k that the
documents hold one value apart counts when one of them becomes determined.

Only the unknowns the published cells' rows reach can move, and a proof needs one exposed
cell, so the cells are solved nearest first (steps through the rows, :func:`_distances`),
a layer at a time, and the check stops at the first layer that exposes one. Two feasible
points per block (the least sum of its cells, then the greatest with each held to its least
plus its level) and every optimum found on the way show most cells at least their level
wide, unsolved (as :mod:`dief.audit._witness`). A publication that exposes nothing is
therefore the slow answer: every reachable cell is judged.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING

import numpy as np
import scipy.sparse as sp  # type: ignore[import-untyped]  # scipy ships no type information

from dief.audit._bulletins import AuditBaseline, BulletinCheck
from dief.audit._relations import build_system
from dief.audit._report import level_of
from dief.audit._solve import SLACK, TOL, InfeasibleError, Interval, blocks, extremes, seeded
from dief.exceptions import ConfigurationError

if TYPE_CHECKING:
    from collections.abc import Mapping, Sequence

    from dief._highs import HighsSession
    from dief.audit._documents import ReaderView, TableKey
    from dief.audit._solve import Block, Reduced
    from dief.audit._system import LinearSystem

__all__ = ["check_publication"]


def check_publication(
    base: AuditBaseline, cells: Mapping[tuple[TableKey, str], int]
) -> BulletinCheck:
    """Does the audit still hold with *cells* (``(table, cell)`` of the last issue, each
    suppressed there) published at their counts, every other figure as issued? Several
    cells where one alone would give the others away (a total and its sole value: the
    pruning's twins). ``holds`` False names the exposed cells of the first layer that has
    one (module docstring); ``by`` is ``lp``, or ``contradiction`` where the documents allow
    no such counts."""
    started = time.perf_counter()
    system = build_system(_published(base.view, cells), base.known, base.options)
    if system.names != base.system.names:  # pragma: no cover - build_system names cells by table
        raise ConfigurationError("publishing one cell renamed the reader's unknowns")
    changed = np.flatnonzero(
        (system.lower > base.system.lower + TOL) | (system.upper < base.system.upper - TOL)
    )
    reduced = blocks(system)
    contradiction = BulletinCheck(holds=False, by="contradiction", seconds=0.0)
    if not reduced.consistent:
        return replace(contradiction, seconds=time.perf_counter() - started)
    try:
        exposed = _first_exposed(base, system, reduced, [int(j) for j in changed])
    except InfeasibleError:
        return replace(contradiction, seconds=time.perf_counter() - started)
    named = tuple(("/".join(system.names[j][1]), system.names[j][2]) for j in exposed)
    return BulletinCheck(not exposed, "lp", time.perf_counter() - started, named)


def _first_exposed(
    base: AuditBaseline, system: LinearSystem, reduced: Reduced, start: Sequence[int]
) -> list[int]:
    """The cells of the nearest layer around *start* (the published cell's unknown) that
    *system* (the documents with it published; *reduced*, its blocks) exposes, or none.
    Raises :class:`~dief.audit.InfeasibleError` where a block has no integer point."""
    distance = _distances(base.system, start)
    where = {
        int(j): (b, k)
        for b, block in enumerate(reduced.blocks)
        for k, j in enumerate(block.unknowns)
        if int(j) in distance
    }
    wanted = [j for j in base.targets if j in where]
    levels = {j: level_of(system, j, base.view, base.level) for j in wanted}
    layers: dict[int, list[int]] = {}
    for j in sorted(wanted, key=lambda j: (distance[j], j)):
        layers.setdefault(distance[j], []).append(j)
    solved: dict[int, _Solved] = {}
    for layer in layers.values():
        narrow: dict[int, Interval] = {}
        for j in layer:
            b, k = where[j]
            if b not in solved:
                members = [where[i][1] for i in wanted if where[i][0] == b]
                solved[b] = _Solved.of(reduced.blocks[b], members, levels)
            new = solved[b].interval(k, levels[j])
            if new is not None:
                narrow[j] = new
        base.intervals_of(sorted(narrow))  # without the publication, in one pass
        exposed = [j for j, new in narrow.items() if _narrowed_by(base, j, new)]
        if exposed:
            return exposed
    return []


def _published(view: ReaderView, cells: Mapping[tuple[TableKey, str], int]) -> ReaderView:
    """*view* with *cells* of its last issue published at their counts (their stated
    reasons gone with them)."""
    issue = view.issues[-1]
    tables = dict(issue.tables)
    for (key, cell), count in cells.items():
        table = tables.get(key)
        if table is None or cell not in table.cells or table.cells[cell] is not None:
            raise ConfigurationError(f"{'/'.join(key)} does not publish {cell} as suppressed")
        published = {**table.cells, cell: count}
        tables[key] = replace(table, cells=published, protected=table.protected - {cell})
    return replace(view, issues=(*view.issues[:-1], replace(issue, tables=tables)))


def _distances(system: LinearSystem, start: Sequence[int]) -> dict[int, int]:
    """Every unknown of *system* the rows reach from *start* (through unknowns that are not
    fixed), with its number of steps (*start* itself 0)."""
    rows = sp.vstack([system.a_eq, system.a_ub]).tocsr()
    columns = rows.tocsc()
    free = np.abs(system.upper - system.lower) > TOL
    out = dict.fromkeys(start, 0)
    frontier = list(start)
    step = 0
    while frontier:
        step += 1
        through = np.unique(columns[:, frontier].indices)
        reached = np.unique(rows[through].indices) if len(through) else np.array([], int)
        frontier = [int(j) for j in reached if free[j] and int(j) not in out]
        out.update(dict.fromkeys(frontier, step))
    return out


def _narrowed_by(base: AuditBaseline, j: int, new: Interval) -> bool:
    """Whether *new* (unknown *j*'s interval with the publication) is narrower than its
    level and than its interval without it (``_bulletins._exposed``'s roles: a TLP:RED
    count or a value of a grouped cell only where determined at one case or more)."""
    width = new.width
    if width is None or width >= level_of(base.system, j, base.view, base.level):
        return False
    old = base.intervals_of([j])[j].width
    if old is not None and old <= width:
        return False
    role = base.system.roles[j]
    return role == "suppressed" or (role in {"red", "grouped"} and width == 0 and new.lower > 0)


@dataclass
class _Solved:
    """One block of the system with the publication: its bounds propagated, its model kept
    in HiGHS, and the least and greatest value of each unknown over every point seen."""

    block: Block
    kept: HighsSession | None
    seen_lo: np.ndarray
    seen_hi: np.ndarray

    @classmethod
    def of(cls, whole: Block, members: list[int], levels: dict[int, int]) -> _Solved:
        """*whole* ready to solve, with two feasible points for its *members* (block
        positions; *levels* by unknown): their least sum, then their greatest with each
        held to its least plus its level."""
        block, kept, seen_lo, seen_hi = seeded(whole, members)
        if kept is not None and np.all(np.isfinite(seen_lo)):
            caps = {
                k: math.ceil(seen_lo[k] - SLACK) + levels[int(block.unknowns[k])] for k in members
            }
            point = kept.push(caps)
            if point is not None:
                np.minimum(seen_lo, point, out=seen_lo)
                np.maximum(seen_hi, point, out=seen_hi)
        return cls(block, kept, seen_lo, seen_hi)

    def interval(self, k: int, level: int) -> Interval | None:
        """Unknown *k*'s interval (block position), or None where the points seen show it at
        least *level* wide (not exposed, whatever its interval)."""
        if self._shown(k) >= level:
            return None
        lo, hi, status = extremes(self.block, self.kept, k, self.seen_lo, self.seen_hi)
        lower = math.ceil(lo - SLACK)
        if status == _UNBOUNDED:
            return Interval(lower, None)
        return Interval(lower, max(lower, math.floor(hi + SLACK)))

    def _shown(self, k: int) -> float:
        if not (np.isfinite(self.seen_lo[k]) and np.isfinite(self.seen_hi[k])):
            return 0.0
        return float(math.floor(self.seen_hi[k] + SLACK) - math.ceil(self.seen_lo[k] - SLACK))


#: the solver's status for an unbounded maximum (``_solve._UNBOUNDED``)
_UNBOUNDED = 3
