"""Ownership and contributors cannot be forged (issue 12, problems 3 and 4; DESIGN §5 ⚑, §8).

Each test is the attack, as a hostile State, a region's key holder or a replaying operator
would try it, against the aggregator with its store on SQLite and on PostgreSQL: a forged
withdrawal by someone who holds only another region's key, a forged revision delivered
before the genuine first one, a case id moved to another region or cycle, a record
re-sealed in another envelope, an invented pseudonym, a redelivery, and a copied envelope
id. Before case records v2 an owner tag travelled in related copies and the first record
of a case id owned it: each of these either took a case over or dropped the genuine one.

On the trust model: both States' nodes are registered in the test's simulated forum and hold
real RFC 9474 tokens from its issuer; the aggregator checks tokens with the forum's real
verifier. The stand-in issuer (:class:`dief.testing.FakeCredentials`) appears only as an
attacker's tool: its tokens, which a stand-in check accepted, must be refused.
"""

from __future__ import annotations

import json
import uuid
from typing import TYPE_CHECKING, Any

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from dief.aggregator import RegionAggregator
from dief.aggregator.store import CaseStore
from dief.kafka import cases_topic
from dief.seams import ContributorCredential, InboundRecord
from dief.testing import FakeCredentials, MemoryDeadLetterSink
from dief.vocab import Region
from dief.wire import CASE_PADDED_SIZES, CaseRecord, case_id_for, owner_message
from tests.integration._pipeline_helpers import Forum, database_url
from tests.integration.hostile import scenario_nodes
from tests.unit.record_helpers import b64url, case_doc, owner_public, seal_record, signed_record

if TYPE_CHECKING:
    from collections.abc import AsyncIterator
    from pathlib import Path

    from dief.credentials import SimulatedNode

pytestmark = pytest.mark.integration

TOPIC = "dief.afr.cases"
#: the posting node, and another State's
GENUINE, HOSTILE = "genuine", "hostile"
#: the cycle of the records here (detected 2026-07), and the one a moved record names
CYCLE, EARLIER = "CSP12", "CSP11"


@pytest.fixture(scope="module")
def forum(tmp_path_factory: pytest.TempPathFactory) -> Forum:
    return Forum(tmp_path_factory.mktemp("forum") / "keys")


@pytest.fixture(scope="module")
def nodes(forum: Forum) -> dict[str, SimulatedNode]:
    """Both nodes registered in the forum, each with a real token for every region of both
    cycles (as a node holds them: it asks for all five regions)."""
    return scenario_nodes(forum.issuer, [GENUINE, HOSTILE], [EARLIER, CYCLE])


