"""Digests and CSP summaries protected as one system (DESIGN §7; issue #15 part 2).

The reader is a member of one regional meeting: every digest of its region (TLP:RED
counted, k_meeting) and every CSP summary (TLP:RED excluded, k_csp). The attacker of
``joint_attack`` (linear programming over what that reader holds, independent of the
suppression code) pins no suppressed cell and no TLP:RED part of a cell; with each
document protected on its own (``write_outputs(joint=False)``) it does, on the same data.
"""

from __future__ import annotations

import json
import random
from typing import TYPE_CHECKING

import pytest

from dief.aggregator.store import CaseStore
from dief.catalogue import load_catalogue
from dief.database import sqlite_url
from dief.render import write_outputs
from tests.unit.joint_attack import pinned
from tests.unit.reporting_support import History, make_facts

if TYPE_CHECKING:
    from collections.abc import Sequence
    from pathlib import Path

    from dief.aggregator import CaseFacts

CATALOGUE = load_catalogue()
REGION = "EEG"


def _values(stage: str, kind: str = "case", **extra: str) -> list[tuple[str, str]]:
    values = {
        "kind": kind,
        "confidence": "confirmed",
        "transfer_stage": stage,
        "end_user_type": "unknown",
        "detection_source": "intelligence",
        **extra,
    }
    return sorted(values.items())


def _store(tmp_path: Path, name: str) -> CaseStore:
    return CaseStore(sqlite_url(tmp_path / f"{name}.db"))


def _leaks(
    found: dict[tuple[str, ...], int], allowed: set[tuple[str, ...]], folder: Path | None = None
) -> dict[tuple[str, ...], int]:
    """Pinned cells that are a leak: suppressed digest and summary cells, and red parts of
    a cell that count a case (where the cycle has fewer than k_csp red cases). A global
    cell is a sum of the regions' cells: pinned, it leaks only where it holds a cell of
    another region that is suppressed (what it holds of the region's own row is the
    row's)."""
    out = {}
    for var, value in found.items():
        if var in allowed:
            continue
        if var[0] == "R" and (value == 0 or var[2] == "_total"):
            continue  # nothing, or the number of red cases
        global_cell = var[0] == "S" and var[2] == "global" and folder is not None
        if global_cell and folder is not None and not _others_hidden(folder, var):
            continue
        out[var] = value
    return out


def _others_hidden(folder: Path, var: tuple[str, ...]) -> bool:
    doc = json.loads((folder / "summary" / f"{var[1]}.json").read_text())
    for region, table in doc["regions"].items():
        if region == REGION:
            continue
        for cell in table["dimensions"].get(var[3], []):
            if cell["value"] == var[4] and cell["count"] is None:
                return True
    return False


async def _publish(
    store: CaseStore,
    out: Path,
    *,
    joint: bool,
    regions: Sequence[str] = (REGION,),
    months_by_total: bool = False,
) -> set[tuple[str, ...]]:
    """Write every output; the red cells that may be known: those of a cycle with at
    least k_csp red cases (they are no one State's)."""
    await write_outputs(
        out,
        store,
        regions=list(regions),
        catalogue=CATALOGUE,
        html=False,
        docx=False,
        joint=joint,
        months_by_total=months_by_total,
    )
    red: dict[str, int] = {}
    values: dict[str, set[tuple[str, ...]]] = {}
    for case in await store.stored_cases(REGION):
        if case.status == "active" and case.tlp == "red":
            red[case.cycle] = red.get(case.cycle, 0) + 1
            values.setdefault(case.cycle, set()).update(
                ("R", case.cycle, d, v) for d, v in case.values
            )
    return {var for cycle, n in red.items() if n >= 3 for var in values[cycle]}


