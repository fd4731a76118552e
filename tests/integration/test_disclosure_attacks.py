"""The differencing attacks of issue #15, through the real store and the real output writer,
judged by the independent audit (dief.audit: LP with HiGHS, and the SVD rank attacker).

A reader of one region holds its meeting digests (k_meeting = 2, TLP:RED counted) and the
public CSP summaries (k_csp = 3, TLP:RED excluded). Protected document by document, the two
together give cells away; these tests say they must not. They failed on the code before
joint protection (``write_outputs(joint=False)`` still protects document by document).
They run on the default tables (months by total, half-cycles, docs/digests.md), whatever
they are: the audit reads what a reader holds.
"""

from __future__ import annotations

import json
import random
from typing import TYPE_CHECKING, Any

import pytest
from hypothesis import HealthCheck, Phase, example, given, settings
from hypothesis import strategies as st

from dief.aggregator.store import CaseStore
from dief.audit import audit_folder
from dief.catalogue import load_catalogue
from dief.database import sqlite_url
from dief.disclosure import _pattern
from dief.render import write_outputs
from tests.unit.reporting_support import History, make_facts

if TYPE_CHECKING:
    from collections.abc import AsyncIterator, Mapping
    from pathlib import Path

    from dief.aggregator import CaseFacts

CATALOGUE = load_catalogue()
MONTH = "2025-10"  # CSP12, 2025-Q4
COMMON = (
    ("kind", "case"),
    ("confidence", "suspected"),
    ("end_user_type", "unknown"),
    ("detection_source", "customs_border_control"),
    ("item_category", "small_arms"),
)


@pytest.fixture
async def store(tmp_path: Path) -> AsyncIterator[CaseStore]:
    async with CaseStore(sqlite_url(tmp_path / "cases.db")) as s:
        yield s


def _case(
    node: int, stage: str, *, tlp: str = "green", extra: tuple[tuple[str, str], ...] = ()
) -> CaseFacts:
    values = (*COMMON, ("transfer_stage", stage), *extra)
    return make_facts(region="AFR", month=MONTH, node=node, values=values, tlp=tlp)


async def _publish(store: CaseStore, out: Path, *, months_by_total: bool | None = None) -> None:
    """The region's documents; *months_by_total* None: the default tables."""
    options: dict[str, Any] = (
        {} if months_by_total is None else {"months_by_total": months_by_total}
    )
    await write_outputs(
        out,
        store,
        regions=["AFR"],
        k_meeting=2,
        k_csp=3,
        catalogue=CATALOGUE,
        html=False,
        docx=False,
        **options,
    )


async def test_digest_beside_summary_recovers_no_single_contributor_cell(
    store: CaseStore, tmp_path: Path
) -> None:
    # 25 cases: the stockpile cell has one contributor. The digest (k=2) hides at_import,
    # its smallest published partner; the summary (k=3) publishes at_import (3
    # contributors) and hides in_transit (2 contributors). Together, stockpile is 25 less
    # pre_transfer, post_delivery, the digest's in_transit and the summary's at_import
    cases = [
        *(_case(n % 4, "pre_transfer") for n in range(8)),
        *(_case(n % 4, "post_delivery") for n in range(8)),
        *(_case(4 + n % 2, "in_transit") for n in range(5)),
        *(_case(6 + n, "at_import") for n in range(3)),
        _case(9, "stockpile"),
    ]
    await store.apply_batch("AFR", cases)
    out = tmp_path / "out"
    await _publish(store, out)
    report = audit_folder(out, "AFR")
    stockpile = [c for c in report.suppressed if c.cell == "transfer_stage/stockpile"]
    assert stockpile, "the single-contributor cell is listed suppressed"
    assert [c for c in stockpile if c.determined] == []
    # today: the summary hides in_transit (2 contributors), the digest publishes it (5)
    assert not report.determined
    assert not [c for c in stockpile if c.by_rank]


