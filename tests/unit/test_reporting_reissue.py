"""CSP summaries re-issued within a cycle, and across cycles: a stable suppression pattern.

The attacker (``reporting_attack``) holds both issues of a cycle, every table of each (the
totals, the other cells, the other regions, the global table), knows how they add up, and
knows which cells changed between the issues (equal true counts), not by how much.
"""

from __future__ import annotations

import random
from typing import TYPE_CHECKING

import pytest

from dief.aggregator.store import CaseStore
from dief.catalogue import load_catalogue
from dief.database import sqlite_url
from dief.exceptions import ValidationError
from dief.secretariat import build_summary
from tests.unit.reporting_attack import Issue, Name, issue_of, recover, tables
from tests.unit.reporting_support import TOTAL, History, expected_cells, make_facts

if TYPE_CHECKING:
    from collections.abc import AsyncIterator
    from pathlib import Path

    from dief.wire import CspSummary

CATALOGUE = load_catalogue()
REGIONS = ("AFR", "APG", "EEG", "GRULAC")
CSP11_12 = (
    "2025-03", "2025-05", "2025-07", "2025-08",  # CSP11
    "2025-09", "2025-11", "2026-01", "2026-03", "2026-05", "2026-07", "2026-08",  # CSP12
)  # fmt: skip


@pytest.fixture
async def store(tmp_path: Path) -> AsyncIterator[CaseStore]:
    async with CaseStore(sqlite_url(tmp_path / "cases.db")) as s:
        yield s


async def _truth(store: CaseStore) -> dict[str, int]:
    """Every cell's true count (no TLP:RED), by the attacker's names, from a full scan."""
    out: dict[str, int] = {}
    for region in REGIONS:
        cells = expected_cells(await store.stored_cases(region), ["CSP12"], include_red=False)
        for (dim, value), e in cells.items():
            for table in (region, "_global"):
                name = f"{table}/_total" if (dim, value) == TOTAL else f"{table}/{dim}/{value}"
                out[name] = out.get(name, 0) + e.count
    return out


def _with_truth(issue: Issue, truth: dict[str, int]) -> Issue:
    hidden: dict[Name, int] = {n: truth.get(str(n), 0) for n in issue.hidden}
    return Issue(issue.known, issue.hidden, issue.groups, hidden)


def _hidden(summary: CspSummary) -> set[str]:
    return {str(n) for n in issue_of(summary).hidden}


class _Cycle:
    """A store growing batch by batch, and the truth behind each issue."""

    def __init__(self, store: CaseStore, seed: int, nodes: int) -> None:
        self.store = store
        self.rng = random.Random(seed)
        self.histories = {
            r: History(r, self.rng, CSP11_12, nodes=nodes, red_share=0.1) for r in REGIONS
        }

    async def grow(self, low: int, high: int, *, share: float = 1.0) -> None:
        for region, history in self.histories.items():
            if self.rng.random() < share:
                await self.store.apply_batch(region, history.batch(self.rng.randint(low, high)))

    async def issue(self, previous: CspSummary | None = None) -> tuple[CspSummary, Issue]:
        summary = await build_summary(
            self.store, "CSP12", k=3, catalogue=CATALOGUE, regions=REGIONS, previous=previous
        )
        return summary, _with_truth(issue_of(summary), await _truth(self.store))


