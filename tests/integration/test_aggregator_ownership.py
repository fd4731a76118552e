"""Ownership and contributors cannot be forged (issue 12, problems 3 and 4; DESIGN §5 ⚑, §8).

Each test is the attack, as a hostile State, a region's key holder or a replaying operator
would try it, against the aggregator with its store on SQLite and on PostgreSQL: a forged
withdrawal by someone who holds only another region's key, a forged revision delivered
before the genuine first one, a case id moved to another region or cycle, a record
re-sealed in another envelope, an invented pseudonym, a redelivery, and a copied envelope
id. Before case records v2 an owner tag travelled in related copies and the first record
of a case id owned it: each of these either took a case over or dropped the genuine one.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from _pipeline_helpers import database_url
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from dief.aggregator import RegionAggregator
from dief.aggregator.store import CaseStore
from dief.crypto import Opener, Sealer
from dief.keyring import KeyRole, SimulatedForum
from dief.seams import ContributorCredential, InboundRecord
from dief.testing import FakeCredentials, MemoryDeadLetterSink
from dief.vocab import Region
from dief.wire import TYPE_CASE, CaseRecord, case_id_for, owner_message
from tests.unit.record_helpers import b64url, case_doc, owner_public, seal_record, signed_record

pytestmark = pytest.mark.integration

TOPIC = "dief.afr.cases"
GENUINE = b"g" * 32  # the posting node's secret
HOSTILE = b"h" * 32  # another State's


@pytest.fixture(scope="module")
def ring(tmp_path_factory: pytest.TempPathFactory) -> SimulatedForum:
    return SimulatedForum.create(tmp_path_factory.mktemp("forum") / "keys", "pw")


@pytest.fixture(
    params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)],
)
async def store(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[CaseStore]:
    async with database_url(request.param, tmp_path) as url, CaseStore(url) as opened:
        yield opened


def sealer(ring: SimulatedForum, region: str = "AFR") -> Sealer:
    return Sealer(
        type=TYPE_CASE, region=region, recipients=ring.sealing_keys(KeyRole.REGION, region)
    )


class Run:
    """One region's aggregator over *store*; ``send`` hands it records in partition order."""

    def __init__(self, ring: SimulatedForum, store: CaseStore) -> None:
        self.ring, self.store = ring, store
        self.letters = MemoryDeadLetterSink()
        self.aggregator = RegionAggregator(
            Region.AFR,
            Opener(ring.opening_keys(KeyRole.REGION, "AFR")),
            store,
            self.letters,
            credentials=FakeCredentials(),
        )
        self.offset = 0

    async def send(self, *records: CaseRecord | tuple[CaseRecord, bytes]) -> list[str]:
        """The outcome of each record ("applied", "dlq:ownership", …)."""
        inbound: list[InboundRecord] = []
        for item in records:
            rec, value = item if isinstance(item, tuple) else (item, None)
            value = value if value is not None else seal_record(sealer(self.ring), rec)
            inbound.append(InboundRecord(TOPIC, 0, self.offset, rec.case_id.encode(), value))
            self.offset += 1
        before = len(self.letters.sent)
        outcomes: list[str] = []
        for rec in inbound:  # one batch each, so each outcome is its own
            report = await self.aggregator.handle([rec])
            outcomes.extend(report.outcomes.elements())
        assert len(self.letters.sent) - before == sum(o.startswith("dlq:") for o in outcomes)
        return outcomes

    async def cases(self) -> dict[str, tuple[int, str]]:
        return {c.case_id: (c.revision, c.status) for c in await self.store.stored_cases("AFR")}


def resign(record: CaseRecord, key: Ed25519PrivateKey, **changes: object) -> CaseRecord:
    """*record* with *changes*, signed by *key* (the owner_key field is not changed unless
    given): what an attacker who holds *key* can make."""
    data = json.loads(record.to_json())
    data.update(changes)
    data["owner_sig"] = b64url(key.sign(owner_message(data)))
    return CaseRecord.model_validate(data)


@pytest.fixture
def genuine() -> CaseRecord:
    return signed_record(secret=GENUINE, index=7)


async def test_a_forged_withdrawal_from_another_regions_key_holder_is_dead_lettered(
    ring: SimulatedForum, store: CaseStore, genuine: CaseRecord
) -> None:
    run = Run(ring, store)
    assert await run.send(genuine) == ["applied"]
    # The attacker knows the case id and owner key (both in clear inside the record, e.g. a
    # record of APG it can read), not the owner private key.
    mine = Ed25519PrivateKey.generate()
    copied_key = resign(genuine, mine, revision=2, status="withdrawn")
    own_key = resign(
        genuine, mine, revision=2, status="withdrawn", owner_key=b64url(owner_public(mine))
    )
    assert await run.send(copied_key, own_key) == ["dlq:ownership", "dlq:ownership"]
    assert await run.cases() == {genuine.case_id: (1, "active")}
    assert [d.detail for d in run.letters.sent] == [
        "owner_sig does not verify under owner_key",
        "case_id does not derive from owner_key, region and cycle",
    ]


