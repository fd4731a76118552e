"""Which suppressed cells the bounds pin (check 4 of :func:`~dief.disclosure.protect`).

A reader knows more than the equations: every listed cell counts at least one case (at
least 0 for a cell no document lists, such as the TLP:RED part of a cell, or a cell a
re-issue keeps listed at zero), no cell counts more than its table's total, and a table's
item categories count at least its total (every case names an item). Linear programming
over the equations and these inequalities can pin a suppressed cell that no equation
determines (two suppressed cells that must sum to 2 are both 1). :func:`pinned_cells` finds
every such cell, exactly over the reals, with one linear programme and one elimination:

1. The *implicit equalities*: the inequalities that hold with equality in every solution.
   One linear programme finds them all. Where the true counts ``x*`` are a solution (every
   least value holds; always, but for a re-issue's cells listed at zero), only the rows
   ``T`` tight at ``x*`` can be implicit equalities, and such a row is one iff it stays
   tight along every direction that stays in the solutions (``A d = 0``, ``G_T d <= 0``):
   maximise the sum of slacks ``s`` with ``G_T d + s <= 0``, ``0 <= s <= 1``
   (:func:`tight_around`; a cone, so one direction puts ``s = 1`` on every row that can be
   strict). Otherwise the homogenised slack programme (:func:`tight`: ``A x = λ b``,
   ``G x + s <= λ h``, ``0 <= s <= 1``, ``λ >= 1``; ``None`` where there is no solution).
2. With those as equations, the solutions have a relative interior where every other
   inequality is strict, so a cell is pinned iff the equations determine it: the exact
   elimination of :func:`~dief.disclosure.determined_cells`, or, for the search's own
   unknowns, the implicit equalities read against the reduced equations it keeps
   (:meth:`~dief.disclosure._elimination.Elimination.determined_with`: a few rows reduced
   instead of a part of a region's history eliminated again each round).

A search asks again after every round of suppressions (:class:`BoundSystem`): the
unknowns fall into parts no row joins, and a part asked before with the same unknowns and
least values is not solved again; the parts a round changed are solved together, in one
programme.

The programmes are built and solved in :mod:`dief.disclosure._bounds_lp`. HiGHS
(``scipy.optimize.linprog``) solves them in floating point; a slack below
one half counts as zero (the exact optimum puts every slack at 0 or 1). Integer rounding
of fractional bounds is not modelled (the tables' sums have unit coefficients).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from dief.aggregator import TOTAL
from dief.disclosure._bounds_lp import (
    ITEMS,
    equations_rows,
    inequalities,
    satisfies,
    side,
    tight_anyway,
    tight_around,
)
from dief.disclosure._kept_cone import KeptCone
from dief.disclosure._suppression import Group, Key, determined_cells

if TYPE_CHECKING:
    from collections.abc import Collection, Mapping, Sequence
    from collections.abc import Set as AbstractSet

    from dief.disclosure._elimination import Elimination

__all__ = ["BoundSystem", "Cone", "pinned_cells"]


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
    every group and relation of each part that has tight rows (elsewhere nothing changed).
    One call of
    :meth:`BoundSystem.pinned` (a caller that asks again of the same system keeps the
    :class:`BoundSystem`).
    """
    system = BoundSystem(counts, groups, relations=relations, floors=floors)
    return system.pinned(unknown, unlisted=unlisted, ignore=ignore)


@dataclass(frozen=True, slots=True)
class _Tight:
    """Step 1 on one part: the cells held at their least value, and the other inequality
    rows that hold with equality (cell → coefficient)."""

    at_least: frozenset[Key]
    extra: tuple[dict[Key, int], ...]


#: equations over column indices (``row . x = rhs``) and their right-hand sides
_Rows = tuple[list[dict[int, float]], list[float]]


@dataclass(frozen=True, slots=True)
class Cone:
    """Step 1's programme around the true counts (:func:`tight_around`), where they are a
    solution: the directions ``d`` over *cells* (column order) that stay in the solutions
    satisfy *equations* (``row . d = 0``) and *rows* (``row . d <= 0``, the inequalities
    tight at the true counts); *row_cells*: a least-value row's cell, else ``None`` (a
    table's link)."""

    cells: tuple[Key, ...]
    equations: list[dict[int, float]]
    rows: list[dict[int, float]]
    row_cells: tuple[Key | None, ...]


