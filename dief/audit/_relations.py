"""The relations between published tables, derived from DESIGN §5/§7 and the documents alone.

- within a table: every cell counts at most the table's cases; the values of each
  single-valued dimension (``dief.vocab.SINGLE_VALUED_DIMENSIONS``) sum to the total; a
  case names at least one item category; a value a listed dimension does not list is 0,
  unless the dimension has a grouped cell: then ``(other)`` = the sum of the values not
  listed (each at least 0, over the dimension's vocabulary: values some document names
  are unknowns of their own, the values no document names one unknown per table, at most
  their number times the total);
- periods: a quarter's cells are its months' sums, a cycle's its months' (and its
  quarters' where they nest in the cycle), a checklist window's its four quarters';
  a digest cell's ``previous`` is the previous period's cell;
- summaries: the global cell is the sum of the regions' cells;
- TLP:RED: a meeting digest's cycle cell = the summary's cell of the region + the red
  cases' cell, the red cases forming a table of their own (non-negative, cells at most
  its total);
- route tables received: the sending region's summary cell = the route cell + the rest;
- issues: a table's issues are linked only where the documents state its data unchanged
  (the same ``data_version``); otherwise each issue's hidden cells are distinct unknowns;
- the reader's own cases: lower bounds on the cells they count in.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from dief.audit._documents import TOTAL, PublishedTable, ReaderView, TableKey, grouped
from dief.audit._periods import (
    cycle_halves,
    cycle_months,
    cycle_quarters,
    half_months,
    half_of,
    is_cycle,
    is_half,
    previous_period,
    quarter_months,
)
from dief.audit._system import LinearSystem, SystemBuilder
from dief.audit._vocab import OTHER, vocabulary
from dief.vocab import SINGLE_VALUED_DIMENSIONS

if TYPE_CHECKING:
    from collections.abc import Iterable, Sequence

    from dief.audit._own import OwnCase

__all__ = ["SystemOptions", "build_system"]

_SINGLE = frozenset(str(d) for d in SINGLE_VALUED_DIMENSIONS)
_ITEMS = "item_category"
#: the values of a grouped dimension that no document names, as one unknown per table
UNNAMED = "(unnamed)"


@dataclass(frozen=True)
class SystemOptions:
    """``listed_at_least_one``: a listed suppressed cell counts at least one case (DESIGN
    §7: cells are listed for values with data) — in the first issue of its table that the
    reader holds; a re-issue may keep a cell listed at 0 (docs/digests.md), so a cell an
    earlier issue listed gets no such bound. ``link_issues``: a table whose two issues state
    the same ``data_version`` counts the same cases (the same unknowns); without that
    statement the issues' hidden cells are distinct unknowns (cases are added, revised and
    withdrawn between issues, and the reader cannot see which). ``assume_unchanged``: the
    old, unsound heuristic — a table published again with the same total and published
    counts is taken as unchanged — for stress comparisons only (a cell it "determines" may
    not be the true count). ``reasons``: a suppressed cell that says it was hidden to
    protect another (DESIGN §7) has at least k contributors, so it counts at least k (off
    only to compare with the audit before session 9, which did not read the reasons)."""

    listed_at_least_one: bool = True
    link_issues: bool = True
    assume_unchanged: bool = False
    reasons: bool = True


def _same(a: PublishedTable, b: PublishedTable) -> bool:
    if set(a.cells) != set(b.cells) or a.dimensions != b.dimensions:
        return False
    shared = [c for c in a.cells if a.cells[c] is not None and b.cells[c] is not None]
    if any(a.cells[c] != b.cells[c] for c in shared):
        return False
    if a.total_shown:
        return a.cells.get(TOTAL) is not None and b.cells.get(TOTAL) == a.cells.get(TOTAL)
    return bool(shared)


def _linked(a: PublishedTable, b: PublishedTable, options: SystemOptions) -> bool:
    if not options.link_issues:
        return False
    if a.data_version is not None and a.data_version == b.data_version:
        return (
            set(a.cells) == set(b.cells) and a.dimensions == b.dimensions and a.grouped == b.grouped
        )
    return options.assume_unchanged and _same(a, b)


class _Reader:
    """Turns tables into unknowns; ``member`` is the one way to name a cell's count."""

    def __init__(self, view: ReaderView, options: SystemOptions) -> None:
        self.view = view
        self.options = options
        self.b = SystemBuilder()
        self.canon: dict[tuple[int, TableKey], int] = {}
        self.named, self.unnamed = _named_values(view)
        for i, issue in enumerate(view.issues):
            for key, table in issue.tables.items():
                self.canon[i, key] = i
                if not options.link_issues:
                    continue
                for e in range(i - 1, -1, -1):
                    earlier = view.issues[e].tables.get(key)
                    if earlier is not None:
                        if _linked(earlier, table, options):
                            self.canon[i, key] = self.canon[e, key]
                        break

    def table(self, i: int, key: TableKey) -> PublishedTable | None:
        return self.view.issues[i].tables.get(key)

    def member(self, i: int, key: TableKey, cell: str) -> int | None:
        """The unknown of *cell* in table *key* of issue *i*, or None where it counts 0."""
        if key[0] in {"red", "rest"}:
            return self._shadow(i, key, cell, role="red" if key[0] == "red" else "shadow")
        table = self.table(i, key)
        if table is None:
            return None
        state = table.state(cell)
        if state == "zero" or (cell.endswith(f"/{UNNAMED}") and not self._multiplicity(cell)):
            return None
        name = (self.canon[i, key], key, cell)
        fresh = name not in self.b.index
        j = self.b.var(name, role=self._role(state, cell))
        if state == "published":
            value = table.cells[cell]
            assert value is not None  # noqa: S101  narrows the type: a published cell has its count
            self.b.fix(j, float(value))
            self.b.published.add(j)
        elif state == "unlisted" and self.b.roles[j] == "grouped":
            self.b.documents[j].update(table.documents)
        elif state == "suppressed":
            self.b.documents[j].update(table.documents)
            self._least(i, key, table, cell, j)
        if fresh:
            self._new_cell(i, key, cell, j)
            if cell == TOTAL and table.total_bounds is not None:
                lo, hi = table.total_bounds
                self.b.at_least(j, lo)
                self.b.at_most(j, hi)
        return j

    def _least(self, i: int, key: TableKey, table: PublishedTable, cell: str, j: int) -> None:
        """A suppressed cell's least count: 1 where listed first, k where it says it was
        hidden to protect another cell (so it has at least k contributors)."""
        if self.options.listed_at_least_one and not self._listed_before(i, key, cell):
            self.b.at_least(j, 1.0)
        if self.options.reasons and cell in table.protected and table.k:
            self.b.at_least(j, float(table.k))

    def _listed_before(self, i: int, key: TableKey, cell: str) -> bool:
        """Whether an earlier issue the reader holds listed *cell* (a re-issue may keep
        such a cell listed at count 0)."""
        for e in range(i):
            earlier = self.view.issues[e].tables.get(key)
            if earlier is not None and cell in earlier.cells:
                return True
        return False

    def _shadow(self, i: int, key: TableKey, cell: str, *, role: str) -> int:
        name = (i, key, cell)
        fresh = name not in self.b.index
        j = self.b.var(name, role=role)
        if fresh:
            self._new_cell(i, key, cell, j)
        return j

    def _role(self, state: str, cell: str) -> str:
        """``suppressed``; ``grouped`` for a value a grouped cell holds (one value: the
        unnamed cell only where one value is unnamed); else ``shadow``."""
        if state == "suppressed":
            return "suppressed"
        if state == "unlisted" and self._multiplicity(cell) == 1:
            return "grouped"
        return "shadow"

    def _multiplicity(self, cell: str) -> int | None:
        """How many values *cell* stands for: 1, the number of unnamed values of its
        dimension for the unnamed cell (None: unknown), or None for a grouped cell of a
        dimension with several values per case (it may exceed the total)."""
        dim = cell.split("/", 1)[0]
        if cell.endswith(f"/{UNNAMED}"):
            return self.unnamed.get(dim)
        if grouped(cell):
            return 1 if dim in _SINGLE else None
        return 1

    def _new_cell(self, i: int, key: TableKey, cell: str, j: int) -> None:
        if cell != TOTAL:
            total = self.member(i, key, TOTAL)
            times = self._multiplicity(cell)
            if total is not None and times:
                self.b.less_equal({j: 1.0, total: -float(times)})

    def cells(self, *tables: PublishedTable | None) -> set[str]:
        """The cells a relation between *tables* runs over: the listed ones (grouped cells
        left out: two tables' ``(other)`` hold different values) and, for a dimension one
        of them groups, every named value and the unnamed ones."""
        out: set[str] = set()
        for t in tables:
            if t is None:
                continue
            out.update(c for c in t.cells if not grouped(c))
            for dim in t.grouped:
                out.update(f"{dim}/{v}" for v in self.named.get(dim, ()))
                if self.unnamed.get(dim) != 0:
                    out.add(f"{dim}/{UNNAMED}")
        return out

    def group(self, i: int, table: PublishedTable) -> None:
        """``(other) = sum of the values the table does not list`` for each grouped cell."""
        for dim in sorted(table.grouped):
            other = self.member(i, table.key, f"{dim}/{OTHER}")
            if other is None:
                continue
            listed = set(table.listed(dim))
            values = [v for v in self.named.get(dim, ()) if v not in listed]
            terms: dict[int, float] = {other: -1.0}
            for value in [*values, UNNAMED]:
                m = self.member(i, table.key, f"{dim}/{value}")
                if m is not None:
                    terms[m] = terms.get(m, 0.0) + 1.0
            self.b.equal(terms)

    def own_cell(self, dim: str, value: str) -> str | None:
        """The cell an own case's value counts in: a value no document names counts in
        the unnamed cell (None: outside the dimension's vocabulary too, left out)."""
        if value in self.named.get(dim, ()) or dim not in self.unnamed:
            return f"{dim}/{value}"
        vocab = vocabulary(dim)
        if vocab is not None and value in vocab:
            return f"{dim}/{UNNAMED}"
        self.b.notes.append(f"own cases name {dim}/{value}, outside its vocabulary")
        return None

    # ------------------------------------------------------------------ relations

    def sum_rule(
        self, i: int, whole: TableKey, parts: Sequence[TableKey], cells: Iterable[str]
    ) -> None:
        """``whole[cell] = sum(part[cell])`` for every cell."""
        for cell in sorted(set(cells)):
            terms: dict[int, float] = {}
            w = self.member(i, whole, cell)
            if w is not None:
                terms[w] = terms.get(w, 0.0) - 1.0
            for part in parts:
                m = self.member(i, part, cell)
                if m is not None:
                    terms[m] = terms.get(m, 0.0) + 1.0
            self.b.equal(terms)

    def within(self, i: int, table: PublishedTable) -> None:
        """A table's own sums (single-valued dimensions, item categories)."""
        by_dim: dict[str, list[str]] = {}
        for cell in table.cells:
            if cell != TOTAL:
                by_dim.setdefault(cell.split("/", 1)[0], []).append(cell)
        for dim, cells in sorted(by_dim.items()):
            if dim not in table.dimensions or (dim not in _SINGLE and dim != _ITEMS):
                continue
            self.additive(i, table.key, dim, cells, table)

    def additive(
        self, i: int, key: TableKey, dim: str, cells: Sequence[str], table: PublishedTable | None
    ) -> None:
        total = self.member(i, key, TOTAL)
        members = [m for m in (self.member(i, key, c) for c in cells) if m is not None]
        if total is None or not members:
            return
        terms: dict[int, float] = dict.fromkeys(members, 1.0)
        terms[total] = terms.get(total, 0.0) - 1.0
        if dim == _ITEMS:  # every case names at least one item: sum >= total
            self.b.less_equal({j: -c for j, c in terms.items()})
            return
        if table is not None and all(table.cells.get(c) is not None for c in [*cells, TOTAL]):
            listed = sum(int(table.cells[c] or 0) for c in cells)
            if listed != table.cells[TOTAL]:
                self.b.notes.append(
                    f"{'/'.join(key)}: {dim} sums to {listed}, not the total: taken as <= total"
                )
                self.b.less_equal(terms)
                return
        self.b.equal(terms)

    def split(
        self, i: int, whole: TableKey, part: TableKey, rest: TableKey, cells: Iterable[str]
    ) -> None:
        """``whole[cell] = part[cell] + rest[cell]``, the rest a table of its own."""
        names = sorted(set(cells) | {TOTAL})
        for cell in names:
            terms: dict[int, float] = {}
            w = self.member(i, whole, cell)
            if w is not None:
                terms[w] = -1.0
            p = self.member(i, part, cell)
            if p is not None:
                terms[p] = terms.get(p, 0.0) + 1.0
            r = self.member(i, rest, cell)
            assert r is not None  # noqa: S101  narrows the type: the rest's member exists when the part's does
            terms[r] = terms.get(r, 0.0) + 1.0
            self.b.equal(terms)
        dims: dict[str, list[str]] = {}
        for cell in names:
            if cell != TOTAL:
                dims.setdefault(cell.split("/", 1)[0], []).append(cell)
        items = dims.get(_ITEMS)
        whole_table = self.table(i, whole)
        if items and whole_table is not None and _ITEMS in whole_table.dimensions:
            self.additive(i, rest, _ITEMS, items, None)


