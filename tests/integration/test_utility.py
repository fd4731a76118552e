"""Utility on two synthetic forums (issue #15, DESIGN §7): the share of (case, dimension
value) facts in published cells per document type, measured with the audit's figure
(``dief.audit.folder_utility``), at realistic DIEF volume (about 40 cases per region per
year, 60 active States, three years) and at the demo's (2,500 cases); and that the demo
hides no region-period total with at least k contributors.

Two regions of each forum (AFR, EEG) keep each module fixture near 60-100 s. The floors
are the shares measured (last with the default tables of session 13: months by total,
totals planned; docs/digests.md) less about 0.02-0.03, so a change that costs utility
fails here: raise them as protection improves, and re-measure them with a new table
design (publishing month totals only moved the demo's facts from month cells to quarters,
halves and cycles, and lowered its ``digest-month``).
At realistic volume some totals with k contributors stay hidden: each is checked unsafe to
publish by the LP audit, and the test that none is hidden is a strict xfail with the counts
measured (the issue asks it of the demo, whose test passes).
"""

from __future__ import annotations

import json
import shutil
import tempfile
from collections import defaultdict
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
import pytest_asyncio

from dief.aggregator.store import CaseStore
from dief.audit import (
    TOTAL,
    OwnCase,
    Utility,
    audit_baseline,
    bulletin_case,
    check_bulletin,
    check_publication,
    folder_utility,
    load_reader,
)
from dief.catalogue import load_catalogue
from dief.database import sqlite_url
from dief.periods import Month, periods_containing
from dief.render import write_outputs
from dief.synthetic import SyntheticCase, generate_cases, realistic_cases
from dief.vocab import Region
from tests.unit.record_helpers import bulletin_facts, signed_facts

if TYPE_CHECKING:
    from collections.abc import AsyncIterator, Iterable, Mapping

    from dief.audit import TableKey


pytestmark = [pytest.mark.integration, pytest.mark.slow]

CATALOGUE = load_catalogue()
TODAY = date(2026, 12, 1)
K_MEETING = 2
#: Two regions of each forum (all five cost 380 s at realistic volume with today's
#: protection, docs/audit.md): the busiest and the quietest of the demo.
REGIONS = (Region.AFR, Region.EEG)


@dataclass(frozen=True)
class Forum:
    out: Path
    cases: list[OwnCase]
    utility: dict[str, Utility]
    #: region-period totals with at least k contributors: (hidden, of) per period kind
    totals: dict[str, tuple[int, int]]
    #: the digests among those whose total is hidden
    hidden: tuple[Path, ...] = ()


def _total_hidden(path: Path) -> bool:
    return json.loads(path.read_text(encoding="utf-8"))["totals"]["cases"] is None


def _kind(period: str) -> str:
    if period.startswith("CSP"):
        return "half" if "-H" in period else "cycle"
    return "quarter" if "-Q" in period else "month"


async def _forum(lines: Iterable[SyntheticCase], work: Path) -> Forum:
    async with CaseStore(sqlite_url(work / "cases.db")) as store:
        for region, facts in signed_facts(lines, today=TODAY).items():
            if region not in {r.value for r in REGIONS}:
                continue
            for start in range(0, len(facts), 500):
                await store.apply_batch(region, facts[start : start + 500])
        out = work / "out"
        await write_outputs(
            out, store, regions=list(REGIONS), catalogue=CATALOGUE, html=False, docx=False
        )
        cases: list[OwnCase] = []
        totals: dict[str, list[int]] = {}
        hidden: list[Path] = []
        for region in REGIONS:
            stored = [c for c in await store.stored_cases(region.value) if c.status == "active"]
            cases += [OwnCase(region.value, c.month, c.tlp == "red", c.values) for c in stored]
            who: dict[str, dict[str, set[str]]] = defaultdict(lambda: defaultdict(set))
            for c in stored:
                for period in map(str, periods_containing(Month.parse(c.month))):
                    who[period][c.cycle].add(c.contributor)
            for period, domains in who.items():
                if max(len(s) for s in domains.values()) < K_MEETING:
                    continue
                path = out / "digests" / region.value / f"{period}.json"
                row = totals.setdefault(_kind(period), [0, 0])
                row[1] += 1
                gone = not path.is_file() or _total_hidden(path)
                row[0] += gone
                if gone:
                    hidden.append(path)
    utility = folder_utility(out, cases, [r.value for r in REGIONS])
    return Forum(out, cases, utility, {k: (h, n) for k, (h, n) in totals.items()}, tuple(hidden))


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def realistic() -> AsyncIterator[Forum]:
    work = Path(tempfile.mkdtemp(prefix="dief-utility-"))
    try:
        yield await _forum(realistic_cases(indicator_ids=CATALOGUE.ids, today=TODAY), work)
    finally:
        shutil.rmtree(work, ignore_errors=True)


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def demo() -> AsyncIterator[Forum]:
    work = Path(tempfile.mkdtemp(prefix="dief-utility-"))
    try:
        lines = generate_cases(2500, seed=7, indicator_ids=CATALOGUE.ids, today=TODAY)
        yield await _forum(lines, work)
    finally:
        shutil.rmtree(work, ignore_errors=True)