async def test_digest_beside_summary_isolates_no_red_case(store: CaseStore, tmp_path: Path) -> None:
    # 10 cases, one TLP:RED: the digest's total is 10, the summary's 9. Every cell both
    # publish differs by that one case's values: its categorical profile
    cases = [
        *(
            _case(n % 5, "pre_transfer", extra=(("method", "falsified_documents"),))
            for n in range(9)
        ),
        _case(7, "pre_transfer", tlp="red", extra=(("method", "falsified_documents"),)),
    ]
    await store.apply_batch("AFR", cases)
    out = tmp_path / "out"
    await _publish(store, out)
    report = audit_folder(out, "AFR")
    assert report.red_isolated == ()
    assert not report.leaks


def _history(seed: int) -> History:
    rng = random.Random(seed)
    months = [f"2025-{m:02d}" for m in range(7, 13)] + ["2026-01", "2026-02", "2026-03"]
    return History("AFR", rng, months, nodes=5)


async def _two_issues(
    base: Path, seed: int, first: int, later: int, *, months_by_total: bool | None = None
) -> None:
    history = _history(seed)
    async with CaseStore(sqlite_url(base / "cases.db")) as s:
        await s.apply_batch("AFR", history.batch(first))
        await _publish(s, base / "issue1", months_by_total=months_by_total)
        await s.apply_batch("AFR", history.batch(later))
        await _publish(s, base / "issue2", months_by_total=months_by_total)


def _cells(digest: Mapping[str, Any]) -> dict[tuple[str, str], int | None]:
    out: dict[tuple[str, str], int | None] = {("_total", "_all"): digest["totals"]["cases"]}
    for dimension, cells in digest["dimensions"].items():
        out.update(((dimension, c["value"]), c["count"]) for c in cells)
    return out


def _hidden_again(issue1: Path, issue2: Path) -> list[tuple[str, str, str]]:
    """The cells issue 1 published that issue 2 hides in a digest stating the same
    ``data_version`` (the same cases: the reader links them, docs/audit.md)."""
    found: list[tuple[str, str, str]] = []
    for path in sorted((issue2 / "digests" / "AFR").glob("*.json")):
        before = issue1 / "digests" / "AFR" / path.name
        if not before.exists():
            continue
        old, new = json.loads(before.read_text()), json.loads(path.read_text())
        version = old["notes"].get("data_version")
        if version is None or version != new["notes"].get("data_version"):
            continue
        now = _cells(new)
        found.extend(
            (path.stem, *cell)
            for cell, count in _cells(old).items()
            if count is not None and now.get(cell) is None
        )
    return found


# months by total leaked here at 6b09be4 (seed 3005, 22 then 5 cases; issue 1: CSP12-H1
# publishes transport_mode/sea 3 and CSP12-H2 lists transport_mode without sea, so CSP12's
# hidden sea was 3; 40 cells so, in CSP12 and 2025-Q4); fixed by the pattern's listed zeros
# (a value a quarter, half or cycle does not list: its months' cells sum to 0; HA)


@pytest.mark.slow
@pytest.mark.parametrize(
    "months_by_total",
    [None, True],  # None: the default tables, whatever they are
)
async def test_the_halves_give_no_cycle_cell_away(
    tmp_path: Path, months_by_total: bool | None
) -> None:
    """The history on which the two-issue attack found a leak once halves were published
    (kept as a fixed case), with the default tables and with months by total."""
    await _two_issues(tmp_path, 3005, 22, 5, months_by_total=months_by_total)
    report = audit_folder([tmp_path / "issue1", tmp_path / "issue2"], "AFR", verdicts_only=True)
    assert report.determined == ()


@pytest.mark.slow
@pytest.mark.parametrize(
    ("seed", "first", "later", "plan"), [(9999, 15, 19, False), (8538, 27, 11, True)]
)
async def test_months_by_total_gives_no_cell_away_across_issues(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, seed: int, first: int, later: int, plan: bool
) -> None:
    """Months by total (opt-in; with the totals plan on the second history) on the two
    histories where a reader of both issues computed a hidden cell (session 12):
    ``digest/AFR/2026-02`` ``_total`` = 2 (seed 9999), ``digest/AFR/2025-08``
    ``kind/alert`` = 2 (seed 8538). Issue 1 published each; issue 2 hid it again, to stop
    a leak its check on both issues found, in a period whose data had not changed: the
    reader links the two digests by their ``data_version`` and reads it off issue 1. The
    re-issue now never hides again a cell of an unchanged table (docs/audit.md, "Cells of
    unchanged tables")."""
    monkeypatch.setattr(_pattern, "PLAN_TOTALS", plan)
    await _two_issues(tmp_path, seed, first, later, months_by_total=True)
    assert _hidden_again(tmp_path / "issue1", tmp_path / "issue2") == []
    report = audit_folder([tmp_path / "issue1", tmp_path / "issue2"], "AFR", verdicts_only=True)
    assert [c for c in report.suppressed if c.by_rank] == [], "the rank attacker"
    assert report.determined == (), "the LP audit"


