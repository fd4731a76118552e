"""Route tables re-issued (issue 11): two issues of one table, compared, give nothing away.

A closed cycle's route table is issued again when its cases change (a late case, a
revision, a withdrawal). Computed afresh each time, the second issue can hide other cells
than the first: issue 1 publishes the total and ``at_import`` and hides ``stockpile`` and
``post_delivery``; issue 2, after two late ``post_delivery`` cases, publishes the total and
``post_delivery`` and hides ``stockpile`` and ``at_import``. A reader of the receiving
region who posted the late cases knows what changed and no more, and with both issues
solves ``stockpile`` (one contributor's cell) exactly. The sending region therefore keeps
what each issue of a table listed (``route_cells``, migration 0011) and every later issue
keeps it: a suppressed cell stays suppressed, a cell published with the count it still has
is public.

The attack runs through two aggregators' stores, on SQLite and PostgreSQL.
"""

from __future__ import annotations

import hashlib
import itertools
import uuid
from collections.abc import AsyncIterator, Iterator, Mapping
from contextlib import AbstractContextManager, ExitStack
from pathlib import Path
from typing import Any

import pytest

from dief.aggregator import TOTAL, CaseFacts
from dief.aggregator.store import CaseStore
from dief.crypto import KemPrivateKey, SigningKey, VerifyKey
from dief.database import sqlite_url
from dief.digests import RegionDigests
from dief.disclosure import CellId
from dief.routes import RouteInbox, RouteIssuer, RouteOutcome, RouteTables, publish_route_tables
from dief.testing import FakeClock, MemoryRecordSink
from dief.vocab import Region
from dief.wire import RouteTable

AFR, EEG = Region.AFR, Region.EEG
LATER = 1_789_000_000.0  # 2026-09-10: CSP12 closed
SIGN = {r: SigningKey.generate() for r in Region}
KEM = {r: KemPrivateKey.generate() for r in Region}
STAGE = "transfer_stage"
P, A, B = (STAGE, "stockpile"), (STAGE, "at_import"), (STAGE, "post_delivery")
DATABASE_KINDS = ("sqlite", pytest.param("postgresql", marks=pytest.mark.postgres))


def _keys_for(region: Region) -> list[VerifyKey]:
    return [SIGN[region].verify_key]


def _facts(node: str, stage: str, *, routed: bool = True) -> CaseFacts:
    case_id = str(uuid.uuid4())
    return CaseFacts(
        record_id=str(uuid.uuid4()),
        case_id=case_id,
        revision=1,
        region="AFR",
        status="active",
        contributor=hashlib.sha256(node.encode()).hexdigest()[:32],
        owner_key=hashlib.sha256(f"owner-{case_id}".encode()).hexdigest()[:43],
        month="2026-03",
        cycle="CSP12",
        tlp="green",
        values=tuple(
            sorted(
                [
                    ("kind", "case"),
                    ("confidence", "confirmed"),
                    (STAGE, stage),
                    ("end_user_type", "criminal_organization"),
                    ("detection_source", "licensing_review"),
                    ("item_category", "small_arms"),
                    ("method", "falsified_documents"),
                    ("transport_mode", "sea"),
                    ("action_taken", "seizure"),
                ]
            )
        ),
        sealed=b"{}",
        related_regions=("EEG",) if routed else (),
    )


#: Through EEG: stockpile 1 case (n1, one contributor), at_import 3 (n2-n4), post_delivery
#: 2 (n5, n6). The sending region's own cells all have three contributors or more, so its
#: digest and summary row publish every one of them (nothing is tainted).
FIRST = [
    _facts("n1", "stockpile"),
    _facts("n2", "at_import"),
    _facts("n3", "at_import"),
    _facts("n4", "at_import"),
    _facts("n5", "post_delivery"),
    _facts("n6", "post_delivery"),
    _facts("n7", "stockpile", routed=False),
    _facts("n8", "stockpile", routed=False),
    _facts("n7", "post_delivery", routed=False),
]
#: n5 (a State of the receiving region's meeting) posts two late post_delivery cases
LATE = [_facts("n5", "post_delivery"), _facts("n5", "post_delivery")]
#: what the reader knows changed between the issues: its own cases, nothing else
DELTA: dict[CellId, int] = {TOTAL: 2, B: 2}


