"""`dief audit --verdicts-only`: the same verdicts as the exact audit, wide intervals left open."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

from typer.testing import CliRunner

from dief.cli import app

if TYPE_CHECKING:
    from pathlib import Path


def _digest(out: Path, total: int, stages: list[tuple[str, int | None]]) -> None:
    cells = [
        {"value": v, "count": c, "suppressed": c is None, "reason": None if c else "contributors"}
        for v, c in stages
    ]
    doc = {
        "region": "AFR",
        "period": "CSP12",
        "k": 2,
        "totals": {"cases": total, "contributors": None, "suppressed": 0},
        "dimensions": {"transfer_stage": cells},
        "checklist": [],
        "notes": {},
    }
    path = out / "digests" / "AFR" / "CSP12.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(doc), encoding="utf-8")


def _run(folder: Path, *extra: str) -> tuple[int, dict[str, Any]]:
    result = CliRunner().invoke(app, ["audit", str(folder), "--region", "AFR", "--json", *extra])
    (report,) = json.loads(result.stdout)
    return result.exit_code, report


def _uppers(report: dict[str, Any]) -> dict[str, int | None]:
    return {c["cell"]: c["upper"] for c in report["cells"] if c["role"] == "suppressed"}


def test_verdicts_only_finds_the_determined_cell_the_exact_audit_finds(tmp_path: Path) -> None:
    _digest(tmp_path, 5, [("pre_transfer", 3), ("stockpile", None)])
    exact_code, exact = _run(tmp_path)
    quick_code, quick = _run(tmp_path, "--verdicts-only")
    assert exact_code == quick_code == 1
    assert exact["summary"] == quick["summary"]
    assert quick["summary"] == {
        "suppressed": 1,
        "determined": 1,
        "narrowed": 0,
        "red_isolated": 0,
        "leaks": True,
    }


def test_verdicts_only_leaves_a_wide_interval_open(tmp_path: Path) -> None:
    # 40 cases, 3 published: each hidden stage holds at least one case, so at most 36
    _digest(tmp_path, 40, [("pre_transfer", 3), ("stockpile", None), ("at_import", None)])
    exact_code, exact = _run(tmp_path)
    quick_code, quick = _run(tmp_path, "--verdicts-only")
    assert exact_code == quick_code == 0
    assert exact["summary"] == quick["summary"]
    assert _uppers(exact) == {"transfer_stage/stockpile": 36, "transfer_stage/at_import": 36}
    assert _uppers(quick) == {"transfer_stage/stockpile": None, "transfer_stage/at_import": None}
