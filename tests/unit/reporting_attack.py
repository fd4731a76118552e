"""An independent attacker on published tables, one issue or several issues together.

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

import numpy as np

from dief.reporting import SINGLE_VALUED
from dief.shapes import CspSummary, RegionTable

Name = Hashable
Var = tuple[object, Name]


@dataclass(frozen=True)
class Issue:
    """What one issue published: known values, suppressed cells, and the sums."""

    known: Mapping[Name, int]
    hidden: Collection[Name]
    groups: Sequence[tuple[Name, Sequence[Name]]]  # marginal = sum of members
    truth: Mapping[Name, int] | None = None  # the hidden values, to check a guess


def tables(summary: CspSummary) -> dict[str, RegionTable]:
    return {**{r.value: t for r, t in summary.regions.items()}, "_global": summary.global_}


def issue_of(summary: CspSummary) -> Issue:
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


def recover(
    issues: Sequence[Issue], unchanged: Collection[Name] = frozenset()
) -> set[tuple[int, Name]]:
    """Every (issue index, suppressed cell) whose value the attacker can compute exactly."""
    carried: dict[Name, int] = {}
    for issue in issues:
        for name, n in issue.known.items():
            if name in unchanged:
                carried[name] = n

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
            else:
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
                forced = len(open_members) == 1 or rest == len(open_members)
                # a re-issue may list a cell that now counts zero: "all ones" is then a
                # guess, which recovers the cells only where it is right
                right = (
                    issue.truth is None
                    or all(issue.truth.get(m) == 1 for m in open_members)
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
