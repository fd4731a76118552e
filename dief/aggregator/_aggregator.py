"""The regional aggregator's logic, free of any Kafka client (DESIGN §2, §5, §8).

``handle`` takes one batch of consumed records of one region and either returns after the
database transactions that applied them committed (so the caller may commit offsets), or
raises (so the caller must not). Records that cannot be applied are sent to the DLQ sink
inside the transaction that counts them: a batch's dead letters are acknowledged by the
broker before its offsets can be committed, and nothing is ever dropped silently.

- Every record goes through :class:`RecordValidator` (fixed order, documented reason codes).
- Dedupe is keyed by a hash of the record's value, never by the envelope id that any sender
  chooses: a record that copies another's id cannot make the genuine one a duplicate,
  while a redelivery (the same bytes) is recognised.
- A record that fails only inside the database (:class:`StorageRefusedError`) is isolated
  by bisecting its batch into transactions of their own, and dead-lettered alone; an outage
  (any other :class:`StorageError`) raises, so nothing is committed and the batch comes
  again.
"""

from __future__ import annotations

import hashlib
import logging
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field

from dief.aggregator._facts import CaseFacts, Outcome
from dief.aggregator._plan import BatchPlan
from dief.aggregator._validation import EnvelopeOpener, RecordRefusedError, RecordValidator
from dief.aggregator.store import CaseStore
from dief.catalogue import Catalogue
from dief.exceptions import StorageRefusedError
from dief.periods import DEFAULT_CYCLE_START_MONTH
from dief.seams import Clock, DeadLetter, DeadLetterSink, FaultPoints, InboundRecord
from dief.vocab import CaseStatus, Region
from dief.wire import CaseRecord

__all__ = ["BatchReport", "RegionAggregator", "case_values", "dedupe_key"]

log = logging.getLogger("dief.aggregator")


#: How each outcome is counted in a BatchReport (a forged revision is dead-lettered).
_OUTCOME_LABELS = {o: "dlq:forged_revision" if o is Outcome.FORGED else o.value for o in Outcome}


@dataclass(slots=True)
class BatchReport:
    """What one batch did, for progress, metrics and tests."""

    received: int = 0
    outcomes: Counter[str] = field(default_factory=Counter)

    @property
    def dead_lettered(self) -> int:
        return sum(n for k, n in self.outcomes.items() if k.startswith("dlq:"))


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


def dedupe_key(value: bytes | None) -> str:
    """The key a record is deduplicated by: a hash of its value (34 characters).

    Never the envelope id, which any sender chooses (DESIGN §8): the same bytes delivered
    again are a duplicate; a record that copies another's id is not.
    """
    return "v:" + hashlib.sha256(value or b"").hexdigest()[:32]


