"""One protected system: a region's digests, its rows of the CSP summaries, and the TLP:RED
part between them (DESIGN §7, "One system, not two").

A meeting member holds its region's digests (TLP:RED counted, ``k_meeting``) and the public
CSP summaries (TLP:RED excluded, ``k_csp``). For a cycle ``c`` they are linked, cell by
cell, through the red part a reader does not see::

    digest cell (c, d, v)  =  summary row cell (S c, d, v)  +  red cell (R c, d, v)

so the region's pattern (:func:`~dief.disclosure.digest_pattern` with ``rows``) protects the
three together, with these tables and cells added to the digests':

- ``S<cycle>`` (:func:`row_table`): the region's row of the cycle's summary, its cells
  counted without TLP:RED cases, primary below ``k_csp``; its single-valued dimensions sum
  to its total like any table's;
- ``R<cycle>`` (:func:`red_table`): the red part of every cell of the cycle digest. Never
  published, listed nowhere (least value 0). In a cycle with fewer than ``k_csp`` red
  cases (they may all be one State's: the store does not count red-only contributors), a
  red cell with a case is *sensitive*: no combination may determine it, since it would
  give away the profile of a State's TLP:RED case. Other red cells are *free* unknowns,
  the red total (the number of red cases) among them: a reader computes it where the
  digest total and the summary total are both published, and nowhere else. (Until #15's
  sixth session it was taken as known in every check; where the pattern had to hide the
  digest's total, that made a check count a number no reader has, and on one history
  (``test_secretariat``, seed 5) left a listed cell pinned with no cell to hide.) A cycle
  without red cases has no red cells: its digest cells equal its summary cells.
- A summary row cell hidden only for ``k_csp`` whose contributors reach ``k_meeting`` is
  *free*: the region's meeting may compute it (its digest publishes the same cases at the
  meeting's ``k``); the Secretariat is told so (:class:`RowRequirement.known`) and never
  relies on such a cell to protect another.

After protection, :func:`row_requirements` says what each cycle's summary must do for the
region: the row cells it must suppress and the linear relations between them that the
region's documents give its meeting (a projection of the region's equations onto those
cells), so the Secretariat can check its own suppressions against that meeting
(:func:`~dief.secretariat.summary_tables`).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from dief.aggregator import TOTAL
from dief.disclosure._elimination import project, rref
from dief.disclosure._suppression import Group, Key

if TYPE_CHECKING:
    from collections.abc import Collection, Iterable, Mapping, Sequence

    from dief.disclosure._cells import CellId, PeriodCells

__all__ = [
    "JointParts",
    "RowRequirement",
    "is_red_table",
    "is_row_table",
    "joint_parts",
    "pinned_row_cells",
    "red_table",
    "row_requirements",
    "row_table",
]

_ROW = "S"
_RED = "R"


def row_table(cycle: str) -> str:
    """The table name of a region's row of *cycle*'s CSP summary (``SCSP12``)."""
    return f"{_ROW}{cycle}"


def red_table(cycle: str) -> str:
    """The table name of the TLP:RED part of a region's *cycle* digest (``RCSP12``)."""
    return f"{_RED}{cycle}"


def is_row_table(name: str) -> bool:
    return name.startswith(f"{_ROW}CSP")


def is_red_table(name: str) -> bool:
    return name.startswith(f"{_RED}CSP")


@dataclass(frozen=True, slots=True)
class RowRequirement:
    """What a region's joint pattern needs of its row of one cycle's CSP summary.

    ``hidden``: the row cells the summary must suppress (the Secretariat only adds to
    them); ``known``: those of them the region's meeting can compute anyway (never used to
    protect another cell); ``relations``: linear relations (cell → coefficient) between
    ``hidden`` cells that the region's documents give its meeting, the published row cells
    taken as given; ``routed``: (receiving region, cell) for each row cell that a route
    table of the cycle to that region publishes (a published route cell bounds the row
    cell from below, so the receiving region's meeting learns something of it: the
    Secretariat takes such a cell as known to that meeting; docs/digests.md, "Route
    tables and the summary"). No counts: only which cells are routed where. ``bounds``:
    (cell, least, greatest or ``None``) for a ``hidden`` cell, an interval no wider than
    the one the region's documents give its meeting (the Secretariat checks its sums
    across regions against them); a ``hidden`` cell without one is taken as known to the
    meeting exactly, the most it can know (none are sent yet: docs/digests.md, "What a
    meeting knows of its row").
    """

    cycle: str
    hidden: frozenset[CellId] = frozenset()
    known: frozenset[CellId] = frozenset()
    relations: tuple[tuple[tuple[CellId, int], ...], ...] = ()
    routed: frozenset[tuple[str, CellId]] = frozenset()
    pinned: frozenset[CellId] = frozenset()
    bounds: tuple[tuple[CellId, int, int | None], ...] = ()


