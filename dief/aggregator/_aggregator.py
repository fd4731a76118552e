"""The regional aggregator's logic, free of any Kafka client (DESIGN §2, §5, §8).

``handle`` takes one batch of consumed records of one region and either returns after the
database transaction that applied them committed (so the caller may commit offsets), or
raises (so the caller must not). Records that cannot be applied are sent to the DLQ sink
inside that transaction: a batch's dead letters are acknowledged by the broker before its
offsets can be committed, and nothing is ever dropped silently.
"""

from __future__ import annotations

import hashlib
import logging
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Protocol

import pydantic

from dief.aggregator._facts import CaseFacts, Outcome
from dief.aggregator._plan import BatchPlan
from dief.aggregator.store import CaseStore
from dief.exceptions import EnvelopeError
from dief.seams import DeadLetter, DeadLetterSink, InboundRecord
from dief.vocab import Region
from dief.wire import TYPE_CASE, CaseRecord

__all__ = ["BatchReport", "EnvelopeOpener", "OpenedEnvelope", "RegionAggregator", "case_values"]

log = logging.getLogger("dief.aggregator")


#: How each outcome is counted in a BatchReport (a forged revision is dead-lettered).
_OUTCOME_LABELS = {o: "dlq:forged_revision" if o is Outcome.FORGED else o.value for o in Outcome}


class OpenedEnvelope(Protocol):
    """What opening a sealed envelope yields (see :mod:`dief.crypto`)."""

    @property
    def type(self) -> str: ...
    @property
    def id(self) -> str: ...
    @property
    def region(self) -> str: ...
    @property
    def payload(self) -> bytes: ...


class EnvelopeOpener(Protocol):
    """Opens sealed envelopes with the private keys this aggregator holds."""

    def open(self, value: bytes) -> OpenedEnvelope: ...


@dataclass(slots=True)
class BatchReport:
    """What one batch did, for progress, metrics and tests."""

    received: int = 0
    outcomes: Counter[str] = field(default_factory=Counter)

    @property
    def dead_lettered(self) -> int:
        return sum(n for k, n in self.outcomes.items() if k.startswith("dlq:"))


class _RefusedError(Exception):
    def __init__(self, reason: str, detail: str, record_id: str | None = None) -> None:
        super().__init__(reason)
        self.reason = reason
        self.detail = detail
        self.record_id = record_id


def case_values(record: CaseRecord) -> tuple[tuple[str, str], ...]:
    """The distinct (dimension, value) pairs a case counts under (DESIGN §5 counting ⚑)."""
    pairs: set[tuple[str, str]] = {
        ("kind", str(record.kind)),
        ("confidence", str(record.confidence)),
        ("transfer_stage", str(record.transfer_stage)),
        ("end_user_type", str(record.end_user_type)),
        ("detection_source", str(record.detection_source)),
    }
    pairs.update(("item_category", str(item.category)) for item in record.items)
    pairs.update(("method", str(m)) for m in record.methods)
    pairs.update(("transport_mode", str(m)) for m in record.transport_modes)
    pairs.update(("risk_indicator", str(i)) for i in record.risk_indicators)
    pairs.update(("action_taken", str(a)) for a in record.actions_taken)
    return tuple(sorted(pairs))


def _position_id(rec: InboundRecord) -> str:
    digest = hashlib.sha256(f"{rec.topic}/{rec.partition}/{rec.offset}/".encode())
    digest.update(rec.value or b"")
    return "at:" + digest.hexdigest()[:32]


def _validation_detail(exc: pydantic.ValidationError) -> str:
    # Locations and error types only: the input may be decrypted case text.
    parts = [
        f"{'.'.join(str(p) for p in err['loc']) or '<root>'}: {err['type']}"
        for err in exc.errors(include_input=False, include_url=False)
    ]
    return "; ".join(parts[:10])