def _named_values(view: ReaderView) -> tuple[dict[str, tuple[str, ...]], dict[str, int | None]]:
    """Per dimension some table groups: the values some document names (listed anywhere,
    any issue), and how many of its vocabulary's values none names (None: unknown)."""
    dims: set[str] = set()
    named: dict[str, set[str]] = {}
    for issue in view.issues:
        for table in issue.tables.values():
            dims |= table.grouped
            for cell in table.cells:
                if cell != TOTAL and not grouped(cell):
                    dim, _, value = cell.partition("/")
                    named.setdefault(dim, set()).add(value)
    values = {d: tuple(sorted(named.get(d, ()))) for d in sorted(dims)}
    unnamed: dict[str, int | None] = {}
    for dim in sorted(dims):
        vocab = vocabulary(dim)
        unnamed[dim] = None if vocab is None else len(vocab - set(values[dim]))
    return values, unnamed


def _cells(*tables: PublishedTable | None) -> set[str]:
    out: set[str] = set()
    for t in tables:
        if t is not None:
            out.update(c for c in t.cells if not grouped(c))
    return out


def _digest_periods(r: _Reader, i: int) -> None:  # noqa: C901, PLR0912  the digest's period relations, one kind after another
    region, start = r.view.region, r.view.start_month
    tables = {k[2]: t for k, t in r.view.issues[i].tables.items() if k[0] == "digest"}
    months = [p for p in tables if len(p) == 7 and p[4] == "-" and p[5].isdigit()]  # noqa: PLR2004  7 = len("YYYY-MM"): a month's period
    # a period without a digest counts zero (DESIGN §9: a digest for every period with
    # data), but only where the folder holds digests of that kind at all
    quarters = {f"{m[:4]}-Q{(int(m[5:]) - 1) // 3 + 1}" for m in months}
    have_quarters = any("-Q" in p for p in tables)
    if have_quarters:
        quarters |= {p for p in tables if "-Q" in p}
    cycles = {p for p in tables if is_cycle(p)}
    halves = {p for p in tables if is_half(p)}
    if halves:
        halves |= {half_of(m, start) for m in months}

    def d(period: str) -> TableKey:
        return ("digest", region, period)

    def add(whole: str, parts: list[str]) -> None:
        r.sum_rule(
            i, d(whole), [d(p) for p in parts], r.cells(*(tables.get(p) for p in [whole, *parts]))
        )

    for h in sorted(halves) if months else []:
        add(h, half_months(h, start))
    for c in sorted(cycles) if halves else []:
        add(c, cycle_halves(c))

    for q in sorted(quarters) if months and have_quarters else []:
        parts = [d(m) for m in quarter_months(q)]
        r.sum_rule(
            i, d(q), parts, r.cells(tables.get(q), *(tables.get(m) for m in quarter_months(q)))
        )
    for c in sorted(cycles):
        ms = cycle_months(c, start)
        if months:
            month_tables = [tables.get(m) for m in ms]
            r.sum_rule(i, d(c), [d(m) for m in ms], r.cells(tables.get(c), *month_tables))
        qs = cycle_quarters(c, start)
        if qs and have_quarters:
            r.sum_rule(
                i, d(c), [d(q) for q in qs], r.cells(tables.get(c), *(tables.get(q) for q in qs))
            )
    for key, table in r.view.issues[i].tables.items():
        if key[0] == "window":
            qs = key[2].split(":", 1)[1].split(",")
            cells = _cells(table) | {TOTAL}
            r.sum_rule(i, key, [d(q) for q in qs], cells)
        if key[0] == "digest" and table.previous:
            before = previous_period(key[2])
            if before is None:
                continue
            for cell, value in table.previous.items():
                j = r.member(i, d(before), cell)
                if j is None:
                    if value:
                        r.b.notes.append(
                            f"{before}/{cell}: previous count {value} of a cell not listed"
                        )
                    continue
                r.b.fix(j, float(value))
                r.b.published.add(j)


