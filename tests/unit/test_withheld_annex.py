"""The CSV data annex says a dimension is withheld, as the pages do (#15, docs/documents.md
"The CSV data annex"; ``dief.disclosure._withheld``).

Without it the annex of a digest that withholds a dimension simply had no row of it: a
reader of the CSV alone could not tell a withheld dimension from one without data. The
annex now has one row for it, ``status`` ``withheld``, the pages' sentence as its
``value_label``, no value and no figure.
"""

from __future__ import annotations

import csv
import io
from typing import TYPE_CHECKING

from dief.digests import WITHHELD_DIMENSION_TEXT
from dief.disclosure import _withheld
from dief.render import ANNEX_COLUMNS
from tests.unit.test_route_tables_utility import STAGE
from tests.unit.test_withheld_dimensions import MONTH, STAGES, _digest, _write

if TYPE_CHECKING:
    from pathlib import Path

    import pytest


def _rows(out: Path) -> list[dict[str, str]]:
    raw = (out / "digests" / "AFR" / f"{MONTH}.csv").read_bytes()
    reader = csv.DictReader(io.StringIO(raw.decode("utf-8-sig"), newline=""))
    assert tuple(reader.fieldnames or ()) == ANNEX_COLUMNS
    return list(reader)


async def test_annex_says_a_dimension_is_withheld(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(_withheld, "WITHHOLD_BY_DEFAULT", True)
    out = await _write(tmp_path)
    assert _digest(out, MONTH).totals.cases == len(STAGES)
    rows = [r for r in _rows(out) if r["dimension"] == STAGE]
    assert len(rows) == 1, "one row says the dimension is withheld"
    (row,) = rows
    assert row["status"] == "withheld"
    assert row["value_label"] == WITHHELD_DIMENSION_TEXT.format(k=2)
    assert row["dimension_label"]
    assert row["value"] == row["count"] == row["contributors"] == row["share"] == ""
    assert row["trend"] == ""
    assert all(r["value"] not in STAGES for r in _rows(out)), "no withheld value is named"


async def test_annex_without_withholding_has_no_withheld_row(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(_withheld, "WITHHOLD_BY_DEFAULT", False)  # whatever the default
    out = await _write(tmp_path)
    rows = _rows(out)
    assert {r["status"] for r in rows} <= {"published", "hidden"}
    assert {r["value"] for r in rows if r["dimension"] == STAGE} == set(STAGES)