@pytest.fixture(
    params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)],
)
async def store(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[CaseStore]:
    async with database_url(request.param, tmp_path) as url, CaseStore(url) as opened:
        yield opened


def posted(node: SimulatedNode, **kwargs: Any) -> CaseRecord:  # noqa: ANN401  signed_record's keyword arguments, passed through
    """The record *node* signs (``signed_record``'s arguments): its owner key of the case
    index, its real token from the forum's issuer."""
    return signed_record(secret=node.secret.secret_bytes(), credentials=node.wallet, **kwargs)


def token_of(node: SimulatedNode, cycle: str, region: str) -> ContributorCredential:
    credential = node.wallet.credential(cycle, region)
    assert credential is not None
    return credential


class Run:
    """One region's aggregator over *store* with the real token check; ``send`` hands it
    records in partition order."""

    def __init__(self, forum: Forum, store: CaseStore, region: Region = Region.AFR) -> None:
        self.forum, self.store, self.region = forum, store, region
        self.letters = MemoryDeadLetterSink()
        self.aggregator = RegionAggregator(
            region,
            forum.opener(region),
            store,
            self.letters,
            credentials=forum.verifier(),
        )
        self.offset = 0

    async def send(self, *records: CaseRecord | tuple[CaseRecord, bytes]) -> list[str]:
        """The outcome of each record ("applied", "dlq:ownership", …)."""
        topic = cases_topic(self.region)
        inbound: list[InboundRecord] = []
        for item in records:
            rec, value = item if isinstance(item, tuple) else (item, None)
            value = value if value is not None else seal_record(self.forum.sealer(self.region), rec)
            inbound.append(InboundRecord(topic, 0, self.offset, rec.case_id.encode(), value))
            self.offset += 1
        before = len(self.letters.sent)
        outcomes: list[str] = []
        for one in inbound:  # one batch each, so each outcome is its own
            report = await self.aggregator.handle([one])
            outcomes.extend(report.outcomes.elements())
        assert len(self.letters.sent) - before == sum(o.startswith("dlq:") for o in outcomes)
        return outcomes

    async def cases(self) -> dict[str, tuple[int, str]]:
        region = self.region.value
        return {c.case_id: (c.revision, c.status) for c in await self.store.stored_cases(region)}


def resign(record: CaseRecord, key: Ed25519PrivateKey, **changes: object) -> CaseRecord:
    """*record* with *changes*, signed by *key* (the owner_key field is not changed unless
    given): what an attacker who holds *key* can make."""
    data = json.loads(record.to_json())
    data.update(changes)
    data["owner_sig"] = b64url(key.sign(owner_message(data)))
    return CaseRecord.model_validate(data)


@pytest.fixture
def genuine(nodes: dict[str, SimulatedNode]) -> CaseRecord:
    return posted(nodes[GENUINE], index=7)


async def test_a_forged_withdrawal_from_another_regions_key_holder_is_dead_lettered(
    forum: Forum, store: CaseStore, genuine: CaseRecord
) -> None:
    run = Run(forum, store)
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
    forum: Forum, store: CaseStore, nodes: dict[str, SimulatedNode], genuine: CaseRecord
) -> None:
    run = Run(forum, store)
    mine = Ed25519PrivateKey.generate()
    forged = resign(genuine, mine, revision=5, owner_key=b64url(owner_public(mine)))
    assert await run.send(forged) == ["dlq:ownership"]
    assert await run.cases() == {}
    assert await run.send(genuine) == ["applied"]  # not "stale": nobody pre-empted it
    second = posted(nodes[GENUINE], index=7, revision=2)
    assert await run.send(second) == ["applied"]
    assert await run.cases() == {genuine.case_id: (2, "active")}


@pytest.mark.parametrize(
    ("move", "pair"),
    [
        ({"region": "APG"}, (CYCLE, "APG")),
        ({"detected_month": "2025-08", "cycle": EARLIER}, (EARLIER, "AFR")),
    ],
    ids=["region", "cycle"],
)
async def test_a_case_id_cannot_count_in_another_region_or_cycle(
    forum: Forum,
    store: CaseStore,
    nodes: dict[str, SimulatedNode],
    move: dict[str, object],
    pair: tuple[str, str],
) -> None:
    """Even the owner itself cannot move its case: the moved record carries its own genuine
    token of the (cycle, region) it moves to, so only the ownership check can refuse it."""
    owner = nodes[GENUINE]
    key = Ed25519PrivateKey.generate()
    genuine = posted(owner, key=key)
    token = token_of(owner, *pair)
    moved = resign(
        genuine,
        key,
        revision=2,
        contributor=token.contributor,
        contributor_token=b64url(token.token),
        **move,
    )
    assert forum.verifier().verify(token)
    if "region" in move:  # sealed for its region's topic: it is not this region's case
        apg = Run(forum, store, Region.APG)
        assert await apg.send(moved) == ["dlq:ownership"]
        assert await apg.cases() == {}
    else:
        run = Run(forum, store)
        assert await run.send(genuine) == ["applied"]
        assert await run.send(moved) == ["dlq:ownership"]
        assert await run.cases() == {genuine.case_id: (1, "active")}
    assert case_id_for("AFR", genuine.cycle, owner_public(key)) == genuine.case_id


