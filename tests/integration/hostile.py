"""Generated hostile records for one region's aggregator, interleaved with good ones.

Used by ``test_hostile_records.py`` (issue "The aggregator trusts nothing and never stalls").
:func:`build_scenario` makes, from a seeded RNG:

- **good records** of the AFR topic, from several simulated nodes: first revisions, later
  revisions, withdrawals, and valid records of new cases that reuse a genuine record's
  envelope id (``decoy``); each with the plain case document it was made from, so the
  expected cells are computed without DIEF aggregation;
- about a hundred records of each hostile class (:data:`HOSTILE_CLASSES`), each with the
  dead-letter reason it must get, and genuine records delivered again (``replay``), which
  must be absorbed as duplicates.

Order matters for some classes, so each genuine case is a *chain* (a copied envelope id
comes before the genuine record, a forged revision after the case's first revision, a
replay after the record it repeats, revisions in order); :meth:`Scenario.interleave`
merges all chains at random, keeping each chain's order.

Records are case records v2 on the trust model: the scenario's nodes (:data:`SCENARIO_NODES`,
six posters and an attacker) are registered in a simulated forum and hold real RFC 9474
contributor tokens from its issuer (:func:`scenario_nodes`, or a caller's own forum nodes),
for every region of :data:`CYCLES`; each node signs each case with the owner key its
secret derives for the case's index (:class:`dief.node.NodeIdentity`, as a real node does).
The aggregator under test verifies the tokens with the forum's real check
(``SimulatedIssuer.verifier()``). A case's id derives from its owner key, region and cycle,
so the documents' ``case_id`` is the node's reference, and :attr:`Scenario.final` is keyed
by the derived ids. :class:`dief.testing.FakeCredentials` appears only as a rogue issuer
(``bad_credential``), beside a well-formed RFC 9474 token under an RSA key of the State's
own that is not in the directory.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import functools
import json
import uuid
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import date
from operator import itemgetter
from typing import TYPE_CHECKING, cast
from uuid import UUID

from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

from dief.catalogue import load_catalogue
from dief.credentials import (
    PREFIX_LEN,
    TOKEN_VARIANT,
    SimulatedIssuer,
    SimulatedNode,
    TokenVerifier,
    contributor_message,
)
from dief.crypto import KemPublicKey, Sealer
from dief.keyring import KeyRole, SimulatedForum
from dief.node import NodeIdentity
from dief.periods import Month
from dief.seams import ContributorCredential
from dief.testing import FakeCredentials
from dief.vocab import (
    ITEM_SUBCATEGORY_CATEGORIES,
    ActionTaken,
    ActorRole,
    CaseKind,
    Confidence,
    DetectionSource,
    EndUserType,
    ItemCategory,
    MaritimeFeature,
    Method,
    ReassessmentOutcome,
    Region,
    Registration,
    TransferStage,
    TransferType,
    TransportMode,
    VerificationCheck,
    VerificationOutcome,
)
from dief.wire import MAX_VALUE_BYTES, TYPE_CASE, case_id_for, generalise, parse_case
from tests.integration._pipeline_helpers import Doc, case_doc

if TYPE_CHECKING:
    import random
    from collections.abc import Callable, Iterable, Mapping, Sequence

    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

__all__ = [
    "ATTACKER",
    "BAD_CREDENTIALS",
    "CYCLES",
    "DECOY",
    "GOOD",
    "HOSTILE_CLASSES",
    "POSTERS",
    "REPLAY",
    "SCENARIO_NODES",
    "Delivery",
    "Scenario",
    "build_scenario",
    "scenario_nodes",
]

TODAY = date(2026, 6, 15)
HOME = "AFR"
OTHERS = tuple(r.value for r in Region if r.value != HOME)
#: detection months of good cases: CSP11 (to 2025-08) and CSP12 (from 2025-09)
MONTHS = tuple(str(Month(2025, 3).shift(i)) for i in range(15))
#: the cycles of MONTHS: every scenario node holds a token for each region of each
CYCLES = tuple(sorted({str(Month.parse(m).cycle()) for m in MONTHS}))
#: the nodes that post the scenario's good cases, and the one that only forges
POSTERS = tuple(f"N-{i:02d}" for i in range(6))
ATTACKER = "X-99"
SCENARIO_NODES = (*POSTERS, ATTACKER)
CATALOGUE = load_catalogue()
INDICATORS = tuple(CATALOGUE.ids)

GOOD = "good"
DECOY = "decoy"  # a valid new case sealed with a genuine record's envelope id
REPLAY = "replay"  # a genuine record's exact bytes again: outcome "duplicate"

#: Every hostile class, each dead-lettered (the reason is per record: a class may mix).
HOSTILE_CLASSES = (
    "bit_flip",
    "truncation",
    "wrong_key",
    "wrong_region",
    "oversized",
    "bad_schema",
    "duplicate_keys",
    "poison_id",
    "poison_revision",
    "wrong_cycle",
    "unknown_indicator",
    "unknown_catalogue",
    "key_mismatch",
    "copied_id",
    "ownership",
    "bad_credential",
    "bad_padding",
)

#: How a ``bad_credential`` record's token fails (:meth:`World.bad_credential_record`).
BAD_CREDENTIALS = ("invented", "stand_in", "rogue_issuer", "rogue_rsa", "other_pair")


@dataclass(eq=False)
class Delivery:
    """One record as delivered on the AFR topic; ``reason`` is the dead-letter reason a
    hostile record must get (None for good records and replays)."""

    kind: str
    key: bytes | None
    value: bytes = field(repr=False)
    reason: str | None = None


@dataclass
class Scenario:
    """Chains of deliveries (each in its required order) and what the good ones add up to."""

    chains: list[list[Delivery]]
    #: every good case document (plain, as posted), for ``expected_cells``
    good_docs: list[Doc]
    #: case id → (revision, status) the store must hold for each good case of AFR
    final: dict[str, tuple[int, str]]

    def interleave(self, rng: random.Random) -> list[Delivery]:
        """All deliveries in a random order that keeps each chain's order."""
        keyed: list[tuple[float, Delivery]] = []
        for chain in self.chains:
            keyed.extend(zip(sorted(rng.random() for _ in chain), chain, strict=True))
        keyed.sort(key=itemgetter(0))
        return [d for _, d in keyed]