def _shares(forum: Forum) -> dict[str, float]:
    return {t: round(u.share, 3) for t, u in forum.utility.items()}


@pytest.mark.asyncio(loop_scope="module")
async def test_utility_at_realistic_volume(realistic: Forum) -> None:
    shares = _shares(realistic)
    print("realistic", shares, realistic.totals)  # noqa: T201  # the figures, with -s
    assert 200 <= len(realistic.cases) <= 300  # two regions, three years
    for kind, floor in REALISTIC_FLOORS.items():
        assert shares[kind] >= floor, (kind, shares)


@pytest.mark.asyncio(loop_scope="module")
async def test_utility_at_demo_volume(demo: Forum) -> None:
    shares = _shares(demo)
    print("demo", shares, demo.totals)  # noqa: T201  # the figures, with -s
    for kind, floor in DEMO_FLOORS.items():
        assert shares[kind] >= floor, (kind, shares)


@pytest.mark.asyncio(loop_scope="module")
async def test_the_bulletin_check_answers_at_realistic_volume(realistic: Forum) -> None:
    # the release rule asks per batch: a baseline once per documents, then each candidate;
    # how long that takes is measured by `python -m bench.disclosure --forum realistic`
    # (bench/results/disclosure-realistic.md), not asserted here
    base = audit_baseline(load_reader([realistic.out], "AFR"))
    latest = sorted(
        (c for c in realistic.cases if c.region == "AFR" and not c.red),
        key=lambda c: c.month,
        reverse=True,
    )[:10]
    for case in latest:
        candidate = bulletin_case(bulletin_facts(case), "AFR")
        assert candidate is not None
        result = check_bulletin(base, candidate)
        assert result.by in {"bounds", "lp"}  # the documents count every case


@pytest.mark.asyncio(loop_scope="module")
async def test_the_demo_hides_no_total_with_k_contributors(demo: Forum) -> None:
    # at 1cdba1c: 34 of 56 month totals and 17 of 20 quarter totals hidden; the default
    # since session 4 (totals reserved: protect(..., reserve=)) publishes them all
    hidden = {kind: h for kind, (h, _) in demo.totals.items() if h}
    assert hidden == {}, demo.totals


@pytest.mark.asyncio(loop_scope="module")
@pytest.mark.xfail(
    strict=True,
    reason="open (#15), diagnosed: at realistic volume (a few cases a region-month, each "
    "value of one or two States) (a) a month of one State's cases needs a partner in every "
    "sum it is in, and the rolling four-quarter checklist windows chain the quarters a year "
    "apart; (b) a hidden cell's stated reason is a bound (protection: at least k cases), so "
    "small cells protect little; (c) the greedy search hides more than needed. Session 9 "
    "(reasons modelled, withheld dimensions on): 61/61 month, 23/24 quarter, 8/8 cycle "
    "totals hidden with at least 2 contributors. Session 10: months by total (opt-in) "
    "hides 48/61, 9/24, 3/8 and re-issues in 2.25 s at 10 years, but misses the cost "
    "bounds; session 11 (check 4 from the true counts) brought it to 2.29x and 1.6-2.2 s "
    "on 600 cases (bounds 2x, 2 s; docs/digests.md 'Months by total re-measured'). "
    "Session 12: zero is not reachable here (the totals' own sums need at least 2 hidden "
    "totals per region); the totals plan (an integer programme for (c)) with months by "
    "total hides 13/61, 7/24, 4/14, 3/8. Session 13: both are the default (docs/digests.md "
    "'The default since session 13'); what is left hidden is a planners' question: a "
    "stated reason's bound pins pairs of cells of exactly k, and 'provably unsafe' needs a "
    "definition (in every cheapest protection; pruning, off). Session 16: pruning on (check "
    "4 kept across its candidates) and a table listing no value of a dimension no longer "
    "taken to say which values it lacks: 10/61, 5/24, 3/14, 3/8, each unsafe to publish by "
    "the audit (test_each_hidden_total_with_k_contributors_is_unsafe_to_publish)",
)
async def test_realistic_volume_hides_no_total_with_k_contributors(realistic: Forum) -> None:
    hidden = {kind: h for kind, (h, _) in realistic.totals.items() if h}
    assert hidden == {}, realistic.totals