@dataclass(frozen=True, slots=True)
class _TableLinks:
    """One table's inequalities at the true counts: the cells equal to its total ("at most
    the total" tight), its item categories and whether they add up to exactly its total
    (the item row tight), and whether the true counts break one of them (counts that do
    not add up, which only the homogenised programme takes)."""

    equal: frozenset[Key]
    items: tuple[Key, ...]
    items_tight: bool
    broken: bool


#: a part and what names its cells' least values (:meth:`BoundSystem._key`)
_PartKey = tuple[frozenset[Key], float | None, frozenset[Key]]

_NO_LINKS = _TableLinks(frozenset(), (), items_tight=False, broken=False)


@dataclass(frozen=True, slots=True)
class _Walked:
    """One call's unknowns (:meth:`BoundSystem._walked`): its parts joined by the rows
    tight at the true counts, cell → its part (updated in place by the next call, which
    replaces this one), and its cells where the true counts are no solution."""

    cells: frozenset[Key]
    unlisted: Collection[Key]
    parts: list[frozenset[Key]]
    part_of: dict[Key, frozenset[Key]]
    broken: set[Key]


class BoundSystem:
    """Check 4 over one system — a :func:`~dief.disclosure.protect` run's counts, groups,
    relations and floors, which stay the same while its cells are hidden or published —
    solved part by part.

    The unknowns fall into *parts* that no equation or inequality joins (an equation's
    unknown cells, a cell and its table's total, a table's item categories and its total
    are in one part), and the linear programme of step 1 is one independent programme per
    part (the homogenised programme's λ aside, which changes no part's tight rows). Hiding
    or publishing a cell changes only the part it joins or leaves, so a part with the same
    unknowns and least values as at an earlier call is not solved again: a search that
    hides a few cells a round re-solves the parts around them, not a region's history (at
    10 years, some 400 parts, the largest a third of the unknowns). Where a part has no
    solution with every listed cell at least one, that part alone takes its cells listed
    at zero (a re-issue's) at least 0.

    The parts a call changed are solved in one programme kept in HiGHS over every cell of
    the system (:mod:`dief.disclosure._kept_cone`; session 17), from the last call's
    basis, where the true counts are a solution around every unknown; *keep* ``False``
    builds each call's programme from scratch (the tests compare the two).
    """

    __slots__ = (
        "_at_one",
        "_before",
        "_counts",
        "_determined",
        "_floors",
        "_groups",
        "_kept",
        "_keys",
        "_keys_for",
        "_last",
        "_of_cell",
        "_off",
        "_relations",
        "_rows",
        "_solved",
        "_special",
        "_tables",
        "_tight_links",
    )

    def __init__(
        self,
        counts: Mapping[Key, int],
        groups: Sequence[Group],
        *,
        relations: Sequence[Mapping[Key, int]] = (),
        floors: Mapping[Key, int] | None = None,
        keep: bool = True,
    ) -> None:
        self._counts = counts
        self._groups = groups
        self._relations = relations
        self._floors: Mapping[Key, int] = floors or {}
        self._rows: list[Mapping[Key, int]] | None = None
        self._of_cell: dict[Key, list[int]] | None = None
        self._tables: dict[str, list[Key]] | None = None
        self._solved: dict[_PartKey, _Tight | None] = {}
        # per part: the tight rows (the object :meth:`_tight_part` keeps), the reduced
        # equations read (or None) and what they pin
        self._determined: dict[
            frozenset[Key], tuple[_Tight, Elimination[Key] | None, frozenset[Key]]
        ] = {}
        self._tight_links: dict[str, _TableLinks] | None = None
        self._keys: dict[tuple[frozenset[Key], float], _PartKey] = {}
        self._keys_for: frozenset[Key] | None = None
        self._at_one: frozenset[Key] = frozenset()  # cells at least 1 (for _keys_for)
        self._special: frozenset[Key] = frozenset()  # floors and unlisted (for _keys_for)
        self._off: frozenset[Key] | None = None
        self._last: _Walked | None = None
        self._before: _Walked | None = None  # the walk before the last (:meth:`_walked`)
        # step 1 kept across calls, for one unlisted collection (None: it cannot be kept)
        self._kept: tuple[frozenset[Key], KeptCone | None] | None = (
            None if keep else (frozenset(), None)
        )

    def pinned(
        self,
        unknown: Collection[Key],
        *,
        unlisted: Collection[Key] = frozenset(),
        ignore: Collection[Key] = frozenset(),
        reduced: Elimination[Key] | None = None,
    ) -> set[Key]:
        """:func:`pinned_cells` of *unknown* in this system; *reduced*: the reduced
        equations of this system's groups and relations over exactly *unknown* (the
        search's, kept as it hides cells), read for step 2 instead of an elimination of
        each part from scratch (:meth:`Elimination.determined_with`)."""
        # one frozenset passed down: the walks and the kept programme take it as it is
        cells = unknown if isinstance(unknown, frozenset) else frozenset(unknown)
        if not cells:
            return set()
        # the least values are kept per unlisted collection (:meth:`_key`): one that
        # cannot change under them
        unlisted = unlisted if isinstance(unlisted, frozenset) else frozenset(unlisted)
        fixed: set[Key] = set()
        tights: list[tuple[frozenset[Key], _Tight]] = []
        parts = self._parts(cells, unlisted)
        self._solve_together(parts, unlisted, cells)
        for part in parts:
            tight = self._tight_part(part, unlisted)
            fixed |= tight.at_least
            if tight.at_least or tight.extra:
                tights.append((part, tight))
        if fixed - set(ignore):
            return fixed
        for part, tight in tights:
            fixed |= self._determined_in(part, tight, reduced)
        return fixed

    def pins(
        self, cell: Key, unknown: Collection[Key], *, unlisted: Collection[Key] = frozenset()
    ) -> bool:
        """Whether :meth:`pinned` of *unknown* would pin *cell*, asked of the part that
        holds it alone (no row joins two parts): for a question about one cell (the
        search's "would hiding all these free it"), steps 1 and 2 over one part instead of
        every part of the region's history."""
        cells = unknown if isinstance(unknown, frozenset) else frozenset(unknown)
        unlisted = unlisted if isinstance(unlisted, frozenset) else frozenset(unlisted)
        part = next((p for p in self._parts(cells, unlisted) if cell in p), None)
        if part is None:
            return False
        tight = self._tight_part(part, unlisted)
        if cell in tight.at_least:
            return True
        if not tight.extra and not tight.at_least:
            return False
        return cell in self._determined_in(part, tight, None)

    def _determined_in(
        self, part: frozenset[Key], tight: _Tight, reduced: Elimination[Key] | None
    ) -> frozenset[Key]:
        """The cells of *part* its tight rows determine with the equations, the cells at
        their least value known, kept per part and tight rows (a round re-asks only the
        parts it changed): read against *reduced* (:meth:`pinned`), else eliminated from
        scratch over every group and relation naming a cell of the part (no row joins two
        parts, so a part's answer is the whole system's there). Every relation: session
        15's second read found that the groups reached from the tight cells alone missed a
        cell a relation ties to one of them."""
        kept = self._determined.get(part)
        if kept is not None and kept[0] is tight and kept[1] is reduced:
            return kept[2]
        if reduced is not None:
            found = frozenset(reduced.determined_with(tight.at_least, tight.extra, part))
        else:
            rows, of_cell, _ = self._index()
            count = len(self._groups)
            wanted = sorted({i for c in part for i in of_cell.get(c, ())})
            relations = [rows[i] for i in wanted if i >= count]
            relations.extend(tight.extra)
            found = frozenset(
                determined_cells(
                    part - tight.at_least,
                    [self._groups[i] for i in wanted if i < count],
                    relations=relations,
                )
            )
        self._determined[part] = (tight, reduced, found)
        return found

    def _index(self) -> tuple[list[Mapping[Key, int]], dict[Key, list[int]], dict[str, list[Key]]]:
        """The equations (the groups', then the relations), cell → the equations naming
        it, and table → its listed cells; built once."""
        if self._rows is None or self._of_cell is None or self._tables is None:
            rows: list[Mapping[Key, int]] = [
                *(g.equation() for g in self._groups),
                *self._relations,
            ]
            of_cell: dict[Key, list[int]] = {}
            for i, row in enumerate(rows):
                for cell in row:
                    of_cell.setdefault(cell, []).append(i)
            tables: dict[str, list[Key]] = {}
            for key in self._counts:
                tables.setdefault(key[0], []).append(key)
            self._rows, self._of_cell, self._tables = rows, of_cell, tables
        return self._rows, self._of_cell, self._tables

    def _parts(self, cells: frozenset[Key], unlisted: Collection[Key]) -> list[frozenset[Key]]:
        """*cells* split into the parts no equation and no inequality tight at the true
        counts joins (:meth:`_walk`); where the true counts are no solution around a cell
        (a re-issue's cell listed at zero, above its least value; counts that break an
        equation or a table's inequality, :meth:`_off_truth`), the parts around it are
        joined by every inequality, as the homogenised programme needs (:func:`tight`
        takes the rows strict at the true counts too)."""
        walked = self._walked(cells, unlisted)
        if not walked.broken:
            return walked.parts
        joined = self._walk(walked.broken, cells, tight_only=False)
        inside = {c for part in joined for c in part}
        return [p for p in walked.parts if not p & inside] + joined

    def _walked(self, cells: frozenset[Key], unlisted: Collection[Key]) -> _Walked:
        """The parts of *cells* joined by the rows tight at the true counts, and its cells
        where the true counts are no solution: from an earlier call's, where only the parts
        around the cells hidden or published since are walked again (whether two cells
        are joined does not depend on the other unknowns, so a part no changed cell is in
        or next to stays a part). At 10 years of realistic volume (every month's cells
        besides its total and kind unknowns) walking every unknown each round cost more
        than check 4's programmes.

        Two walks are kept: the last call's, and the one it was joined from (else the one
        before it). Where one of them has a subset of *cells* (a round that only hid
        cells, or the search's own unknowns with one candidate more:
        :meth:`~dief.disclosure._search._Search.bound_widen` tries several in turn, each
        joined from the search's walk), the cells added are joined to the parts next to
        them (:meth:`_joined`) and nothing is walked again; else the last walk's parts
        around the cells published or hidden since are walked again (a part that loses a
        cell can split)."""
        frozen = frozenset(cells)
        kept = [w for w in (self._last, self._before) if w is not None and w.unlisted is unlisted]
        for walk in kept:
            if walk.cells == frozen:
                if walk is not self._last:  # the one before: the last again (_kept_tight)
                    self._before, self._last = self._last, walk
                return walk
        below = [w for w in kept if w.cells <= frozen]
        if below:
            # the walk joined from is kept: the next candidate is joined from it too
            joined_from = max(below, key=lambda w: len(w.cells))
            walked = self._joined(joined_from, frozen, unlisted)
            base: _Walked | None = joined_from
        else:
            base = self._last
            if kept:
                walked = self._rewalked(kept[0], frozen, unlisted)
            else:
                walked = self._walk_all(cells, unlisted)
        self._before, self._last = base, walked
        return walked

    def _walk_all(self, cells: frozenset[Key], unlisted: Collection[Key]) -> _Walked:
        """*cells*' walk from scratch."""
        parts = self._walk(cells, cells, tight_only=True)
        part_of = {c: part for part in parts for c in part}
        broken = {c for c in cells if self._broken(c, unlisted)}
        return _Walked(frozenset(cells), unlisted, parts, part_of, broken)

    def _rewalked(self, last: _Walked, cells: frozenset[Key], unlisted: Collection[Key]) -> _Walked:
        """*cells*' walk from *last*'s: the parts around the cells added or removed since
        walked again."""
        added, removed = cells - last.cells, last.cells - cells
        hit = {last.part_of[c] for c in removed}
        starts = added | {c for part in hit for c in part if c in cells}
        fresh = self._walk(starts, set(cells), tight_only=True)
        touched = hit | {last.part_of[c] for part in fresh for c in part if c in last.part_of}
        parts = [p for p in last.parts if p not in touched] + fresh
        part_of = dict(last.part_of)  # *last* is kept as it is (the walk before this one)
        for c in removed:
            del part_of[c]
        part_of.update((c, part) for part in fresh for c in part)
        broken = (last.broken - removed) | {c for c in added if self._broken(c, unlisted)}
        return _Walked(cells, unlisted, parts, part_of, broken)

    def _joined(self, below: _Walked, cells: frozenset[Key], unlisted: Collection[Key]) -> _Walked:
        """*cells*' walk from *below*'s, whose cells are a subset: each added cell joins the
        parts of the cells one row joins it to (the rows between two cells of *below* are
        the same, so its parts only merge)."""
        added = sorted(cells - below.cells)
        rows, of_cell, _ = self._index()
        index = (rows, of_cell, self._links())
        wanted = {c[0] for c in added}
        of_table: dict[str, list[Key]] = {}
        for cell in cells:
            if cell[0] in wanted:
                of_table.setdefault(cell[0], []).append(cell)
        edges = [
            (cell, other)
            for cell in added
            for other in _next_to(cell, cells, of_table, set(), index, tight_only=True)
            if other in cells and other != cell
        ]
        fresh, merged = _merged(added, edges, below.part_of)
        parts = [p for p in below.parts if id(p) not in merged] + fresh
        part_of = dict(below.part_of)
        part_of.update((c, part) for part in fresh for c in part)
        broken = below.broken | {c for c in added if self._broken(c, unlisted)}
        return _Walked(cells, unlisted, parts, part_of, broken)

    def _broken(self, cell: Key, unlisted: Collection[Key]) -> bool:
        """Whether the true counts are no solution around *cell* (:meth:`_parts`)."""
        return cell in self._off_truth() or self._least(cell, unlisted, 1.0) > self._counts.get(
            cell, 0
        )

    def _walk(
        self, starts: Collection[Key], cells: AbstractSet[Key], *, tight_only: bool
    ) -> list[frozenset[Key]]:
        """The parts of *cells* reached from *starts*: the cells of one equation, a cell
        and its table's total, a table's item categories and its total are in one part —
        with *tight_only*, the last two only where the inequality holds with equality at
        the true counts (a cell equal to its total; item categories that add up to it).

        With the true counts a solution, step 1 asks only the rows tight there
        (:func:`tight_around`), so a row strict there joins nothing: at realistic
        sparsity a hidden total no longer joins its table's cells into one part of the
        whole history."""
        rows, of_cell, _ = self._index()
        index = (rows, of_cell, self._links())
        of_table: dict[str, list[Key]] = {}
        for cell in cells:
            of_table.setdefault(cell[0], []).append(cell)
        done: set[object] = set()  # equations (their index) and tables' links walked
        placed: set[Key] = set()
        out: list[frozenset[Key]] = []
        for start in starts:
            if start in placed:
                continue
            placed.add(start)
            part = [start]
            walked = 0
            while walked < len(part):
                cell = part[walked]
                walked += 1
                for other in _next_to(cell, cells, of_table, done, index, tight_only=tight_only):
                    if other in cells and other not in placed:
                        placed.add(other)
                        part.append(other)
            out.append(frozenset(part))
        return out

    def _links(self) -> dict[str, _TableLinks]:
        """Per table, the inequalities tight at the true counts (:class:`_TableLinks`);
        built once."""
        if self._tight_links is None:
            _, _, tables = self._index()
            out: dict[str, _TableLinks] = {}
            for table, keys in tables.items():
                total = self._counts.get((table, *TOTAL))
                if total is None:
                    continue
                cells = [k for k in keys if k[1:] != TOTAL]
                items = tuple(k for k in cells if k[1] == ITEMS)
                listed = sum(self._counts.get(k, 0) for k in items)
                out[table] = _TableLinks(
                    equal=frozenset(k for k in cells if self._counts.get(k, 0) == total),
                    items=items,
                    items_tight=bool(items) and listed == total,
                    broken=any(self._counts.get(k, 0) > total for k in cells)
                    or (bool(items) and listed < total),
                )
            self._tight_links = out
        return self._tight_links

    def _off_truth(self) -> frozenset[Key]:
        """The cells of an equation the true counts break, and of a table whose counts
        break one of its inequalities (:class:`_TableLinks`): where the true counts are no
        solution whatever is unknown; built once."""
        if self._off is None:
            rows, _, tables = self._index()
            off = {
                cell
                for row in rows
                if sum(coef * self._counts.get(c, 0) for c, coef in row.items())
                for cell in row
            }
            for table, link in self._links().items():
                if link.broken:
                    off.update(tables.get(table, ()))
            self._off = frozenset(off)
        return self._off

    def _solve_together(
        self, parts: list[frozenset[Key]], unlisted: frozenset[Key], unknown: frozenset[Key]
    ) -> None:
        """Step 1 on every part not solved yet, as one linear programme (one call, however
        many small parts a round changed), its tight rows kept part by part: the kept
        programme (:mod:`dief.disclosure._kept_cone`) where the true counts are a solution
        around every cell of *unknown*, else one built over those parts.
        Where that programme has no solution, each part is left to :meth:`_tight_part`
        alone."""
        fresh = [
            (part, key)
            for part in parts
            if (key := self._key(part, unlisted, 1.0)) not in self._solved
        ]
        if fresh and self._kept_tight(fresh, unlisted, unknown):
            return
        if len(fresh) < 2:  # noqa: PLR2004  one part is solved on its own
            return
        cells = [c for part, _ in fresh for c in sorted(part)]
        tight = self._solve(cells, self._lower(cells, unlisted, 1.0))
        if tight is None:
            return
        for part, key in fresh:
            self._solved[key] = _Tight(
                tight.at_least & part,
                tuple(row for row in tight.extra if next(iter(row)) in part),
            )

    def _kept_tight(
        self,
        fresh: list[tuple[frozenset[Key], _PartKey]],
        unlisted: frozenset[Key],
        cells: frozenset[Key],
    ) -> bool:
        """Step 1 on the *fresh* parts from the kept programme, their tight rows kept part
        by part; whether it could be asked (no cell of *cells* where the true counts are no
        solution, and an optimum found)."""
        walked = self._last
        if walked is None or walked.broken:
            return False
        kept = self._kept_cone(unlisted)
        if kept is None or not kept.covers(cells):
            return False
        # only the rows of the fresh parts are read (a row's unknowns lie in one part)
        rows = kept.tight(cells, wanted=[c for part, _ in fresh for c in part])
        if rows is None:
            return False
        at_least: dict[frozenset[Key], set[Key]] = {}
        extra: dict[frozenset[Key], list[dict[Key, int]]] = {}
        for i in rows:
            cell = kept.row_cell(i)
            if cell is not None:
                at_least.setdefault(walked.part_of[cell], set()).add(cell)
            else:
                row = kept.row_over(i, cells)
                extra.setdefault(walked.part_of[next(iter(row))], []).append(row)
        for part, key in fresh:
            self._solved[key] = _Tight(
                frozenset(at_least.get(part, ())), tuple(extra.get(part, ()))
            )
        return True

    def _kept_cone(self, unlisted: frozenset[Key]) -> KeptCone | None:
        """The kept programme over every cell of the system where the true counts are a
        solution, for the *unlisted* collection of the first call (a search's own, asked
        every round); ``None`` for any other (a re-issue's wider one, now and then)."""
        if self._kept is None:
            _, of_cell, _ = self._index()
            named = {*self._counts, *of_cell}
            cells = sorted(c for c in named if not self._broken(c, unlisted))
            cone = self.cone(cells, unlisted) if cells else None
            self._kept = (unlisted, None if cone is None else KeptCone.build(cone))
        return self._kept[1] if self._kept[0] is unlisted else None

    def _key(self, part: frozenset[Key], unlisted: frozenset[Key], zero: float) -> _PartKey:
        """A part and what names its cells' least values: what its tight rows depend on,
        the system aside. A floor is the system's own, a listed cell of a count above 0
        is at least 1, and the part's cells of *unlisted* at least 0; the others (count
        0) at least *zero*. So the part, its cells of *unlisted* and *zero* (``None``
        where the part has no such cell) name its least values, and the same key means
        the same values. Kept per part while the same *unlisted* is asked about (a part
        no round changed is asked again every round; a part of thousands of cells is
        named by set operations, not by a loop over its cells)."""
        if unlisted is not self._keys_for:
            self._keys.clear()
            self._keys_for = unlisted
            self._special = unlisted.union(self._floors)
            self._at_one = frozenset(
                c for c, n in self._counts.items() if n > 0 and c not in self._special
            )
        memo = (part, zero)
        key = self._keys.get(memo)
        if key is None:
            at_zero = not (part - self._at_one).issubset(self._special)
            key = (part, zero if at_zero else None, part & unlisted)
            self._keys[memo] = key
        return key

    def _lower(
        self, cells: Sequence[Key], unlisted: Collection[Key], zero: float
    ) -> tuple[float, ...]:
        """*cells*' least values, in order."""
        return tuple(self._least(c, unlisted, zero) for c in cells)

    def _tight_part(self, part: frozenset[Key], unlisted: frozenset[Key]) -> _Tight:
        """Step 1 on one part (solved once per unknowns and least values)."""
        tight: _Tight | None = None
        for zero in (1.0, 0.0):
            key = self._key(part, unlisted, zero)
            if key not in self._solved:
                cells = sorted(part)
                self._solved[key] = self._solve(cells, self._lower(cells, unlisted, zero))
            tight = self._solved[key]
            if tight is not None or not any(self._counts.get(c, 0) <= 0 for c in part):
                break
        # no solution either way: every row counts as tight, and the caller protects more
        return tight if tight is not None else _Tight(part, ())

    def _least(self, cell: Key, unlisted: Collection[Key], zero: float) -> float:
        if cell in self._floors:
            return float(self._floors[cell])
        if cell in unlisted:
            return 0.0
        return 1.0 if self._counts.get(cell, 0) > 0 else zero

    def cone(self, cells: Sequence[Key], unlisted: Collection[Key]) -> Cone | None:
        """Step 1's programme around the true counts over the unknown *cells* (their least
        values as :meth:`pinned` takes them), or ``None`` where the true counts are no
        solution there (:class:`Cone`)."""
        lower = tuple(self._least(c, unlisted, 1.0) for c in cells)
        return self._cone(list(cells), lower)

    def _cone(self, cells: list[Key], lower: tuple[float, ...]) -> Cone | None:
        return self._around(cells, lower)[3]

    def _around(
        self, cells: list[Key], lower: tuple[float, ...]
    ) -> tuple[dict[Key, int], _Rows, list[float], Cone | None]:
        """Over *cells*: the column index, the equations, the true counts, and the
        :class:`Cone` where the true counts are a solution (else ``None``: the homogenised
        programme's case)."""
        rows, of_cell, _ = self._index()
        index = {cell: i for i, cell in enumerate(cells)}
        wanted = sorted({i for c in cells for i in of_cell.get(c, ())})
        eq = equations_rows([rows[i] for i in wanted], index, self._counts)
        truth = [float(self._counts.get(c, 0)) for c in cells]
        parts_tables = {c[0] for c in cells}
        if not (
            all(low <= t for low, t in zip(lower, truth, strict=True))
            and not any(self._links().get(t, _NO_LINKS).broken for t in parts_tables)
            and satisfies(eq, truth)
        ):
            return index, eq, truth, None
        # the true counts are a solution: a row strict there is no implicit equality, so
        # only the rows tight there are built and asked
        ub_rows, ub_cells = self._tight_rows(cells, index, lower, truth, parts_tables)
        return index, eq, truth, Cone(tuple(cells), eq[0], ub_rows, tuple(ub_cells))

    def _solve(self, cells: list[Key], lower: tuple[float, ...]) -> _Tight | None:
        """The tight rows of one part (``None``: no solution)."""
        index, eq, truth, cone = self._around(cells, lower)
        tight: set[int] | None
        if cone is not None:
            ub_rows, ub_cells = cone.rows, list(cone.row_cells)
            tight = tight_around(cone.equations, ub_rows, len(cells), ())
        else:
            tables = self._index()[2]
            own = {
                key: self._counts[key] for t in {c[0] for c in cells} for key in tables.get(t, ())
            }
            ub_rows, ub_rhs, ub_cells = inequalities(index, own, lower)
            tight = tight_anyway(eq, (ub_rows, ub_rhs), truth)
        if tight is None:
            return None
        at_least = frozenset(c for i in tight if (c := ub_cells[i]) is not None)
        extra = tuple(
            {cells[col]: int(value) for col, value in ub_rows[i].items()}
            for i in sorted(tight)
            if ub_cells[i] is None
        )
        return _Tight(at_least, extra)

    def _tight_rows(
        self,
        cells: list[Key],
        index: Mapping[Key, int],
        lower: Sequence[float],
        truth: Sequence[float],
        tables: Collection[str],
    ) -> tuple[list[dict[int, float]], list[Key | None]]:
        """The inequality rows (:func:`inequalities`) that hold with equality at the true
        counts, over the part's *cells*: a least value equal to the count, a cell equal to
        its total, item categories adding up to exactly it. Returns the rows and, for a
        least-value row, its cell (else ``None``)."""
        rows: list[dict[int, float]] = []
        of: list[Key | None] = []
        for j, (low, value) in enumerate(zip(lower, truth, strict=True)):
            if value <= low:
                rows.append({j: -1.0})
                of.append(cells[j])
        links = self._links()
        for table in sorted(tables):
            link = links.get(table)
            if link is None:
                continue
            total = (table, *TOTAL)
            terms: list[dict[Key, int]] = [{key: 1, total: -1} for key in sorted(link.equal)]
            if link.items_tight:
                terms.append({**dict.fromkeys(link.items, -1), total: 1})
            for term in terms:
                row, _ = side(term, index, self._counts)
                if row:
                    rows.append(row)
                    of.append(None)
        return rows, of


