"""A region's meeting digests issued twice, a month of new cases apart: a stable pattern.

The attacker (``reporting_attack``) holds both issues of every digest of the region (all
periods, as published JSON), knows how they add up, and knows which cells changed between
the issues (equal true counts), not by how much: a cell with the same count in both is
one unknown, known once either issue publishes it. With the earlier issue's record
(``CaseStore.published_suppressions``, :meth:`RegionDigests.record`) it recovers nothing;
with two issues made independently it recovers cells, so the test can fail.
"""

from __future__ import annotations

import dataclasses
import random
import uuid
from typing import TYPE_CHECKING, Any

import pytest

from dief.aggregator.store import CaseStore
from dief.audit import audit_folder
from dief.catalogue import load_catalogue
from dief.database import sqlite_url
from dief.digests import RegionDigests
from dief.disclosure import PeriodCells, merge_rows, window_quarters
from dief.periods import Quarter
from dief.render import dump_json, write_outputs
from dief.vocab import Dimension
from dief.wire import Digest
from tests.unit.reporting_attack import DigestRead, Issue, Name, read_digests, recover
from tests.unit.reporting_support import History, make_facts

if TYPE_CHECKING:
    from collections.abc import AsyncIterator
    from pathlib import Path

    from dief.aggregator import CaseFacts

CATALOGUE = load_catalogue()
MONTHS = [f"2025-{m:02d}" for m in range(3, 13)] + ["2026-01", "2026-02"]
NEW_MONTH = "2026-03"


@pytest.fixture
async def store(tmp_path: Path) -> AsyncIterator[CaseStore]:
    async with CaseStore(sqlite_url(tmp_path / "cases.db")) as s:
        yield s


async def _tallies(store: CaseStore) -> dict[str, PeriodCells]:
    periods = await store.periods_with_data("AFR")
    return merge_rows(await store.cell_rows("AFR", periods, include_red=True))


def _truth(tallies: dict[str, PeriodCells], names: set[Name]) -> dict[Name, int]:
    """The true count of every named cell (periods and checklist windows)."""
    out: dict[Name, int] = {}
    for name in names:
        table, _, rest = str(name).partition("/")
        cell = ("_total", "_all") if rest == "_total" else tuple(rest.split("/", 1))
        if table.startswith("W"):
            quarters = [str(q) for q in window_quarters(Quarter.parse(table[1:]))]
        else:
            quarters = [table]
        found = (tallies.get(q, {}).get((cell[0], cell[-1])) for q in quarters)
        out[name] = sum(t.count for t in found if t is not None)
    return out


async def _issue(store: CaseStore, *, keep: bool) -> tuple[list[Digest], DigestRead]:
    earlier = await store.published_suppressions("AFR") if keep else None
    source = await RegionDigests.load(store, "AFR", k=2, earlier=earlier)
    if keep:
        await source.record(store)
    digests = [
        Digest.model_validate_json(dump_json(source.digest(p, catalogue=CATALOGUE)))
        for p in source.periods
    ]
    read = read_digests(digests)
    truth = _truth(await _tallies(store), set(read.issue.hidden))
    issue = read.issue
    return digests, DigestRead(
        Issue(issue.known, issue.hidden, issue.groups, truth, issue.floor0),
        read.revealed,
        read.unseen,
    )


def _names(read: DigestRead) -> set[Name]:
    return {*read.issue.known, *read.issue.hidden}


