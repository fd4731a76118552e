"""An independent attacker on published tables, one issue or several issues together, and
on a region's meeting digests (:func:`recover_digests`).

Attacker model: the reader sees every issue (totals, every table's cells, the other
regions, the global table, earlier re-issues of the same cycle) and knows how the tables
add up. Across issues it also knows, for every cell, whether its count changed between
them (not by how much): a cell with the same count in two issues is one unknown in both,
and known in all of them once any of them publishes it. It then solves exactly (numpy SVD
test: a cell is recovered iff its unit vector lies in the row space of the equations over
the unknowns, i.e. its projection onto that space has length one) and uses the bound that
every listed cell counts at least one case (a group with a known marginal whose unknown
members' remainder equals their number). A cell hidden in one issue but published with
the same count in another is public already: known to the attacker, and not counted as
recovered. A re-issue may list a suppressed cell that now counts zero; the "at least one"
bound is then a guess, counted only where it is right.

Not a test module: the reporting tests import it by name.
"""

from __future__ import annotations

from collections.abc import Collection, Hashable, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from dief.digests import MONTHLY_NOTE, withheld_dimensions
from dief.disclosure import SINGLE_VALUED, month_shows

if TYPE_CHECKING:
    from dief.wire import CspSummary, Digest, RegionTable

Name = Hashable
Var = tuple[object, Name]


@dataclass(frozen=True)
class Issue:
    """What one issue published: known values, suppressed cells, and the sums."""

    known: Mapping[Name, int]
    hidden: Collection[Name]
    groups: Sequence[tuple[Name, Sequence[Name]]]  # marginal = sum of members
    truth: Mapping[Name, int] | None = None  # the hidden values, to check a guess
    #: unknowns no document lists (a withheld dimension's cells, a blank digest's): at
    #: least 0, not 1, in the "at least one" bound
    floor0: Collection[Name] = frozenset()


def tables(summary: CspSummary) -> dict[str, RegionTable]:
    return {**{r.value: t for r, t in summary.regions.items()}, "_global": summary.global_}


def issue_of(summary: CspSummary) -> Issue:  # noqa: C901  one pass over a summary's tables, one case per kind of cell
    """A published summary as the attacker reads it (names ``AFR/kind/case``, ``AFR/_total``)."""
    known: dict[Name, int] = {}
    hidden: set[Name] = set()
    by_name = tables(summary)
    for name, table in by_name.items():
        if table.totals.cases is None:
            hidden.add(f"{name}/_total")
        elif table.totals.cases > 0:
            known[f"{name}/_total"] = table.totals.cases
        for dim, cells in table.dimensions.items():
            for cell in cells:
                key = f"{name}/{dim.value}/{cell.value}"
                if cell.count is None:
                    hidden.add(key)
                else:
                    known[key] = cell.count
    groups: list[tuple[Name, Sequence[Name]]] = []
    for name, table in by_name.items():
        for dim in SINGLE_VALUED:
            members = [f"{name}/{dim.value}/{c.value}" for c in table.dimensions[dim]]
            if members:
                groups.append((f"{name}/_total", members))
    for dim, cells in summary.global_.dimensions.items():
        for cell in cells:
            members = [
                f"{r}/{dim.value}/{cell.value}"
                for r, t in by_name.items()
                if r != "_global" and any(c.value == cell.value for c in t.dimensions[dim])
            ]
            groups.append((f"_global/{dim.value}/{cell.value}", members))
    groups.append(
        (
            "_global/_total",
            [
                f"{r}/_total"
                for r, t in by_name.items()
                if r != "_global" and (t.totals.cases is None or t.totals.cases > 0)
            ],
        )
    )
    return Issue(known, hidden, groups)


