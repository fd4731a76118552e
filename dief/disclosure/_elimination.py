"""Exact elimination over the suppressed cells: which of them the published ones determine.

The additive groups give one equation each (``marginal - sum(members) = 0``). With the
published cells as constants, a suppressed cell is *determined* iff its unit vector lies in
the row space of the equations restricted to the suppressed cells, i.e. iff its row of the
reduced row echelon form has no other suppressed entry.

Everything is exact and in integers (fraction-free: a row is scaled instead of divided and
kept primitive by its gcd), which is several times faster than :class:`fractions.Fraction`
and just as exact.

- :func:`rref` — the reduced echelon form of a set of rows, from scratch.
- :func:`project` — the relations that rows give between some columns alone (the others
  eliminated one by one, fewest rows first), without reducing anything else.
- :class:`Elimination` — the same, kept up to date while cells are suppressed one by one
  (the secondary-suppression loop adds one cell at a time: re-eliminating everything each
  time made that loop quadratic). Every row carries the published columns too, so that a
  cell joining the suppressed ones already has its coefficients in every reduced row: one
  pivot step per new cell. And back: a cell published again is a constant after one pivot
  step too (:meth:`Elimination.forget`).
"""

from __future__ import annotations

import heapq
from collections.abc import Collection, Hashable, Iterable, Mapping, Sequence
from math import gcd
from typing import Generic, TypeVar

__all__ = ["Elimination", "Row", "project", "rref"]

#: a sparse integer row: column → nonzero coefficient
Row = dict[int, int]

K = TypeVar("K", bound=Hashable)