async def _two_issues(
    store: CaseStore, seed: int, *, keep: bool, revise: bool = False, guess: bool = True
) -> tuple[set[Name], dict[str, Any]]:
    """History, first issue, a month of new cases, second issue; what the attacker
    recovers from both (*guess* off: without the "every listed cell counts at least one"
    bound, linear algebra only)."""
    rng = random.Random(seed)
    history = History("AFR", rng, MONTHS, nodes=4, red_share=0.1)
    for _ in range(3):
        await store.apply_batch("AFR", history.batch(rng.randint(25, 45)))
    one_digests, one = await _issue(store, keep=keep)
    before = await _tallies(store)
    # a month of new cases (with *revise*, as in a batch: some revisions and withdrawals)
    history.months = [NEW_MONTH]
    size = rng.randint(15, 30)
    batch = history.batch(size) if revise else [history._new() for _ in range(size)]
    await store.apply_batch("AFR", batch)
    two_digests, two = await _issue(store, keep=keep)
    after = await _tallies(store)
    names = _names(one) | _names(two)
    then, now = _truth(before, names), _truth(after, names)
    unchanged = {n for n in names if now[n] > 0 and then[n] == now[n]}
    issues = [one.issue, two.issue]
    if not guess:
        issues = [Issue(i.known, i.hidden, i.groups, {}, i.floor0) for i in issues]
    found = {name for _, name in recover(issues, unchanged)}
    found |= one.revealed | two.revealed
    found -= one.unseen | two.unseen
    hidden_one = {str(n) for n in one.issue.hidden} - {str(n) for n in one.unseen}
    hidden_two = {str(n) for n in two.issue.hidden} - {str(n) for n in two.unseen}
    return found, {
        "unchanged": unchanged,
        "hidden": (hidden_one, hidden_two),
        "digests": (one_digests, two_digests),
        "shown": tuple({str(n) for n in _names(read) - read.unseen} for read in (one, two)),
    }


@pytest.mark.slow
@pytest.mark.parametrize("seed", [3, 4, 5, 6, 8])
async def test_two_issues_of_the_digests_reveal_no_suppressed_cell(
    store: CaseStore, seed: int
) -> None:
    found, seen = await _two_issues(store, seed, keep=True)
    hidden_one, hidden_two = seen["hidden"]
    assert hidden_one, "the data must exercise suppression"
    assert seen["unchanged"], "some cells must be unchanged for the comparison to bite"
    # stability: every cell hidden in the first issue is hidden in the second (a cell that
    # lost every case stays listed, suppressed), or not shown by it at all (a checklist
    # window's case count, seen only through prevalences, none of which it publishes)
    assert hidden_one - hidden_two <= hidden_one - seen["shown"][1]
    assert found == set()


@pytest.mark.slow
async def test_without_the_record_two_issues_leak(tmp_path: Path) -> None:
    """The attacker is real: issues made one at a time give cells away together."""
    found: set[Name] = set()
    for seed in (3, 4, 5, 6):
        async with CaseStore(sqlite_url(tmp_path / f"cases-{seed}.db")) as store:
            leaked, _ = await _two_issues(store, seed, keep=False)
        found |= leaked
    assert found


@pytest.mark.slow
@pytest.mark.parametrize("seed", [3, 8])
async def test_with_revisions_no_cell_follows_from_the_equations(
    store: CaseStore, seed: int
) -> None:
    """Revisions and withdrawals of old cases between the issues: no suppressed cell of
    either issue follows from the equations of both. (What is left is the "at least one"
    bound where a revision brought every hidden member of a group down to one case under
    a total published with the same count by the first issue: public, so no pattern of
    the second issue can help; docs/digests.md.)."""
    found, seen = await _two_issues(store, seed, keep=True, revise=True, guess=False)
    hidden_one, hidden_two = seen["hidden"]
    assert hidden_one - hidden_two <= hidden_one - seen["shown"][1]
    assert found == set()


async def test_write_outputs_keeps_the_pattern_of_its_last_issue(
    store: CaseStore, tmp_path: Path
) -> None:
    rng = random.Random(8)
    history = History("AFR", rng, MONTHS, nodes=4, red_share=0.1)
    for _ in range(3):
        await store.apply_batch("AFR", history.batch(rng.randint(25, 45)))

    async def issue(out: Path) -> list[Digest]:
        index = await write_outputs(
            out, store, regions=["AFR"], catalogue=CATALOGUE, html=False, docx=False
        )
        return [Digest.model_validate_json(o.json_path.read_text("utf-8")) for o in index.digests]

    one = await issue(tmp_path / "one")
    recorded = await store.published_suppressions("AFR")
    read_one = read_digests(one)
    hidden_one = {str(n) for n in set(read_one.issue.hidden) - read_one.unseen}
    assert recorded.suppressed
    assert recorded.counts
    # every suppressed period cell of the first issue is recorded suppressed (and the
    # cells of a digest of fewer than k contributors, which lists none of them)
    blank = {d.period for d in one if not d.dimensions}
    assert {
        f"{c.period}/_total" if c.dimension == "_total" else f"{c.period}/{c.dimension}/{c.value}"
        for c in recorded.suppressed
        if not c.period.startswith(("W", "S"))  # windows, summary rows
        and (c.period not in blank or c.dimension == "_total")
    } == {n for n in hidden_one if not n.startswith("W")}
    history.months = [NEW_MONTH]
    await store.apply_batch("AFR", [history._new() for _ in range(20)])
    two = await issue(tmp_path / "two")
    assert hidden_one <= {str(n) for n in read_digests(two).issue.hidden}
    # rebuilt from the record of the second issue, the digests are the same documents
    again = await RegionDigests.load(
        store, "AFR", k=2, earlier=await store.published_suppressions("AFR")
    )
    assert {
        p: dump_json(again.digest(p, catalogue=CATALOGUE, lessons=None)) for p in again.periods
    } == {d.period: dump_json(d) for d in two}


