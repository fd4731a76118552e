"""A row cell a region requires hidden in a re-issue of a summary that published it at the
same count is protected in that re-issue (#15, session 22).

Since session 22 a region's requirement names every row cell its pattern suppressed, also
one it hid again after an earlier summary published it (its cycle's data changed, so no
reader links the two issues: docs/digests.md, "The requirement names every row cell the
pattern suppressed"). The summary's own checks take a cell the earlier issue published at
its count as known (``Earlier.unchanged``), so they do not protect it; the check against
every region's meeting (``reader_pick``: another region's meeting reads AFR's row as any
reader does) does. This test pins that: the row's total less its published stages, or
the global cell less EEG's, would give the cell.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from dief.aggregator.store import CaseStore
from dief.catalogue import load_catalogue
from dief.database import sqlite_url
from dief.disclosure import RowRequirement
from dief.secretariat import build_summary
from tests.unit.reporting_support import make_facts
from tests.unit.test_audit_data_version import COMMON  # every value but the stage

if TYPE_CHECKING:
    from pathlib import Path

    from dief.wire import CspSummary

MONTH = "2025-10"  # CSP12
STAGE = "transfer_stage"


def _cells(summary: CspSummary, table: str) -> dict[str, int | None]:
    data = summary.model_dump(mode="json", by_alias=True)
    row = data["global"] if table == "global" else data["regions"][table]
    out: dict[str, int | None] = {"_total": row["totals"]["cases"]}
    out.update((c["value"], c["count"]) for c in row["dimensions"].get(STAGE, []))
    return out


async def test_a_required_cell_published_before_is_protected_in_the_reissue(
    tmp_path: Path,
) -> None:
    catalogue = load_catalogue()
    stages = ["in_transit"] * 3 + ["at_import"] * 3 + ["stockpile"] * 3
    regions = ["AFR", "EEG"]
    async with CaseStore(sqlite_url(tmp_path / "cases.db")) as store:
        for region, first_node in (("AFR", 0), ("EEG", 20)):
            facts = [
                make_facts(
                    region=region,
                    month=MONTH,
                    node=first_node + i,
                    values=(*COMMON, (STAGE, stage)),
                )
                for i, stage in enumerate(stages)
            ]
            await store.apply_batch(region, facts)
        first = await build_summary(store, "CSP12", k=3, catalogue=catalogue, regions=regions)
        assert _cells(first, "AFR") == {
            "_total": 9, "in_transit": 3, "at_import": 3, "stockpile": 3,
        }  # fmt: skip
        # new cases in both regions (their cycle's data change: no reader links the two
        # issues); AFR's pattern now needs its row's in_transit hidden, at the same count,
        # which its own meeting knows (RowRequirement.known)
        for region, node, stage in (("AFR", 9, "stockpile"), ("EEG", 29, "in_transit")):
            late = make_facts(
                region=region, month=MONTH, node=node, values=(*COMMON, (STAGE, stage))
            )
            await store.apply_batch(region, [late])
        cell = frozenset({(STAGE, "in_transit")})
        need = RowRequirement("CSP12", hidden=cell, known=cell)
        again = await build_summary(
            store, "CSP12", k=3, catalogue=catalogue, regions=regions,
            previous=first, rows={"AFR": need},
        )  # fmt: skip
    row, other, world = _cells(again, "AFR"), _cells(again, "EEG"), _cells(again, "global")
    assert row["in_transit"] is None
    rest = [v for k, v in row.items() if k not in {"_total", "in_transit"}]
    assert row["_total"] is None or None in rest
    assert world["in_transit"] is None or other["in_transit"] is None