def _summaries(r: _Reader, i: int) -> None:
    region = r.view.region
    tables = r.view.issues[i].tables
    cycles = sorted({k[2] for k in tables if k[0] == "summary"})
    for c in cycles:
        scopes = sorted(
            k[1] for k in tables if k[0] == "summary" and k[2] == c and k[1] != "global"
        )
        glob = ("summary", "global", c)
        parts = [("summary", s, c) for s in scopes]
        r.sum_rule(i, glob, parts, r.cells(tables.get(glob), *(tables.get(p) for p in parts)))
    red_cycles = {k[2] for k in tables if k[0] == "digest" and is_cycle(k[2])}
    red_cycles |= {k[2] for k in tables if k[0] == "summary" and k[1] == region}
    for c in sorted(red_cycles):
        dig, summ = ("digest", region, c), ("summary", region, c)
        r.split(i, dig, summ, ("red", region, c), r.cells(tables.get(dig), tables.get(summ)))
    for key, table in tables.items():
        if key[0] == "route":
            sender = key[1].split(">", 1)[0]
            whole = ("summary", sender, key[2])
            if whole in tables:
                cells = r.cells(table, tables[whole])
                r.split(i, whole, key, ("rest", key[1], key[2]), cells)


def _own(r: _Reader, own: Sequence[OwnCase]) -> None:  # noqa: C901  the own cases' relations, one table kind after another
    i = len(r.view.issues) - 1  # own cases bound the latest issue
    region, start = r.view.region, r.view.start_month
    counts: dict[tuple[TableKey, str], int] = {}

    def add(key: TableKey, cells: Iterable[str]) -> None:
        for cell in cells:
            counts[key, cell] = counts.get((key, cell), 0) + 1

    for case in own:
        cells = [TOTAL, *(c for d, v in case.values if (c := r.own_cell(d, v)) is not None)]
        cycle = case.cycle(start)
        if case.region == region:
            for p in (case.month, case.quarter, case.half(start), cycle):
                add(("digest", region, p), cells)
            if case.red:
                add(("red", region, cycle), cells)
        if not case.red:
            add(("summary", case.region, cycle), cells)
            if region in case.related_regions:
                add(("route", f"{case.region}>{region}", cycle), cells)
    for (key, cell), n in sorted(counts.items()):
        listed_in = ("digest", key[1], key[2]) if key[0] == "red" else key
        if r.table(i, listed_in) is None:
            if key[0] != "route":
                r.b.notes.append(f"own cases count in {'/'.join(key)}, which no document lists")
            continue
        j = r.member(i, key, cell)
        if j is None:
            if key[0] != "route":
                r.b.notes.append(f"own cases count in {'/'.join(key)}/{cell}, listed as 0")
            continue
        r.b.at_least(j, float(n))


def build_system(
    view: ReaderView, own: Sequence[OwnCase] = (), options: SystemOptions | None = None
) -> LinearSystem:
    """Every relation a reader of ``view.region`` can use, as one linear system."""
    r = _Reader(view, options or SystemOptions())
    for i, issue in enumerate(view.issues):
        for key, table in sorted(issue.tables.items()):
            for cell in table.cells:
                r.member(i, key, cell)
            if r.canon[i, key] == i:
                r.within(i, table)
                r.group(i, table)
        _digest_periods(r, i)
        _summaries(r, i)
    _own(r, own)
    return r.b.freeze()
