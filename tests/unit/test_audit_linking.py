"""Issues linked by an equal ``data_version`` (docs/audit.md "Issue linking"): a cell one
issue hides and a linked issue publishes is reported, at its published count."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING

from dief.audit import AuditReport, audit_folder
from tests.unit.test_audit_grouped import _digest

if TYPE_CHECKING:
    from pathlib import Path


def _stages(stockpile: int | None) -> dict[str, list[tuple[str, int | None]]]:
    return {"transfer_stage": [("pre_transfer", 3), ("stockpile", stockpile), ("at_import", None)]}


def test_a_cell_hidden_then_published_in_a_linked_issue_is_determined(tmp_path: Path) -> None:
    one, two = tmp_path / "one", tmp_path / "two"
    _digest(one, "2025-10", 6, _stages(None), data_version="v1")
    _digest(two, "2025-10", 6, _stages(2), data_version="v1")
    report = audit_folder([one, two], "AFR")
    found = {(c.issue, c.cell): (c.lower, c.upper) for c in report.determined}
    assert found["issue1", "transfer_stage/stockpile"] == (2, 2)
    assert report.leaks


def test_a_cell_hidden_then_published_after_a_change_is_not(tmp_path: Path) -> None:
    one, two = tmp_path / "one", tmp_path / "two"
    _digest(one, "2025-10", 6, _stages(None), data_version="v1")
    _digest(two, "2025-10", 6, _stages(2), data_version="v2")
    report = audit_folder([one, two], "AFR")
    assert not [c for c in report.determined if c.issue == "issue1"]
    path = two / "digests" / "AFR" / "2025-10.json"
    doc = json.loads(path.read_text(encoding="utf-8"))
    del doc["notes"]["data_version"]
    path.write_text(json.dumps(doc), encoding="utf-8")
    assert not [c for c in audit_folder([one, two], "AFR").determined if c.issue == "issue1"]


def test_verdicts_only_gives_the_same_verdicts_faster(tmp_path: Path) -> None:
    # a wide table (a hidden cell free over 0..8) beside narrow ones
    stages = {"transfer_stage": [("pre_transfer", 2), ("stockpile", None), ("at_import", None)]}
    _digest(tmp_path, "2025-10", 12, stages)
    _digest(
        tmp_path,
        "2025-11",
        4,
        {"transfer_stage": [("pre_transfer", 2), ("stockpile", None), ("in_transit", None)]},
    )
    _digest(
        tmp_path,
        "2025-Q4",
        16,
        {
            "transfer_stage": [
                ("pre_transfer", 4),
                ("stockpile", None),
                ("at_import", None),
                ("in_transit", 1),
            ]
        },
    )
    exact = audit_folder(tmp_path, "AFR")
    quick = audit_folder(tmp_path, "AFR", verdicts_only=True)

    def verdicts(report: AuditReport) -> set[tuple[str, str, str, int]]:
        cells = report.cells
        return {
            (c.table, c.cell, "d" if c.determined else "n" if c.narrowed else "-", c.lower)
            for c in cells
        }

    assert verdicts(quick) == verdicts(exact)
    assert {c.cell for c in exact.determined} == {c.cell for c in quick.determined}
    assert any(c.upper is None for c in quick.cells)  # wide ones left open above
    assert all(c.upper is not None for c in exact.cells)