def recover(  # noqa: C901,PLR0912,PLR0914  the attacker's fixed-point propagation: every rule it applies, in one loop
    issues: Sequence[Issue], unchanged: Collection[Name] = frozenset()
) -> set[tuple[int, Name]]:
    """Every (issue index, suppressed cell) whose value the attacker can compute exactly."""
    carried: dict[Name, int] = {}
    for issue in issues:
        carried.update({name: n for name, n in issue.known.items() if name in unchanged})

    def value(i: int, name: Name) -> int | None:
        if name in issues[i].known:
            return issues[i].known[name]
        return carried.get(name)

    def var(i: int, name: Name) -> Var:
        return ("same", name) if name in unchanged else (i, name)

    recovered: set[tuple[int, Name]] = set()
    owners: dict[Var, set[tuple[int, Name]]] = {}
    for i, issue in enumerate(issues):
        for name in issue.hidden:
            if value(i, name) is not None:
                # published with this count in another issue: public, known, not "recovered"
                # (an unchanged count whose contributors fell below k)
                continue
            owners.setdefault(var(i, name), set()).add((i, name))
    unknowns = sorted(owners, key=repr)
    index = {v: j for j, v in enumerate(unknowns)}
    rows: list[np.ndarray] = []
    for i, issue in enumerate(issues):
        for marginal, members in issue.groups:
            row = np.zeros(len(unknowns))
            open_members: list[Name] = []
            for m in members:
                if value(i, m) is None and m in issue.hidden:
                    row[index[var(i, m)]] += 1
                    open_members.append(m)
            marginal_value = value(i, marginal)
            if marginal_value is None and marginal in issue.hidden:
                row[index[var(i, marginal)]] -= 1
            if row.any():
                rows.append(row)
            if marginal_value is not None and open_members:
                rest = marginal_value - sum(
                    value(i, m) or 0 for m in members if m not in open_members
                )
                least = {m: 0 if m in issue.floor0 else 1 for m in open_members}
                forced = len(open_members) == 1 or rest == sum(least.values())
                # a re-issue may list a cell that now counts zero: "all ones" is then a
                # guess, which recovers the cells only where it is right
                right = (
                    issue.truth is None
                    or all(issue.truth.get(m) == least[m] for m in open_members)
                    or len(open_members) == 1
                )
                if forced and right:
                    recovered.update((i, m) for m in open_members)
    if rows and unknowns:
        # e_j lies in the row space iff its projection onto it has length one
        _, sing, vt = np.linalg.svd(np.array(rows), full_matrices=False)
        basis = vt[: int(np.sum(sing > 1e-9 * max(1.0, float(sing[0]))))]
        weight = np.sum(basis * basis, axis=0)
        for v, j in index.items():
            if weight[j] > 1 - 1e-6:
                recovered |= owners[v]
    return recovered


# ---------------------------------------------------------------- meeting digests


def _is_month(period: str) -> bool:
    return len(period) == len("YYYY-MM") and period[4] == "-" and period[5:].isdigit()


def _quarter_months(quarter: str) -> list[str]:
    year, q = int(quarter[:4]), int(quarter[-1])
    return [f"{year:04d}-{3 * q - 2 + i:02d}" for i in range(3)]


def _cycle_months(cycle: str, start_month: int) -> list[str]:
    # CSPn starts in *start_month* of 2013 + n (DESIGN §7)
    year, month = 2013 + int(cycle[3:]), start_month
    out: list[str] = []
    for _ in range(12):
        out.append(f"{year:04d}-{month:02d}")
        month += 1
        if month > 12:
            year, month = year + 1, 1
    return out


def _case_count(pairs: Sequence[tuple[int, float]]) -> int | None:
    """The only n with round(count / n, 4) == ratio for every published (count, ratio)."""
    found: set[int] | None = None
    for count, ratio in pairs:
        if ratio <= 0:
            continue
        guess = count / ratio
        here = {
            n
            for n in range(max(count, int(guess * 0.98) - 2), int(guess * 1.02) + 3)
            if round(min(count / n, 1.0), 4) == ratio
        }
        found = here if found is None else found & here
    if found is not None and len(found) == 1:
        return found.pop()
    return None


@dataclass(frozen=True)
class DigestRead:
    """A region's published digests as the attacker reads them: one :class:`Issue`, and the
    suppressed cells a previous-period count gives away directly."""

    issue: Issue
    revealed: frozenset[Name]
    #: unknowns that no digest declares suppressed (a window's case count that no
    #: prevalence shows): computing them gives nothing away
    unseen: frozenset[Name] = frozenset()


