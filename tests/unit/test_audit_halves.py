"""The audit reads half-cycle digests (``CSP12-H1``: the cycle's first six months, the period
"since the last meeting", issue #15) as a reader does: hand-made documents."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING

from dief.audit import OwnCase, audit_folder, folder_utility
from dief.audit._periods import cycle_halves, half_months, previous_period
from tests.unit.test_audit_grouped import Cells, _digest

if TYPE_CHECKING:
    from pathlib import Path

    from dief.audit import AuditReport, CellAudit


def _cell(report: AuditReport, table: str, cell: str) -> CellAudit:
    (found,) = [c for c in report.suppressed if c.table.endswith(table) and c.cell == cell]
    return found


def test_half_cycle_periods() -> None:
    assert half_months("CSP12-H1", 9) == [f"2025-{m}" for m in ("09", "10", "11", "12")] + [
        "2026-01",
        "2026-02",
    ]
    assert half_months("CSP12-H2", 9)[0] == "2026-03"
    assert half_months("CSP12-H2", 9)[-1] == "2026-08"
    assert cycle_halves("CSP12") == ["CSP12-H1", "CSP12-H2"]
    assert previous_period("CSP12-H1") == "CSP11-H2"
    assert previous_period("CSP12-H2") == "CSP12-H1"
    assert previous_period("CSP1-H1") is None


def test_a_half_is_the_sum_of_its_months(tmp_path: Path) -> None:
    _digest(tmp_path, "2025-09", None, {"kind": [("case", None)]})
    _digest(tmp_path, "2025-10", 4, {"kind": [("case", 4)]})
    _digest(tmp_path, "2026-03", 2, {"kind": [("case", 2)]})  # H2: not in the sum
    _digest(tmp_path, "CSP12-H2", 2, {"kind": [("case", 2)]})
    _digest(tmp_path, "CSP12-H1", 5, {"kind": [("case", 5)]})
    report = audit_folder(tmp_path, "AFR")
    assert {(c.table, c.cell, c.lower) for c in report.determined} == {
        ("digest/AFR/2025-09", "_total", 1),
        ("digest/AFR/2025-09", "kind/case", 1),
    }


def test_a_cycle_is_the_sum_of_its_halves(tmp_path: Path) -> None:
    stages: Cells = {
        "transfer_stage": [("pre_transfer", 2), ("stockpile", None), ("at_import", None)]
    }
    _digest(tmp_path, "CSP12-H1", 6, stages)
    _digest(tmp_path, "CSP12-H2", 3, {"transfer_stage": [("pre_transfer", 3)]})
    _digest(
        tmp_path,
        "CSP12",
        9,
        {"transfer_stage": [("pre_transfer", 5), ("stockpile", 3), ("at_import", 1)]},
    )
    report = audit_folder(tmp_path, "AFR")
    stockpile = _cell(report, "CSP12-H1", "transfer_stage/stockpile")
    assert (stockpile.lower, stockpile.upper) == (3, 3)
    assert report.leaks


def test_a_halfs_previous_is_the_previous_half(tmp_path: Path) -> None:
    _digest(tmp_path, "CSP11-H2", None, {"kind": [("case", None)]})
    path = tmp_path / "digests" / "AFR" / "CSP12-H1.json"
    _digest(tmp_path, "CSP12-H1", 3, {"kind": [("case", 3)]})
    doc = json.loads(path.read_text(encoding="utf-8"))
    doc["dimensions"]["kind"][0]["previous"] = 4
    path.write_text(json.dumps(doc), encoding="utf-8")
    report = audit_folder(tmp_path, "AFR")
    assert {(c.table, c.cell, c.lower) for c in report.determined} >= {
        ("digest/AFR/CSP11-H2", "_total", 4)  # its only kind's count, which H1 states
    }


def test_a_half_is_not_split_against_the_cycles_summary(tmp_path: Path) -> None:
    # a half's digest counts fewer cases than the cycle's summary row: no contradiction
    _digest(tmp_path, "CSP12-H1", 2, {"kind": [("case", None)]})
    _digest(tmp_path, "CSP12-H2", 7, {"kind": [("case", 7)]})
    _digest(tmp_path, "CSP12", 9, {"kind": [("case", 9)]})
    summary = {
        "cycle": "CSP12",
        "from": "2025-09",
        "to": "2026-08",
        "k": 3,
        "regions": {"AFR": {"totals": {"cases": 9}, "dimensions": {}}},
        "global": {"totals": {"cases": 9}, "dimensions": {}},
    }
    (tmp_path / "summary").mkdir()
    (tmp_path / "summary" / "CSP12.json").write_text(json.dumps(summary))
    report = audit_folder(tmp_path, "AFR")
    assert not [n for n in report.notes if "retried" in n], report.notes
    case = _cell(report, "CSP12-H1", "kind/case")
    assert (case.lower, case.upper) == (2, 2)  # the only kind: the total


def test_own_cases_count_in_their_half(tmp_path: Path) -> None:
    stages: Cells = {"transfer_stage": [("stockpile", None), ("at_import", None)]}
    _digest(tmp_path, "CSP12-H1", 5, stages)
    mine = [OwnCase("AFR", "2026-01", red=False, values=(("transfer_stage", "stockpile"),))] * 4
    report = audit_folder(tmp_path, "AFR", own=mine)
    stockpile = _cell(report, "CSP12-H1", "transfer_stage/stockpile")
    assert (stockpile.lower, stockpile.upper) == (4, 4)
    utility = folder_utility(tmp_path, mine, ["AFR"])
    assert utility["digest-half"].facts == 4