@pytest.fixture(params=DATABASE_KINDS)
def urls(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[tuple[str, str]]:
    if request.param == "sqlite":
        yield sqlite_url(tmp_path / "afr.db"), sqlite_url(tmp_path / "eeg.db")
        return
    make: Any = request.getfixturevalue("make_postgres_database")
    with ExitStack() as stack:
        databases: list[AbstractContextManager[str]] = [make(), make()]
        afr, eeg = (stack.enter_context(db) for db in databases)
        yield afr, eeg


@pytest.fixture
async def stores(urls: tuple[str, str]) -> AsyncIterator[tuple[CaseStore, CaseStore]]:
    async with CaseStore(urls[0]) as afr, CaseStore(urls[1]) as eeg:
        await afr.apply_batch("AFR", FIRST)
        yield afr, eeg


async def _issue(afr: CaseStore, eeg: CaseStore) -> RouteTable:
    """One issue of AFR's route tables (a fresh issuer, as after a restart), received by
    EEG; the table EEG holds afterwards."""
    sink = MemoryRecordSink()
    issuer = RouteIssuer(
        region=AFR,
        signer=SIGN[AFR],
        recipients={EEG: (KEM[EEG].public_key,)},
        sink=sink,
        clock=FakeClock(LATER),
    )
    source = await RegionDigests.load(afr, AFR, k=2, periods=["CSP12"])
    await publish_route_tables(
        afr, issuer, ["CSP12"], pattern=source.pattern, tallies=source.tallies
    )
    inbox = RouteInbox(EEG, eeg, keys=[KEM[EEG]], keys_for=_keys_for)
    outcomes = await inbox.receive_many(s.value for s in sink.sent)
    assert [o.outcome for o in outcomes] == [RouteOutcome.STORED]
    (held,) = await RouteTables(eeg).received("EEG", ["CSP12"])
    return RouteTable.model_validate_json(held.body)


def _stage_view(table: RouteTable) -> tuple[dict[CellId, int], set[CellId]]:
    """What a reader sees of the transfer stages and the total: counts and hidden cells."""
    counts: dict[CellId, int] = {}
    hidden: set[CellId] = set()
    if table.totals.cases is not None:
        counts[TOTAL] = table.totals.cases
    else:
        hidden.add(TOTAL)
    for dimension, cells in table.dimensions.items():
        if dimension.value != STAGE:
            continue
        for cell in cells:
            if cell.count is None:
                hidden.add((STAGE, cell.value))
            else:
                counts[(STAGE, cell.value)] = cell.count
    return counts, hidden


def reader(
    first: RouteTable, second: RouteTable, delta: Mapping[CellId, int]
) -> dict[CellId, set[int]]:
    """Every value each cell hidden in *first* can take for a reader holding both issues
    and knowing exactly what changed in between (*delta*; every other cell unchanged):
    an exact search over small integers (each issue's stages sum to its total, every
    listed cell counts at least one case)."""
    seen = [_stage_view(first), _stage_view(second)]
    stages = sorted({c for counts, hidden in seen for c in (*counts, *hidden) if c != TOTAL})
    feasible: dict[CellId, set[int]] = {c: set() for c in seen[0][1]}
    for values in itertools.product(range(1, 13), repeat=len(stages)):
        one = dict(zip(stages, values, strict=True))
        one[TOTAL] = sum(values)
        two = {c: n + delta.get(c, 0) for c, n in one.items()}
        if all(
            all(truth[c] == n for c, n in counts.items())
            for truth, (counts, _hidden) in zip((one, two), seen, strict=True)
        ):
            for cell in feasible:
                feasible[cell].add(one[cell])
    return feasible


async def test_two_issues_of_a_route_table_compared_recover_no_cell(
    stores: tuple[CaseStore, CaseStore],
) -> None:
    afr, eeg = stores
    first = await _issue(afr, eeg)
    _counts, hidden = _stage_view(first)
    assert P in hidden, "one contributor's cell is suppressed"
    assert first.totals.cases == 6

    await afr.apply_batch("AFR", LATE)
    second = await _issue(afr, eeg)
    assert second.totals.cases == 8
    # each issue alone protects the cell ...
    assert len(reader(first, first, {})[P]) > 1
    assert len(reader(second, second, {})[P]) > 1
    # ... and so do both together, for a reader who knows exactly what changed
    both = reader(first, second, DELTA)
    assert 1 in both[P], "the truth stays feasible"
    assert len(both[P]) > 1, f"two issues compared give the cell away: {both[P]}"
    # the second issue keeps the first one's suppressions
    assert hidden <= _stage_view(second)[1]