class PoisonId(uuid.UUID):
    """An envelope id whose text is whatever a hostile sealer chooses to write."""

    def __init__(self, text: str) -> None:
        super().__init__(int=0)
        object.__setattr__(self, "text", text)

    def __str__(self) -> str:
        return str(self.__dict__["text"])


def scenario_nodes(
    issuer: SimulatedIssuer,
    names: Iterable[str] = SCENARIO_NODES,
    cycles: Iterable[str] = CYCLES,
) -> dict[str, SimulatedNode]:
    """*names* registered in *issuer*'s forum, each holding a real token for every region
    of *cycles* (by default: the scenario's nodes and cycles). Runs the issuer on a thread
    of its own, so it can be called from synchronous code and from a running event loop."""
    wanted = {name: tuple(cycles) for name in names}
    with ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(asyncio.run, issuer.issue(wanted)).result()


class Node:
    """A scenario node: the forum's simulated node of that name (its secret and its wallet
    of real tokens), signing each case reference with the owner key of a case index."""

    def __init__(self, name: str, simulated: SimulatedNode) -> None:
        self.name = name
        self._identity = NodeIdentity(simulated.secret)
        self.credentials = simulated.wallet
        self._indexes: dict[str, int] = {}

    def owner_key(self, reference: str) -> Ed25519PrivateKey:
        """The owner key of the case this node knows as *reference* (a case index each)."""
        index = self._indexes.setdefault(reference, len(self._indexes))
        return self._identity.owner_key(index)


class RogueIssuer:
    """An RSA issuer key a State made itself (not in the directory): its tokens are real
    RFC 9474 tokens in every respect but the key."""

    @functools.cached_property
    def _key(self) -> rsa.RSAPrivateKey:  # made when first needed: a second or so
        return rsa.generate_private_key(public_exponent=65537, key_size=2048)

    def credential(self, cycle: str, region: str, contributor: str) -> ContributorCredential:
        public = self._key.public_key()
        message = TOKEN_VARIANT.prepare(contributor_message(cycle, region, contributor))
        blinded = TOKEN_VARIANT.blind(public, message)
        signed = TOKEN_VARIANT.blind_sign(self._key, blinded.blinded_msg)
        signature = TOKEN_VARIANT.finalize(public, message, signed, blinded.inv)
        credential = ContributorCredential(
            cycle, region, contributor, message[:PREFIX_LEN] + signature
        )
        # well formed: it verifies under the rogue key, so only the key is wrong
        assert TokenVerifier(lambda _c, _r: public, simulation=True).verify(credential)
        return credential


def _raw(key: Ed25519PrivateKey) -> bytes:
    return key.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)


# -- envelope surgery ---------------------------------------------------------------------


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def _dump(envelope: dict[str, object]) -> bytes:
    return json.dumps(envelope, separators=(",", ":")).encode()