def _merged(
    added: Sequence[Key],
    edges: Sequence[tuple[Key, Key]],
    part_of: Mapping[Key, frozenset[Key]],
) -> tuple[list[frozenset[Key]], set[int]]:
    """The parts the *added* cells make with the parts of *part_of* (an earlier walk's) that
    *edges* (an added cell, a cell one row joins it to) join them to; and the ids of the
    earlier parts merged into them (union-find: the added cells, then the parts met)."""
    node = {cell: i for i, cell in enumerate(added)}
    met: dict[int, frozenset[Key]] = {}  # node → the earlier part
    part_node: dict[int, int] = {}  # id of an earlier part → its node
    parent = list(range(len(added)))

    def root(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    for cell, other in edges:
        j = node.get(other)
        if j is None:
            part = part_of[other]
            j = part_node.get(id(part))
            if j is None:
                j = part_node[id(part)] = len(parent)
                parent.append(j)
                met[j] = part
        a, b = root(node[cell]), root(j)
        if a != b:
            parent[b] = a
    groups: dict[int, set[Key]] = {}
    for cell, i in node.items():
        groups.setdefault(root(i), set()).add(cell)
    for j, part in met.items():
        groups[root(j)].update(part)
    return [frozenset(group) for group in groups.values()], set(part_node)


def _next_to(  # noqa: PLR0913  the walk's state, passed by BoundSystem._walk alone
    cell: Key,
    cells: AbstractSet[Key],
    of_table: Mapping[str, list[Key]],
    done: set[object],
    index: tuple[list[Mapping[Key, int]], dict[Key, list[int]], dict[str, _TableLinks]],
    *,
    tight_only: bool,
) -> list[Key]:
    """The cells one row joins to *cell* (:meth:`BoundSystem._walk`), the rows in *done* aside
    (and added to it)."""
    rows, of_cell, links = index
    mine = of_cell.get(cell, ())
    near = [o for i in mine if i not in done for o in rows[i]]
    done.update(mine)
    table = cell[0]
    total = (table, *TOTAL)
    link = links.get(table, _NO_LINKS)
    items = cell[1] == ITEMS and (link.items_tight or not tight_only)
    if total in cells and (not tight_only or cell in link.equal or items):
        near.append(total)
    if cell == total and (table, False) not in done:
        done.add((table, False))
        near.extend(
            c
            for c in of_table[table]
            if not tight_only or c in link.equal or (c[1] == ITEMS and link.items_tight)
        )
    if items and (table, True) not in done:
        done.add((table, True))
        near.extend(c for c in of_table[table] if c[1] == ITEMS)
    return near