async def test_a_forged_revision_before_the_genuine_first_one_takes_nothing_over(
    ring: SimulatedForum, store: CaseStore, genuine: CaseRecord
) -> None:
    run = Run(ring, store)
    mine = Ed25519PrivateKey.generate()
    forged = resign(genuine, mine, revision=5, owner_key=b64url(owner_public(mine)))
    assert await run.send(forged) == ["dlq:ownership"]
    assert await run.cases() == {}
    assert await run.send(genuine) == ["applied"]  # not "stale": nobody pre-empted it
    second = signed_record(secret=GENUINE, index=7, revision=2)
    assert await run.send(second) == ["applied"]
    assert await run.cases() == {genuine.case_id: (2, "active")}


@pytest.mark.parametrize(
    "move", [{"region": "APG"}, {"detected_month": "2025-08", "cycle": "CSP11"}]
)
async def test_a_case_id_cannot_count_in_another_region_or_cycle(
    ring: SimulatedForum, store: CaseStore, move: dict[str, object]
) -> None:
    key = Ed25519PrivateKey.generate()  # even the owner itself cannot move it
    genuine = signed_record(key=key)
    moved = resign(genuine, key, revision=2, **move)
    run = Run(ring, store)
    if "region" in move:  # sealed for its region's topic: it is not this region's case
        apg = Run(ring, store)
        apg.aggregator = RegionAggregator(
            Region.APG,
            Opener(ring.opening_keys(KeyRole.REGION, "APG")),
            store,
            apg.letters,
            credentials=_AnyCredential(),
        )
        value = seal_record(sealer(ring, "APG"), moved)
        rec = InboundRecord("dief.apg.cases", 0, 0, moved.case_id.encode(), value)
        report = await apg.aggregator.handle([rec])
        assert dict(report.outcomes) == {"dlq:ownership": 1}
        assert await store.stored_cases("APG") == []
    else:
        assert await run.send(genuine) == ["applied"]
        assert await run.send(moved) == ["dlq:ownership"]
        assert await run.cases() == {genuine.case_id: (1, "active")}
    assert case_id_for("AFR", genuine.cycle, owner_public(key)) == genuine.case_id


class _AnyCredential:
    """A credential check that accepts anything: the ownership check alone is under test."""

    def verify(self, credential: ContributorCredential) -> bool:
        return True


async def test_a_record_in_another_envelope_than_it_names_is_dead_lettered(
    ring: SimulatedForum, store: CaseStore, genuine: CaseRecord
) -> None:
    run = Run(ring, store)
    elsewhere = sealer(ring).seal(
        genuine.to_json(), pad_to=6144, record_id=uuid.UUID(str(uuid.uuid4()))
    )
    assert await run.send((genuine, elsewhere)) == ["dlq:ownership"]
    assert run.letters.sent[-1].detail == "envelope_id is not the id of the envelope it came in"
    assert await run.send(genuine) == ["applied"]


async def test_an_invented_pseudonym_is_dead_lettered(
    ring: SimulatedForum, store: CaseStore
) -> None:
    run = Run(ring, store)
    key = Ed25519PrivateKey.generate()
    genuine = signed_record(key=key, credentials=FakeCredentials(HOSTILE))
    invented = resign(genuine, key, contributor="0" * 32)  # the token is for another one
    no_token = resign(genuine, key, contributor_token=b64url(b"\x00" * 32))
    other_issuer = signed_record(
        key=Ed25519PrivateKey.generate(),
        credentials=FakeCredentials(HOSTILE, issuer_key=b"a State's own issuer"),
    )
    assert await run.send(invented, no_token, other_issuer) == ["dlq:bad_credential"] * 3
    assert await run.send(genuine) == ["applied"]
    assert await store.dead_letter_counts("AFR") == {"bad_credential": 3}


async def test_a_verified_case_revision_counts_once_whatever_its_envelope(
    ring: SimulatedForum, store: CaseStore
) -> None:
    run = Run(ring, store)
    first = signed_record(secret=GENUINE, index=3)
    resealed = signed_record(secret=GENUINE, index=3)  # the same revision, a new envelope
    assert first.envelope_id != resealed.envelope_id
    value = seal_record(sealer(ring), first)
    assert await run.send((first, value), resealed, (first, value)) == [
        "applied",
        "duplicate",
        "duplicate",
    ]
    cells = await store.cell_rows("AFR", ["CSP12"])
    assert {(c.dimension, c.count) for c in cells if c.dimension == "_total"} == {("_total", 1)}


async def test_a_copied_envelope_id_cannot_pre_empt_the_genuine_record(
    ring: SimulatedForum, store: CaseStore, genuine: CaseRecord
) -> None:
    run = Run(ring, store)
    # The copier's own, valid case, in an envelope with the genuine record's id, first.
    copier = signed_record(secret=HOSTILE, envelope_id=genuine.envelope_id)
    assert await run.send(copier, genuine) == ["applied", "applied"]
    assert set(await run.cases()) == {copier.case_id, genuine.case_id}


def test_the_attacks_use_valid_inputs() -> None:
    assert CaseRecord.model_validate_json(signed_record(case_doc()).to_json())