def _stockpile_cases() -> list[CaseFacts]:
    """The issue's first attack: 25 cases, a one-contributor ``stockpile``; ``at_import``
    (3 cases, 3 contributors) is the digest's smallest partner for it, ``in_transit`` (4
    cases, 2 contributors) the summary's, so apart the digest publishes ``in_transit`` and
    the summary ``at_import``."""
    month = "2026-01"
    plan = (
        [("stockpile", 0)]
        + [("at_import", n) for n in (1, 2, 3)]
        + [("in_transit", n) for n in (4, 5, 4, 5)]
        + [("post_delivery", n % 5 + 1) for n in range(9)]
        + [("pre_transfer", n % 4 + 2) for n in range(8)]
    )
    return [
        make_facts(region=REGION, month=month, node=node, values=_values(stage))
        for stage, node in plan
    ]


async def test_digest_beside_summary_recovers_nothing(tmp_path: Path) -> None:
    async with _store(tmp_path, "s") as store:
        await store.apply_batch(REGION, _stockpile_cases())
        allowed = await _publish(store, tmp_path / "joint", joint=True)
        found = pinned(tmp_path / "joint", REGION)
        assert _leaks(found, allowed, tmp_path / "joint") == {}
    async with _store(tmp_path, "s2") as store:
        await store.apply_batch(REGION, _stockpile_cases())
        await _publish(store, tmp_path / "apart", joint=False)
        assert _leaks(pinned(tmp_path / "apart", REGION), set())


async def test_red_case_profile_stays_hidden(tmp_path: Path) -> None:
    """The issue's second attack: digest total 10, summary total 9; the difference of the
    two documents would be the profile of one State's TLP:RED case."""
    month = "2026-02"
    cases = [
        make_facts(
            region=REGION,
            month=month,
            node=n % 5,
            values=_values(["at_import", "in_transit"][n % 2], method="falsified_documents"),
        )
        for n in range(9)
    ]
    cases.append(
        make_facts(
            region=REGION,
            month=month,
            node=7,
            values=_values("at_import", method="falsified_documents"),
            tlp="red",
        )
    )
    async with _store(tmp_path, "r") as store:
        await store.apply_batch(REGION, cases)
        allowed = await _publish(store, tmp_path / "joint", joint=True)
        found = pinned(tmp_path / "joint", REGION)
        assert _leaks(found, allowed, tmp_path / "joint") == {}
    async with _store(tmp_path, "r2") as store:
        await store.apply_batch(REGION, cases)
        await _publish(store, tmp_path / "apart", joint=False)
        naive = _leaks(pinned(tmp_path / "apart", REGION), set(), tmp_path / "apart")
        assert any(var[0] == "R" for var in naive), naive


@pytest.mark.parametrize("seed", range(4))
async def test_months_by_total_leak_nothing(tmp_path: Path, seed: int) -> None:
    """The tables designed for the data (``months_by_total``, opt-in): a month publishes
    its total and kind only, and the reader pins nothing."""
    rng = random.Random(100 + seed)
    months = [f"2026-{m:02d}" for m in range(1, 7)]
    history = History(REGION, rng, months, nodes=6, red_share=0.1)
    async with _store(tmp_path, f"m{seed}") as store:
        for _ in range(3):
            await store.apply_batch(REGION, history.batch(rng.randint(15, 30)))
        out = tmp_path / "coarse"
        allowed = await _publish(store, out, joint=True, months_by_total=True)
        assert _leaks(pinned(out, REGION), allowed, out) == {}
        month_digests = 0
        for path in sorted((out / "digests" / REGION).glob("*.json")):
            doc = json.loads(path.read_text())
            if "-Q" not in doc["period"] and not doc["period"].startswith("CSP"):
                month_digests += 1
                assert set(doc["dimensions"]) <= {"kind"}, "a month: its total and kind"
        assert month_digests


@pytest.mark.parametrize("seed", range(6))
async def test_random_histories(tmp_path: Path, seed: int) -> None:
    rng = random.Random(seed)
    months = [f"2026-{m:02d}" for m in range(1, 7)]
    history = History(REGION, rng, months, nodes=5, red_share=0.12)
    async with _store(tmp_path, f"h{seed}") as store:
        for _ in range(3):
            await store.apply_batch(REGION, history.batch(rng.randint(10, 25)))
        allowed = await _publish(store, tmp_path / "joint", joint=True)
        assert _leaks(pinned(tmp_path / "joint", REGION), allowed, tmp_path / "joint") == {}
