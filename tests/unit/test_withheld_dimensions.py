"""A dimension whose every value was reported by fewer than k States is withheld (#15,
docs/digests.md "Tables designed for the data"; ``dief.disclosure._withheld``).

The attack: a month of three cases from two States, each case at another transfer stage.
Its total has two contributors, each stage one. Listed, even suppressed, each stage counts
at least one case, and three of them sum to the published total of 3: each is pinned to 1
(the audit determines them), so the pattern had to hide the total. Withheld, the digest
lists no stage and says why, the cells are unknowns at least 0 in the sums, and the total
is published with nothing determined.

Withholding is opt-in (``WITHHOLD_BY_DEFAULT``; on and off again in #15's seventh session,
docs/digests.md says why); these tests set it either way, so they hold whatever the default.
They write full months (``months_by_total=False``): the attack is a month's table, which
months by total (the default since session 13) does not list at all.
"""

from __future__ import annotations

import dataclasses
import json
from typing import TYPE_CHECKING

import pytest

from dief.aggregator import TOTAL
from dief.aggregator.store import CaseStore
from dief.audit import audit_folder
from dief.catalogue import load_catalogue
from dief.database import sqlite_url
from dief.digests import WITHHELD_DIMENSION_TEXT, WITHHELD_NOTE, withheld_dimensions
from dief.disclosure import Tally, _withheld
from dief.disclosure._withheld import withheld_dimensions as disclosure_withheld
from dief.render import render_digest_html, render_digest_markdown, write_outputs
from dief.vocab import Dimension
from dief.wire import Digest
from tests.unit.test_route_tables_utility import STAGE, _facts

if TYPE_CHECKING:
    from pathlib import Path

    from dief.aggregator import CaseFacts

MONTH = "2025-10"
STAGES = ("pre_transfer", "in_transit", "at_import")


def _month() -> list[CaseFacts]:
    """Three cases of one month: two from State 1, one from State 2, each at its stage;
    and a busier month after it (three States, every case in transit), so the cycle's
    summary row has k_csp contributors."""
    out = [_facts(node, "2025-11") for node in (1, 2, 3, 1, 2, 3)]
    for node, stage in zip((1, 1, 2), STAGES, strict=True):
        facts = _facts(node, MONTH)
        values = tuple(sorted((d, stage if d == STAGE else v) for d, v in facts.values))
        out.append(dataclasses.replace(facts, values=values))
    return out


async def _write(folder: Path) -> Path:
    async with CaseStore(sqlite_url(folder / "afr.db")) as store:
        await store.apply_batch("AFR", _month())
        await write_outputs(
            folder / "out",
            store,
            regions=["AFR"],
            catalogue=load_catalogue(),
            html=False,
            docx=False,
            months_by_total=False,
        )
    return folder / "out"


def _digest(out: Path, period: str) -> Digest:
    return Digest.model_validate_json((out / "digests" / "AFR" / f"{period}.json").read_bytes())


def _determined(out: Path) -> list[tuple[str, str]]:
    report = audit_folder([out], "AFR", verdicts_only=True)
    return sorted({(c.table, c.cell) for c in report.determined})


@pytest.fixture
def withhold(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(_withheld, "WITHHOLD_BY_DEFAULT", True)


@pytest.fixture
def listing(monkeypatch: pytest.MonkeyPatch) -> None:
    """Withholding off: every value listed (the attack's "before")."""
    monkeypatch.setattr(_withheld, "WITHHOLD_BY_DEFAULT", False)


@pytest.mark.usefixtures("listing")
async def test_listed_stages_beside_the_total_are_pinned(tmp_path: Path) -> None:
    """Without withholding: the listed stages would pin each other under the total, so the
    total (with two States) is hidden; the audit finds nothing determined."""
    out = await _write(tmp_path)
    digest = _digest(out, MONTH)
    assert digest.totals.cases is None
    assert digest.totals.reason == "protection"
    assert {c.value for c in digest.dimensions[Dimension.TRANSFER_STAGE]} == set(STAGES)
    assert _determined(out) == []


@pytest.mark.usefixtures("withhold")
async def test_a_withheld_dimension_publishes_the_total_and_pins_nothing(tmp_path: Path) -> None:
    out = await _write(tmp_path)
    digest = _digest(out, MONTH)
    assert digest.totals.cases == len(STAGES)  # the total is published
    assert Dimension.TRANSFER_STAGE not in digest.dimensions
    assert withheld_dimensions(digest) == {Dimension.TRANSFER_STAGE}
    assert WITHHELD_NOTE.format(dimensions=STAGE, k=2) in digest.notes.text
    # a dimension with a value of two States is listed
    assert digest.dimensions[Dimension.TRANSPORT_MODE][0].count == len(STAGES)
    assert _determined(out) == []


@pytest.mark.usefixtures("withhold")
async def test_listing_the_withheld_values_would_pin_them(tmp_path: Path) -> None:
    """The attack on the same documents: list the withheld stages as suppressed cells (what
    a digest did before) beside the published total, and the audit pins each to 1."""
    out = await _write(tmp_path)
    assert _determined(out) == []
    path = out / "digests" / "AFR" / f"{MONTH}.json"
    doc = json.loads(path.read_text(encoding="utf-8"))
    cells = [{"value": s, "count": None, "contributors": None, "suppressed": True} for s in STAGES]
    doc["dimensions"][STAGE] = cells
    path.write_text(json.dumps(doc), encoding="utf-8")
    pinned = _determined(out)
    assert (f"digest/AFR/{MONTH}", f"{STAGE}/in_transit") in pinned
    assert {f"{STAGE}/{s}" for s in STAGES} <= {cell for _, cell in pinned}


@pytest.mark.usefixtures("withhold")
async def test_the_pages_say_why_a_dimension_is_withheld(tmp_path: Path) -> None:
    out = await _write(tmp_path)
    digest = _digest(out, MONTH)
    text = WITHHELD_DIMENSION_TEXT.format(k=2)
    markdown = render_digest_markdown(digest)
    assert text in markdown
    assert "pre_transfer" not in markdown  # no withheld value is named
    html = render_digest_html(digest)
    assert f'data-withheld="{STAGE}"' in html
    assert text in html
    assert "pre_transfer" not in html


def test_a_dimension_withheld_before_stays_withheld() -> None:
    """A re-issue keeps a dimension its table's earlier issue did not list unlisted, even
    once a value reaches k (listed now beside the earlier issue's, its values pinned cells
    of both: ``test_disclosure_attacks``' seed 1334, 26 then 6 cases, with withholding on,
    pinned ``2025-10`` ``method/shell_company`` at 1); a table no issue listed yet, or a
    dimension listed before, is judged by its contributors alone."""
    tables = {
        MONTH: {
            TOTAL: Tally(5, 3, ()),
            (STAGE, "in_transit"): Tally(3, 2, ()),
            (STAGE, "at_import"): Tally(2, 1, ()),
            ("kind", "case"): Tally(5, 3, ()),
        }
    }
    stages = ((STAGE, "at_import"), (STAGE, "in_transit"))
    assert disclosure_withheld(tables, k=2, recorded=set()) == {}
    before = {(MONTH, "kind", "case"), (MONTH, *TOTAL)}
    assert disclosure_withheld(tables, k=2, recorded=before) == {(MONTH, STAGE): stages}
    listed = {*before, (MONTH, STAGE, "in_transit")}
    assert disclosure_withheld(tables, k=2, recorded=listed) == {}