@pytest.mark.slow
async def test_seed_182_gives_no_digest_cell_away(tmp_path: Path) -> None:
    """A history the two-issue attack drew at 00348a1 (seed 182, 28 then 17 cases): the
    rank attacker and the LP audit both determined ``digest/AFR/2026-02``
    ``item_category/attack_helicopters``. Issue 1 published it (2, 2 contributors); issue 2
    hid it (reason protection) while ``2026-Q1`` published 2 and January and March listed
    ``item_category`` without the value (0): February = 2 in issue 2 alone. A revision had
    moved a December case to October (each month 1, hidden), and the pattern hid the
    quarter, half and cycle again, published at the same counts, then February. A re-issue
    now keeps such cells published (docs/audit.md, "Cells published earlier")."""
    await _two_issues(tmp_path, 182, 28, 17)
    report = audit_folder([tmp_path / "issue1", tmp_path / "issue2"], "AFR", verdicts_only=True)
    assert [c for c in report.suppressed if c.by_rank] == []
    assert report.determined == ()


@pytest.mark.slow
async def test_seed_1334_a_reranked_choice_gives_no_cell_away_across_issues(
    tmp_path: Path,
) -> None:
    """A history on which a choice among reserved cells (HM's ranking, session 4, applied
    to re-issues too) was safe in each issue alone but not across both (seed 1334, 26 then
    6 cases): ``digest/AFR/2025-11`` ``transport_mode/unknown`` was pinned at 1."""
    await _two_issues(tmp_path, 1334, 26, 6)
    report = audit_folder([tmp_path / "issue1", tmp_path / "issue2"], "AFR", verdicts_only=True)
    assert [c for c in report.suppressed if c.by_rank] == [], "the rank attacker"
    assert report.determined == (), "the LP audit"


@pytest.mark.slow
@settings(
    # each example about 25 s on a busy 2-core machine (two issues built, then the audit's
    # verdicts, as strong as its intervals but without the wide cells' upper ends)
    max_examples=3,
    # the same three generated histories on every run: a random draw must not fail an
    # unrelated change's CI; new histories are explored by changing this seed's examples
    # deliberately, not by chance
    derandomize=True,
    deadline=None,
    phases=(Phase.explicit, Phase.reuse, Phase.generate),  # no shrinking: a failure is enough
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(seed=st.integers(0, 10_000), first=st.integers(15, 40), later=st.integers(5, 20))
# the audit once linked these issues on unchanged published figures while a hidden cell had
# changed (revisions), and "determined" a count that was not the true one (docs/audit.md)
@example(seed=8538, first=27, later=11)
@example(seed=680, first=16, later=6)
async def test_no_cell_follows_from_every_document_of_several_issues(
    tmp_path_factory: pytest.TempPathFactory, seed: int, first: int, later: int
) -> None:
    """Every digest, route table and summary of two issues (a batch of cases, then more),
    as one reader holds them: neither the LP audit nor the rank attacker determines a
    suppressed cell, and no TLP:RED case's profile is isolated."""
    base = tmp_path_factory.mktemp("issues")
    await _two_issues(base, seed, first, later)
    assert _hidden_again(base / "issue1", base / "issue2") == []
    report = audit_folder([base / "issue1", base / "issue2"], "AFR", verdicts_only=True)
    assert [c for c in report.suppressed if c.by_rank] == [], "the rank attacker"
    assert report.determined == (), "the LP audit"
    assert report.red_isolated == ()