@pytest.mark.parametrize(("seed", "nodes"), [(61, 5), (62, 4), (63, 6), (64, 5), (65, 8)])
async def test_two_issues_of_a_cycle_reveal_no_suppressed_cell(
    store: CaseStore, seed: int, nodes: int
) -> None:
    cycle = _Cycle(store, seed, nodes)
    for _ in range(2):
        await cycle.grow(20, 40)
    one, attack_one = await cycle.issue()
    truth_one = await _truth(store)
    # more cases, revisions and withdrawals, in some regions only
    await cycle.grow(2, 14, share=0.6)
    two, attack_two = await cycle.issue(previous=one)
    truth_two = await _truth(store)

    assert one.methodology.primary > 0, "the data must exercise suppression"
    # stability: every cell hidden in the first issue is hidden in the second
    assert _hidden(one) <= _hidden(two)
    unchanged = {name for name, n in truth_two.items() if n > 0 and truth_one.get(name) == n}
    assert unchanged, "some cells must be unchanged for the comparison to bite"
    assert recover([attack_one]) == set()
    # alone, the second issue gives away at most what the first published already
    public = {(0, name) for name in unchanged if name in attack_one.known}
    assert recover([attack_two]) <= public
    assert recover([attack_one, attack_two], unchanged) == set()
    # kept_for_stability counts cells this issue alone would publish
    alone = await build_summary(store, "CSP12", k=3, catalogue=CATALOGUE, regions=REGIONS)
    assert two.methodology.kept_for_stability == len(_hidden(two) - _hidden(alone))
    assert two.methodology.secondary >= two.methodology.kept_for_stability


async def test_without_the_previous_issue_two_issues_leak(store: CaseStore) -> None:
    """The attacker is real: issues made one at a time give cells away together."""
    found = 0
    for seed in (71, 72, 73):
        await store.stop()
        cycle = _Cycle(store, seed, 5)
        await store.start()
        await cycle.grow(20, 40)
        _, attack_one = await cycle.issue()
        truth_one = await _truth(store)
        await cycle.grow(2, 14, share=0.6)
        _, attack_two = await cycle.issue()  # no previous: a fresh pattern
        truth_two = await _truth(store)
        unchanged = {n for n, c in truth_two.items() if c > 0 and truth_one.get(n) == c}
        found += len(recover([attack_one, attack_two], unchanged))
    assert found > 0


async def test_a_reissue_of_unchanged_data_is_identical(store: CaseStore) -> None:
    cycle = _Cycle(store, 81, 5)
    await cycle.grow(20, 40)
    one, _ = await cycle.issue()
    await cycle.grow(2, 14, share=0.6)
    two, _ = await cycle.issue(previous=one)
    again, _ = await cycle.issue(previous=two)
    assert again.to_json() == two.to_json()  # the Secretariat publishes it once
    first_again, _ = await cycle.issue(previous=one)
    assert first_again.to_json() == two.to_json()  # deterministic


async def test_a_cell_that_lost_its_cases_stays_listed_suppressed(store: CaseStore) -> None:
    cycle = _Cycle(store, 91, 5)
    await cycle.grow(20, 40)
    one, _ = await cycle.issue()
    hidden = _hidden(one)
    # withdraw every case of one region: its cells count zero now
    history = cycle.histories["AFR"]
    withdrawn = [
        make_facts(
            region="AFR",
            month=month,
            node=node,
            case_id=case_id,
            revision=revision + 1,
            status="withdrawn",
        )
        for case_id, (revision, node, month) in sorted(history.cases.items())
    ]
    await store.apply_batch("AFR", withdrawn)
    two, _ = await cycle.issue(previous=one)
    afr_hidden = {n for n in hidden if n.startswith("AFR/")}
    assert afr_hidden, "the data must suppress some AFR cell"
    assert afr_hidden <= _hidden(two)
    afr = tables(two)["AFR"]
    assert all(c.suppressed for cells in afr.dimensions.values() for c in cells)


async def test_issues_of_other_cycles_are_refused(store: CaseStore) -> None:
    cycle = _Cycle(store, 95, 5)
    await cycle.grow(20, 30)
    twelve, _ = await cycle.issue()
    eleven = await build_summary(store, "CSP11", k=3, catalogue=CATALOGUE, regions=REGIONS)
    with pytest.raises(ValidationError, match="previous issue"):
        await build_summary(store, "CSP11", catalogue=CATALOGUE, previous=twelve)
    with pytest.raises(ValidationError, match="prior cycle"):
        await build_summary(store, "CSP12", catalogue=CATALOGUE, prior_cycle=twelve)
    with_prior = await build_summary(
        store, "CSP12", k=3, catalogue=CATALOGUE, regions=REGIONS, prior_cycle=eleven
    )
    rules = " ".join(with_prior.methodology.rules)
    assert "previous cycle's published summary" in rules
    assert "previous issue of this cycle's summary" in rules