class RegionAggregator:
    """Applies one region's case records to the store, idempotently."""

    def __init__(
        self,
        region: Region,
        opener: EnvelopeOpener,
        store: CaseStore,
        dead_letters: DeadLetterSink,
        *,
        start_month: int = DEFAULT_CYCLE_START_MONTH,
        catalogues: dict[str, Catalogue] | None = None,
        clock: Clock | None = None,
        faults: FaultPoints | None = None,
    ) -> None:
        self.region = region
        self._code = region.value
        self._validator = RecordValidator(
            region, opener, start_month=start_month, catalogues=catalogues, clock=clock
        )
        self._store = store
        self._sink = dead_letters
        self._faults = faults

    def __repr__(self) -> str:
        return f"RegionAggregator(region={self.region.value!r})"

    def decode(self, rec: InboundRecord) -> CaseFacts:
        """Validate one record (:class:`RecordValidator`) into the facts the store keeps, or
        raise :class:`RecordRefusedError` with a reason code."""
        valid = self._validator.validate(rec)
        record = valid.record
        return CaseFacts(
            record_id=dedupe_key(rec.value),
            case_id=record.case_id,
            revision=record.revision,
            region=self._code,
            status=str(record.status),
            contributor=record.contributor,
            owner_tag=record.owner_tag,
            month=record.detected_month,
            cycle=record.cycle,
            tlp=str(record.tlp),
            related=record.related,
            primary_region=str(record.region),
            values=case_values(record),
            # A withdrawal erases the case's sealed lesson at rest (DESIGN §8): the stored
            # envelope of a withdrawn case is empty, so nothing can ever open it again.
            sealed=(rec.value or b"") if record.status is CaseStatus.ACTIVE else b"",
        )

    def _decode_batch(
        self, records: Sequence[InboundRecord]
    ) -> tuple[list[tuple[InboundRecord, CaseFacts]], list[DeadLetter]]:
        """Every record decoded, or refused with its reason (never raises)."""
        decoded: list[tuple[InboundRecord, CaseFacts]] = []
        refused: list[DeadLetter] = []
        for rec in records:
            try:
                decoded.append((rec, self.decode(rec)))
            except RecordRefusedError as why:
                refused.append(DeadLetter(rec, why.reason, why.detail, dedupe_key(rec.value)))
            except Exception as exc:  # a bug: dead-letter the record, keep the partition moving
                # Type only: a message or traceback could carry decrypted case text.
                log.error(
                    "unexpected %s decoding %s[%d]@%d; dead-lettered",
                    type(exc).__name__,
                    rec.topic,
                    rec.partition,
                    rec.offset,
                )
                refused.append(
                    DeadLetter(rec, "internal_error", type(exc).__name__, dedupe_key(rec.value))
                )
        return decoded, refused

    async def handle(self, records: Sequence[InboundRecord]) -> BatchReport:
        """Apply one batch. Returns after its transactions committed; raises otherwise."""
        report = BatchReport(received=len(records))
        decoded, refused = self._decode_batch(records)
        await self._apply(decoded, refused, report)
        return report

    async def _apply(
        self,
        decoded: Sequence[tuple[InboundRecord, CaseFacts]],
        refused: list[DeadLetter],
        report: BatchReport,
    ) -> None:
        """Apply *decoded* with *refused*'s dead letters in one transaction; if the database
        refuses it, bisect so that only the record that causes it is dead-lettered."""
        try:
            plan = await self._transaction(decoded, refused)
        except StorageRefusedError as exc:
            if len(decoded) <= 1:
                if await self._applies_on_retry(decoded, refused, report):
                    return
                refused.extend(
                    DeadLetter(src, "database_refused", exc.message, facts.record_id)
                    for src, facts in decoded
                )
                await self._apply([], refused, report)
                return
            half = len(decoded) // 2
            # Partition order is kept: the first half commits before the second starts.
            await self._apply(decoded[:half], refused, report)
            await self._apply(decoded[half:], [], report)
            return
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

    async def _applies_on_retry(
        self,
        decoded: Sequence[tuple[InboundRecord, CaseFacts]],
        refused: Sequence[DeadLetter],
        report: BatchReport,
    ) -> bool:
        """One more try of a lone refused record: a constraint can also be a race with
        another instance of this region's aggregator (during a rebalance), which the retry
        sees as a duplicate. Only a record refused twice is the record's fault."""
        try:
            plan = await self._transaction(decoded, refused)
        except StorageRefusedError:
            return False
        report.outcomes.update(map(_OUTCOME_LABELS.__getitem__, plan.outcomes))
        report.outcomes.update(f"dlq:{d.reason}" for d in refused)
        return True

    async def _transaction(
        self,
        decoded: Sequence[tuple[InboundRecord, CaseFacts]],
        refused: Sequence[DeadLetter],
    ) -> BatchPlan:
        facts = [f for _, f in decoded]

        async def send_dead_letters(plan: BatchPlan) -> None:
            forged = [
                DeadLetter(
                    src,
                    Outcome.FORGED.value,
                    "owner_tag does not match the stored case; revision ignored",
                    f.record_id,
                )
                for (src, f), o in zip(decoded, plan.outcomes, strict=True)
                if o is Outcome.FORGED
            ]
            letters = [*refused, *forged]
            if letters:
                if self._faults is not None:
                    self._faults.reached("dead_letter_send")
                await self._sink.send(letters)

        return await self._store.apply_batch(
            self._code,
            facts,
            dead=[(d.record_id, d.reason) for d in refused],
            before_commit=send_dead_letters,
        )
