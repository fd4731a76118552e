"""The sender names the summary row cells its route tables publish, and to whom (#15).

A published route cell bounds the sender's summary row cell from below for the receiving
region's meeting; the sender's cycle digest says which (``SummaryRow.routed``: receiving
region and cell, no counts) so the Secretariat protects the summary against that meeting
(``tests/unit/test_route_summary_attack.py``). A hidden route cell, a withheld table and a
dimension left out name nothing.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from dief.aggregator import TOTAL
from dief.aggregator.store import CaseStore
from dief.crypto import Opener
from dief.database import sqlite_url
from dief.digests import (
    DigestIssuer,
    build_payload,
    parse_payload,
    publish_digests,
    sign_payload,
)
from dief.kafka import DIGESTS_TOPIC, ROUTES_TOPIC
from dief.routes import (
    RouteProtection,
    RouteTables,
    SenderCells,
    listed_cells,
    parse_route_payload,
    protect_route,
    routed_cells,
    routed_row_cells,
)
from dief.secretariat import ReceivedDigest, SecretariatStore, StoreOutcome
from dief.testing import FakeClock, MemoryRecordSink
from dief.vocab import Region
from dief.wire import TYPE_ROUTE_TABLE
from tests.unit.route_helpers import FIRST, KEM, LATER, SIGN, cycle_tally, route_issuer
from tests.unit.secretariat_support import CATALOGUE, ISSUED, KEYS

if TYPE_CHECKING:
    from pathlib import Path

    from dief.disclosure import CellId
    from dief.wire import RouteTable

AFR, EEG = Region.AFR, Region.EEG
STAGE = "transfer_stage"
TRANSIT, IMPORT, STOCK = (STAGE, "in_transit"), (STAGE, "at_import"), (STAGE, "stockpile")


def test_a_published_route_cell_is_named_and_a_hidden_one_is_not() -> None:
    """The real protection: ``stockpile`` (one State) is hidden, and with it, by the
    table's sum, another stage; what stays published is named, with the receiving region."""
    route = {
        TOTAL: cycle_tally(9, 5),
        TRANSIT: cycle_tally(5, 3),
        IMPORT: cycle_tally(3, 3),
        STOCK: cycle_tally(1, 1),
    }
    nonred = {
        TOTAL: cycle_tally(20, 8),
        TRANSIT: cycle_tally(9, 4),
        IMPORT: cycle_tally(8, 4),
        STOCK: cycle_tally(3, 3),
    }
    sender = SenderCells(digest={c: t.count for c, t in nonred.items()}, nonred=nonred)
    protection = protect_route(route, sender, k=2)
    assert STOCK in protection.primary
    listed = listed_cells(route, protection)
    named = routed_cells({"EEG": listed})
    assert named == {("EEG", c) for c, n in listed.items() if n is not None}
    assert ("EEG", STOCK) not in named
    assert ("EEG", TOTAL) in named
    assert len(named) == len(route) - len(protection.hidden) >= 2


def test_a_withheld_table_an_omitted_dimension_and_a_cell_at_zero_name_nothing() -> None:
    route = {
        TOTAL: cycle_tally(6, 3),
        TRANSIT: cycle_tally(6, 3),
        ("kind", "case"): cycle_tally(6, 3),
    }
    withheld = RouteProtection(frozenset(route), frozenset(), frozenset(), withheld=True)
    assert routed_cells({"EEG": listed_cells(route, withheld)}) == frozenset()
    omitted = RouteProtection(frozenset(), frozenset(), frozenset(), omitted=frozenset({STAGE}))
    assert routed_cells({"EEG": listed_cells(route, omitted)}) == {
        ("EEG", TOTAL),
        ("EEG", ("kind", "case")),
    }
    assert routed_cells({"EEG": {TOTAL: 2, STOCK: 0, IMPORT: None}}) == {("EEG", TOTAL)}


async def test_the_record_of_every_issue_names_the_cells(tmp_path: Path) -> None:
    """What the sender's store recorded (every issue; a suppressed cell stays suppressed)."""
    async with CaseStore(sqlite_url(tmp_path / "afr.db")) as store:
        assert await routed_row_cells(store, "AFR", "CSP12") == frozenset()
        tables = RouteTables(store)
        await tables.record_published(
            "AFR",
            {("EEG", "CSP12"): {TOTAL: 6, IMPORT: 3, STOCK: None}, ("WEOG", "CSP12"): {TOTAL: 2}},
        )
        await tables.record_published("AFR", {("EEG", "CSP13"): {TOTAL: 4}})
        assert await routed_row_cells(store, "AFR", "CSP12") == {
            ("EEG", TOTAL),
            ("EEG", IMPORT),
            ("WEOG", TOTAL),
        }


