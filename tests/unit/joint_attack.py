"""A linear-programming attacker on what one region's meeting member holds (DESIGN §7).

Independent of the suppression code: it reads the published JSON of an output folder
(``write_outputs``): the region's digests of every period (TLP:RED counted) and every CSP
summary (TLP:RED excluded, every region's row and the global table), and sets up

- every listed cell of a digest: a variable (fixed where published, at least 1 where
  suppressed); a value a table does not list counts 0;
- within a table, each single-valued dimension sums to the total; a quarter's and a cycle's
  cells are the sums of their months' (a month without a digest counts 0);
- a summary row's single-valued dimensions sum to its total; each global cell is the sum of
  the rows;
- the red part: for each cycle digest, digest cell = the region's summary row cell + a red
  cell (at least 0), the red cells a reader never sees.

Then, for each suppressed cell and each red cell, the least and largest value by linear
programming (``scipy.optimize.linprog``, HiGHS). A cell is *pinned* when both meet at one
integer. Not a test module: the tests import it by name.
"""

from __future__ import annotations

import json
import math
from collections import defaultdict
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np
from scipy.optimize import linprog  # type: ignore[import-untyped]  # scipy ships no type information

from dief.periods import CspCycle, Quarter, parse_period
from dief.vocab import SINGLE_VALUED_DIMENSIONS

if TYPE_CHECKING:
    from collections.abc import Iterable
    from pathlib import Path

TOTAL = "_total"
SINGLE = {d.value for d in SINGLE_VALUED_DIMENSIONS}

Var = tuple[str, ...]


@dataclass
class _System:
    index: dict[Var, int] = field(default_factory=dict)
    fixed: dict[Var, int] = field(default_factory=dict)
    lower: dict[Var, float] = field(default_factory=dict)
    rows: list[dict[Var, int]] = field(default_factory=list)
    hidden: set[Var] = field(default_factory=set)

    def var(self, name: Var, value: int | None, *, least: float = 1.0) -> Var:
        self.index.setdefault(name, len(self.index))
        if value is not None:
            self.fixed[name] = value
        else:
            self.hidden.add(name)
            self.lower[name] = least
        return name

    def equal(self, marginal: Var | None, members: Iterable[Var]) -> None:
        row: dict[Var, int] = defaultdict(int)
        for m in members:
            row[m] += 1
        if marginal is not None:
            row[marginal] -= 1
        self.rows.append(dict(row))


def _cells(
    table: dict[str, Any],
) -> tuple[int | None, bool, dict[tuple[str, str], int | None], set[str]]:
    totals = table.get("totals") or {}
    cells: dict[tuple[str, str], int | None] = {}
    dims = set()
    for dim, listed in (table.get("dimensions") or {}).items():
        dims.add(dim)
        for cell in listed:
            cells[dim, cell["value"]] = cell.get("count")
    return totals.get("cases"), bool(totals.get("withheld")), cells, dims


def _table(system: _System, prefix: Var, table: dict[str, Any]) -> dict[tuple[str, str], Var]:
    cases, withheld, cells, dims = _cells(table)
    out: dict[tuple[str, str], Var] = {}
    if cases is not None or withheld:
        out[TOTAL, ""] = system.var((*prefix, TOTAL), cases)
    for cell, count in cells.items():
        out[cell] = system.var((*prefix, *cell), count)
    total = out.get((TOTAL, ""))
    if total is not None:
        for dim in SINGLE & dims:
            members = [v for c, v in out.items() if c[0] == dim]
            if members:  # a dimension no case of the table has says nothing
                system.equal(total, members)
    return out


def pinned(folder: Path, region: str, *, start_month: int = 9) -> dict[Var, int]:
    """Every suppressed or red cell the reader pins, with its value."""
    system = _System()
    digests: dict[str, dict[tuple[str, str], Var]] = {}
    for path in sorted((folder / "digests" / region).glob("*.json")):
        doc = json.loads(path.read_text())
        digests[doc["period"]] = _table(system, ("D", doc["period"]), doc)
    for name, cells in digests.items():
        period = parse_period(name, start_month=start_month)
        if not isinstance(period, (Quarter, CspCycle)):
            continue
        months = [digests.get(str(m), {}) for m in period.months]
        for cell, var in cells.items():
            system.equal(var, [m[cell] for m in months if cell in m])
    rows: dict[str, dict[str, dict[tuple[str, str], Var]]] = {}
    for path in sorted((folder / "summary").glob("*.json")):
        doc = json.loads(path.read_text())
        cycle = doc["cycle"]
        scopes = {r: _table(system, ("S", cycle, r), t) for r, t in doc["regions"].items()}
        glob = _table(system, ("S", cycle, "global"), doc["global"])
        for cell, var in glob.items():
            system.equal(var, [s[cell] for s in scopes.values() if cell in s])
        rows[cycle] = scopes
    for cycle, scopes in rows.items():
        digest = digests.get(cycle)
        row = scopes.get(region, {})
        if not digest:
            continue
        for cell, var in digest.items():
            red = system.var(("R", cycle, *cell), None, least=0.0)
            system.equal(var, [red, *([row[cell]] if cell in row else [])])
    return _solve(system)


def _solve(system: _System) -> dict[Var, int]:
    n = len(system.index)
    a_eq, b_eq = [], []
    for row in system.rows:
        vec = np.zeros(n)
        for var, coef in row.items():
            vec[system.index[var]] += coef
        a_eq.append(vec)
        b_eq.append(0.0)
    for var, value in system.fixed.items():
        vec = np.zeros(n)
        vec[system.index[var]] = 1
        a_eq.append(vec)
        b_eq.append(float(value))
    bounds = [(0.0, None)] * n
    for var, least in system.lower.items():
        bounds[system.index[var]] = (least, None)
    out: dict[Var, int] = {}
    for var in sorted(system.hidden):
        c = np.zeros(n)
        c[system.index[var]] = 1
        low = linprog(c, A_eq=np.array(a_eq), b_eq=b_eq, bounds=bounds, method="highs")
        high = linprog(-c, A_eq=np.array(a_eq), b_eq=b_eq, bounds=bounds, method="highs")
        if low.status != 0 or high.status != 0:
            continue  # unbounded (or infeasible: not pinned)
        lo, hi = low.fun, -high.fun
        if math.ceil(lo - 1e-6) >= math.floor(hi + 1e-6):
            out[var] = round(lo)
    return out
