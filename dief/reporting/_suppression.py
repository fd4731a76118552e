"""Primary and secondary cell suppression for published tables (DESIGN §7 disclosure control).

The tables of a CSP summary are linked by additive constraints, each a :class:`Group`: a
*marginal* cell equals the sum of its *members*.

- within one table (a region, or the global table), every single-valued dimension's values
  sum to the table total;
- across regions, a global cell is the sum of the regions' cells of the same value, and the
  global total the sum of the regional totals.

Cells with a zero count are not cells (they are not listed, and known to be zero). Every
listed cell has a count of at least one, which a reader knows too.

:func:`protect` starts from the primary suppressions and adds secondary ones until

1. no group has exactly one suppressed cell (it would be the marginal minus the rest);
2. no group with a published marginal has suppressed members that are all forced to one
   (their remainder equals their number, and every listed cell is at least one);
3. no suppressed cell is determined by the linear system of all groups together (checked
   exactly, with rational Gaussian elimination over the suppressed cells).

When a group needs another suppression, the smallest published member is taken (by count,
then a fixed order), and the marginal only when no member is left. This does not defend
against every bound (linear-programming) attack across several groups; it guarantees that
no suppressed value can be computed exactly from the published ones.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from fractions import Fraction

from dief.exceptions import DiefError

__all__ = ["Group", "Key", "Protection", "SortKey", "determined_cells", "protect"]

#: (table, dimension, value): a region code or ``"_global"``; totals are ("_total", "_all").
Key = tuple[str, str, str]
#: a deterministic tie-break between cells of equal count
SortKey = tuple[int, int, str]
_BySize = Callable[[Key], tuple[int, SortKey]]


@dataclass(frozen=True, slots=True)
class Group:
    """An additive constraint: ``marginal`` = sum of ``members``."""

    marginal: Key
    members: tuple[Key, ...]

    @property
    def cells(self) -> tuple[Key, ...]:
        return (self.marginal, *self.members)


@dataclass(frozen=True, slots=True)
class Protection:
    """Which cells are suppressed, and why."""

    primary: frozenset[Key]
    suppressed: frozenset[Key]
    rounds: int = field(default=0, compare=False)

    @property
    def secondary(self) -> frozenset[Key]:
        return self.suppressed - self.primary


def _fix(group: Group, hidden: set[Key], counts: Mapping[Key, int], order: _BySize) -> Key | None:
    """The cell to suppress next so that *group* leaks nothing, or ``None`` if it is safe."""
    hidden_cells = [c for c in group.cells if c in hidden]
    if not hidden_cells:
        return None
    free = sorted((c for c in group.members if c not in hidden), key=order)
    marginal_free = group.marginal not in hidden
    if len(hidden_cells) == 1:
        if free:
            return free[0]
        return group.marginal if marginal_free else None
    if marginal_free:
        hidden_members = [c for c in group.members if c in hidden]
        if sum(counts[c] for c in hidden_members) <= len(hidden_members):
            bigger = [c for c in free if counts[c] >= 2]
            return bigger[0] if bigger else group.marginal
    return None


def _rref(rows: Iterable[Mapping[int, int]]) -> dict[int, dict[int, Fraction]]:
    """Reduced row echelon form of sparse rows: pivot column → fully reduced row."""
    pivots: dict[int, dict[int, Fraction]] = {}
    for raw in rows:
        row = {col: Fraction(v) for col, v in raw.items() if v}
        for col in [c for c in row if c in pivots]:
            factor = row.get(col)
            if not factor:
                continue
            for pcol, pval in pivots[col].items():
                value = row.get(pcol, Fraction(0)) - factor * pval
                if value:
                    row[pcol] = value
                else:
                    row.pop(pcol, None)
        if not row:
            continue
        lead = min(row)
        scale = row[lead]
        row = {col: v / scale for col, v in row.items()}
        for other in pivots.values():
            factor = other.get(lead)
            if not factor:
                continue
            for col, v in row.items():
                value = other.get(col, Fraction(0)) - factor * v
                if value:
                    other[col] = value
                else:
                    other.pop(col, None)
        pivots[lead] = row
    return pivots


def determined_cells(hidden: Iterable[Key], groups: Sequence[Group]) -> set[Key]:
    """Suppressed cells whose value follows exactly from the published cells and *groups*.

    A suppressed cell is determined iff its unit vector lies in the row space of the
    groups' equations restricted to the suppressed cells, i.e. iff its pivot row in the
    reduced row echelon form has no other entry.
    """
    unknowns = sorted(set(hidden))
    index = {key: i for i, key in enumerate(unknowns)}
    rows: list[dict[int, int]] = []
    for group in groups:
        row: dict[int, int] = {}
        for member in group.members:
            if member in index:
                row[index[member]] = row.get(index[member], 0) + 1
        if group.marginal in index:
            row[index[group.marginal]] = row.get(index[group.marginal], 0) - 1
        if row:
            rows.append(row)
    pivots = _rref(rows)
    return {unknowns[col] for col, row in pivots.items() if len(row) == 1}


def protect(
    counts: Mapping[Key, int],
    primary: Iterable[Key],
    groups: Sequence[Group],
    *,
    order: Callable[[Key], SortKey] | None = None,
) -> Protection:
    """Secondary suppression to a fixed point (see the module docstring).

    *counts* holds every listed cell (count ≥ 1); *groups* must only name such cells.
    *order* breaks ties between equally small cells (default: the key itself).
    """

    def rank(key: Key) -> SortKey:
        return order(key) if order is not None else (0, 0, "\x1f".join(key))

    def by_size(key: Key) -> tuple[int, SortKey]:
        return (counts[key], rank(key))

    live = [g for g in groups if g.members]
    for group in live:
        for cell in group.cells:
            if cell not in counts:
                raise DiefError(f"suppression group names an unknown cell {cell!r}")
    first = frozenset(primary)
    hidden = set(first)
    rounds = 0
    while True:
        rounds += 1
        changed = True
        while changed:
            changed = False
            for group in live:
                pick = _fix(group, hidden, counts, by_size)
                if pick is not None:
                    hidden.add(pick)
                    changed = True
        leaks = sorted(determined_cells(hidden, live), key=by_size)
        if not leaks:
            return Protection(primary=first, suppressed=frozenset(hidden), rounds=rounds)
        pick = _widen(leaks[0], hidden, live, by_size)
        if pick is None:
            raise DiefError("secondary suppression cannot protect a cell; this is a bug")
        hidden.add(pick)


def _widen(leak: Key, hidden: set[Key], groups: Sequence[Group], by_size: _BySize) -> Key | None:
    """A published cell to suppress so that *leak* may stop being determined.

    The smallest published member of a group holding *leak*, else such a marginal; when
    every cell of those groups is suppressed already, the same one step further out,
    through the suppressed cells (the leak is then determined by a chain of groups).
    """
    visited = {leak}
    frontier = [leak]
    while frontier:
        members: set[Key] = set()
        marginals: set[Key] = set()
        reached: list[Key] = []
        for group in groups:
            if not any(cell in group.cells for cell in frontier):
                continue
            members.update(c for c in group.members if c not in hidden)
            if group.marginal not in hidden:
                marginals.add(group.marginal)
            for cell in group.cells:
                if cell in hidden and cell not in visited:
                    visited.add(cell)
                    reached.append(cell)
        if members:
            return min(members, key=by_size)
        if marginals:
            return min(marginals, key=by_size)
        frontier = reached
    return None