def _primitive(row: Row) -> Row:
    """*row* divided by the gcd of its entries (a fixed sign is not needed)."""
    g = 0
    for value in row.values():
        g = gcd(g, value)
        if g == 1:
            return row
    if g > 1:
        return {col: v // g for col, v in row.items()}
    return row


def _eliminate(row: Row, col: int, pivot: Row) -> Row:
    """*row* with its entry at *col* cleared by the pivot row (whose entry there is nonzero)."""
    factor = row.get(col)
    if not factor:
        return row
    scale = pivot[col]
    common = gcd(scale, factor)  # divided out first: the primitive result is the same
    if common != 1:
        scale, factor = scale // common, factor // common
    out: Row = {c: v * scale for c, v in row.items()} if scale != 1 else row.copy()
    for c, v in pivot.items():
        value = out.get(c, 0) - factor * v
        if value:
            out[c] = value
        else:
            out.pop(c, None)
    return _primitive(out)


def rref(rows: Iterable[Mapping[int, int]]) -> dict[int, Row]:
    """Reduced row echelon form of sparse integer rows: pivot column → its reduced row
    (nonzero at the pivot, zero at every other pivot column)."""
    pivots: dict[int, Row] = {}
    # column → the pivots whose rows have an entry there (a new pivot reduces only those,
    # not a scan of every pivot: a region's 15,000 unknowns took seconds; issue #15, cost)
    holders: dict[int, set[int]] = {}
    for raw in rows:
        row: Row = {col: v for col, v in raw.items() if v}
        for col in [c for c in row if c in pivots]:
            row = _eliminate(row, col, pivots[col])
        if not row:
            continue
        row = _primitive(row)
        lead = min(row)
        for other_col in list(holders.get(lead, ())):
            old = pivots[other_col]
            new = _eliminate(old, lead, row)
            for col in old.keys() - new.keys():
                holders[col].discard(other_col)
            for col in new:
                holders.setdefault(col, set()).add(other_col)
            pivots[other_col] = new
        pivots[lead] = row
        for col in row:
            holders.setdefault(col, set()).add(lead)
    return pivots


class _Rows:
    """Sparse rows by index, with the rows nonzero in each column (:func:`project`)."""

    def __init__(self, rows: Iterable[Mapping[int, int]]) -> None:
        self.live: dict[int, Row] = {}
        self.where: dict[int, set[int]] = {}
        for raw in rows:
            row: Row = {col: v for col, v in raw.items() if v}
            if row:
                index = len(self.live)
                self.live[index] = row
                for col in row:
                    self.where.setdefault(col, set()).add(index)

    def holders(self, col: int) -> set[int]:
        return self.where.get(col, set())

    def _put(self, index: int, new: Row, old: Row) -> None:
        for col in old.keys() - new.keys():
            self.where[col].discard(index)
        for col in new.keys() - old.keys():
            self.where.setdefault(col, set()).add(index)
        if new:
            self.live[index] = new
        else:
            self.live.pop(index, None)

    def eliminate(self, col: int) -> Row:
        """Clear *col* from every row by one of them (the shortest), which leaves; returns
        it."""
        holders = self.holders(col)
        chosen = min(holders, key=lambda i: (len(self.live[i]), i))
        pivot = self.live[chosen]
        self._put(chosen, {}, pivot)
        for index in sorted(holders):
            old = self.live[index]
            self._put(index, _eliminate(old, col, pivot), old)
        return pivot


def _peeled(rows: Sequence[Row], gone: Collection[int]) -> list[Row]:
    """*rows* (nonzero entries only) without those that :func:`project` would drop at
    once: a row with a column of *gone* that no other row holds only says what that column
    is, and leaves, which may leave another column of *gone* in one row (peeled in turn).
    The rows left span the same relations between the other columns."""
    live = rows
    holders: dict[int, list[int]] = {}
    for index, row in enumerate(live):
        for col in row:
            if col in gone:
                holders.setdefault(col, []).append(index)
    count = {col: len(at) for col, at in holders.items()}
    dropped: set[int] = set()
    single = [col for col, n in count.items() if n == 1]
    while single:
        col = single.pop()
        if count[col] != 1:
            continue
        index = next(i for i in holders[col] if i not in dropped)
        dropped.add(index)
        for other in live[index]:
            if other in count:
                count[other] -= 1
                if count[other] == 1:
                    single.append(other)
    return [row for i, row in enumerate(live) if i not in dropped]


def project(rows: Iterable[Mapping[int, int]], eliminate: Collection[int]) -> list[Row]:
    """Rows spanning the relations *rows* give between the columns not in *eliminate*: the
    row space of *rows* intersected with those columns' span (neither reduced nor
    independent: :func:`rref` of them is the projection's reduced form).

    Each column of *eliminate* goes in turn, the one in fewest rows first (a sparse
    system's minimum-degree order: a column in one row takes that row with it, one in two
    merges them): a row holding it is the pivot, the column is cleared from every other row
    holding it, and the pivot leaves (it says only what the eliminated column is). The
    rows left name no eliminated column and span the relations between the others; unlike
    a reduced echelon form of everything with the kept columns last, no pivot row is ever
    reduced again (issue #15: a region's 12,000 linked unknowns, about 0.6 s → 0.15 s).

    The columns in one row go first, before any bookkeeping (:func:`_peeled`): at 3,000
    cases over 10 years, 14,288 of a region's linked equations left 4,223 that way, and the
    projection took 0.40 s → 0.32 s."""
    gone = set(eliminate)
    given = [row for row in ({c: v for c, v in raw.items() if v} for raw in rows) if row]
    system = _Rows(_peeled(given, gone))
    heap = [(len(system.holders(col)), col) for col in gone]
    heapq.heapify(heap)
    done: set[int] = set()
    while heap:
        degree, col = heapq.heappop(heap)
        if col in done:
            continue
        now = len(system.holders(col))
        if now != degree:
            heapq.heappush(heap, (now, col))  # its rows changed since it was queued
            continue
        done.add(col)
        if now:
            pivot = system.eliminate(col)
            for other in pivot:
                if other in gone and other not in done:
                    heapq.heappush(heap, (len(system.holders(other)), other))
    return [system.live[i] for i in sorted(system.live)]


class Elimination(Generic[K]):
    """The reduced echelon form over a set of unknown cells.

    Built over every cell the *equations* name; :meth:`add` makes a cell unknown,
    :meth:`forget` a constant again (a cell the pruning publishes:
    :mod:`dief.disclosure._prune`), and :meth:`determined_without` says beforehand what
    that would determine. Invariants: a pivot row is nonzero at its pivot column, and every
    other row is zero there; a row that is no pivot row is zero at every unknown column.
    """

    def __init__(self, equations: Iterable[Mapping[K, int]]) -> None:
        self._col: dict[K, int] = {}
        self._key: list[K] = []
        self._rows: dict[int, Row] = {}
        self._where: dict[int, set[int]] = {}  # column → rows nonzero there
        self._pivot_of: dict[int, int] = {}  # pivot column → its row
        self._pivot_rows: set[int] = set()
        self._pivot_col: dict[int, int] = {}  # pivot row → its column
        self._unknown: set[int] = set()
        self._hcount: dict[int, int] = {}  # row → entries at unknown columns
        self._single: set[int] = set()  # the rows with one entry at an unknown column
        for equation in equations:
            row = self._row(equation)
            if row:
                self._set(len(self._rows), row)

    def _row(self, equation: Mapping[K, int]) -> Row:
        """*equation* over columns (a cell named the first time gets one)."""
        row: Row = {}
        for key, value in equation.items():
            if value:
                col = self._column(key)
                row[col] = row.get(col, 0) + value
        return {c: v for c, v in row.items() if v}

    def _column(self, key: K) -> int:
        col = self._col.get(key)
        if col is None:
            col = len(self._key)
            self._col[key] = col
            self._key.append(key)
        return col

    def _set(self, index: int, row: Row) -> None:
        where = self._where
        old = self._rows.get(index)
        if old is None:
            added: Iterable[int] = row
        else:
            for col in old.keys() - row.keys():
                where[col].discard(index)
            added = row.keys() - old.keys()
        for col in added:
            holders = where.get(col)
            if holders is None:
                where[col] = {index}
            else:
                holders.add(index)
        self._rows[index] = row
        self._count(index, len(self._unknown.intersection(row)))

    def _count(self, index: int, unknowns: int) -> None:
        """Set row *index*'s number of entries at unknown columns (and whether it is one)."""
        self._hcount[index] = unknowns
        if unknowns == 1:
            self._single.add(index)
        else:
            self._single.discard(index)

    def _pivot(self, col: int, index: int) -> None:
        self._pivot_of[col] = index
        self._pivot_col[index] = col
        self._pivot_rows.add(index)

    def __contains__(self, key: object) -> bool:
        col = self._col.get(key)  # type: ignore[arg-type]
        return col is not None and col in self._unknown

    def names(self, key: K) -> bool:
        """Whether an equation names *key* (else it is no unknown, whatever is added).
        With :meth:`unknowns`, what a caller that passes these equations as another
        system's (check 4's ``reduced=``) checks them against, as the tests do."""
        return key in self._col

    def unknowns(self) -> set[K]:
        """The unknowns (the cells added, but those forgotten, that an equation names)."""
        return {self._key[col] for col in self._unknown}

    def add(self, key: K) -> None:
        """Make *key* an unknown (a no-op if it already is one, or no equation names it)."""
        col = self._col.get(key)
        if col is None or col in self._unknown:
            return
        self._unknown.add(col)
        touched = sorted(self._where.get(col, ()))
        for index in touched:
            self._count(index, self._hcount[index] + 1)
        free = [i for i in touched if i not in self._pivot_rows]
        if not free:
            return  # a free column: the pivot rows may name it, nothing else changes
        chosen = min(free, key=lambda i: (len(self._rows[i]), i))
        pivot = self._rows[chosen]
        for index in touched:
            if index != chosen:
                self._set(index, _eliminate(self._rows[index], col, pivot))
        self._pivot(col, chosen)

    def forget(self, key: K) -> None:
        """Make *key* a constant again (a no-op if it is no unknown): the rows naming it
        lose an unknown entry, and its own row, if it was its pivot, pivots on another
        unknown entry (every other row reduced by it), else becomes a row of constants."""
        col = self._col.get(key)
        if col is None or col not in self._unknown:
            return
        self._unknown.discard(col)
        for index in self._where.get(col, ()):
            self._count(index, self._hcount[index] - 1)
        own = self._pivot_of.pop(col, None)
        if own is None:
            return
        self._pivot_rows.discard(own)
        del self._pivot_col[own]
        rest = self._unknown_entries(own, col)
        if not rest:
            return
        f = min(rest)
        pivot = self._rows[own]
        for index in sorted(self._where.get(f, ())):
            if index != own:
                self._set(index, _eliminate(self._rows[index], f, pivot))
        self._pivot(f, own)

    def clone(self) -> Elimination[K]:
        """An independent copy of the state (rows are replaced, never changed in place, so
        they are shared)."""
        other: Elimination[K] = Elimination(())
        other._col = dict(self._col)
        other._key = list(self._key)
        other._rows = dict(self._rows)
        other._where = {col: set(rows) for col, rows in self._where.items()}
        other._pivot_of = dict(self._pivot_of)
        other._pivot_rows = set(self._pivot_rows)
        other._pivot_col = dict(self._pivot_col)
        other._unknown = set(self._unknown)
        other._hcount = dict(self._hcount)
        other._single = set(self._single)
        return other

    def constrain(self, equation: Mapping[K, int]) -> None:
        """Add *equation* (a cell no equation named yet gets a column, a constant until
        :meth:`add`): reduced by the pivot rows, it pivots on an unknown entry left (every
        other row reduced by it), else is a row of constants."""
        row = self._row(equation)
        for col in [c for c in row if c in self._pivot_of]:
            row = _eliminate(row, col, self._rows[self._pivot_of[col]])
        if not row:
            return
        index = len(self._rows)  # rows are numbered 0, 1, ... and never dropped
        self._set(index, row)
        rest = [c for c in row if c in self._unknown]
        if not rest:
            return
        f = min(rest)
        for other in sorted(self._where.get(f, ())):
            if other != index:
                self._set(other, _eliminate(self._rows[other], f, row))
        self._pivot(f, index)

    def sources(self, key: K) -> list[tuple[K, bool]]:
        """The cells, not unknown, that the determined *key* is computed from (empty if it
        is not determined), each with whether making it unknown alone would make *key*
        undetermined.

        *key*'s pivot row is nonzero at *key* alone among the unknowns, so *key* follows
        from the cells at its other entries. Making one of them, ``c``, unknown leaves
        *key* determined iff some other row combination still isolates it: iff a row that
        is no pivot row (zero at every unknown) is nonzero at ``c`` too.
        """
        col = self._col.get(key)
        if col is None or col not in self._pivot_of:
            return []
        index = self._pivot_of[col]
        if self._hcount[index] != 1:
            return []
        return [
            (self._key[other], all(i in self._pivot_rows for i in self._where[other]))
            for other in self._rows[index]
            if other != col and other not in self._unknown
        ]

    def determined(self) -> set[K]:
        """The unknowns whose value follows from the equations and the other columns."""
        return {self._key[self._pivot_col[i]] for i in self._single if i in self._pivot_col}

    def determined_without(self, key: K) -> set[K]:
        """The unknowns (but *key*) that become determined once *key* is a constant; the
        state is left as it is.

        With *key* a free column, a row naming it loses one unknown entry: a pivot row left
        with its pivot alone is determined. With *key* a pivot, its row (zero at every other
        pivot) over its remaining unknown entries pivots on one of them, ``f``: ``f`` is
        determined if it is the only one, and a row naming ``f`` reduced by it may be left
        with its pivot alone."""
        col = self._col.get(key)
        if col is None or col not in self._unknown:
            return set()
        pivot_col = self._pivot_col
        out: set[K] = set()
        own = self._pivot_of.get(col)
        if own is None:
            for index in self._where.get(col, ()):
                if index in pivot_col and self._hcount[index] == 2:  # noqa: PLR2004  its pivot and key
                    out.add(self._key[pivot_col[index]])
            return out
        rest = self._unknown_entries(own, col)
        if not rest:
            return out
        f = min(rest)
        if len(rest) == 1:
            out.add(self._key[f])
        pivot = self._rows[own]
        for index in self._where.get(f, ()):
            if index == own or index not in pivot_col:
                continue
            row = _eliminate(self._rows[index], f, pivot)
            if sum(1 for c in row if c in self._unknown and c != col) == 1:
                out.add(self._key[pivot_col[index]])
        return out

    def determined_with(
        self,
        constants: Collection[K],
        equations: Iterable[Mapping[K, int]],
        among: Collection[K],
    ) -> set[K]:
        """The unknowns of *among* (but *constants*) that are determined once the unknowns
        *constants* are constants too and *equations* hold as well; the state is left as
        it is (check 4's last step, :mod:`dief.disclosure._bounds`: its implicit
        equalities, read against the search's reduced equations instead of a fresh
        elimination of a region's history). A cell these equations do not name is taken
        as an unknown that no equation names (a cell they name as a constant is one), so
        *equations* and *constants* must name unknowns only: a published cell named there
        and by no equation would count as unknown, and fewer cells would be found (check
        4's rows name the part's unknowns alone, their constants on the right-hand
        side).

        Every unknown is an affine function of the free unknowns (a pivot row
        ``a x_p + sum(b_f x_f) + constants = 0``: its vector over them is ``-b / a``; a
        free unknown's is its unit vector). The new equations say their vectors'
        combinations are constant: a row space ``N`` over the free unknowns, and an
        unknown is determined iff its vector is in ``N`` (a vector with an entry where no
        row of ``N`` has one is not: that entry is never cleared). So only the unknowns
        whose vectors have an entry in ``N``'s columns, or none at all, are read
        (:meth:`_reachable`), not every cell of *among*."""
        outside: dict[K, int] = {}  # cells no equation names: free columns of their own
        fixed = set(constants)
        rows = [self._combined({key: 1}, outside) for key in fixed]
        rows.extend(self._combined(equation, outside) for equation in equations)
        pivots = rref(r for r in rows if r)
        support = {col for row in pivots.values() for col in row}
        out: set[K] = set()
        for key in self._reachable(support, outside):
            if key not in among or key in fixed or (key in self._col and key not in self):
                continue
            if not self._within(key, support, outside):
                continue  # an entry no row of N has: never cleared (the vector not built)
            vector = self._combined({key: 1}, outside)
            for col in [c for c in vector if c in pivots]:
                vector = _eliminate(vector, col, pivots[col])
            if not vector:
                out.add(key)
        return out

    def _reachable(self, support: Collection[int], outside: Mapping[K, int]) -> set[K]:
        """The cells whose vector over the free unknowns (:meth:`_combined`) has an entry
        in *support* (a free unknown there, a pivot whose row names one, a cell of
        *outside* whose own column is there), or no entry at all (a pivot alone among the
        unknowns of its row): every cell :meth:`determined_with` can find."""
        found: set[K] = {key for key, own in outside.items() if own in support}
        pivot_col, key_of = self._pivot_col, self._key
        for col in support:
            if col < 0:
                continue  # a column of *outside*
            found.add(key_of[col])
            for index in self._where.get(col, ()):
                pivot = pivot_col.get(index)
                if pivot is not None:
                    found.add(key_of[pivot])
        found.update(key_of[pivot_col[i]] for i in self._single if i in pivot_col)
        return found

    def _within(self, key: K, support: Collection[int], outside: Mapping[K, int]) -> bool:
        """Whether every entry of *key*'s vector over the free unknowns (:meth:`_combined`)
        is a column of *support* (a pivot's vector has its row's free unknowns' columns)."""
        col = self._col.get(key)
        if col is None:
            own = outside.get(key)
            return own is not None and own in support
        index = self._pivot_of.get(col)
        if index is None:
            return col in support
        unknown = self._unknown
        return all(c in support for c in self._rows[index] if c != col and c in unknown)

    def _combined(self, equation: Mapping[K, int], outside: dict[K, int]) -> Row:
        """*equation*'s vector over the free unknowns (see :meth:`determined_with`): each
        unknown's vector times its coefficient, summed, scaled to integers (a constant's
        term is dropped; a cell the equations do not name gets a column of its own in
        *outside*, below 0)."""
        terms: list[tuple[int, int, Row]] = []  # (numerator, denominator, vector)
        for key, coef in equation.items():
            col = self._col.get(key)
            if not coef or (col is not None and col not in self._unknown):
                continue
            if col is None:
                own = outside.setdefault(key, -1 - len(outside))
                terms.append((coef, 1, {own: 1}))
            elif (index := self._pivot_of.get(col)) is None:
                terms.append((coef, 1, {col: 1}))
            else:
                row = self._rows[index]
                free = {c: v for c, v in row.items() if c != col and c in self._unknown}
                terms.append((-coef, row[col], free))
        scale = 1
        for _, den, _ in terms:
            scale = scale * abs(den) // gcd(scale, abs(den))
        out: Row = {}
        for num, den, vector in terms:
            factor = num * (scale // den)
            for c, v in vector.items():
                value = out.get(c, 0) + factor * v
                if value:
                    out[c] = value
                else:
                    out.pop(c, None)
        return _primitive(out) if out else out

    def _unknown_entries(self, index: int, but: int) -> list[int]:
        return [c for c in self._rows[index] if c in self._unknown and c != but]