async def test_a_record_in_another_envelope_than_it_names_is_dead_lettered(
    forum: Forum, store: CaseStore, genuine: CaseRecord
) -> None:
    run = Run(forum, store)
    elsewhere = forum.sealer(Region.AFR).seal(
        genuine.to_json(), pad_to=CASE_PADDED_SIZES[0], record_id=uuid.UUID(str(uuid.uuid4()))
    )
    assert await run.send((genuine, elsewhere)) == ["dlq:ownership"]
    assert run.letters.sent[-1].detail == "envelope_id is not the id of the envelope it came in"
    assert await run.send(genuine) == ["applied"]


async def test_an_invented_pseudonym_is_dead_lettered(
    forum: Forum, store: CaseStore, nodes: dict[str, SimulatedNode]
) -> None:
    """A State lifts a cell by posting under contributors the issuer never signed: an
    invented pseudonym under its genuine token, no token, a token of a rogue issuer, the
    tests' stand-in issuer's token (which anyone can compute, and which a stand-in check
    accepts), and its genuine token of another region used here ("claim another pair").
    The real check refuses each; the record with its genuine token applies."""
    hostile = nodes[HOSTILE]
    run = Run(forum, store)
    key = Ed25519PrivateKey.generate()
    genuine = posted(hostile, key=key)
    invented = resign(genuine, key, contributor="0" * 32)  # the token is for another one
    no_token = resign(genuine, key, contributor_token=b64url(b"\x00" * 32))
    other_issuer = signed_record(
        key=Ed25519PrivateKey.generate(),
        credentials=FakeCredentials(b"h" * 32, issuer_key=b"a State's own issuer"),
    )
    stand_in = FakeCredentials(b"h" * 32).credential(CYCLE, "AFR")
    assert stand_in is not None
    assert FakeCredentials().verify(stand_in)  # what the stand-in check let through
    computed = resign(
        genuine,
        key,
        contributor=stand_in.contributor,
        contributor_token=b64url(stand_in.token),
    )
    apg = token_of(hostile, CYCLE, "APG")
    other_pair = resign(
        genuine, key, contributor=apg.contributor, contributor_token=b64url(apg.token)
    )
    attempts = (invented, no_token, other_issuer, computed, other_pair)
    assert await run.send(*attempts) == ["dlq:bad_credential"] * len(attempts)
    assert await run.send(genuine) == ["applied"]
    assert await store.dead_letter_counts("AFR") == {"bad_credential": len(attempts)}


async def test_a_verified_case_revision_counts_once_whatever_its_envelope(
    forum: Forum, store: CaseStore, nodes: dict[str, SimulatedNode]
) -> None:
    run = Run(forum, store)
    first = posted(nodes[GENUINE], index=3)
    resealed = posted(nodes[GENUINE], index=3)  # the same revision, a new envelope
    assert first.envelope_id != resealed.envelope_id
    value = seal_record(forum.sealer(Region.AFR), first)
    assert await run.send((first, value), resealed, (first, value)) == [
        "applied",
        "duplicate",
        "duplicate",
    ]
    cells = await store.cell_rows("AFR", [CYCLE])
    assert {(c.dimension, c.count) for c in cells if c.dimension == "_total"} == {("_total", 1)}


async def test_a_copied_envelope_id_cannot_pre_empt_the_genuine_record(
    forum: Forum, store: CaseStore, nodes: dict[str, SimulatedNode], genuine: CaseRecord
) -> None:
    run = Run(forum, store)
    # The copier's own, valid case, in an envelope with the genuine record's id, first.
    copier = posted(nodes[HOSTILE], envelope_id=genuine.envelope_id)
    assert await run.send(copier, genuine) == ["applied", "applied"]
    assert set(await run.cases()) == {copier.case_id, genuine.case_id}


def test_the_attacks_use_valid_inputs(
    forum: Forum, nodes: dict[str, SimulatedNode], genuine: CaseRecord
) -> None:
    assert CaseRecord.model_validate_json(posted(nodes[GENUINE], case=case_doc()).to_json())
    assert forum.verifier().verify(genuine.credential)  # a real token of its (cycle, region)
