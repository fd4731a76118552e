"""Route tables for tests: AFR issues its CSP12 tables to EEG's aggregator.

- :data:`SIGN`, :data:`KEM` — every region's signing and KEM keys; :func:`keys_for` — a
  region's verify keys, as an inbox takes them.
- :func:`database_pair` — AFR's and EEG's database URLs, SQLite or PostgreSQL (the body of
  a fixture parametrized with :data:`DATABASE_KINDS`).
- :func:`route_issuer` — AFR's issuer to EEG, its clock at :data:`LATER` (CSP12 closed).
- :func:`publish_tables`, :func:`issue_tables` — one issue of AFR's CSP12 route tables.
- :func:`receive_table`, :func:`received_table` — a table as EEG's aggregator keeps it.
- :func:`case_facts` — one AFR case of CSP12; :func:`cycle_tally` — a cell's tally over it.
"""

from __future__ import annotations

import hashlib
import uuid
from contextlib import AbstractContextManager, ExitStack
from typing import TYPE_CHECKING, Any

import pytest

from dief.aggregator import CaseFacts
from dief.aggregator.store import CaseStore
from dief.crypto import KemPrivateKey, SigningKey, VerifyKey
from dief.database import sqlite_url
from dief.digests import RegionDigests
from dief.disclosure import Tally
from dief.routes import RouteInbox, RouteIssuer, RouteOutcome, RouteTables, publish_route_tables
from dief.testing import FakeClock, MemoryRecordSink
from dief.vocab import Region
from dief.wire import RouteTable

if TYPE_CHECKING:
    from collections.abc import Iterable, Iterator
    from pathlib import Path

    from dief.routes import PublishedRoute

AFR, EEG = Region.AFR, Region.EEG
LATER = 1_789_000_000.0  # 2026-09-10: CSP12 closed
SIGN = {r: SigningKey.generate() for r in Region}
KEM = {r: KemPrivateKey.generate() for r in Region}
#: ``params`` of a fixture on both databases; the PostgreSQL one is marked ``postgres``
DATABASE_KINDS = ("sqlite", pytest.param("postgresql", marks=pytest.mark.postgres))


def keys_for(region: Region) -> list[VerifyKey]:
    return [SIGN[region].verify_key]


def database_pair(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[tuple[str, str]]:
    """AFR's and EEG's database URLs, of the kind ``request.param`` names: SQLite files in
    *tmp_path*, or two fresh databases on the session's PostgreSQL server."""
    if request.param == "sqlite":
        yield sqlite_url(tmp_path / "afr.db"), sqlite_url(tmp_path / "eeg.db")
        return
    make: Any = request.getfixturevalue("make_postgres_database")
    with ExitStack() as stack:
        databases: list[AbstractContextManager[str]] = [make(), make()]
        afr, eeg = (stack.enter_context(db) for db in databases)
        yield afr, eeg


def route_issuer(sink: MemoryRecordSink) -> RouteIssuer:
    """AFR's route issuer, sending to EEG on *sink*, after CSP12 closed."""
    return RouteIssuer(
        region=AFR,
        signer=SIGN[AFR],
        recipients={EEG: (KEM[EEG].public_key,)},
        sink=sink,
        clock=FakeClock(LATER),
    )


async def publish_tables(
    store: CaseStore, issuer: RouteIssuer, source: RegionDigests
) -> list[PublishedRoute]:
    """AFR's CSP12 route tables, issued with the pattern, tallies and versions of *source*."""
    return await publish_route_tables(
        store,
        issuer,
        ["CSP12"],
        pattern=source.pattern,
        tallies=source.tallies,
        versions=dict(source.versions),
    )


async def issue_tables(store: CaseStore, issuer: RouteIssuer) -> int:
    """One issue of AFR's CSP12 route tables, at the versions of the digests read first;
    how many were sent."""
    source = await RegionDigests.load(store, AFR, k=2, periods=["CSP12"])
    return len(await publish_tables(store, issuer, source))


async def receive_table(eeg: CaseStore, values: Iterable[bytes]) -> RouteTable:
    """The table EEG's aggregator holds after receiving the records *values*, which must
    store exactly one."""
    inbox = RouteInbox(EEG, eeg, keys=[KEM[EEG]], keys_for=keys_for)
    outcomes = await inbox.receive_many(values)
    assert [o.outcome for o in outcomes] == [RouteOutcome.STORED]
    (held,) = await RouteTables(eeg).received("EEG", ["CSP12"])
    return RouteTable.model_validate_json(held.body)


async def received_table(sink: MemoryRecordSink, tmp_path: Path, name: str) -> RouteTable:
    """The last table of *sink*, as EEG's aggregator stores it (in a fresh SQLite database
    *name* in *tmp_path*)."""
    async with CaseStore(sqlite_url(tmp_path / f"{name}.db")) as eeg:
        return await receive_table(eeg, [sink.sent[-1].value])


def case_facts(
    contributor: str,
    *,
    stage: str,
    month: str = "2026-03",
    kind: str = "case",
    tlp: str = "green",
    related: tuple[str, ...] = (),
) -> CaseFacts:
    """One AFR case of CSP12 with a fresh case id, from the node whose contributor hash is
    that of *contributor*, on a route through the *related* regions; its values are the
    same for every case but its *kind* and transfer *stage*."""
    case_id = str(uuid.uuid4())
    return CaseFacts(
        record_id=str(uuid.uuid4()),
        case_id=case_id,
        revision=1,
        region="AFR",
        status="active",
        contributor=hashlib.sha256(contributor.encode()).hexdigest()[:32],
        owner_key=hashlib.sha256(f"owner-{case_id}".encode()).hexdigest()[:43],
        month=month,
        cycle="CSP12",
        tlp=tlp,
        values=tuple(
            sorted(
                [
                    ("kind", kind),
                    ("confidence", "confirmed"),
                    ("transfer_stage", stage),
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
        related_regions=related,
    )


def cycle_tally(count: int, contributors: int) -> Tally:
    return Tally(count, contributors, ("CSP12",))


def routed_facts(node: str, stage: str, *, routed: bool = True) -> CaseFacts:
    """A case of AFR from *node* at *stage*, routed through EEG unless not *routed*."""
    return case_facts(node, stage=stage, related=("EEG",) if routed else ())


#: Through EEG: stockpile 1 case (n1, one contributor), at_import 3 (n2-n4), post_delivery
#: 2 (n5, n6). The sending region's own cells all have three contributors or more, so its
#: digest and summary row publish every one of them (nothing is tainted).
FIRST = [
    routed_facts("n1", "stockpile"),
    routed_facts("n2", "at_import"),
    routed_facts("n3", "at_import"),
    routed_facts("n4", "at_import"),
    routed_facts("n5", "post_delivery"),
    routed_facts("n6", "post_delivery"),
    routed_facts("n7", "stockpile", routed=False),
    routed_facts("n8", "stockpile", routed=False),
    routed_facts("n7", "post_delivery", routed=False),
]
#: n5 (a State of the receiving region's meeting) posts two late post_delivery cases
LATE = [routed_facts("n5", "post_delivery"), routed_facts("n5", "post_delivery")]