class RegionAggregator:
    """Applies one region's case records to the store, idempotently."""

    def __init__(
        self,
        region: Region,
        opener: EnvelopeOpener,
        store: CaseStore,
        dead_letters: DeadLetterSink,
    ) -> None:
        self.region = region
        self._code = region.value
        self._opener = opener
        self._store = store
        self._sink = dead_letters

    def __repr__(self) -> str:
        return f"RegionAggregator(region={self.region.value!r})"

    def decode(self, rec: InboundRecord) -> CaseFacts:
        """Open and validate one record, or raise ``_RefusedError`` with a reason code."""
        if rec.value is None:
            raise _RefusedError("malformed", "record has no value (tombstone)")
        try:
            opened = self._opener.open(rec.value)
        except EnvelopeError as exc:
            raise _RefusedError(exc.code, exc.message) from exc
        if opened.type != TYPE_CASE:
            raise _RefusedError(
                "wrong_type", f"envelope type {opened.type!r} on a cases topic", opened.id
            )
        code = self._code
        if opened.region != code:
            raise _RefusedError(
                "wrong_region",
                f"envelope sealed for {opened.region!r} on the {code} topic",
                opened.id,
            )
        try:
            record = CaseRecord.model_validate_json(opened.payload)
        except pydantic.ValidationError as exc:
            raise _RefusedError("invalid_payload", _validation_detail(exc), opened.id) from exc
        case_id = record.case_id
        if rec.key is not None and rec.key.decode("utf-8", "replace") != case_id:
            raise _RefusedError("key_mismatch", "record key is not the case_id", opened.id)
        primary = str(record.region)
        if record.related:
            if code not in {str(r) for r in record.related_regions}:
                raise _RefusedError(
                    "wrong_region", "related copy for a region not on the route", opened.id
                )
        elif primary != code:
            raise _RefusedError("wrong_region", f"case of {primary} on the {code} topic", opened.id)
        return CaseFacts(
            record_id=opened.id,
            case_id=case_id,
            revision=record.revision,
            region=code,
            status=str(record.status),
            contributor=record.contributor,
            owner_tag=record.owner_tag,
            month=record.detected_month,
            cycle=record.cycle,
            tlp=str(record.tlp),
            related=record.related,
            primary_region=primary,
            values=case_values(record),
            sealed=rec.value,
        )

    async def handle(self, records: Sequence[InboundRecord]) -> BatchReport:
        """Apply one batch. Returns after the transaction committed; raises otherwise."""
        report = BatchReport(received=len(records))
        facts: list[CaseFacts] = []
        sources: list[InboundRecord] = []
        refused: list[DeadLetter] = []
        for rec in records:
            try:
                decoded = self.decode(rec)
            except _RefusedError as why:
                # A record that could not be opened has no trustworthy id: its position
                # identifies it, so a redelivery is counted once.
                rid = why.record_id or _position_id(rec)
                refused.append(DeadLetter(rec, why.reason, why.detail, rid))
                continue
            except Exception as exc:
                # Type only: a message or traceback could carry decrypted case text.
                log.error(
                    "unexpected %s decoding %s[%d]@%d; dead-lettered",
                    type(exc).__name__,
                    rec.topic,
                    rec.partition,
                    rec.offset,
                )
                refused.append(
                    DeadLetter(rec, "internal_error", type(exc).__name__, _position_id(rec))
                )
                continue
            facts.append(decoded)
            sources.append(rec)

        async def send_dead_letters(plan: BatchPlan) -> None:
            forged = [
                DeadLetter(
                    src,
                    Outcome.FORGED.value,
                    "owner_tag does not match the stored case; revision ignored",
                    f.record_id,
                )
                for src, f, o in zip(sources, facts, plan.outcomes, strict=True)
                if o is Outcome.FORGED
            ]
            letters = [*refused, *forged]
            if letters:
                await self._sink.send(letters)

        plan = await self._store.apply_batch(
            self._code,
            facts,
            dead=[(d.record_id, d.reason) for d in refused],
            before_commit=send_dead_letters,
        )
        report.outcomes.update(map(_OUTCOME_LABELS.__getitem__, plan.outcomes))
        for d in refused:
            report.outcomes[f"dlq:{d.reason}"] += 1
            log.warning(
                "dead-lettered %s[%d]@%d: %s",
                d.record.topic,
                d.record.partition,
                d.record.offset,
                d.reason,
            )
        return report