def _flip_bits(data: bytes, rng: random.Random) -> bytes:
    out = bytearray(data)
    for _ in range(rng.choice((1, 1, 1, 2, 8))):
        out[rng.randrange(len(out))] ^= 1 << rng.randrange(8)
    return bytes(out) if out != data else _flip_bits(data, rng)


class World:  # noqa: PLR0904  one method per kind of hostile record, all drawing from the one RNG
    """Sealers, nodes and the RNG that every generator below draws from."""

    def __init__(
        self, ring: SimulatedForum, nodes: Mapping[str, SimulatedNode], rng: random.Random
    ) -> None:
        self.rng = rng
        home_keys = ring.sealing_keys(KeyRole.REGION, HOME)

        def sealer(label: str, keys: Sequence[KemPublicKey]) -> Sealer:
            return Sealer(type=TYPE_CASE, region=label, recipients=keys)

        self.home = sealer(HOME, home_keys)
        self.home_kid = self.home.kids[0]
        #: labelled another region, wrapped to this region's key: opens, wrong region
        self.labelled_other = {r: sealer(r, home_keys) for r in OTHERS}
        #: labelled this region, wrapped to another region's key: no recipient key here
        self.to_other_key = {r: sealer(HOME, ring.sealing_keys(KeyRole.REGION, r)) for r in OTHERS}
        self.to_secretariat = sealer(HOME, ring.sealing_keys(KeyRole.SECRETARIAT))
        #: genuine envelopes of another region (misrouted onto this topic)
        self.native_other = {r: sealer(r, ring.sealing_keys(KeyRole.REGION, r)) for r in OTHERS}
        #: sealing to AFR's key with a padded size AFR does not accept
        self.mispadded = [
            Sealer(type=TYPE_CASE, region=HOME, recipients=home_keys, sizes=[size])
            for size in (4096, 8192, 16384)
        ]
        self.nodes = [Node(name, nodes[name]) for name in POSTERS]
        self.by_name = {n.name: n for n in self.nodes}
        self.attacker = Node(ATTACKER, nodes[ATTACKER])
        self.rogue = RogueIssuer()

    # -- plain documents and records --------------------------------------------------

    def uuid(self) -> str:
        return str(uuid.UUID(int=self.rng.getrandbits(128), version=4))

    def doc(self, node: Node, region: str = HOME, **fields: object) -> Doc:
        """A random valid plain case document posted by *node*."""
        r = self.rng

        def some(values: Sequence[str], most: int) -> list[str]:
            return r.sample(list(values), r.randint(0, most))

        modes = some([m.value for m in TransportMode], 2)
        doc = case_doc(
            node.name,
            region,
            case_id=self.uuid(),
            kind=r.choice(list(CaseKind)).value,
            confidence=r.choice(list(Confidence)).value,
            detected=r.choice(MONTHS),
            items=[_item(r) for _ in range(r.randint(1, 3))],
            transfer_stage=r.choice(list(TransferStage)).value,
            methods=some([m.value for m in Method], 3),
            transport_modes=modes,
            end_user_type=r.choice(list(EndUserType)).value,
            risk_indicators=some(INDICATORS, 3),
            detection_source=r.choice(list(DetectionSource)).value,
            actions_taken=some([a.value for a in ActionTaken], 3),
            tlp=r.choice(("red", "amber_strict", "amber", "amber", "green", "clear")),
            **_working_group_fields(r, modes),
        )
        doc.update(fields)
        return doc

    def record(
        self,
        doc: Doc,
        node: Node | None = None,
        *,
        envelope_id: str | None = None,
        credential: ContributorCredential | None = None,
    ) -> Doc:
        """The signed case record (as JSON data) a node makes of *doc* (by default its
        poster), for the envelope *envelope_id* (a new one by default)."""
        node = node or self.by_name[str(doc["submitted_by"])]
        case = parse_case(doc, today=TODAY)
        cycle = str(case.detected_month.cycle())
        key = node.owner_key(str(doc["case_id"]))
        unsigned = generalise(
            case,
            case_id=case_id_for(str(case.region), cycle, _raw(key)),
            revision=int(str(doc["revision"])),
            owner_key=_raw(key),
            cycle=cycle,
        )
        if credential is None:
            credential = node.credentials.credential(cycle, str(case.region))
            assert credential is not None
        data: Doc = json.loads(
            unsigned.sign(credential, envelope_id or self.uuid(), key.sign).to_json()
        )
        return data

    def case_id(self, doc: Doc) -> str:
        """The id the case of *doc* travels under (derived from its poster's owner key)."""
        return str(self.record(doc)["case_id"])

    def fresh_record(self, **changes: object) -> Doc:
        """A valid AFR record of a new case by a random node, with *changes* applied."""
        data = self.record(self.doc(self.rng.choice(self.nodes)))
        data.update(changes)
        return data

    def seal(
        self,
        data: Doc | bytes,
        *,
        sealer: Sealer | None = None,
        record_id: UUID | None = None,
    ) -> bytes:
        payload = data if isinstance(data, bytes) else json.dumps(data).encode()
        if record_id is None and isinstance(data, dict) and "envelope_id" in data:
            with contextlib.suppress(ValueError):  # the envelope it names, as a node seals it
                record_id = uuid.UUID(str(data["envelope_id"]))
        return (sealer or self.home).seal(payload, record_id=record_id)

    def hostile(
        self,
        kind: str,
        reason: str,
        data: Doc | bytes,
        *,
        sealer: Sealer | None = None,
        record_id: UUID | None = None,
    ) -> Delivery:
        """*data* sealed (key: its case id) as a hostile record of class *kind*."""
        key = str(json.loads(data)["case_id"] if isinstance(data, bytes) else data["case_id"])
        value = self.seal(data, sealer=sealer, record_id=record_id)
        return Delivery(kind, key.encode(), value, reason)

    # -- hostile classes ------------------------------------------------------------------

    def bit_flip(self) -> Delivery:
        """Bits flipped in the ciphertext (and tag), now and then in the nonce or a wrapped
        key: AES-GCM or the HPKE unwrap fails."""
        data = self.fresh_record()
        envelope = json.loads(self.seal(data))
        where = self.rng.choice(("ciphertext",) * 6 + ("nonce", "wrapped"))
        if where == "wrapped":
            recipient = envelope["recipients"][0]
            recipient["wrapped"] = _b64(_flip_bits(_unb64(recipient["wrapped"]), self.rng))
        else:
            envelope[where] = _b64(_flip_bits(_unb64(envelope[where]), self.rng))
        return Delivery(
            "bit_flip", str(data["case_id"]).encode(), _dump(envelope), "authentication_failed"
        )

    def truncation(self) -> Delivery:
        """The value cut short (not JSON any more), or the ciphertext cut short (fails
        authentication; below the tag's length it is malformed)."""
        data = self.fresh_record()
        value = self.seal(data)
        key = str(data["case_id"]).encode()
        how = self.rng.choice(("value", "value", "ciphertext", "below_tag"))
        if how == "value":  # past the random id, so no two cuts are the same bytes
            return Delivery(
                "truncation", key, value[: self.rng.randint(60, len(value) - 1)], "malformed"
            )
        envelope = json.loads(value)
        ciphertext = _unb64(envelope["ciphertext"])
        if how == "ciphertext":
            envelope["ciphertext"] = _b64(ciphertext[: self.rng.randint(16, len(ciphertext) - 1)])
            return Delivery("truncation", key, _dump(envelope), "authentication_failed")
        envelope["ciphertext"] = _b64(ciphertext[: self.rng.randint(0, 15)])
        return Delivery("truncation", key, _dump(envelope), "malformed")

    def wrong_key(self) -> Delivery:
        """Labelled AFR but sealed to another region's (or the Secretariat's) key; a genuine
        envelope of another region; or AFR's key id over a data key wrapped to another key."""
        data = self.fresh_record()
        how = self.rng.choice(("other_region", "secretariat", "misrouted", "kid_swap"))
        if how == "other_region":
            sealer = self.to_other_key[self.rng.choice(OTHERS)]
            return self.hostile("wrong_key", "no_recipient_key", data, sealer=sealer)
        if how == "secretariat":
            return self.hostile("wrong_key", "no_recipient_key", data, sealer=self.to_secretariat)
        if how == "misrouted":
            region = self.rng.choice(OTHERS)
            data["region"] = region
            sealer = self.native_other[region]
            return self.hostile("wrong_key", "no_recipient_key", data, sealer=sealer)
        envelope = json.loads(self.seal(data, sealer=self.to_other_key[self.rng.choice(OTHERS)]))
        envelope["recipients"][0]["kid"] = self.home_kid
        return Delivery(
            "wrong_key", str(data["case_id"]).encode(), _dump(envelope), "authentication_failed"
        )

    def wrong_region(self) -> Delivery:
        """An envelope labelled for another region (sealed to AFR's key); a record whose
        region is another's (with or without AFR on its route: a case goes to its own
        region only)."""
        other = self.rng.choice(OTHERS)
        how = self.rng.choice(("label", "region", "region_routed"))
        data = self.fresh_record()
        if how == "label":
            return self.hostile(
                "wrong_region", "wrong_region", data, sealer=self.labelled_other[other]
            )
        if how == "region":
            data.update(region=other, related_regions=[])
        else:  # would be counted here if a route were trusted
            data.update(region=other, related_regions=[HOME])
        return self.hostile("wrong_region", "wrong_region", data)

    def oversized(self) -> Delivery:
        """A value above the 256 KiB limit: padded, random bytes, or a huge ciphertext."""
        data = self.fresh_record()
        key = str(data["case_id"]).encode()
        over = MAX_VALUE_BYTES + self.rng.randint(1, 4096)
        how = self.rng.choice(("padded", "random", "ciphertext"))
        if how == "padded":
            value = self.seal(data)
            value += b" " * (over - len(value))
        elif how == "random":
            value = self.rng.randbytes(over)
        else:
            envelope = json.loads(self.seal(data))
            envelope["ciphertext"] = _b64(self.rng.randbytes(over * 3 // 4))
            value = _dump(envelope)
        assert len(value) > MAX_VALUE_BYTES
        return Delivery("oversized", key, value, "oversized")

    def bad_schema(self) -> Delivery:
        """A payload field that breaks the case record schema."""
        data = self.fresh_record()
        self.rng.choice(_SCHEMA_BREAKERS)(data)
        return self.hostile("bad_schema", "invalid_payload", _as_bytes(data))

    def duplicate_keys(self) -> Delivery:
        """A payload that repeats a key (first-wins and last-wins parsers would disagree)."""
        data = self.fresh_record()
        text = json.dumps(data)
        how = self.rng.choice(("tlp", "case_id", "revision", "region", "item"))
        if how == "tlp":
            text = text[:-1] + ', "tlp": "clear"}'
        elif how == "case_id":
            text = '{"case_id": "' + str(data["case_id"]) + '", ' + text[1:]
        elif how == "revision":
            text = '{"revision": 99, ' + text[1:]
        elif how == "region":
            text = text[:-1] + ', "region": "APG"}'
        else:
            text = text.replace('{"category": ', '{"band": "1-10", "category": ', 1)
        return self.hostile("duplicate_keys", "malformed_payload", text.encode())

    def poison_id(self) -> Delivery:
        """An envelope id that is not a canonical lower-case UUID (sealed with it, so the
        envelope authenticates)."""
        genuine = self.uuid()
        text = self.rng.choice(
            (
                genuine + "-and-then-some-more-characters",
                "x" * self.rng.randint(37, 400),
                genuine.upper(),
                genuine.replace("-", ""),
                "{" + genuine + "}",
                "urn:uuid:" + genuine,
                "",
                genuine[:-1],
                genuine + " ",
                "g" + genuine[1:],
                "not-a-uuid",
            )
        )
        return self.hostile("poison_id", "bad_id", self.fresh_record(), record_id=PoisonId(text))

    def poison_revision(self) -> Delivery:
        """A revision no database integer column holds (or no signed 64-bit one)."""
        revision = self.rng.choice(
            (
                2**31,
                2**31 + self.rng.randint(1, 10**6),
                2**32,
                2**53 + 1,
                2**63 - 1,
                2**63,
                2**64,
                10**30,
            )
        )
        return self.hostile(
            "poison_revision", "invalid_payload", self.fresh_record(revision=revision)
        )

    def wrong_cycle(self) -> Delivery:
        """A cycle that is not the detection month's: another cycle named, or the month
        moved to another cycle."""
        data = self.fresh_record()
        actual = int(str(data["cycle"])[3:])
        if self.rng.random() < 0.5:
            named = self.rng.choice(
                [n for n in (1, actual - 1, actual + 1, actual + 7, 99, 9999) if n != actual]
            )
            data["cycle"] = f"CSP{named}"
        else:
            # A real past month (a future one is refused earlier, as bad_month).
            month = Month(self.rng.randint(2015, 2024), self.rng.randint(1, 12))
            while str(month.cycle()) == data["cycle"]:
                month = month.shift(-12)
            data["detected_month"] = str(month)
        return self.hostile("wrong_cycle", "wrong_cycle", data)

    def unknown_indicator(self) -> Delivery:
        """A well-formed risk-indicator id that is not in the shipped catalogue."""
        prefix = self.rng.choice(("DOC", "EU", "ACT", "RTE", "TRX", "CTX", "ITM", "PDV"))
        unknown = f"{prefix}-{self.rng.choice((0, *range(90, 100))):02d}"
        assert unknown not in CATALOGUE
        data = self.fresh_record()
        indicators = list(cast("list[str]", data["risk_indicators"]))
        indicators.insert(self.rng.randint(0, len(indicators)), unknown)
        data["risk_indicators"] = indicators
        return self.hostile("unknown_indicator", "unknown_indicator", data)

    def unknown_catalogue(self) -> Delivery:
        """A catalogue version this aggregator does not ship."""
        version = self.rng.choice(
            (
                "1999.1",
                "2025.1",
                "2026.9",
                "2027.1",
                "2026.10",
                "2026.01",
                "2026.1-rc1",
                "draft",
                "0",
                "9" * 32,
            )
        )
        assert version != CATALOGUE.version
        return self.hostile(
            "unknown_catalogue", "unknown_catalogue", self.fresh_record(catalogue_version=version)
        )

    def key_mismatch(self, other_case: str) -> Delivery:
        """A valid record whose record key is not its case id."""
        data = self.fresh_record()
        case_id = str(data["case_id"])
        key = self.rng.choice(
            (
                self.uuid().encode(),
                case_id.upper().encode(),
                b"",
                case_id[:-1].encode(),
                (case_id + " ").encode(),
                other_case.encode(),  # a genuine case's id
                b"\xff\xfe" + case_id.encode(),
            )
        )
        assert key != case_id.encode()
        return Delivery("key_mismatch", key, self.seal(data), "key_mismatch")

    def copied_id(self, case_id: str, envelope_id: UUID) -> Delivery:
        """A record of a genuine case under the genuine record's envelope id, refused for
        another reason (it must not make the genuine record a duplicate)."""
        data = self.fresh_record(case_id=case_id)
        how = self.rng.choice(("cycle", "indicator", "revision", "key", "flip"))
        if how == "cycle":
            data["cycle"] = "CSP99"
            return self.hostile("copied_id", "wrong_cycle", data, record_id=envelope_id)
        if how == "indicator":
            data["risk_indicators"] = ["DOC-99"]
            return self.hostile("copied_id", "unknown_indicator", data, record_id=envelope_id)
        if how == "revision":
            data["revision"] = 2**63
            return self.hostile("copied_id", "invalid_payload", data, record_id=envelope_id)
        value = self.seal(data, record_id=envelope_id)
        if how == "key":
            return Delivery("copied_id", self.uuid().encode(), value, "key_mismatch")
        envelope = json.loads(value)
        envelope["ciphertext"] = _b64(_flip_bits(_unb64(envelope["ciphertext"]), self.rng))
        return Delivery("copied_id", case_id.encode(), _dump(envelope), "authentication_failed")

    def ownership(self, doc: Doc, above: int, case_id: str) -> Delivery:
        """A higher revision or a withdrawal of a genuine case (*case_id*) by a node that
        does not own it: under its own owner key, under the genuine owner key it copied
        (it cannot sign for it), or its own valid record re-sealed in another envelope."""
        forger = self.rng.choice(
            [self.attacker, *(n for n in self.nodes if n.name != doc["submitted_by"])]
        )
        forged = self.doc(
            forger,
            case_id=doc["case_id"],
            revision=above + self.rng.randint(1, 5),
            status=self.rng.choice(("active", "withdrawn")),
        )
        data = self.record(forged, forger)
        how = self.rng.choice(("own_key", "copied_key", "envelope"))
        if how == "envelope":
            return self.hostile("ownership", "ownership", data, record_id=uuid.UUID(self.uuid()))
        data["case_id"] = case_id
        if how == "copied_key":
            owner = self.by_name[str(doc["submitted_by"])].owner_key(str(doc["case_id"]))
            data["owner_key"] = _b64(_raw(owner))
        return self.hostile("ownership", "ownership", data)

    def bad_credential(self) -> Delivery:
        """A record signed by its owner whose contributor token does not verify (one of
        :data:`BAD_CREDENTIALS`, see :meth:`bad_credential_record`)."""
        data = self.bad_credential_record(self.rng.choice(BAD_CREDENTIALS))
        return self.hostile("bad_credential", "bad_credential", data)

    def bad_credential_record(self, how: str) -> Doc:
        """A valid record of a new case, signed by its owner, whose contributor token does
        not verify under the directory's issuer key of its (cycle, region): an invented
        pseudonym and token (``invented``); a token of the tests' stand-in issuer, an HMAC
        anyone can compute, which a stand-in check accepts and the real one must not
        (``stand_in``); a token of a rogue stand-in issuer (``rogue_issuer``); a real
        RFC 9474 token under an RSA key of the State's own (``rogue_rsa``); or the node's
        genuine token of another (cycle, region) used here (``other_pair``: "claim another
        pair")."""
        node = self.rng.choice(self.nodes)
        doc = self.doc(node)
        cycle = str(parse_case(doc, today=TODAY).detected_month.cycle())
        credential: ContributorCredential | None
        if how == "invented":
            token = self.rng.randbytes(self.rng.choice((32, 64, PREFIX_LEN + 256)))
            credential = ContributorCredential(cycle, HOME, self.rng.randbytes(16).hex(), token)
        elif how == "stand_in":
            credential = FakeCredentials(self.rng.randbytes(32)).credential(cycle, HOME)
        elif how == "rogue_issuer":
            rogue = FakeCredentials(self.rng.randbytes(32), issuer_key=b"a State's own issuer")
            credential = rogue.credential(cycle, HOME)
        elif how == "rogue_rsa":
            credential = self.rogue.credential(cycle, HOME, self.rng.randbytes(16).hex())
        else:
            assert how == "other_pair", how
            pair = self.rng.choice(
                [(c, r) for c in CYCLES for r in (HOME, *OTHERS) if (c, r) != (cycle, HOME)]
            )
            other = node.credentials.credential(*pair)
            assert other is not None
            credential = ContributorCredential(cycle, HOME, other.contributor, other.token)
        assert credential is not None
        return self.record(doc, node, credential=credential)

    def bad_padding(self) -> Delivery:
        """A valid record padded to a size case records never have."""
        return self.hostile(
            "bad_padding",
            "bad_padding",
            self.fresh_record(),
            sealer=self.rng.choice(self.mispadded),
        )


def _item(r: random.Random) -> Doc:
    """A random item; a third of those whose category takes a subcategory get one."""
    category = r.choice(list(ItemCategory))
    item: Doc = {
        "category": category.value,
        "quantity": r.choice((1, 7, 40, 500, 2000, 20000, "unknown")),
    }
    fitting = [s for s, cats in ITEM_SUBCATEGORY_CATEGORIES.items() if category in cats]
    if fitting and r.random() < 1 / 3:
        item["subcategory"] = r.choice(fitting).value
    return item


def _working_group_fields(r: random.Random, modes: Sequence[str]) -> Doc:
    """Random Working Group fields (docs/case-model.md), each absent some of the time."""
    fields: Doc = {"transfer_type": r.choice(list(TransferType)).value}
    if "sea" in modes and r.random() < 0.5:
        fields["maritime"] = r.sample([m.value for m in MaritimeFeature], r.randint(1, 3))
    if r.random() < 0.4:
        fields["actor_roles"] = [
            {
                "role": r.choice(list(ActorRole)).value,
                "registered": r.choice(list(Registration)).value,
            }
            for _ in range(r.randint(1, 3))
        ]
    if r.random() < 0.3:
        check = r.choice(list(VerificationCheck))
        verification: Doc = {"check": check.value}
        if check is not VerificationCheck.NONE and r.random() < 0.8:
            verification["outcome"] = r.choice(list(VerificationOutcome)).value
        fields["verification"] = verification
    if r.random() < 0.3:
        reassessment: Doc = {"reassessed": r.random() < 0.7}
        if reassessment["reassessed"] and r.random() < 0.8:
            reassessment["outcome"] = r.choice(list(ReassessmentOutcome)).value
        fields["reassessment"] = reassessment
    return fields


def _as_bytes(data: Doc) -> bytes:
    return json.dumps(data).encode()


def _set(**changes: object) -> Callable[[Doc], None]:
    return lambda data: data.update(changes)


def _drop(name: str) -> Callable[[Doc], None]:
    def drop(data: Doc) -> None:
        data.pop(name)

    return drop


_SCHEMA_BREAKERS: tuple[Callable[[Doc], None], ...] = (
    _set(status="deleted"),
    _set(kind="rumour"),
    _drop("confidence"),
    _drop("owner_sig"),
    _set(region="MARS"),
    _set(related_regions=[HOME]),  # its own region on its route
    _set(related_regions=["APG", "APG", "EEG", "GRULAC", "WEOG"]),  # five: one too many
    _set(detected_month="2026-13"),
    _set(detected_month="2026-1"),
    _set(items=[]),
    _set(items=[{"category": "small_arms", "band": "lots"}]),
    _set(items=[{"category": "small_arms"}]),
    _set(items=[{"category": "small_arms", "band": "1-10"}] * 51),
    _set(methods=["teleportation"]),
    _set(transport_modes=None),
    _set(risk_indicators=["doc-01"]),
    _set(risk_indicators=["DOC-01"] * 101),
    _set(summary="x" * 2001),
    _set(contributor="zz"),
    _set(owner_key="G" * 43),
    _set(owner_sig="A" * 85),
    _set(contributor_token=""),
    _set(envelope_id="not-a-uuid"),
    _set(case_id="not-a-uuid"),
    _set(submitted_by="FR"),  # never leaves the node: an unknown field here
    _set(revision="2"),
    _set(revision=0),
    _set(revision=-1),
    _set(revision=1.5),
    _set(revision=True),
    _set(related=[]),
    _set(catalogue_version=""),
    _set(catalogue_version="9" * 33),
    _set(cycle="CSP0"),
    _set(tlp="white"),
    # the Working Group's fields (docs/case-model.md): each always present, each rule kept
    _drop("transfer_type"),
    _drop("verification"),
    _set(transfer_type="transhipment"),
    _set(transport_modes=["air"], maritime=["ais_gap"]),  # a sea-leg detail, no sea leg
    _set(transport_modes=["sea"], maritime=["vessel renamed at sea"]),
    _set(actor_roles=[{"role": "broker"}]),
    _set(actor_roles=[{"role": "broker", "registered": "no", "name": "x"}]),
    _set(verification={"check": "none", "outcome": "consistent"}),
    _set(reassessment={"reassessed": False, "outcome": "revoked"}),
    _set(items=[{"category": "ammunition", "band": "1-10", "subcategory": "uncrewed_system"}]),
)


def build_scenario(  # noqa: PLR0914  the scenario's parts named in the order they are assembled
    ring: SimulatedForum,
    nodes: Mapping[str, SimulatedNode],
    rng: random.Random,
    *,
    cases: int = 300,
    per_class: int = 100,
) -> Scenario:
    """Good AFR cases (with revisions, withdrawals and decoys) and *per_class* records of
    each hostile class plus as many replays, as chains; *nodes* are the forum's simulated
    nodes of :data:`SCENARIO_NODES` (:func:`scenario_nodes`), with their tokens."""
    world = World(ring, nodes, rng)
    good_docs: list[Doc] = []
    final: dict[str, tuple[int, str]] = {}
    chains: list[list[Delivery]] = []
    genuine: list[tuple[Doc, list[Delivery], Delivery, uuid.UUID, int, str]] = []

    def post(doc: Doc, *, record_id: uuid.UUID | None = None, kind: str = GOOD) -> Delivery:
        good_docs.append(doc)
        data = world.record(doc, envelope_id=None if record_id is None else str(record_id))
        case_id = str(data["case_id"])
        final[case_id] = (int(str(doc["revision"])), str(doc["status"]))
        return Delivery(kind, case_id.encode(), world.seal(data))

    for _ in range(cases):
        node = rng.choice(world.nodes)
        doc = world.doc(node)
        first_id = uuid.UUID(world.uuid())
        first = post(doc, record_id=first_id)
        chain = [first]
        last = doc
        if rng.random() < 0.35:  # a correction: any field may change, the month too (within
            # its cycle: a case cannot move to another cycle)
            cycle = Month.parse(str(doc["detected"])[:7]).cycle()
            month = rng.choice([m for m in MONTHS if Month.parse(m).cycle() == cycle])
            last = world.doc(
                node, case_id=doc["case_id"], revision=1 + rng.randint(1, 3), detected=month
            )
            chain.append(post(last))
        if rng.random() < 0.12:
            last = {**last, "revision": int(str(last["revision"])) + 1, "status": "withdrawn"}
            chain.append(post(last))
        chains.append(chain)
        case_id = first.key.decode() if first.key else ""
        genuine.append((doc, chain, first, first_id, int(str(last["revision"])), case_id))

    for _ in range(cases // 15):  # valid new cases under a genuine record's envelope id
        _, _, _, first_id, _, _ = rng.choice(genuine)
        chains.append([post(world.doc(rng.choice(world.nodes)), record_id=first_id, kind=DECOY)])

    def after(chain: list[Delivery], anchor: Delivery, extra: Delivery) -> None:
        chain.insert(rng.randint(chain.index(anchor) + 1, len(chain)), extra)

    for name in HOSTILE_CLASSES:
        if name not in {"key_mismatch", "copied_id", "ownership"}:  # one record each
            make: Callable[[], Delivery] = getattr(world, name)
            chains.extend([make()] for _ in range(per_class))
    for _ in range(per_class):
        doc, chain, first, first_id, last_revision, case_id = rng.choice(genuine)
        chains.append([world.key_mismatch(rng.choice(genuine)[5])])
        chain.insert(rng.randint(0, chain.index(first)), world.copied_id(case_id, first_id))
        # before the genuine first record too: a forger cannot pre-empt a case
        chain.insert(rng.randint(0, len(chain)), world.ownership(doc, last_revision, case_id))
        original = rng.choice([d for d in chain if d.kind == GOOD])
        after(chain, original, Delivery(REPLAY, original.key, original.value))
    return Scenario(chains, good_docs, final)
