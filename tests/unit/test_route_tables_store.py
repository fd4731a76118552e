"""Route tables through the aggregators' stores, on SQLite and PostgreSQL: the sending
region computes them from stored cases with ``related_regions``, the receiving region keeps
only the table (never a case, contributor or owner key), TLP:RED cases are in none, a
tampered table or one sealed to another region changes nothing, and the receiving digest
shows the section."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING

import pytest
from sqlalchemy import inspect, select, table

from dief.aggregator.store import CaseStore
from dief.catalogue import load_catalogue
from dief.digests import RegionDigests
from dief.render import render_digest_markdown
from dief.routes import RouteInbox, RouteIssuer, RouteOutcome, RouteTables, publish_route_tables
from dief.testing import FakeClock, MemoryRecordSink
from dief.vocab import Region
from dief.wire import digest_routes
from tests.unit.route_helpers import (
    AFR,
    DATABASE_KINDS,
    EEG,
    KEM,
    LATER,
    SIGN,
    case_facts,
    database_pair,
    keys_for,
)

if TYPE_CHECKING:
    from collections.abc import AsyncIterator, Iterator
    from pathlib import Path

    from dief.aggregator import CaseFacts

WEOG = Region.WEOG
NOW = 1_788_000_000.0  # 2026-08-29: CSP12 still open


def _facts(
    node: int, *, tlp: str = "green", related: tuple[str, ...] = ("EEG",), stage: str = "in_transit"
) -> CaseFacts:
    return case_facts(f"node-{node}", stage=stage, tlp=tlp, related=related)


CASES = [
    _facts(1),
    _facts(1),
    _facts(2),
    _facts(3),
    _facts(4, related=()),
    _facts(4, related=("WEOG",)),
    _facts(5, tlp="red"),  # routed through EEG, TLP:RED: in no route table
    _facts(6, stage="at_import"),  # one contributor: suppressed
    _facts(7, stage="at_import", related=()),
    _facts(8, stage="at_import", related=()),
]


@pytest.fixture(params=DATABASE_KINDS)
def urls(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[tuple[str, str]]:
    yield from database_pair(request, tmp_path)


@pytest.fixture
async def stores(urls: tuple[str, str]) -> AsyncIterator[tuple[CaseStore, CaseStore]]:
    async with CaseStore(urls[0]) as afr, CaseStore(urls[1]) as eeg:
        await afr.apply_batch("AFR", CASES)
        yield afr, eeg


async def _dump(store: CaseStore) -> tuple[dict[str, int], str]:
    """Every table of *store*'s database: its row count, and all rows as text."""
    engine = store._require()
    async with engine.connect() as conn:
        names = await conn.run_sync(lambda sync: inspect(sync).get_table_names())
        counts: dict[str, int] = {}
        text: list[str] = []
        for name in sorted(names):
            rows = list(await conn.execute(select("*").select_from(table(name))))
            counts[name] = len(rows)
            text += [repr(tuple(row)) for row in rows]
    return counts, "\n".join(text)


async def _issue(afr: CaseStore, at: float) -> MemoryRecordSink:
    sink = MemoryRecordSink()
    issuer = RouteIssuer(
        region=AFR,
        signer=SIGN[AFR],
        recipients={r: (KEM[r].public_key,) for r in Region if r is not AFR},
        sink=sink,
        clock=FakeClock(at),
    )
    # the sender's digests alone: this small history's TLP:RED case would (rightly) hide
    # the sender's cycle totals with its summary rows, and the table with them; what is
    # under test here is how the table is kept
    source = await RegionDigests.load(afr, AFR, k=2, periods=["CSP12"], k_csp=None)
    await publish_route_tables(  # a half-cycle among the periods has no table of its own
        afr,
        issuer,
        ["CSP12", "CSP12-H1", "2026-03"],
        pattern=source.pattern,
        tallies=source.tallies,
        versions=dict(source.versions),
    )
    return sink


async def test_an_open_cycle_gets_no_route_table(stores: tuple[CaseStore, CaseStore]) -> None:
    afr, _eeg = stores
    assert (await _issue(afr, NOW)).sent == []


async def test_the_receiving_region_keeps_the_table_and_nothing_of_the_cases(
    stores: tuple[CaseStore, CaseStore],
) -> None:
    afr, eeg = stores
    sink = await _issue(afr, LATER)
    assert sorted(s.key for s in sink.sent) == [b"AFR->EEG/CSP12", b"AFR->WEOG/CSP12"]
    assert {s.topic for s in sink.sent} == {"dief.routes"}
    inbox = RouteInbox(EEG, eeg, keys=[KEM[EEG]], keys_for=keys_for)
    outcomes = [r.outcome for r in await inbox.receive_many(s.value for s in sink.sent)]
    assert sorted(outcomes) == [RouteOutcome.NOT_FOR_US, RouteOutcome.STORED]

    digest = (await RegionDigests.load(eeg, EEG, k=2, periods=["CSP12"])).digest(
        "CSP12", catalogue=load_catalogue()
    )
    (table,) = digest_routes(digest)
    assert table.from_region is AFR
    assert table.to_region is EEG
    # five cases pass through EEG and are not red: the red one is absent
    assert table.totals.cases == 5
    cells = {(d.value, c.value): c for d, cs in table.dimensions.items() for c in cs}
    assert cells["transfer_stage", "at_import"].suppressed
    assert cells["transfer_stage", "at_import"].count is None
    assert "confidence" not in {d.value for d in table.dimensions}
    text = render_digest_markdown(digest)
    assert "## Cases elsewhere whose route passes through this region" in text
    assert "### From African Group (AFR), CSP12" in text

    # the receiving store holds no case, no contributor, no owner key, no case id
    counts, dump = await _dump(eeg)
    assert counts["cases"] == 0
    assert counts["route_tables"] == 1
    for case in CASES:
        assert case.contributor not in dump
        assert case.owner_key not in dump
        assert case.case_id not in dump
    # and the table itself names none of them either
    assert not any(c.contributor in json.dumps(digest.model_dump(mode="json")) for c in CASES)


async def test_a_tampered_or_misdirected_table_changes_nothing(
    stores: tuple[CaseStore, CaseStore],
) -> None:
    afr, eeg = stores
    sink = await _issue(afr, LATER)
    to_eeg = next(s.value for s in sink.sent if s.key == b"AFR->EEG/CSP12")
    envelope = json.loads(to_eeg)
    ciphertext = envelope["ciphertext"]
    envelope["ciphertext"] = ("A" if ciphertext[0] != "A" else "B") + ciphertext[1:]
    inbox = RouteInbox(EEG, eeg, keys=[KEM[EEG]], keys_for=keys_for)
    tampered = await inbox.receive(json.dumps(envelope).encode())
    assert tampered.outcome is RouteOutcome.REFUSED
    # signed by another region's key than the one the payload names
    wrong_key = RouteInbox(EEG, eeg, keys=[KEM[EEG]], keys_for=lambda _r: [SIGN[WEOG].verify_key])
    assert (await wrong_key.receive(to_eeg)).outcome is RouteOutcome.REFUSED
    to_weog = next(s.value for s in sink.sent if s.key == b"AFR->WEOG/CSP12")
    assert (await inbox.receive(to_weog)).outcome is RouteOutcome.NOT_FOR_US
    assert await RouteTables(eeg).received("EEG") == []
    assert (await inbox.receive(to_eeg)).outcome is RouteOutcome.STORED
    assert (await inbox.receive(to_eeg)).outcome is RouteOutcome.STORED  # same hour: kept