async def test_a_cell_published_once_stays_named_when_a_later_issue_hides_it(
    tmp_path: Path,
) -> None:
    """The receiving meeting keeps every issue it received: a route cell published in one
    issue bounds the sender's row cell for good, even once a later issue hides it (#15,
    carried over from session 8: the record kept only the last state, so the requirement
    stopped naming the cell and the Secretariat could hide the row cell from that meeting
    as if nothing bounded it)."""
    async with CaseStore(sqlite_url(tmp_path / "afr.db")) as store:
        tables = RouteTables(store)
        await tables.record_published("AFR", {("EEG", "CSP12"): {TOTAL: 6, IMPORT: 3}})
        await tables.record_published("AFR", {("EEG", "CSP12"): {TOTAL: 7, IMPORT: None}})
        assert await routed_row_cells(store, "AFR", "CSP12") == {("EEG", TOTAL), ("EEG", IMPORT)}
        # the pattern still reads the cell as suppressed (it stays so in later issues)
        pattern = (await tables.published_patterns("AFR", "CSP12"))["EEG"]
        assert IMPORT in pattern.suppressed
        assert IMPORT not in pattern.counts


async def test_a_cycle_digest_names_what_the_route_tables_sent_with_it_publish(
    tmp_path: Path,
) -> None:
    """``publish_digests`` issues the route tables first, so the cycle digest's summary row
    names exactly the cells the table EEG receives publishes (a first issue too)."""
    sink = MemoryRecordSink()
    routes = route_issuer(sink)
    issuer = DigestIssuer(
        region=AFR,
        signer=KEYS.region_sign[AFR],
        recipients=(KEYS.secretariat_kem.public_key,),
        sink=sink,
        catalogue=CATALOGUE,
        clock=FakeClock(LATER),
        routes=routes,
    )
    async with CaseStore(sqlite_url(tmp_path / "afr.db")) as store:
        await store.apply_batch("AFR", FIRST)
        await publish_digests(store, AFR, ["CSP12"], issuer=issuer)
    (route_record,) = [s for s in sink.sent if s.topic == ROUTES_TOPIC]
    (digest_record,) = [s for s in sink.sent if s.topic == DIGESTS_TOPIC]
    opened = Opener([KEM[EEG]], schemas={TYPE_ROUTE_TABLE: {1}}).open(route_record.value)
    table = parse_route_payload(
        opened.payload, lambda r: [SIGN[r].verify_key], receiver=EEG
    ).table()
    payload = parse_payload(KEYS.opener().open(digest_record.value).payload, KEYS.keys_for)
    assert payload.summary_row is not None
    named = payload.summary_row.requirement("CSP12").routed
    assert named == {("EEG", cell) for cell in _published(table)}
    assert ("EEG", STOCK) not in named  # one State's case through EEG: hidden, not named
    assert ("EEG", TOTAL) in named


def _published(table: RouteTable) -> set[CellId]:
    cells: set[CellId] = set()
    if table.totals.cases is not None:
        cells.add(TOTAL)
    for dimension, listed in table.dimensions.items():
        cells |= {(dimension.value, c.value) for c in listed if c.count is not None}
    return cells


async def test_the_secretariat_reads_the_routed_cells_back(tmp_path: Path) -> None:
    """The Secretariat's store keeps a cycle digest's summary row and gives the summary the
    requirement with its routed cells (what ``reader_pick`` then uses)."""
    async with CaseStore(sqlite_url(tmp_path / "afr.db")) as store:
        await store.apply_batch("AFR", FIRST)
        await RouteTables(store).record_published(
            "AFR", {("EEG", "CSP12"): {TOTAL: 6, IMPORT: 3, STOCK: None}}
        )
        draft = await build_payload(
            store, AFR, "CSP12", version=1, issued_at=ISSUED, catalogue=CATALOGUE
        )
    payload = sign_payload(draft, KEYS.region_sign[AFR])
    assert payload.summary_row is not None
    async with SecretariatStore(sqlite_url(tmp_path / "secretariat.db")) as secretariat:
        stored = await secretariat.store_digests([ReceivedDigest(payload, b"sealed")])
        assert stored == [StoreOutcome.STORED]
        rows = await secretariat.summary_rows("CSP12")
    assert rows["AFR"].routed == {("EEG", TOTAL), ("EEG", IMPORT)}
    assert rows["AFR"] == payload.summary_row.requirement("CSP12")
