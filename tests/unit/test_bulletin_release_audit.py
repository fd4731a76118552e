"""The release rule's audit half over a folder (DESIGN §13 ⚑): with
``DIEF_BULLETIN_AUDIT_FOLDER`` set, :func:`dief.bulletins.bulletin_audit_check` runs
:class:`dief.audit.BulletinAudit` over the documents in it instead of the aggregator's own
(tests/unit/test_bulletin_own_audit.py) and counts every bulletin the ledger says was let
out as a case every reader knows, so a series of bulletins cannot narrow a protected cell
one by one."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

from dief.aggregator.store._queries import CellRow
from dief.bulletins import BulletinLedger, ContributorRelease, MemoryLedger, bulletin_audit_check
from tests.unit.test_audit import _write_digest

if TYPE_CHECKING:
    from pathlib import Path


def _facts(stage: str, n: int) -> dict[str, Any]:
    return {
        "bulletin_id": f"{n:032x}",
        "action": "publish",
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
    # October: 8 cases, stage a = 3 published, b and c hidden (b + c = 5, each >= 1); k = 2
    out = tmp_path / "out"
    _write_digest(out, "2025-10", 8, {"transfer_stage": [("a", 3), ("b", None), ("c", None)]})
    return out


async def _let_out(ledger: BulletinLedger, facts: dict[str, Any]) -> None:
    """What the collector does with a bulletin the rule let out."""
    await ledger.keep(
        bulletin_id=facts["bulletin_id"],
        region="AFR",
        case_id=f"case-{facts['bulletin_id']}",
        revision=1,
        cycle="CSP12",
        facts=json.dumps(facts),
    )


def test_no_folder_and_no_documents_no_audit_check() -> None:
    assert bulletin_audit_check(None) is None


async def test_bulletins_let_out_count_so_the_third_that_narrows_a_hidden_cell_waits(
    tmp_path: Path,
) -> None:
    ledger = MemoryLedger()
    check = bulletin_audit_check(_folder(tmp_path), ledger=ledger)
    assert check is not None
    for n in (1, 2):  # b in [1, 4], then [2, 4]
        assert await check.holds_with("AFR", "CSP12", _facts("b", n))
        await _let_out(ledger, _facts("b", n))
    # with the two out, a third would put b in [3, 4]: narrower than k = 2
    assert not await check.holds_with("AFR", "CSP12", _facts("b", 3))
    assert await check.holds_with("AFR", "CSP12", _facts("a", 4))  # a was published
    # one let out already is not counted twice when asked about again
    assert await check.holds_with("AFR", "CSP12", _facts("b", 2))
    # a retracted one no longer counts
    await ledger.retract(_facts("b", 1)["bulletin_id"])
    assert await check.holds_with("AFR", "CSP12", _facts("b", 3))


async def test_the_release_rule_asks_the_wired_audit_once_three_contributors_count(
    tmp_path: Path,
) -> None:
    ledger = MemoryLedger()
    check = bulletin_audit_check(_folder(tmp_path), ledger=ledger)

    class _Cells:
        async def cell_rows(self, region: str, periods: list[str], **_: object) -> list[Any]:
            return [CellRow(periods[0], "_total", "_all", periods[0], 8, 5)]

    release = ContributorRelease(_Cells(), audit=check)
    for n in (1, 2):
        assert await release.may_release("AFR", "CSP12", _facts("b", n))
        await _let_out(ledger, _facts("b", n))
    assert not await release.may_release("AFR", "CSP12", _facts("b", 3))
