"""The audit reads grouped cells (`(other)`, issue #15) and half-cycle periods as a reader
does: hand-made documents, no suppression code.

A grouped cell of a dimension counts the table's cases under every vocabulary value the
table does not list (docs/audit.md): ``(other) = sum of the unlisted values``, each >= 0.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

from dief.audit import OwnCase, audit_folder, folder_utility, load_reader
from dief.audit._vocab import vocabulary

if TYPE_CHECKING:
    from pathlib import Path

    from dief.audit import AuditReport, CellAudit

Cell = tuple[str, int | None]
Cells = dict[str, list[Cell]]
OTHER = "(other)"


def _dims(dims: Cells) -> dict[str, list[dict[str, Any]]]:
    out: dict[str, list[dict[str, Any]]] = {}
    for dim, cells in dims.items():
        out[dim] = []
        for value, n in cells:
            cell: dict[str, Any] = {"value": value, "count": n, "suppressed": n is None}
            if value == OTHER:
                cell["grouped"] = True
            out[dim].append(cell)
    return out


def _digest(out: Path, period: str, total: int | None, dims: Cells, **notes: object) -> None:
    doc = {
        "region": "AFR",
        "period": period,
        "k": 2,
        "totals": {"cases": total, "contributors": None, "suppressed": total is None},
        "dimensions": _dims(dims),
        "checklist": [],
        "notes": notes,
    }
    path = out / "digests" / "AFR" / f"{period}.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(doc), encoding="utf-8")


def _cell(report: AuditReport, table: str, cell: str) -> CellAudit:
    (found,) = [c for c in report.suppressed if c.table.endswith(table) and c.cell == cell]
    return found


def test_the_vocabularies_are_the_case_models() -> None:
    stages = vocabulary("transfer_stage")
    assert stages is not None
    assert {"pre_transfer", "stockpile", "at_import"} <= stages
    indicators = vocabulary("risk_indicator")
    assert indicators is not None
    assert "DOC-01" in indicators
    assert OTHER not in stages
    assert vocabulary("no_such_dimension") is None


def test_a_grouped_cell_is_read_as_the_sum_of_the_values_not_listed(tmp_path: Path) -> None:
    _digest(tmp_path, "2025-10", 4, {"transfer_stage": [("pre_transfer", 2), (OTHER, 2)]})
    (issue,) = load_reader([tmp_path], "AFR").issues
    table = issue.tables["digest", "AFR", "2025-10"]
    assert table.grouped == frozenset({"transfer_stage"})
    assert table.state(f"transfer_stage/{OTHER}") == "published"
    assert table.state("transfer_stage/stockpile") == "unlisted"  # >= 0, in the group
    assert table.state("transfer_stage/pre_transfer") == "published"


def _quarter_and_october(tmp_path: Path, other: int) -> AuditReport:
    # the quarter hides stockpile and at_import (together 3 + other); November lists at_import 3
    # and nothing grouped, so its stockpile is 0; October groups its rare stages in
    # (other). The quarter's stockpile (>= 1, listed) is October's, inside (other)
    _digest(
        tmp_path,
        "2025-Q4",
        5 + other,
        {"transfer_stage": [("pre_transfer", 2), ("stockpile", None), ("at_import", None)]},
    )
    _digest(
        tmp_path, "2025-10", 2 + other, {"transfer_stage": [("pre_transfer", 2), (OTHER, other)]}
    )
    _digest(tmp_path, "2025-11", 3, {"transfer_stage": [("at_import", 3)]})
    return audit_folder(tmp_path, "AFR")


def test_other_and_the_total_pin_a_hidden_cell(tmp_path: Path) -> None:
    # October's (other) is 1: October holds at most one stockpile case, the quarter at
    # least one, so the quarter's stockpile is 1 and its at_import 3
    report = _quarter_and_october(tmp_path, other=1)
    stockpile = _cell(report, "2025-Q4", "transfer_stage/stockpile")
    assert (stockpile.lower, stockpile.upper) == (1, 1)
    assert stockpile.determined
    assert report.leaks


def test_other_that_pins_nothing_is_not_reported(tmp_path: Path) -> None:
    # October's (other) is 2: its stockpile is 1 or 2 (the rest at_import or in_transit)
    report = _quarter_and_october(tmp_path, other=2)
    stockpile = _cell(report, "2025-Q4", "transfer_stage/stockpile")
    assert (stockpile.lower, stockpile.upper) == (1, 2)
    assert not report.determined
    assert not report.leaks


def test_a_suppressed_grouped_cell_is_an_unknown_of_at_least_one(tmp_path: Path) -> None:
    # October: total 5 = pre_transfer 3 + at_import (hidden) + (other) (hidden); each is
    # listed, so at least 1, and together 2: both are 1
    _digest(
        tmp_path,
        "2025-10",
        5,
        {"transfer_stage": [("pre_transfer", 3), ("at_import", None), (OTHER, None)]},
    )
    report = audit_folder(tmp_path, "AFR")
    other = _cell(report, "2025-10", f"transfer_stage/{OTHER}")
    assert (other.lower, other.upper) == (1, 1)
    assert report.leaks


def test_a_multi_valued_grouped_cell_may_exceed_the_total(tmp_path: Path) -> None:
    # one case with two rare methods: (other) = 2 > total = 1; the quarter hides its
    # falsified_documents cell, which October's (other) may or may not hold
    _digest(tmp_path, "2025-10", 1, {"method": [(OTHER, 2)]})
    _digest(tmp_path, "2025-11", 3, {"method": [("shell_company", 3)]})
    _digest(
        tmp_path,
        "2025-Q4",
        4,
        {"method": [("shell_company", 3), ("falsified_documents", None), ("corruption", None)]},
    )
    report = audit_folder(tmp_path, "AFR")
    falsified = _cell(report, "2025-Q4", "method/falsified_documents")
    assert (falsified.lower, falsified.upper) == (1, 1)  # a value counts a case at most once
    assert not [n for n in report.notes if "retried" in n], report.notes


def test_unnamed_values_are_bounded_by_their_number(tmp_path: Path) -> None:
    # every method but one is listed: (other) is that one method's count, which the reader
    # cannot name but which counts a case at most once: at most the total (a grouped cell of
    # a dimension with several values per case may exceed the total, this one may not)
    methods = sorted(vocabulary("method") or ())
    listed: list[Cell] = [(m, 1) for m in methods[:-1]]
    _digest(tmp_path, "2025-10", 2, {"method": [*listed, (OTHER, None)]})
    report = audit_folder(tmp_path, "AFR")
    other = _cell(report, "2025-10", f"method/{OTHER}")
    assert (other.lower, other.upper) == (1, 2)


def test_own_cases_in_a_group_bound_it(tmp_path: Path) -> None:
    _digest(
        tmp_path,
        "2025-10",
        6,
        {"transfer_stage": [("pre_transfer", 2), ("at_import", None), (OTHER, None)]},
    )
    mine = [OwnCase("AFR", "2025-10", red=False, values=(("transfer_stage", "stockpile"),))] * 2
    report = audit_folder(tmp_path, "AFR", own=mine)
    other = _cell(report, "2025-10", f"transfer_stage/{OTHER}")
    assert (other.lower, other.upper) == (2, 3)


def test_utility_counts_facts_of_unlisted_values_in_the_grouped_cell(tmp_path: Path) -> None:
    _digest(tmp_path, "2025-10", 3, {"transfer_stage": [("pre_transfer", 2), (OTHER, 1)]})
    cases = [
        OwnCase("AFR", "2025-10", red=False, values=(("transfer_stage", "pre_transfer"),)),
        OwnCase("AFR", "2025-10", red=False, values=(("transfer_stage", "pre_transfer"),)),
        OwnCase("AFR", "2025-10", red=False, values=(("transfer_stage", "stockpile"),)),
    ]
    month = folder_utility(tmp_path, cases, ["AFR"])["digest-month"]
    assert (month.facts, month.published_facts) == (3, 3)


def test_a_value_a_grouped_cell_holds_is_reported_when_computed(tmp_path: Path) -> None:
    # October groups its one stockpile case in (other); the quarter publishes stockpile 1
    # and November lists its stages without it: October's stockpile is 1, a value below k
    # the grouped cell was to hide
    _digest(tmp_path, "2025-10", 3, {"transfer_stage": [("pre_transfer", 2), (OTHER, 1)]})
    _digest(tmp_path, "2025-11", 2, {"transfer_stage": [("pre_transfer", 2)]})
    _digest(
        tmp_path,
        "2025-Q4",
        5,
        {"transfer_stage": [("pre_transfer", 4), ("stockpile", 1)]},
    )
    report = audit_folder(tmp_path, "AFR")
    (found,) = report.determined
    assert (found.role, found.table, found.cell, found.lower) == (
        "grouped",
        "digest/AFR/2025-10",
        "transfer_stage/stockpile",
        1,
    )
    assert found.documents == ("digests/AFR/2025-10.json",)
    assert report.leaks
    # a value computed at 0 exposes no one: the unnamed stages here are 0 in every table
    assert all(c.lower >= 1 for c in report.determined)