def read_digests(  # noqa: C901, PLR0912, PLR0914, PLR0915  one reading of every digest: each kind of cell and its equations, in order
    digests: Sequence[Digest],
    *,
    start_month: int = 9,
    listing: Mapping[str, Mapping[tuple[str, str], object]] | None = None,
) -> DigestRead:
    """Every digest of one region (all its periods) as linear knowledge.

    Cells are named ``<table>/<dimension>/<value>`` and ``<table>/_total``, tables being
    periods and checklist windows ``W<last quarter>``. The attacker knows: every published
    count; a listed suppressed cell counts at least one; a cell not listed, or a period
    without a digest, counts zero; within a period the values of each single-valued
    dimension sum to the total; a quarter's (a half-cycle's, a cycle's) cells are the sums
    of its months';
    a checklist window's counts and case count are the sums of its quarters'; a share or
    prevalence with its count gives the case count it divides by; a previous-period count
    is the previous period's cell. A digest of fewer than k contributors lists no
    dimension (its total hidden). Given the region's cells (*listing*: period -> cells),
    the attacker also knows what such a digest would have listed — every value its cases
    have, suppressed, the others zero: the reader the protection is built against. Without
    them its cells are unknowns at least 0 in the sums, and computing one is not reported
    (``unseen``: the attacker cannot tell a value absent there, pinned at 0 by the sums,
    from one present; :mod:`dief.audit` judges the documents as published). A dimension a
    digest withholds (``notes.withheld_dimensions``: each value below k) is read the same
    way, whatever *listing* says: its cells are unknowns at least 0 in the sums across
    periods, and computing one is not reported. So is every dimension a month published by
    total does not list (months by total: its notes say so, :data:`MONTHLY_NOTE`; it lists
    its total and ``kind`` only): those cells are in its quarter's, half-cycle's and
    cycle's sums, unknowns at least 0, not zeros. Once one month says so, every month of
    the digests is read so (an issue-wide setting): a blank month (fewer than k
    contributors, or its total hidden and ``kind`` withheld) then stands for its ``kind``
    cells only, given *listing*, and for none where its notes withhold ``kind``.
    """
    known: dict[Name, int] = {}
    hidden: set[Name] = set()
    listed: dict[str, set[str]] = {}  # table -> listed cell names (without the table)
    previous: dict[Name, int] = {}
    windows: dict[str, list[str]] = {}
    totals_from_ratios: dict[str, list[tuple[int, float]]] = {}
    by_period = {d.period: d for d in digests}

    def note(table: str, cell: str, count: int | None) -> None:
        name = f"{table}/{cell}"
        listed.setdefault(table, set()).add(cell)
        if count is None:
            hidden.add(name)
        else:
            known[name] = count

    def earlier(period: str) -> str | None:
        if "-H" in period:  # a half-cycle: H1 follows the previous cycle's H2
            number, half = period[3:].split("-H")
            if half == "2":
                return f"CSP{number}-H1"
            return f"CSP{int(number) - 1}-H2" if int(number) > 1 else None
        if period.startswith("CSP"):
            return f"CSP{int(period[3:]) - 1}" if int(period[3:]) > 1 else None
        year = int(period[:4])
        if "Q" in period:
            q = int(period[-1])
            return f"{year:04d}-Q{q - 1}" if q > 1 else f"{year - 1:04d}-Q4"
        month = int(period[5:])
        return f"{year:04d}-{month - 1:02d}" if month > 1 else f"{year - 1:04d}-12"

    blank = {d.period for d in digests if not d.dimensions and d.totals.cases is None}
    # months published by total (their notes say so): a dimension they do not list says
    # nothing of its values; a blank month of such an issue stands for its kind cells only
    by_total = {d.period for d in digests if MONTHLY_NOTE in d.notes.text}
    if by_total:
        by_total |= {p for p in blank if _is_month(p)}
    for d in digests:
        p = d.period
        before = earlier(p)
        if p in blank and listing is not None:
            # a blank month by total would list its kind cells, unless its notes withhold kind
            gone = {w.value for w in withheld_dimensions(d)} if p in by_total else set()
            for dim, value in listing.get(p, {}):
                if dim != "_total" and (
                    p not in by_total or (month_shows((dim, value)) and dim not in gone)
                ):
                    note(p, f"{dim}/{value}", None)
        if d.totals.cases is None:
            note(p, "_total", None)
        elif d.totals.cases > 0:
            note(p, "_total", d.totals.cases)
            if before is not None and d.totals.previous is not None:
                previous[f"{before}/_total"] = d.totals.previous
        for dim, cells in d.dimensions.items():
            for cell in cells:
                note(p, f"{dim.value}/{cell.value}", cell.count)
                if cell.count is not None and cell.share is not None:
                    totals_from_ratios.setdefault(p, []).append((cell.count, cell.share))
                if before is not None and cell.previous is not None:
                    previous[f"{before}/{dim.value}/{cell.value}"] = cell.previous
        if d.notes.checklist_window and d.checklist:
            w = f"W{d.notes.checklist_window[-1]}"
            windows[w] = list(d.notes.checklist_window)
            listed.setdefault(w, set()).add("_total")
            for entry in d.checklist:
                note(w, f"risk_indicator/{entry.id}", entry.count)
                if entry.count is not None and entry.prevalence is not None:
                    totals_from_ratios.setdefault(w, []).append((entry.count, entry.prevalence))
    for table, pairs in totals_from_ratios.items():
        n = _case_count(pairs)
        if n is not None:
            known[f"{table}/_total"] = n
    unseen: set[Name] = set()
    floor0: set[Name] = set()
    for w in windows:
        if f"{w}/_total" not in known:
            # the window has cases: an unknown; suppressed if a published count comes
            # without its prevalence, else merely not shown (computing it is no leak)
            hidden.add(f"{w}/_total")
            if not any(
                e.count is not None and e.prevalence is None
                for d in digests
                if d.notes.checklist_window and f"W{d.notes.checklist_window[-1]}" == w
                for e in d.checklist
            ):
                unseen.add(f"{w}/_total")
    hidden -= known.keys()
    revealed: set[Name] = set()
    for name, n in previous.items():
        table = str(name).split("/", 1)[0]
        if table not in by_period:
            continue  # no digest of that period: nothing listed there
        if name in hidden:
            revealed.add(name)
        elif n > 0:
            assert known.get(name) == n, f"previous {name} = {n} contradicts its digest"

    groups: list[tuple[Name, Sequence[Name]]] = []
    for p, names in listed.items():
        if p.startswith("W") or "_total" not in names:
            continue
        for dim in SINGLE_VALUED:
            members = [f"{p}/{c}" for c in sorted(names) if c.startswith(f"{dim.value}/")]
            if members:
                groups.append((f"{p}/_total", members))
    parts: dict[str, list[str]] = {}
    for p in listed:
        if p.startswith("W"):
            parts[p] = windows[p]
        elif "-H" in p:  # a half-cycle: the first or the last six months of its cycle
            months = _cycle_months(p.split("-H")[0], start_month)
            parts[p] = months[:6] if p.endswith("-H1") else months[6:]
        elif p.startswith("CSP"):
            parts[p] = _cycle_months(p, start_month)
        elif "Q" in p:
            parts[p] = _quarter_months(p)
    unknown = set() if listing is not None else blank
    withheld = {d.period: {w.value for w in withheld_dimensions(d)} for d in digests}
    # a month by total: the dimensions it lists (or, blank, would list); the others are open
    shown = {
        p: {c.split("/", 1)[0] for c in listed.get(p, set()) if c != "_total"} for p in by_total
    }

    def open_in(q: str, name: str) -> bool:
        dim = name.split("/", 1)[0]
        return (
            q in unknown
            or dim in withheld.get(q, set())
            or (q in by_total and name != "_total" and dim not in shown[q])
        )

    for p, inner in parts.items():
        for name in sorted(listed[p]):
            members = [
                f"{q}/{name}" for q in inner if name in listed.get(q, set()) or open_in(q, name)
            ]
            for q in inner:
                if open_in(q, name) and name not in listed.get(q, set()):
                    hidden.add(f"{q}/{name}")
                    unseen.add(f"{q}/{name}")
                    floor0.add(f"{q}/{name}")
            groups.append((f"{p}/{name}", members))
    return DigestRead(
        Issue(known, hidden, groups, floor0=frozenset(floor0)),
        frozenset(revealed),
        frozenset(unseen),
    )


def recover_digests(
    digests: Sequence[Digest],
    *,
    start_month: int = 9,
    listing: Mapping[str, Mapping[tuple[str, str], object]] | None = None,
) -> set[Name]:
    """Every suppressed cell of a region's digests whose count the attacker can compute
    (*listing*: see :func:`read_digests`)."""
    read = read_digests(digests, start_month=start_month, listing=listing)
    found = {name for _, name in recover([read.issue])} | set(read.revealed)
    return found - read.unseen
