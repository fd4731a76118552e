"""A region's meeting digests, all periods together, against the attacker of reporting_attack.

The attacker reads only the published digests (JSON) of one region: every month, quarter
and cycle with data. It sets up the linear system they imply (single-valued dimensions sum
to the totals, months to their quarter and cycle, quarters to the checklist window, shares
and prevalences give case counts, previous-period counts are the earlier periods' cells),
adds the "every listed cell counts at least one" bound, and solves exactly (SVD rank). With
the joint secondary suppression nothing suppressed is recovered; with it switched off
(primary suppression only) the same attacker recovers cells, so the tests can fail.
"""

from __future__ import annotations

import dataclasses
import random
from collections import defaultdict
from typing import TYPE_CHECKING

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from dief.aggregator.store import CaseStore, CellRow
from dief.catalogue import load_catalogue
from dief.database import sqlite_url
from dief.digests import RegionDigests, withheld_dimensions
from dief.disclosure import PeriodCells, digest_pattern, merge_rows
from dief.periods import CspCycle, Month, periods_containing
from dief.render import dump_json, write_outputs
from dief.vocab import Region
from dief.wire import Digest
from tests.unit.reporting_attack import read_digests, recover_digests
from tests.unit.reporting_support import History

if TYPE_CHECKING:
    from collections.abc import AsyncIterator, Sequence
    from pathlib import Path

CATALOGUE = load_catalogue()
INDICATORS = [entry.id for entry in list(CATALOGUE)[:4]]
SINGLE = {
    "kind": ["case", "alert"],
    "confidence": ["suspected", "confirmed"],
    "transfer_stage": ["pre_transfer", "in_transit", "post_delivery"],
    "end_user_type": ["non_state_armed_group", "criminal_organization", "unknown"],
    "detection_source": ["licensing_review", "customs_border_control", "intelligence"],
}
MULTI = {"method": ["falsified_documents", "illicit_brokering", "other"]}

Case = tuple[str, int, tuple[tuple[str, str], ...]]  # month, node, (dimension, value)s


def random_cases(rng: random.Random, months: Sequence[str], n: int, nodes: int) -> list[Case]:
    """Cases with skewed values (rare values make cells below k)."""
    cases: list[Case] = []
    for _ in range(n):
        values = {
            (d, rng.choices(vals, weights=[6, 2, 1][: len(vals)])[0]) for d, vals in SINGLE.items()
        }
        for d, vals in MULTI.items():
            values |= {(d, v) for v in rng.sample(vals, rng.randint(1, 2))}
        values |= {("risk_indicator", v) for v in rng.sample(INDICATORS, rng.randint(0, 2))}
        cases.append((rng.choice(months), rng.randrange(nodes), tuple(sorted(values))))
    return cases


def tallies_of(cases: Sequence[Case]) -> dict[str, PeriodCells]:
    """The stored cells of *cases*, as the aggregation keeps them (per contributor cycle;
    a node's pseudonym changes with the cycle)."""
    counts: dict[tuple[str, str, str, str], int] = defaultdict(int)
    who: dict[tuple[str, str, str, str], set[str]] = defaultdict(set)
    for month, node, values in cases:
        cycle = str(CspCycle.of(Month.parse(month)))
        for period in periods_containing(Month.parse(month)):
            for dim, value in (("_total", "_all"), *values):
                key = (str(period), dim, value, cycle)
                counts[key] += 1
                who[key].add(f"{node}/{cycle}")
    return merge_rows(CellRow(*key, n, len(who[key])) for key, n in counts.items())


def publish(tallies: dict[str, PeriodCells], k: int, *, secondary: bool = True) -> list[Digest]:
    """Every digest of the region, read back from its JSON; *secondary* off keeps the
    primary suppressions only (what the digests did before)."""
    pattern = digest_pattern(tallies, k=k)
    if not secondary:
        pattern = dataclasses.replace(pattern, suppressed=pattern.primary, secondary_of={})
    source = RegionDigests(Region.AFR, tuple(sorted(tallies)), tallies, {}, pattern)
    return [
        Digest.model_validate_json(dump_json(source.digest(p, catalogue=CATALOGUE)))
        for p in sorted(tallies)
    ]