@dataclass(frozen=True, slots=True)
class JointParts:
    """What the summary rows and the red cells add to a region's digest tables."""

    tables: dict[str, PeriodCells] = field(default_factory=dict)
    counts: dict[Key, int] = field(default_factory=dict)
    primary: set[Key] = field(default_factory=set)
    free: set[Key] = field(default_factory=set)
    unlisted: set[Key] = field(default_factory=set)
    groups: list[Group] = field(default_factory=list)
    heavy: set[Key] = field(default_factory=set)


def joint_parts(
    digest_tables: Mapping[str, PeriodCells],
    rows: Mapping[str, PeriodCells],
    *,
    k_meeting: int,  # noqa: ARG001  in the keyword signature _pattern calls; the red cells' rule is k_csp's (_link)
    k_csp: int,
) -> JointParts:
    """The summary row tables (*rows*: cycle → the region's cells without TLP:RED) and red
    cells of every cycle the digests have a table of, with their link groups (see the
    module docstring). The row tables' own sums are the digest tables' (the caller adds the
    row tables to its tables)."""
    parts = JointParts()
    for cycle in sorted(rows):
        digest = digest_tables.get(cycle)
        if not digest:
            continue
        row = rows[cycle]
        name = row_table(cycle)
        parts.tables[name] = dict(row)
        for cell, tally in row.items():
            key = (name, *cell)
            parts.counts[key] = tally.count
            if tally.contributors < k_csp and tally.count > 0:
                parts.primary.add(key)
        parts.heavy.add((name, *TOTAL))
        _link(parts, cycle, digest, row, k_csp=k_csp)
    return parts


def _link(
    parts: JointParts,
    cycle: str,
    digest: PeriodCells,
    row: PeriodCells,
    *,
    k_csp: int,
) -> None:
    """The groups ``digest = row (+ red)`` of every cell of the *cycle* digest."""
    name, red = row_table(cycle), red_table(cycle)
    d_total = digest.get(TOTAL)
    s_total = row.get(TOTAL)
    reds = (d_total.count if d_total else 0) - (s_total.count if s_total else 0)
    for cell, tally in sorted(digest.items()):
        members: list[Key] = []
        inner = row.get(cell)
        if inner is not None:
            members.append((name, *cell))
        if reds > 0:
            key = (red, *cell)
            count = tally.count - (inner.count if inner is not None else 0)
            if count < 0:
                continue
            parts.counts[key] = count
            parts.unlisted.add(key)
            # never published: hidden from the start; with fewer red cases than k_csp
            # (they may all be one State's), every red cell with a case is protected, and
            # the red total may be computed; with more, the red part is no one's profile
            few = reds < k_csp
            sensitive = few and count > 0 and cell != TOTAL
            (parts.primary if sensitive else parts.free).add(key)
            members.append(key)
        if members:
            parts.groups.append(Group((cycle, *cell), tuple(members)))


def pinned_row_cells(
    row: PeriodCells,
    published: Mapping[CellId, int | None],
    *,
    k_csp: int,
) -> frozenset[CellId]:
    """The cells of a region's summary *row* (a cycle's, TLP:RED excluded) that its
    meeting would compute if the summary hid them to protect another cell: a row cell of
    at least *k_csp* States, hidden so, says it counts at least *k_csp* (docs/digests.md
    "A hidden cell's reason is a bound"), and it counts at most the meeting's cycle digest
    cell (the same cases and the red ones); where the digest publishes that cell at
    *k_csp* (*published*: the cycle digest's counts, ``None`` where hidden), the two
    bounds meet.

    #15: the audit found ``summary/AFR/CSP13`` ``actor_role/state_official`` = 3 that way
    (``tests/unit/test_own_row_pins.py``).
    """
    return frozenset(
        cell
        for cell, tally in row.items()
        if tally.contributors >= k_csp and published.get(cell) == k_csp
    )


def _rows_of(groups: Iterable[Group], index: Mapping[Key, int]) -> Iterable[dict[int, int]]:
    for group in groups:
        row: dict[int, int] = {}
        for member in group.members:
            col = index.get(member)
            if col is not None:
                row[col] = row.get(col, 0) + 1
        col = index.get(group.marginal)
        if col is not None:
            row[col] = row.get(col, 0) - 1
        row = {c: v for c, v in row.items() if v}
        if row:
            yield row