@pytest.mark.asyncio(loop_scope="module")
async def test_every_hidden_total_with_k_contributors_says_why(realistic: Forum) -> None:
    """A total with k contributors hidden to protect another figure says why in one
    sentence (docs/digests.md "Why a total is hidden, said so"; "provably unsafe" with
    pruning, on since session 16: the next test)."""
    assert realistic.hidden  # the realistic volume has some (see the xfail above)
    for path in realistic.hidden:
        doc = json.loads(path.read_text(encoding="utf-8"))
        assert doc["totals"]["reason"] == "protection", path.name
        assert any("total number of cases is hidden although" in t for t in doc["notes"]["text"])


def _periods(forum: Forum, region: str) -> dict[str, frozenset[int]]:
    """Each period of *region* with its cases (positions in ``forum.cases``)."""
    out: dict[str, set[int]] = defaultdict(set)
    for n, case in enumerate(forum.cases):
        if case.region == region:
            for period in map(str, periods_containing(Month.parse(case.month))):
                out[period].add(n)
    return {p: frozenset(c) for p, c in out.items()}


def _with_twins(
    forum: Forum, region: str, period: str, cases: Mapping[str, frozenset[int]]
) -> dict[tuple[TableKey, str], int]:
    """The hidden total of *region*'s *period* at its true count, with its twins hidden to
    protect another cell (``_prune._classes``: published alone, either gives the other
    away): the total of a period of the same cases (a quarter and its one month with
    cases), and in each such digest the sole value a dimension lists, where every case
    has it (``kind/case``)."""
    same = [p for p, c in cases.items() if c == cases[period]]
    out: dict[tuple[TableKey, str], int] = {}
    for other in same:
        path = forum.out / "digests" / region / f"{other}.json"
        doc = json.loads(path.read_text(encoding="utf-8")) if path.is_file() else None
        if doc is None or doc["totals"]["cases"] is not None:
            continue
        key = ("digest", region, other)
        if other == period or doc["totals"].get("reason") == "protection":
            out[key, TOTAL] = len(cases[other])
        for dimension, cells in doc["dimensions"].items():
            listed = [c for c in cells if not c.get("grouped")]
            if len(listed) != 1 or listed[0]["count"] is not None:
                continue
            value = listed[0]["value"]
            having = [n for n in cases[other] if (dimension, value) in forum.cases[n].values]
            if len(having) == len(cases[other]) and listed[0].get("reason") == "protection":
                out[key, f"{dimension}/{value}"] = len(having)
    return out


@pytest.mark.asyncio(loop_scope="module")
async def test_each_hidden_total_with_k_contributors_is_unsafe_to_publish(realistic: Forum) -> None:
    """Issue #15's "provably unsafe", proved by a solver that is not the search's: each
    total with k contributors the realistic documents hide, published at its true count
    with its twins (:func:`_with_twins`) and every other figure as issued, exposes a cell
    to the LP audit (``dief.audit.check_publication``: a suppressed cell narrower than its
    level and than it was; the cells the publication reaches are solved nearest first,
    up to the first that is exposed). A total safe to publish takes the audit through
    every cell it reaches (about a minute): the test stops at the first.

    A strict xfail until session 16: 7 of 27 safe to publish with pruning off (then the
    default), 1 of 23 with it on (AFR 2025-02: its quarter's ``kind/case`` followed for the
    search, which took the absent kind cells of 2025-01, a month of fewer than k
    contributors that lists no value, as known zeros). Both fixed in session 16: pruning
    on by default, and such cells unknowns at least 0 (``_design.blank_zeros``); 21 hidden,
    each exposes a cell. docs/audit.md "Which totals stay hidden"."""
    assert realistic.hidden  # the realistic volume has some (see the xfail above)
    for region in REGIONS:
        paths = [p for p in realistic.hidden if p.parent.name == region.value]
        if not paths:
            continue
        cases = _periods(realistic, region.value)
        for path in (realistic.out / "digests" / region.value).glob("*.json"):
            shown = json.loads(path.read_text(encoding="utf-8"))["totals"]["cases"]
            assert shown in {None, len(cases.get(path.stem, ()))}, path  # the true counts
        base = audit_baseline(load_reader([realistic.out], region.value))
        for path in paths:
            published = _with_twins(realistic, region.value, path.stem, cases)
            check = check_publication(base, published)
            print(path.stem, sorted(published), check)  # noqa: T201  # what it exposes, with -s
            assert check.by == "lp", (path.stem, check)  # the true counts: no contradiction
            assert not check.holds, f"{region.value}/{path.stem} published exposes no cell"


