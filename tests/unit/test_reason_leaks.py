"""A suppressed cell's stated reason is a bound a reader uses (#15, found in session 9).

DESIGN §7 makes every suppressed cell say why it is hidden: ``contributors`` (fewer than k
States) or ``protection`` (at least k States, hidden to protect another figure). A cell
hidden for protection therefore counts at least k cases (each State reported at least one).
A month of three cases, two of them cases from two States and one an alert from a third,
hid ``kind/alert`` (one State) and, to protect it, ``kind/case`` (two States), beside its
published total of 3: the reader reads ``case`` >= 2 and ``alert`` >= 1 off the reasons, and
``case + alert = 3`` pins the alert of one State at 1. The realistic forum of
``tests/integration/test_utility.py`` had 328 such pinned cells in AFR's reader.

The audit reads the reasons (``SystemOptions.reasons``, docs/audit.md), and the
protection takes a cell hidden for protection at least k (``protect(floors=)``).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from dief.aggregator.store import CaseStore
from dief.audit import audit_folder
from dief.catalogue import load_catalogue
from dief.database import sqlite_url
from dief.render import write_outputs
from tests.unit.test_route_tables_utility import _facts

if TYPE_CHECKING:
    from pathlib import Path


async def _write(folder: Path, kinds: list[tuple[int, str]]) -> Path:
    async with CaseStore(sqlite_url(folder / "afr.db")) as store:
        await store.apply_batch("AFR", [_facts(node, "2026-05", kind=kind) for node, kind in kinds])
        await write_outputs(
            folder / "out",
            store,
            regions=["AFR"],
            catalogue=load_catalogue(),
            html=False,
            docx=False,
        )
    return folder / "out"


async def test_a_cell_hidden_for_protection_pins_no_cell_of_one_state(tmp_path: Path) -> None:
    out = await _write(tmp_path, [(1, "case"), (2, "case"), (3, "alert")])
    report = audit_folder([out], "AFR", verdicts_only=True)
    pinned = sorted({(c.table, c.cell) for c in report.determined})
    assert ("digest/AFR/2026-05", "kind/alert") not in pinned
    assert pinned == []


async def test_the_audit_reads_a_protection_reason_as_at_least_k(tmp_path: Path) -> None:
    """Two States' cases and two alerts of one State: ``kind/case`` is hidden for
    protection, so the audit's interval for it starts at k = 2, never below."""
    out = await _write(tmp_path, [(1, "case"), (2, "case"), (3, "alert"), (3, "alert")])
    report = audit_folder([out], "AFR")
    cells = [c for c in report.cells if c.table == "digest/AFR/2026-05"]
    protected = [c for c in cells if c.cell == "kind/case"]
    assert protected, [(c.cell, c.lower, c.upper) for c in cells]
    assert all(c.lower >= 2 for c in protected)
