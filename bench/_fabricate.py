"""Realistic case records and case facts in bulk, without the node's per-case work.

A pool of synthetic cases (``dief.synthetic.generate_cases``) is validated and generalised
once, as a node would, by one simulated node per State. Records for large runs are then
made from the pool: a fresh owner key (so a fresh case id) and envelope id, a contributor
credential of the same (cycle, region) drawn from the pool (so contributor x value
combinations keep growing with N, as they would with more reports), the template's
categorical facts, and the owner signature (records v2 verify at the aggregator). The
credentials are the real RFC 9474 tokens each State's simulated node holds in the
benchmark's :class:`bench._common.Forum` (the aggregator verifies them under the directory's
issuer key of their (cycle, region)). Sealed
records go to Kafka (aggregator RSS); :class:`CaseFacts` go straight into
``CaseStore.apply_batch`` (digest and summary timing at 10k / 100k / 1M stored cases).
"""

from __future__ import annotations

import random
import uuid
from collections import defaultdict
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

from dief.aggregator import CaseFacts, case_values
from dief.crypto.envelope import Sealer
from dief.kafka import cases_topic
from dief.periods import CspCycle
from dief.seams import ContributorCredential
from dief.synthetic import generate_cases
from dief.vocab import Region
from dief.wire import (
    TYPE_CASE,
    UnsignedRecord,
    case_id_for,
    case_padded_size,
    generalise,
    parse_case,
)

if TYPE_CHECKING:
    from collections.abc import Iterator
    from datetime import date

    from bench._common import Forum

__all__ = ["RecordPool"]


@dataclass(frozen=True, slots=True)
class _Template:
    record: UnsignedRecord
    values: tuple[tuple[str, str], ...]


def _raw(key: Ed25519PrivateKey) -> bytes:
    return key.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)


class RecordPool:
    """Generalised records of *size* synthetic cases (first versions)."""

    def __init__(  # noqa: PLR0913  the phase's inputs, passed by the bench driver
        self,
        size: int,
        *,
        seed: int,
        indicator_ids: list[str],
        today: date,
        version: str,
        forum: Forum,
    ) -> None:
        self._rng = random.Random(seed)
        self.templates: list[_Template] = []
        credentials: dict[tuple[str, str], list[ContributorCredential]] = defaultdict(list)
        for synthetic in generate_cases(size, seed=seed, indicator_ids=indicator_ids, today=today):
            doc = synthetic.document
            if doc.get("revision", 1) != 1:
                continue
            case = parse_case(doc, today=today)
            wallet = forum.node(str(case.submitted_by)).wallet
            cycle = CspCycle.of(case.detected_month)
            record = generalise(
                case,
                case_id=str(uuid.uuid4()),
                revision=1,
                owner_key=b"\x00" * 32,
                cycle=cycle,
                catalogue_version=version,
            )
            self.templates.append(_Template(record, _values(record)))
            pair = (str(cycle), str(case.region))
            credential = wallet.credential(*pair)
            if credential is not None and credential not in credentials[pair]:
                credentials[pair].append(credential)
        self._credentials = dict(credentials)

    def _pick(self) -> tuple[_Template, ContributorCredential]:
        template = self._rng.choice(self.templates)
        pair = (template.record.cycle, template.record.region)
        return template, self._rng.choice(self._credentials[pair])

    @staticmethod
    def documents(size: int, *, seed: int, indicator_ids: list[str], today: date) -> list[Any]:
        """The synthetic cases a pool of *size* is made from (to give their States tokens)."""
        return [
            c.document
            for c in generate_cases(size, seed=seed, indicator_ids=indicator_ids, today=today)
        ]

    def sealed_records(self, n: int, forum: Forum) -> Iterator[tuple[str, bytes, bytes]]:
        """*n* sealed case records as (topic, key, value), ready to produce: each with its
        own owner key, case id and envelope id, signed and padded as a node does."""
        sealers = {
            r: Sealer(
                type=TYPE_CASE,
                region=r.value,
                recipients=forum.sealing_keys(r),
            )
            for r in Region
        }
        topics = {r: cases_topic(r) for r in Region}
        for _ in range(n):
            template, credential = self._pick()
            key = Ed25519PrivateKey.generate()
            raw = _raw(key)
            fields = dict(template.record.fields)
            fields["owner_key"] = _b64(raw)
            fields["case_id"] = case_id_for(credential.region, credential.cycle, raw)
            envelope_id = uuid.uuid4()
            record = UnsignedRecord(fields).sign(credential, str(envelope_id), key.sign)
            region = Region(record.region)
            value = sealers[region].seal(
                record.to_json(), pad_to=case_padded_size(record), record_id=envelope_id
            )
            yield topics[region], record.case_id.encode(), value

    def facts(self, n: int, sealed: bytes) -> Iterator[CaseFacts]:
        """*n* case facts as the aggregator would store them (*sealed*: a stand-in envelope
        of realistic size; the store keeps it as received)."""
        for _ in range(n):
            template, credential = self._pick()
            record = template.record
            yield CaseFacts(
                record_id=str(uuid.UUID(int=self._rng.getrandbits(128), version=4)),
                case_id=str(uuid.UUID(int=self._rng.getrandbits(128), version=4)),
                revision=1,
                region=record.region,
                status=str(record.fields["status"]),
                contributor=credential.contributor,
                owner_key=_b64(self._rng.randbytes(32)),
                month=str(record.fields["detected_month"]),
                cycle=record.cycle,
                tlp=str(record.fields["tlp"]),
                values=template.values,
                sealed=sealed,
                related_regions=tuple(str(r) for r in record.fields["related_regions"]),  # type: ignore[attr-defined]
            )

    def sample_sealed(self, forum: Forum) -> bytes:
        """One realistic sealed envelope (for the facts' ``sealed`` column)."""
        return next(self.sealed_records(1, forum))[2]


def _b64(data: bytes) -> str:
    from dief.wire._ownership import b64url  # noqa: PLC0415  loaded where used: a phase or child process loads only what it measures

    return b64url(data)


def _values(record: UnsignedRecord) -> tuple[tuple[str, str], ...]:
    """The template's (dimension, value) pairs, as the aggregator derives them."""
    from dief.wire import CaseRecord  # noqa: PLC0415  loaded where used: a phase or child process loads only what it measures

    credential = ContributorCredential(record.cycle, record.region, "0" * 32, b"\x00" * 32)
    key = Ed25519PrivateKey.generate()
    fields = dict(record.fields)
    fields["owner_key"] = _b64(_raw(key))
    fields["case_id"] = case_id_for(record.region, record.cycle, _raw(key))
    signed = UnsignedRecord(fields).sign(credential, str(uuid.uuid4()), key.sign)
    assert isinstance(signed, CaseRecord)
    return case_values(signed)