@st.composite
def histories(draw: st.DrawFn) -> tuple[list[Case], int]:
    first = draw(st.integers(0, 11))
    span = draw(st.integers(2, 14))
    months = [str(Month(2025, 1).shift(first + i)) for i in range(span)]
    rng = draw(st.randoms(use_true_random=False))
    n = draw(st.integers(3, 50))
    nodes = draw(st.integers(2, 5))
    return random_cases(rng, months, n, nodes), draw(st.sampled_from([2, 2, 3]))


@pytest.mark.slow
@settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(histories())
def test_no_suppressed_digest_cell_is_recoverable(drawn: tuple[list[Case], int]) -> None:
    cases, k = drawn
    tallies = tallies_of(cases)
    digests = publish(tallies, k)
    read = read_digests(digests, listing=tallies)
    withheld = {d.period: {w.value for w in withheld_dimensions(d)} for d in digests}
    # every cell below k is suppressed, or not listed at all: its dimension withheld
    for period, cells in tallies.items():
        for (dim, value), tally in cells.items():
            if tally.contributors < k and dim not in withheld[period]:
                name = f"{period}/_total" if dim == "_total" else f"{period}/{dim}/{value}"
                assert name in read.issue.hidden
    assert recover_digests(digests, listing=tallies) == set()


def _leaky_histories() -> list[tuple[list[Case], int]]:
    out = []
    for seed in range(6):
        rng = random.Random(seed)
        months = [str(Month(2025, 6).shift(i)) for i in range(rng.randint(4, 12))]
        out.append((random_cases(rng, months, rng.randint(15, 40), rng.randint(2, 4)), 2))
    return out


@pytest.mark.parametrize("drawn", _leaky_histories())
def test_the_attacker_recovers_cells_without_the_secondary_suppression(
    drawn: tuple[list[Case], int],
) -> None:
    cases, k = drawn
    tallies = tallies_of(cases)
    leaked = recover_digests(publish(tallies, k, secondary=False), listing=tallies)
    assert leaked, "primary suppression alone gives cells away on this history"
    digests = publish(tallies, k)
    assert sum(d.notes.secondary_suppressed for d in digests) > 0
    assert recover_digests(digests, listing=tallies) == set()


@pytest.fixture
async def store(tmp_path: Path) -> AsyncIterator[CaseStore]:
    async with CaseStore(sqlite_url(tmp_path / "cases.db")) as s:
        yield s


@pytest.mark.slow
async def test_the_written_digest_files_give_nothing_away(store: CaseStore, tmp_path: Path) -> None:
    rng = random.Random(5)
    months = [f"2025-{m:02d}" for m in range(6, 13)] + ["2026-01", "2026-02", "2026-03"]
    history = History("AFR", rng, months, nodes=4)
    for _ in range(4):
        await store.apply_batch("AFR", history.batch(rng.randint(20, 50)))
    index = await write_outputs(
        tmp_path / "out", store, regions=["AFR"], catalogue=CATALOGUE, html=False, docx=False
    )
    digests = [Digest.model_validate_json(o.json_path.read_text("utf-8")) for o in index.digests]
    assert {d.period for d in digests} == set(await store.periods_with_data("AFR"))
    assert sum(d.notes.secondary_suppressed for d in digests) > 0
    assert recover_digests(digests) == set()
    # the same cells with primary suppression only: the attacker gets through
    periods = await store.periods_with_data("AFR")
    tallies = merge_rows(await store.cell_rows("AFR", periods, include_red=True))
    assert recover_digests(publish(tallies, 2, secondary=False))
