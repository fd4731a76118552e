"""The independent disclosure audit (dief.audit) on small hand-made documents and systems."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

import numpy as np
import pytest
from typer.testing import CliRunner

from dief.audit import (
    OwnCase,
    SystemBuilder,
    UtilityCell,
    audit_folder,
    intervals,
    published_share,
    rank_determined,
)
from dief.cli import app

if TYPE_CHECKING:
    from pathlib import Path

    from dief.audit import AuditReport, CellAudit

Cells = dict[str, list[tuple[str, int | None]]]


def _cells(dims: Cells) -> dict[str, list[dict[str, Any]]]:
    return {
        dim: [{"value": v, "count": n, "suppressed": n is None} for v, n in cells]
        for dim, cells in dims.items()
    }


def _write_digest(out: Path, period: str, total: int | None, dims: Cells, k: int = 2) -> None:
    doc = {
        "region": "AFR",
        "period": period,
        "k": k,
        "totals": {"cases": total, "contributors": None, "suppressed": 0},
        "dimensions": _cells(dims),
        "checklist": [],
        "notes": {},
    }
    path = out / "digests" / "AFR" / f"{period}.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(doc), encoding="utf-8")


def _write_summary(out: Path, cycle: str, regions: dict[str, tuple[int | None, Cells]]) -> None:
    table = {r: {"totals": {"cases": t}, "dimensions": _cells(d)} for r, (t, d) in regions.items()}
    doc = {"cycle": cycle, "from": "2025-09", "to": "2026-08", "k": 3, "regions": table}
    doc["global"] = table.pop("global")
    path = out / "summary" / f"{cycle}.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(doc), encoding="utf-8")


def _stage(report: AuditReport, value: str) -> CellAudit:
    (cell,) = [c for c in report.suppressed if c.cell == f"transfer_stage/{value}"]
    return cell


def test_a_cell_recoverable_by_subtraction_is_determined(tmp_path: Path) -> None:
    stages: Cells = {"transfer_stage": [("pre_transfer", 3), ("stockpile", None)]}
    _write_digest(tmp_path, "CSP12", 5, stages)
    report = audit_folder(tmp_path, "AFR")
    cell = _stage(report, "stockpile")
    assert (cell.lower, cell.upper) == (2, 2)
    assert cell.determined
    assert cell.by_rank
    assert report.leaks
    assert report.documents[0].determined == 1


def test_a_safe_pattern_is_not_determined(tmp_path: Path) -> None:
    stages: Cells = {
        "transfer_stage": [("pre_transfer", 3), ("stockpile", None), ("at_import", None)]
    }
    _write_digest(tmp_path, "CSP12", 10, stages)
    report = audit_folder(tmp_path, "AFR")
    for value in ("stockpile", "at_import"):
        cell = _stage(report, value)
        assert (cell.lower, cell.upper) == (1, 6)  # listed: at least one each
        assert not cell.determined
        assert not cell.by_rank
        assert not cell.narrowed
    assert not report.leaks


def test_the_at_least_one_bound_narrows_what_rank_cannot(tmp_path: Path) -> None:
    # 4 = pre + two hidden cells; each listed cell counts >= 1, so neither is pinned, but
    # the pair of hidden cells sums to 2: both are exactly 1 (LP finds it, SVD does not)
    stages: Cells = {
        "transfer_stage": [("pre_transfer", 2), ("stockpile", None), ("at_import", None)]
    }
    _write_digest(tmp_path, "CSP12", 4, stages)
    report = audit_folder(tmp_path, "AFR")
    cell = _stage(report, "stockpile")
    assert cell.determined
    assert not cell.by_rank


def test_non_negativity_narrows() -> None:
    b = SystemBuilder()
    x, y, z = (b.var((0, ("digest", "AFR", "CSP12"), n), role="suppressed") for n in "xyz")
    b.equal({x: 1.0, y: 1.0})  # x + y = 0 with x, y >= 0: both 0
    b.equal({x: 1.0, z: -1.0}, 0.0)
    system = b.freeze()
    found = intervals(system, [x, y, z])
    assert all((found[j].lower, found[j].upper) == (0, 0) for j in (x, y, z))
    assert rank_determined(system, [x, y, z]) == set()  # the equalities alone pin nothing
    free = SystemBuilder()
    u, v = (free.var((0, ("digest", "AFR", "CSP12"), n), role="suppressed") for n in "uv")
    free.equal({u: 1.0, v: -1.0}, 0.0)  # u = v: nothing bounds them above
    assert intervals(free.freeze(), [u])[u].upper is None


def test_own_cases_narrow(tmp_path: Path) -> None:
    stages: Cells = {
        "transfer_stage": [("pre_transfer", 3), ("stockpile", None), ("at_import", None)],
        "kind": [("case", 10)],
    }
    _write_digest(tmp_path, "CSP12", 10, stages)
    before = audit_folder(tmp_path, "AFR")
    mine = [
        OwnCase(
            "AFR", "2025-10", red=False, values=(("kind", "case"), ("transfer_stage", "stockpile"))
        )
    ] * 5
    after = audit_folder(tmp_path, "AFR", own=mine)
    assert (_stage(before, "stockpile").lower, _stage(before, "stockpile").upper) == (1, 6)
    assert (_stage(after, "stockpile").lower, _stage(after, "stockpile").upper) == (5, 6)
    assert (_stage(after, "at_import").lower, _stage(after, "at_import").upper) == (1, 2)
    assert _stage(after, "at_import").narrowed  # two values left, fewer than k = 2 apart
    assert not _stage(before, "at_import").narrowed
    assert not audit_folder(tmp_path, "AFR", own=mine, level=1).narrowed


def test_digest_and_summary_together_determine_what_neither_does(tmp_path: Path) -> None:
    # the issue's first attack in miniature: the digest hides at_import beside stockpile,
    # the summary publishes at_import and hides in_transit; no TLP:RED case, so the totals
    # agree and the red counts are 0
    _write_digest(
        tmp_path,
        "CSP12",
        25,
        {
            "transfer_stage": [
                ("pre_transfer", 8),
                ("post_delivery", 8),
                ("in_transit", 5),
                ("at_import", None),
                ("stockpile", None),
            ]
        },
    )
    summary: Cells = {
        "transfer_stage": [
            ("pre_transfer", 8),
            ("post_delivery", 8),
            ("at_import", 3),
            ("in_transit", None),
            ("stockpile", None),
        ]
    }
    _write_summary(tmp_path, "CSP12", {"AFR": (25, summary), "global": (25, summary)})
    report = audit_folder(tmp_path, "AFR")
    stockpile = [c for c in report.determined if c.cell == "transfer_stage/stockpile"]
    assert {c.table for c in stockpile} >= {"digest/AFR/CSP12", "summary/AFR/CSP12"}
    assert {c.lower for c in stockpile} == {1}


def test_months_sum_to_their_quarter(tmp_path: Path) -> None:
    _write_digest(tmp_path, "2025-10", None, {"kind": [("case", None)]})
    _write_digest(tmp_path, "2025-11", 4, {"kind": [("case", 4)]})
    _write_digest(tmp_path, "2025-Q4", 5, {"kind": [("case", 5)]})
    report = audit_folder(tmp_path, "AFR")
    assert {(c.table, c.cell, c.lower) for c in report.determined} == {
        ("digest/AFR/2025-10", "_total", 1),
        ("digest/AFR/2025-10", "kind/case", 1),
    }


def test_published_share_counts_facts_per_document_type() -> None:
    shares = published_share(
        [
            UtilityCell("digest-month", 3, published=True),
            UtilityCell("digest-month", 1, published=False),
            UtilityCell("digest-month", 4, published=True, total=True),
            UtilityCell("summary-region", 2, published=False),
        ]
    )
    month = shares["digest-month"]
    assert (month.facts, month.published_facts, month.share) == (4, 3, 0.75)
    assert (month.totals, month.published_totals) == (1, 1)
    assert shares["summary-region"].share == 0.0  # noqa: RUF069  an exact ratio: none of its facts published


def test_the_cli_exits_1_when_a_cell_is_determined(tmp_path: Path) -> None:
    leaky, safe = tmp_path / "leaky", tmp_path / "safe"
    _write_digest(leaky, "CSP12", 5, {"transfer_stage": [("pre_transfer", 3), ("stockpile", None)]})
    _write_digest(
        safe,
        "CSP12",
        10,
        {"transfer_stage": [("pre_transfer", 3), ("stockpile", None), ("at_import", None)]},
    )
    runner = CliRunner()
    result = runner.invoke(app, ["audit", str(leaky), "--region", "AFR", "--json"])
    assert result.exit_code == 1, result.output
    (data,) = json.loads(result.stdout)
    assert data["summary"]["determined"] == 1
    assert runner.invoke(app, ["audit", str(safe), "--region", "AFR"]).exit_code == 0
    missing = runner.invoke(app, ["audit", str(tmp_path / "nothing"), "--region", "AFR"])
    assert missing.exit_code == 1


@pytest.mark.parametrize("seed", range(5))
def test_what_rank_determines_lp_determines_and_the_truth_fits(seed: int) -> None:
    rng = np.random.default_rng(seed)
    truth = rng.integers(0, 6, size=8)
    b = SystemBuilder()
    names = [b.var((0, ("digest", "AFR", "CSP12"), f"c{i}"), role="suppressed") for i in range(8)]
    for _ in range(6):
        picked = [int(p) for p in rng.choice(8, size=int(rng.integers(1, 4)), replace=False)]
        b.equal({names[p]: 1.0 for p in picked}, float(sum(truth[p] for p in picked)))
    system = b.freeze()
    found = intervals(system, names)
    by_rank = rank_determined(system, names)
    assert by_rank <= {j for j in names if found[j].width == 0}
    for j in names:
        upper = found[j].upper
        assert found[j].lower <= truth[j]
        assert upper is None or truth[j] <= upper
    assert by_rank, "six random sums over eight cells pin some cell"


def _two_issues(tmp_path: Path, versions: tuple[object, object]) -> AuditReport:
    # both issues: October total 6, a = 3 published, b and c hidden (b + c = 3); issue 2's
    # quarter publishes b = 1. Linked, issue 1's b is 1 too; but a revision between the
    # issues may have moved a case from b to c, and the reader cannot see that
    one, two = tmp_path / "one", tmp_path / "two"
    stages: Cells = {"transfer_stage": [("a", 3), ("b", None), ("c", None)]}
    _write_digest(one, "2025-10", 6, stages)
    _write_digest(two, "2025-10", 6, stages)
    _write_digest(two, "2025-Q4", 6, {"transfer_stage": [("a", 3), ("b", 1), ("c", None)]})
    for folder, version in zip((one, two), versions, strict=True):
        path = folder / "digests" / "AFR" / "2025-10.json"
        doc = json.loads(path.read_text(encoding="utf-8"))
        doc["notes"]["data_version"] = version
        path.write_text(json.dumps(doc), encoding="utf-8")
    return audit_folder([one, two], "AFR")


def _issue1_b(report: AuditReport) -> CellAudit:
    (cell,) = [
        c
        for c in report.suppressed
        if c.issue == "issue1" and c.table.endswith("2025-10") and c.cell.endswith("/b")
    ]
    return cell


def test_issues_are_not_linked_on_unchanged_published_figures(tmp_path: Path) -> None:
    # the published figures of October are the same in both issues, yet its hidden cells
    # may differ: issue 1's b stays what issue 1 alone says (1 or 2)
    b = _issue1_b(_two_issues(tmp_path, (None, None)))
    assert (b.lower, b.upper) == (1, 2)


def test_issues_stating_the_same_data_version_are_linked(tmp_path: Path) -> None:
    b = _issue1_b(_two_issues(tmp_path / "same", ("7", "7")))
    assert (b.lower, b.upper) == (1, 1)
    b = _issue1_b(_two_issues(tmp_path / "other", ("7", "8")))
    assert (b.lower, b.upper) == (1, 2)


def test_a_cell_listed_again_may_count_zero(tmp_path: Path) -> None:
    # a re-issue keeps a cell listed (suppressed) that lost its cases: no ">= 1" for it
    one, two = tmp_path / "one", tmp_path / "two"
    _write_digest(one, "2025-10", 4, {"transfer_stage": [("a", 2), ("b", None), ("c", None)]})
    _write_digest(two, "2025-10", 4, {"transfer_stage": [("a", 2), ("b", None), ("c", None)]})
    report = audit_folder([one, two], "AFR")
    b2 = [c for c in report.suppressed if c.issue == "issue2" and c.cell.endswith("/b")]
    assert len(b2) == 1
    assert (b2[0].lower, b2[0].upper) == (0, 2)
    b1 = [c for c in report.suppressed if c.issue == "issue1" and c.cell.endswith("/b")]
    assert len(b1) == 1
    assert b1[0].determined  # the first issue: both listed, so 1 and 1
