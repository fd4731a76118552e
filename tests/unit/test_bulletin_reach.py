"""The release check (``check_bulletin``) when a candidate bulletin's only link to a
suppressed cell is a checklist window's total or a summary row (issue #15, left from
session 5): the candidate raises the least value of its own region's cells, and the cell
it would pin is in another table, reached only through the window's sum over its quarters
or through the global summary row's sum over the regions. Refused where it would pin (or
narrow below the level) that cell, allowed where it would not.

Each document set below is built so that the candidate's own cells are hidden (a
published one would make it change nothing) and the cell at stake is in a table the
candidate does not count in."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING

import pytest

from dief.audit import OwnCase, audit_baseline, bulletin_case, check_bulletin, load_reader
from tests.unit.test_audit import Cells, _cells, _write_summary

if TYPE_CHECKING:
    from pathlib import Path

    from dief.audit import AuditBaseline


def _bulletin(month: str, stage: str = "b") -> OwnCase:
    case = bulletin_case(
        {
            "action": "publish",
            "kind": "alert",
            "item_categories": [],
            "transfer_stage": stage,
            "methods": [],
            "route_regions": [],
            "risk_indicators": [],
            "month": month,
        },
        "AFR",
    )
    assert case is not None
    return case


def _digest(out: Path, period: str, dims: Cells, notes: dict[str, object]) -> None:
    """An AFR digest of *period* whose total is hidden, with *notes* and a checklist."""
    checklist = notes.pop("checklist", [])
    doc = {
        "region": "AFR",
        "period": period,
        "k": 2,
        "totals": {"cases": None, "contributors": None, "suppressed": 1},
        "dimensions": _cells(dims),
        "checklist": checklist,
        "notes": notes,
    }
    path = out / "digests" / "AFR" / f"{period}.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(doc), encoding="utf-8")


# ------------------------------------------------------------------ checklist window


def _window_folder(tmp_path: Path) -> Path:
    """2025-Q1 and 2025-Q4 digests, both totals hidden (no dimension listed); 2025-Q4's
    checklist counts over 2025-Q1…Q4 and publishes an indicator of 6 cases at prevalence
    0.5: the window's total is 12, so Q1 + Q4 = 12 (Q2 and Q3 have no digest: no cases).
    A bulletin of 2025-10 counts in Q4 only; Q1's total is reached only through the
    window's total."""
    out = tmp_path / "window"
    window = ["2025-Q1", "2025-Q2", "2025-Q3", "2025-Q4"]
    _digest(out, "2025-Q1", {}, {})
    entry = {"id": "r1", "question": "?", "count": 6, "prevalence": 0.5, "trend": "stable"}
    _digest(out, "2025-Q4", {}, {"checklist_window": window, "checklist": [entry]})
    return out


def _window_base(tmp_path: Path, released: int) -> AuditBaseline:
    view = load_reader([_window_folder(tmp_path)], "AFR")
    return audit_baseline(view, [_bulletin("2025-10")] * released)


def test_a_bulletin_pinning_a_total_through_the_window_is_refused(tmp_path: Path) -> None:
    # 9 released: Q4 in [9, 11], Q1 in [1, 3]; a 10th: Q1 in [1, 2], below k = 2 wide
    result = check_bulletin(_window_base(tmp_path, 9), _bulletin("2025-10"))
    assert (result.holds, result.by) == (False, "lp")
    assert ("digest/AFR/2025-Q1", "_total") in result.cells


def test_a_bulletin_leaving_the_windows_cells_wide_is_allowed(tmp_path: Path) -> None:
    # 8 released: Q1 in [1, 4]; a 9th: Q1 in [1, 3], Q4 in [9, 11]: still k = 2 wide
    result = check_bulletin(_window_base(tmp_path, 8), _bulletin("2025-10"))
    assert (result.holds, result.by) == (True, "lp")


# ------------------------------------------------------------------ summary rows


def _summary_folder(tmp_path: Path) -> Path:
    """The CSP12 summary (k 3): AFR's row (12 cases: a 2, b and c hidden) and EEG's (9
    cases: a 3, b and c hidden), the global row publishing every stage (a 5, b 10, c 6).
    With x = AFR's b: AFR c = 10 - x, EEG b = 10 - x, EEG c = x - 4, so x in [5, 9]. The
    reader of AFR holds AFR's cycle digest with every cell hidden: a bulletin of AFR
    counts there and in AFR's row, and EEG's row is reached only through the global
    row."""
    out = tmp_path / "summary"
    rows: dict[str, tuple[int | None, Cells]] = {
        "AFR": (12, {"transfer_stage": [("a", 2), ("b", None), ("c", None)]}),
        "EEG": (9, {"transfer_stage": [("a", 3), ("b", None), ("c", None)]}),
        "global": (21, {"transfer_stage": [("a", 5), ("b", 10), ("c", 6)]}),
    }
    _write_summary(out, "CSP12", rows)
    # its meeting's cycle digest, every cell hidden (the row plus TLP:RED cases, each >= 0)
    _digest(out, "CSP12", {"transfer_stage": [("a", None), ("b", None), ("c", None)]}, {})
    return out


def _summary_base(tmp_path: Path, released: int) -> AuditBaseline:
    view = load_reader([_summary_folder(tmp_path)], "AFR")
    return audit_baseline(view, [_bulletin("2025-10")] * released)


@pytest.mark.parametrize(("released", "holds"), [(5, True), (6, False)])
def test_a_bulletin_reaching_another_regions_row_through_the_global_row(
    tmp_path: Path, released: int, holds: bool
) -> None:
    """5 released: x in [5, 9] (width 4), a 6th makes [6, 9] (3: k_csp wide, allowed);
    6 released: a 7th makes [7, 9] and EEG's b and c 2 wide, below k_csp = 3: refused."""
    result = check_bulletin(_summary_base(tmp_path, released), _bulletin("2025-10"))
    assert (result.holds, result.by) == (holds, "lp")
    if not holds:
        assert ("summary/EEG/CSP12", "transfer_stage/b") in result.cells
        assert ("summary/EEG/CSP12", "transfer_stage/c") in result.cells