def row_requirements(
    cycles: Iterable[str],
    unknown: frozenset[Key],
    groups: Sequence[Group],
) -> dict[str, RowRequirement]:
    """For each of *cycles*, what its summary row needs (:class:`RowRequirement`), from
    the cells a reader of the region does not know (*unknown*: suppressed, not public
    otherwise) and the region's groups.

    The relations are the region's equations restricted to its unknowns and projected onto
    the row's unknown cells: the reduced echelon form (each relation primitive, its
    leading coefficient positive) of every combination of the equations that names only
    the row's cells. That form is one per space of relations, whatever way it is found.
    Only the groups connected to the rows' cells through unknown cells take part. The cells
    of no row are eliminated once for every cycle together, one by one in the order that
    keeps the system sparse (:func:`~dief.disclosure._elimination.project`: 0.6 s → 0.15 s
    on a realistic region at 10 years, where a reduced echelon form of everything with the
    rows' cells last reduced every pivot again), then each cycle's relations come from
    that small system with its own cells last: the same relations as one elimination per
    cycle, without walking the region's history once per cycle.
    """
    wanted = list(cycles)
    of_table = {row_table(cycle): cycle for cycle in wanted}
    row_keys: dict[str, list[Key]] = {cycle: [] for cycle in wanted}
    for key in unknown:
        cycle = of_table.get(key[0])
        if cycle is not None:
            row_keys[cycle].append(key)
    for keys in row_keys.values():
        keys.sort()
    all_rows = sorted({key for keys in row_keys.values() for key in keys})
    projected = _projection(all_rows, unknown, groups) if all_rows else []
    out: dict[str, RowRequirement] = {}
    for cycle in wanted:
        keys = row_keys[cycle]
        if not keys:
            out[cycle] = RowRequirement(cycle)
            continue
        mine = set(keys)
        order = [*(k for k in all_rows if k not in mine), *keys]
        index = {key: i for i, key in enumerate(order)}
        pivots = rref({index[k]: v for k, v in row.items()} for row in projected)
        boundary = len(order) - len(keys)
        relations = tuple(
            tuple(sorted((order[col][1:], value * _sign(row[lead])) for col, value in row.items()))
            for lead, row in sorted(pivots.items())
            if lead >= boundary
        )
        known = frozenset(rel[0][0] for rel in relations if len(rel) == 1)
        out[cycle] = RowRequirement(
            cycle,
            frozenset(key[1:] for key in keys),
            known,
            relations,
        )
    return out


def _sign(value: int) -> int:
    """The factor that makes a relation's leading coefficient positive (one form each)."""
    return 1 if value > 0 else -1


def reach(
    targets: Iterable[Key],
    unknown: Collection[Key],
    groups: Sequence[Group],
    groups_of: Mapping[Key, Sequence[int]],
) -> tuple[set[Key], set[int]]:
    """The part of the equations *groups* connected to *targets* through *unknown* cells:
    the cells reached (the targets among them) and the indices of the groups."""
    seen_cells = set(targets)
    seen_groups: set[int] = set()
    frontier = list(seen_cells)
    while frontier:
        for i in groups_of.get(frontier.pop(), ()):
            if i in seen_groups:
                continue
            seen_groups.add(i)
            for other in groups[i].cells:
                if other in unknown and other not in seen_cells:
                    seen_cells.add(other)
                    frontier.append(other)
    return seen_cells, seen_groups


def _projection(
    row_keys: Sequence[Key], unknown: frozenset[Key], groups: Sequence[Group]
) -> list[dict[Key, int]]:
    """The region's equations over *unknown* projected onto *row_keys*: a basis of the
    relations between those cells alone (every other unknown eliminated,
    :func:`~dief.disclosure._elimination.project`), as cell → coefficient, in reduced
    echelon form over *row_keys*' order."""
    of_cell: dict[Key, list[int]] = {}
    for i, group in enumerate(groups):
        if group.marginal in unknown:
            of_cell.setdefault(group.marginal, []).append(i)
        for cell in group.members:
            if cell in unknown:
                of_cell.setdefault(cell, []).append(i)
    seen_cells, seen_groups = reach(row_keys, unknown, groups, of_cell)
    order = [*row_keys, *sorted(seen_cells - set(row_keys))]
    index = {key: i for i, key in enumerate(order)}
    kept = project(
        _rows_of((groups[i] for i in sorted(seen_groups)), index),
        range(len(row_keys), len(order)),
    )
    return [
        {order[col]: value for col, value in row.items()} for _, row in sorted(rref(kept).items())
    ]
