"""Realistic case records and case facts in bulk, without the node's per-case work.

A pool of synthetic cases (``dief.synthetic.generate_cases``) is validated and generalised
once, as a node would, by one simulated node per State. Records for large runs are then
made from the pool: a fresh case id and record id, a contributor of the same CSP cycle
drawn from the pool (so contributor x value combinations keep growing with N, as they
would with more reports), and the template's categorical facts. Sealed records go to
Kafka (aggregator RSS); :class:`CaseFacts` go straight into ``CaseStore.apply_batch``
(digest and summary timing at 10k / 100k / 1M stored cases).
"""

from __future__ import annotations

import os
import random
import uuid
from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date

from dief.aggregator import CaseFacts, case_values
from dief.crypto.envelope import Sealer
from dief.kafka import cases_topic
from dief.keyring import Keyring, KeyRole
from dief.node import NodeIdentity
from dief.periods import CspCycle
from dief.synthetic import generate_cases
from dief.vocab import Region
from dief.wire import TYPE_CASE, CaseRecord, generalise, parse_case

__all__ = ["RecordPool"]


@dataclass(frozen=True, slots=True)
class _Template:
    record: CaseRecord
    payload: bytes  # record JSON with the case id and contributor in it
    values: tuple[tuple[str, str], ...]


class RecordPool:
    """Generalised records of *size* synthetic cases (first versions, primary copies)."""

    def __init__(
        self, size: int, *, seed: int, indicator_ids: list[str], today: date, version: str
    ) -> None:
        self._rng = random.Random(seed)
        identities: dict[str, NodeIdentity] = {}
        self.templates: list[_Template] = []
        contributors: dict[str, set[str]] = defaultdict(set)
        for synthetic in generate_cases(size, seed=seed, indicator_ids=indicator_ids, today=today):
            doc = synthetic.document
            if doc.get("revision", 1) != 1:
                continue
            case = parse_case({**doc, "related_regions": []}, today=today)
            state = str(case.submitted_by)
            identity = identities.setdefault(state, NodeIdentity(os.urandom(32)))
            cycle = CspCycle.of(case.detected_month)
            case_id = str(case.case_id)
            record = generalise(
                case,
                case_id=case_id,
                revision=1,
                contributor=identity.contributor(str(cycle)),
                owner_tag=identity.owner_tag(case_id),
                cycle=cycle,
                catalogue_version=version,
            )
            payload = record.to_json()
            if payload.count(case_id.encode()) != 1:
                raise RuntimeError("template record holds its case id more than once")
            self.templates.append(_Template(record, payload, case_values(record)))
            contributors[record.cycle].add(record.contributor)
        self._contributors = {c: sorted(v) for c, v in contributors.items()}

    def _pick(self) -> tuple[_Template, str]:
        template = self._rng.choice(self.templates)
        contributor = self._rng.choice(self._contributors[template.record.cycle])
        return template, contributor

    def _case_id(self) -> str:
        return str(uuid.UUID(int=self._rng.getrandbits(128), version=4))

    def sealed_records(self, n: int, ring: Keyring) -> Iterator[tuple[str, bytes, bytes]]:
        """*n* sealed case records as (topic, key, value), ready to produce."""
        sealers = {
            r: Sealer(
                type=TYPE_CASE,
                region=r.value,
                recipients=ring.sealing_keys(KeyRole.REGION, r.value),
            )
            for r in Region
        }
        topics = {r: cases_topic(r) for r in Region}
        for _ in range(n):
            template, contributor = self._pick()
            record = template.record
            case_id = self._case_id()
            payload = template.payload.replace(record.case_id.encode(), case_id.encode()).replace(
                record.contributor.encode(), contributor.encode()
            )
            yield topics[record.region], case_id.encode(), sealers[record.region].seal(payload)

    def facts(self, n: int, sealed: bytes) -> Iterator[CaseFacts]:
        """*n* case facts as the aggregator would store them (*sealed*: a stand-in envelope
        of realistic size; the store keeps it as received)."""
        for _ in range(n):
            template, contributor = self._pick()
            record = template.record
            yield CaseFacts(
                record_id=str(uuid.UUID(int=self._rng.getrandbits(128), version=4)),
                case_id=self._case_id(),
                revision=1,
                region=record.region.value,
                status=str(record.status),
                contributor=contributor,
                owner_tag=record.owner_tag,
                month=record.detected_month,
                cycle=record.cycle,
                tlp=str(record.tlp),
                related=False,
                primary_region=record.region.value,
                values=template.values,
                sealed=sealed,
            )

    def sample_sealed(self, ring: Keyring) -> bytes:
        """One realistic sealed envelope (for the facts' ``sealed`` column)."""
        return next(self.sealed_records(1, ring))[2]