def _case(node: int, month: str, *items: str, case_id: str | None = None) -> CaseFacts:
    values = (
        ("kind", "case"),
        ("confidence", "suspected"),
        ("end_user_type", "unknown"),
        ("detection_source", "customs_border_control"),
        ("transfer_stage", "pre_transfer"),
        *(("item_category", item) for item in ("small_arms", *items)),
    )
    return make_facts(
        region="AFR", month=month, node=node, values=values, case_id=case_id, revision=2
    )


def _cell(out: Path, period: str, dimension: str, value: str) -> tuple[int | None, str | None]:
    """The count (``None``: suppressed) and reason a digest of *out* states for a cell."""
    digest = Digest.model_validate_json((out / "digests/AFR" / f"{period}.json").read_bytes())
    for cell in digest.dimensions[Dimension(dimension)]:
        if cell.value == value:
            return cell.count, cell.reason
    raise AssertionError(f"{period} lists no {dimension}/{value}")


@pytest.mark.parametrize("by_total", [False, True], ids=["full-months", "months-by-total"])
async def test_a_reissue_keeps_a_cell_published_earlier_at_the_same_count(
    store: CaseStore, tmp_path: Path, *, by_total: bool
) -> None:
    """Seed 182's class, as a small history: issue 1 publishes 2025-12 and 2025-Q4
    ``attack_helicopters`` 3 (three States); revisions move two of the cases to 2025-10
    and 2025-11, so each month now counts 1 (hidden, one contributor) and the quarter
    still 3. The quarter was published at that count and is still safe on its own: the
    re-issue keeps it published (the old pattern hid it again, and with it other cells
    published at their counts, one of them then determined by the re-issue alone), and a
    reader of both issues computes no hidden cell (docs/audit.md, "Cells published
    earlier"). By total, the months list no item category: the quarter and the cycle are
    the same."""
    base = [_case(n % 6, m) for m in ("2025-10", "2025-11", "2025-12") for n in range(12)]
    heli = [_case(n, "2025-12", "attack_helicopters") for n in (1, 2, 3)]
    await store.apply_batch("AFR", [*base, *heli])
    options: dict[str, Any] = {"regions": ["AFR"], "k_meeting": 2, "k_csp": 3}
    options |= {"catalogue": CATALOGUE, "html": False, "docx": False}
    options |= {"months_by_total": by_total}
    one, two = tmp_path / "issue1", tmp_path / "issue2"
    await write_outputs(one, store, **options)
    item = ("item_category", "attack_helicopters")
    months = () if by_total else ("2025-10", "2025-11", "2025-12")
    if not by_total:
        assert _cell(one, "2025-12", *item) == (3, None)
    assert _cell(one, "2025-Q4", *item) == (3, None)
    moved = [
        dataclasses.replace(case, record_id=str(uuid.uuid4()), revision=3, month=month)
        for case, month in zip(heli, ("2025-10", "2025-11"), strict=False)
    ]
    await store.apply_batch("AFR", moved)
    await write_outputs(two, store, **options)
    for month in months:
        assert _cell(two, month, *item) == (None, "contributors")
    assert _cell(two, "2025-Q4", *item) == (3, None), "kept published"
    assert _cell(two, "CSP12", *item) == (3, None)
    report = audit_folder([one, two], "AFR", verdicts_only=True)
    assert report.determined == ()
    assert [c for c in report.suppressed if c.by_rank] == []
