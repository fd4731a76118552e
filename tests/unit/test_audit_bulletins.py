"""Bulletins in the audit (DESIGN §13 ⚑): a bulletin's facts are a case every reader knows,
and the release rule's fast check "does the audit still hold with this candidate"."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

import pytest
from typer.testing import CliRunner

from dief.audit import (
    BulletinAudit,
    OwnCase,
    audit_baseline,
    audit_folder,
    bulletin_case,
    check_bulletin,
    check_publication,
    known_cases,
    load_bulletins,
    load_reader,
)
from dief.cli import app
from dief.exceptions import ConfigurationError
from tests.unit.test_audit import _write_digest

if TYPE_CHECKING:
    from pathlib import Path

    from dief.audit import AuditReport, ReaderView


def _facts(stage: str, *, bulletin_id: str = "a" * 32, action: str = "publish") -> dict[str, Any]:
    return {
        "bulletin_id": bulletin_id,
        "action": action,
        "kind": "alert",
        "item_categories": ["small_arms"],
        "end_user_type": None,
        "transfer_stage": stage,
        "methods": [],
        "route_regions": ["AFR", "WEOG"],
        "risk_indicators": [],
        "month": "2025-10",
        "lesson": None,
    }


def _folder(tmp_path: Path) -> Path:
    # October: 8 cases, a = 3 published, b and c hidden (b + c = 5, each at least 1:
    # b in [1, 4]); k = 2
    out = tmp_path / "out"
    _write_digest(out, "2025-10", 8, {"transfer_stage": [("a", 3), ("b", None), ("c", None)]})
    return out


def _b(report: AuditReport) -> tuple[int, int | None]:
    (cell,) = [c for c in report.suppressed if c.cell == "transfer_stage/b"]
    return cell.lower, cell.upper


def _case(stage: str) -> OwnCase:
    case = bulletin_case(_facts(stage), "AFR")
    assert case is not None
    return case


def test_a_bulletin_is_a_case_of_its_region_and_month() -> None:
    case = _case("b")
    assert (case.region, case.month, case.red) == ("AFR", "2025-10", False)
    assert ("transfer_stage", "b") in case.values
    assert ("item_category", "small_arms") in case.values
    assert ("kind", "alert") in case.values
    assert case.related_regions == ("WEOG",)
    assert bulletin_case(_facts("b", action="retract"), "AFR") is None


def test_the_board_file_is_read_without_retracted_bulletins(tmp_path: Path) -> None:
    rows = [
        {"region": "AFR", "issued_hour": "2025-10-02T10:00Z", "entry": _facts("b")},
        {
            "region": "AFR",
            "issued_hour": "2025-10-02T10:00Z",
            "entry": _facts("c", bulletin_id="c" * 32),
        },
    ]
    path = tmp_path / "bulletins.json"
    path.write_text(json.dumps({"live": rows, "retracted": ["c" * 32]}), encoding="utf-8")
    (case,) = load_bulletins(path)
    assert ("transfer_stage", "b") in case.values


def test_bulletins_narrow_what_a_reader_can_tell(tmp_path: Path) -> None:
    out = _folder(tmp_path)
    assert _b(audit_folder(out, "AFR")) == (1, 4)
    report = audit_folder(out, "AFR", bulletins=[_case("b")] * 3)
    assert _b(report) == (3, 4)
    assert report.narrowed
    assert _b(audit_folder(out, "AFR", bulletins=[_case("b")] * 4)) == (4, 4)


def test_a_bulletin_the_reader_posted_is_not_counted_twice() -> None:
    own = OwnCase(
        "AFR", "2025-10", red=False, values=(*_case("b").values, ("confidence", "confirmed"))
    )
    assert known_cases([own], [_case("b")]) == (own,)
    assert known_cases([own], [_case("c")]) == (own, _case("c"))


def test_the_check_answers_by_bounds_when_nothing_moves(tmp_path: Path) -> None:
    view = load_reader([_folder(tmp_path)], "AFR")
    base = audit_baseline(view)
    for stage in ("a", "b", "c"):  # published, or a hidden cell at least 1 already
        result = check_bulletin(base, _case(stage))
        assert (result.holds, result.by) == (True, "bounds")


def test_the_check_refuses_a_bulletin_that_narrows_a_cell(tmp_path: Path) -> None:
    view = load_reader([_folder(tmp_path)], "AFR")
    base = audit_baseline(view, [_case("b")] * 2)  # b in [2, 4]: protected
    result = check_bulletin(base, _case("b"))  # b in [3, 4]: narrowed below k = 2
    assert (result.holds, result.by) == (False, "lp")
    assert ("digest/AFR/2025-10", "transfer_stage/b") in result.cells
    ok = check_bulletin(audit_baseline(view, [_case("b")]), _case("b"))  # [2, 4]
    assert (ok.holds, ok.by) == (True, "lp")


async def test_the_release_seam_asks_the_audit(tmp_path: Path) -> None:
    view = load_reader([_folder(tmp_path)], "AFR")
    released: list[OwnCase] = [_case("b")] * 2

    async def documents(region: str) -> ReaderView:
        assert region == "AFR"
        return view

    async def known(region: str) -> list[OwnCase]:
        return list(released)

    check = BulletinAudit(documents, known)
    assert await check.holds_with("AFR", "CSP12", _facts("a"))
    assert not await check.holds_with("AFR", "CSP12", _facts("b"))
    assert check.last is not None
    assert check.last.by == "lp"
    assert await check.holds_with("AFR", "CSP12", _facts("b", action="retract"))


@pytest.mark.parametrize(("bulletins", "code"), [(0, 0), (4, 1)])
def test_the_cli_reads_the_bulletins(tmp_path: Path, bulletins: int, code: int) -> None:
    out = _folder(tmp_path)
    rows = [
        {
            "region": "AFR",
            "issued_hour": "2025-10-02T10:00Z",
            "entry": _facts("b", bulletin_id=f"{n:032x}"),
        }
        for n in range(bulletins)
    ]
    path = tmp_path / "board.json"
    path.write_text(json.dumps({"live": rows, "retracted": []}), encoding="utf-8")
    result = CliRunner().invoke(
        app, ["audit", str(out), "--region", "AFR", "--bulletins", str(path)]
    )
    assert result.exit_code == code, result.output


def test_an_lp_over_budget_is_deferred(tmp_path: Path) -> None:
    view = load_reader([_folder(tmp_path)], "AFR")
    base = audit_baseline(view, [_case("b")] * 2)
    result = check_bulletin(base, _case("b"), max_lp=0)
    assert (result.holds, result.by) == (False, "deferred")
    assert check_bulletin(base, _case("a"), max_lp=0).holds  # touches no reported cell


def test_a_publication_that_pins_a_cell_fails_and_names_it(tmp_path: Path) -> None:
    # October's total hidden: a = 3 published, b and c hidden (each at least 1); published
    # at 5, b + c = 2 pins both at 1; at 8, b is in [1, 4] (k = 2: not exposed); at 3 the
    # documents contradict it (b + c would be 0)
    out = tmp_path / "out"
    stages = {"transfer_stage": [("a", 3), ("b", None), ("c", None)]}
    _write_digest(out, "2025-10", None, stages)
    # a table the total does not reach (its b is pinned at 1 already): not this check's
    _write_digest(out, "2025-11", 4, {"transfer_stage": [("a", 2), ("b", None), ("c", None)]})
    base = audit_baseline(load_reader([out], "AFR"))
    total = (("digest", "AFR", "2025-10"), "_total")
    unsafe = check_publication(base, {total: 5})
    assert (unsafe.holds, unsafe.by) == (False, "lp")
    assert set(unsafe.cells) == {
        ("digest/AFR/2025-10", "transfer_stage/b"),
        ("digest/AFR/2025-10", "transfer_stage/c"),
    }
    safe = check_publication(base, {total: 8})
    assert (safe.holds, safe.by, safe.cells) == (True, "lp", ())
    assert check_publication(base, {total: 3}).by == "contradiction"
    # b published with the total: c is 8 - 3 - 1
    both = check_publication(base, {total: 8, (total[0], "transfer_stage/b"): 1})
    assert both.cells == (("digest/AFR/2025-10", "transfer_stage/c"),)
    with pytest.raises(ConfigurationError, match="does not publish"):
        check_publication(base, {(total[0], "transfer_stage/a"): 3})  # published already


def test_a_publication_that_determines_a_cell_narrowed_already_fails(tmp_path: Path) -> None:
    # a and b hidden to protect another cell (each at least k = 2), a + b = 5: each in
    # [2, 3], narrower than k already; publishing a at 2 determines b at 3
    out = tmp_path / "out"
    _write_digest(out, "2025-10", 5, {"transfer_stage": [("a", None), ("b", None)]})
    path = out / "digests" / "AFR" / "2025-10.json"
    doc = json.loads(path.read_text(encoding="utf-8"))
    for cell in doc["dimensions"]["transfer_stage"]:
        cell["reason"] = "protection"
    path.write_text(json.dumps(doc), encoding="utf-8")
    base = audit_baseline(load_reader([out], "AFR"))
    check = check_publication(base, {(("digest", "AFR", "2025-10"), "transfer_stage/a"): 2})
    assert (check.holds, check.cells) == (False, (("digest/AFR/2025-10", "transfer_stage/b"),))
