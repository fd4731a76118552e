"""A region's own summary cell, hidden by the Secretariat, pinned by its digest (#15, found
by the audit in session 9 on the realistic forum: ``summary/AFR/CSP13``
``actor_role/state_official`` = 3).

A region's cycle digest (its meeting's, ``k_meeting``, TLP:RED counted) publishes a cell at
``k_csp`` cases from ``k_csp`` States. The CSP summary's row cell of the same cases (red
excluded) is then at most that digest cell. If the Secretariat hides the row cell to protect
another region's cell, the cell states ``protection``, so it counts at least ``k_csp``
(docs/digests.md "A hidden cell's reason is a bound"): the meeting pins it at ``k_csp``,
and learns that none of those cases is TLP:RED. The cell protected nothing for that
meeting: the Secretariat could have hidden another cell (the global one) instead.

The region now names such row cells in its requirement (``RowRequirement.pinned``): cells
its meeting would compute if the summary hid them. The Secretariat takes them last
(``protect(..., reserve=)``).
"""

from __future__ import annotations

import dataclasses
from typing import TYPE_CHECKING

from dief.aggregator.store import CaseStore
from dief.audit import audit_folder
from dief.catalogue import load_catalogue
from dief.database import sqlite_url
from dief.digests import SummaryRow
from dief.disclosure import GLOBAL, RowRequirement
from dief.render import write_outputs
from dief.secretariat import summary_tables
from tests.unit.test_route_summary_attack import (
    CELLS,
    CYCLE,
    IMPORT,
    K_CSP,
    OTHER,
    READER,
    SENDER,
    TRANSIT,
)
from tests.unit.test_route_tables_utility import _facts

if TYPE_CHECKING:
    from pathlib import Path

    from dief.aggregator import CaseFacts


def _case(node: int, region: str, month: str, method: str) -> CaseFacts:
    facts = _facts(node, month)
    values = tuple(sorted((d, method if d == "method" else v) for d, v in facts.values))
    return dataclasses.replace(facts, region=region, values=values)


#: AFR: three cases of three States in one month, all alike (every cell 3 of 3 States, so
#: published in the meeting's digest at k_meeting = 2, and in the summary at k_csp = 3).
#: EEG: four States; one of them alone reports ``falsified_documents``, so the global
#: ``method/falsified_documents`` (AFR 3 + EEG 1, three States at most in one domain) would
#: give EEG's single State away beside AFR's published 3: the summary hides a partner, AFR's
#: cell (3) or the global one (4).
AFR = [_case(n, "AFR", "2026-05", "falsified_documents") for n in (1, 2, 3)]
EEG = [
    *(_case(n, "EEG", "2026-05", "concealment") for n in (11, 12, 13)),
    _case(14, "EEG", "2026-05", "falsified_documents"),
]


async def _write(folder: Path) -> Path:
    async with CaseStore(sqlite_url(folder / "forum.db")) as store:
        await store.apply_batch("AFR", AFR)
        await store.apply_batch("EEG", EEG)
        await write_outputs(
            folder / "out",
            store,
            regions=["AFR", "EEG"],
            catalogue=load_catalogue(),
            html=False,
            docx=False,
        )
    return folder / "out"


async def test_the_summary_hides_no_row_cell_its_region_pins(tmp_path: Path) -> None:
    out = await _write(tmp_path)
    for region in ("AFR", "EEG"):
        report = audit_folder([out], region, verdicts_only=True)
        determined = sorted((c.table, c.cell, c.lower) for c in report.determined)
        assert determined == [], region


def test_the_requirement_carries_the_pinned_cells_and_old_payloads_are_unchanged() -> None:
    need = RowRequirement("CSP12", pinned=frozenset({("method", "falsified_documents")}))
    row = SummaryRow.of(need)
    assert row.requirement("CSP12") == need
    assert SummaryRow.model_validate_json(row.model_dump_json()) == row
    # a requirement without pinned cells serialises as before the field existed
    assert "pinned" not in SummaryRow.of(RowRequirement("CSP12")).model_dump_json()


def test_the_secretariat_protects_with_other_cells_before_a_pinned_one() -> None:
    """``tests/unit/test_route_summary_attack.py``'s cycle: APG's ``in_transit`` is one
    State's. The Secretariat hid AFR's two stage cells to protect it from EEG's meeting
    (which knows its own row), until session 19 found that this pinned it for AFR's
    meeting (which knows AFR's row: 9 - 5 = APG's + EEG's, EEG's hidden "to protect
    another" counts at least 3). Now the global cells protect it, and named pinned by AFR,
    AFR's cells stay published all the more."""
    regions = [SENDER, OTHER, READER]
    rows = {r: RowRequirement(CYCLE) for r in regions}
    before = summary_tables(CELLS, regions, k=K_CSP, rows=rows).protection.suppressed
    assert not {key for key in before if key[0] == SENDER}
    assert {(GLOBAL, *TRANSIT), (GLOBAL, *IMPORT), (OTHER, *TRANSIT)} <= before
    rows[SENDER] = RowRequirement(CYCLE, pinned=frozenset({TRANSIT, IMPORT}))
    after = summary_tables(CELLS, regions, k=K_CSP, rows=rows).protection.suppressed
    assert not {key for key in after if key[0] == SENDER}
    assert {(GLOBAL, *TRANSIT), (GLOBAL, *IMPORT), (OTHER, *TRANSIT)} <= after