#: measured with the default table design (session 4: totals reserved, months fully
#: tabulated; AFR and EEG, three years, 257 cases): checklist 0.241, cycle 0.332, half
#: 0.222, month 0.081, quarter 0.224, summary regions 0.338, global 0.570 (at 1cdba1c:
#: 0.260, 0.318, -, 0.102, 0.266, 0.397, 0.447: the small cells now protect before the
#: totals do). Months by total (opt-in) measured 0.334, 0.434, 0.370, 0.195, 0.395, 0.342,
#: 0.563 (docs/digests.md "Tables designed for the data").
REALISTIC_FLOORS: dict[str, float] = {
    # re-measured after the sole-value twin (a published sole item category pinned its
    # hidden total; tests/unit/test_listed_leaks.py): checklist 0.208, cycle 0.209, half
    # 0.133, month 0.044, quarter 0.136, summary regions 0.250, global 0.592 -- a month
    # total hidden at this volume now takes its sole values with it (they were that total).
    # Session 9: those figures were of a protection that let a hidden cell's stated reason
    # pin cells (328 in AFR's reader; docs/digests.md "A hidden cell's reason is a
    # bound"); with the reasons modelled and withheld dimensions on: 0.176, 0.164, 0.129,
    # 0.080, 0.128, 0.218, 0.572 (reasons modelled, withholding off: 0.125, 0.111, 0.063,
    # 0.044, 0.089, 0.239, 0.557)
    # Session 13, months by total with the totals plan (the default since): 0.275, 0.386,
    # 0.319, 0.745, 0.393, 0.329, 0.562
    # Session 20: a meeting is taken to know its hidden row cells exactly where its region
    # sent no bounds of them (docs/digests.md "What a meeting knows of its row"): the
    # global summary cells 0.562 -> 0.505 (more of them hidden to protect other regions'
    # cells from a meeting that knows its own row); the rest unchanged (0.275, 0.386,
    # 0.319, 0.761, 0.396, 0.329)
    # Then check 4's walk stops hiding plain cells for a leak none of them can free
    # (docs/digests.md "The cost at 10 years, session 20"): 0.275, 0.538, 0.403, 0.765,
    # 0.498, 0.373, 0.408. The regions publish more, the global table less: with two
    # regions, a column with a hidden row cell hides its global cell against the other
    # region's meeting, taken to know its own row
    "checklist": 0.25,
    "digest-cycle": 0.50,
    "digest-half": 0.38,
    "digest-month": 0.72,
    "digest-quarter": 0.46,
    "summary-global": 0.35,
    "summary-region": 0.38,
}
#: measured with the default table design (session 4; AFR and EEG of the 2,500-case demo,
#: 1,062 cases): checklist 0.428, cycle 0.856, half 0.779, month 0.562, quarter 0.665,
#: summary regions 0.837, global 0.791 (at 1cdba1c: 0.505, 0.880, -, 0.569, 0.668, 0.889,
#: 0.794, with 34 month and 17 quarter totals hidden that are now published)
DEMO_FLOORS: dict[str, float] = {
    # session 9, the reasons modelled and withheld dimensions on (see REALISTIC_FLOORS):
    # checklist 0.366, cycle 0.770, half 0.674, month 0.510, quarter 0.608, summary regions
    # 0.826, global 0.807, every total with k contributors published (reasons modelled,
    # withholding off: 20 of 56 month and 7 of 20 quarter totals hidden)
    # Session 13, months by total with the totals plan (the default since): 0.437, 0.828,
    # 0.778, 0.466, 0.745, 0.833, 0.773; every total with k contributors still published.
    # A month lists its total and kind only, so its share is below full months' 0.510: the
    # facts move to the quarters (0.608 -> 0.745), halves and cycles
    # Session 20 (a meeting taken to know its hidden row cells exactly; see
    # REALISTIC_FLOORS): the global summary cells 0.773 -> 0.746, the rest unchanged
    "checklist": 0.41,
    "digest-cycle": 0.80,
    "digest-half": 0.75,
    "digest-month": 0.44,
    "digest-quarter": 0.72,
    "summary-global": 0.74,
    "summary-region": 0.81,
}
