"""The regional aggregator's logic, free of any Kafka client (DESIGN §2, §5, §8).

``handle`` takes one batch of consumed records of one region and either returns after the
database transactions that applied them committed (so the caller may commit offsets), or
raises (so the caller must not). Records that cannot be applied are sent to the DLQ sink
inside the transaction that counts them: a batch's dead letters are acknowledged by the
broker before its offsets can be committed, and nothing is ever dropped silently.

- Every record goes through :class:`RecordValidator` (fixed order, documented reason codes),
  ownership and contributor credential included.
- Dedupe is keyed by (case_id, revision) of records whose ownership verified (DESIGN §8),
  and by a hash of the value for the same bytes again, never by the envelope id that any
  sender chooses: a record that copies another's id cannot make the genuine one a
  duplicate; a record that cannot be opened is counted once by the hash of its value.
- A record that fails only inside the database (:class:`StorageRefusedError`) is isolated
  by bisecting its batch into transactions of their own, and dead-lettered alone; an outage
  (any other :class:`StorageError`) raises, so nothing is committed and the batch comes
  again.
- Receipts (DESIGN §8): once every transaction of the batch committed, each record that
  opened gets a receipt (applied, duplicate, stale or dead-lettered with its reason) on the
  :class:`ReceiptSink`, sealed under the record's receipt key; ``handle`` returns only once
  they are acknowledged, so a failure makes the batch come again (and its receipts be sent
  again: nodes take them idempotently). A record refused at the envelope stage gets none.
"""

from __future__ import annotations

import hashlib
import logging
from collections import Counter
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from dief.aggregator._facts import CaseFacts, Outcome
from dief.aggregator._validation import EnvelopeOpener, RecordRefusedError, RecordValidator
from dief.crypto import seal_receipt
from dief.exceptions import BrokerError, StorageRefusedError
from dief.periods import DEFAULT_CYCLE_START_MONTH
from dief.seams import (
    Clock,
    CredentialCheck,
    DeadLetter,
    DeadLetterSink,
    FaultPoints,
    InboundRecord,
    ReceiptRecord,
    ReceiptSink,
)
from dief.vocab import CaseStatus, Region
from dief.wire import CaseRecord, ReceiptOutcome

if TYPE_CHECKING:
    from collections.abc import Callable, Sequence

    from dief.aggregator._plan import BatchPlan
    from dief.aggregator.store import CaseStore
    from dief.catalogue import Catalogue

__all__ = [
    "BatchReport",
    "RegionAggregator",
    "dedupe_key",
]

log = logging.getLogger("dief.aggregator")


#: How each outcome is counted in a BatchReport (an owner mismatch is dead-lettered).
_OUTCOME_LABELS = {o: "dlq:ownership" if o is Outcome.OWNERSHIP else o.value for o in Outcome}

#: What each outcome's receipt says, with the reason of an owner mismatch.
_RECEIPTS: dict[Outcome, tuple[ReceiptOutcome, str | None]] = {
    Outcome.APPLIED: (ReceiptOutcome.APPLIED, None),
    Outcome.DUPLICATE: (ReceiptOutcome.DUPLICATE, None),
    Outcome.STALE: (ReceiptOutcome.STALE, None),
    Outcome.OWNERSHIP: (ReceiptOutcome.DEAD_LETTERED, Outcome.OWNERSHIP.value),
}


@dataclass(slots=True)
class BatchReport:
    """What one batch did, for progress, metrics and tests."""

    received: int = 0
    outcomes: Counter[str] = field(default_factory=Counter)
    #: receipts sent (one per record that opened)
    receipts: int = 0

    @property
    def dead_lettered(self) -> int:
        return sum(n for k, n in self.outcomes.items() if k.startswith("dlq:"))


@dataclass(frozen=True, slots=True)
class _Address:
    """Where a record's receipt goes: its envelope id and its receipt key."""

    envelope_id: str
    receipt_key: bytes = field(repr=False)


@dataclass(slots=True)
class _Batch:
    """The batch in hand: its report, the receipt address of each record that opened (by
    the identity of its :class:`InboundRecord`) and the receipts due once it committed."""

    report: BatchReport
    addresses: dict[int, _Address] = field(default_factory=dict)
    due: list[tuple[_Address, ReceiptOutcome, str | None]] = field(default_factory=list)
    #: the opened record of each decoded one (by identity), for the ``applied`` hook
    records: dict[int, CaseRecord] = field(default_factory=dict)


def dedupe_key(value: bytes | None) -> str:
    """The key a record is deduplicated by: a hash of its value (34 characters).

    Never the envelope id, which any sender chooses (DESIGN §8): the same bytes delivered
    again are a duplicate; a record that copies another's id is not.
    """
    return "v:" + hashlib.sha256(value or b"").hexdigest()[:32]


class RegionAggregator:
    """Applies one region's case records to the store, idempotently."""

    def __init__(  # noqa: PLR0913  a public keyword signature of settings and seams, used outside dief/aggregator
        self,
        region: Region,
        opener: EnvelopeOpener,
        store: CaseStore,
        dead_letters: DeadLetterSink,
        *,
        credentials: CredentialCheck,
        start_month: int = DEFAULT_CYCLE_START_MONTH,
        catalogues: dict[str, Catalogue] | None = None,
        clock: Clock | None = None,
        faults: FaultPoints | None = None,
        receipts: ReceiptSink | None = None,
        applied: Callable[[CaseRecord], None] | None = None,
    ) -> None:
        """*applied*, if given, is told of each record whose revision a committed
        transaction applied (not duplicates, stale or refused ones): bulletins hook here."""
        self.region = region
        self._applied = applied
        self._code = region.value
        self._start_month = start_month
        self._validator = RecordValidator(
            region,
            opener,
            credentials=credentials,
            start_month=start_month,
            catalogues=catalogues,
            clock=clock,
        )
        self._store = store
        self._sink = dead_letters
        self._faults = faults
        self._receipts = receipts

    def __repr__(self) -> str:
        return f"RegionAggregator(region={self.region.value!r})"

    def decode(self, rec: InboundRecord) -> CaseFacts:
        """Validate one record (:class:`RecordValidator`) into the facts the store keeps, or
        raise :class:`RecordRefusedError` with a reason code."""
        return self._decode(rec)[0]

    def _decode(self, rec: InboundRecord) -> tuple[CaseFacts, _Address, CaseRecord]:
        """:meth:`decode`, with where the record's receipt goes and the opened record."""
        valid = self._validator.validate(rec)
        record = valid.record
        facts = CaseFacts.from_record(
            record,
            record_id=dedupe_key(rec.value),
            region=self._code,
            # A withdrawal erases the case's sealed lesson at rest (DESIGN §8): the stored
            # envelope of a withdrawn case is empty, so nothing can ever open it again.
            sealed=(rec.value or b"") if record.status is CaseStatus.ACTIVE else b"",
            # the validator checked the cycle against the month by the same start month
            start_month=self._start_month,
        )
        return facts, _Address(valid.envelope_id, valid.receipt_key), record

    def _decode_batch(
        self, records: Sequence[InboundRecord], batch: _Batch
    ) -> tuple[list[tuple[InboundRecord, CaseFacts]], list[DeadLetter]]:
        """Every record decoded, or refused with its reason (never raises); the receipt
        address of every record that opened goes to *batch*."""
        decoded: list[tuple[InboundRecord, CaseFacts]] = []
        refused: list[DeadLetter] = []
        addresses = batch.addresses
        for rec in records:
            try:
                facts, addresses[id(rec)], opened = self._decode(rec)
                decoded.append((rec, facts))
                if self._applied is not None:
                    batch.records[id(rec)] = opened
            except RecordRefusedError as why:
                refused.append(DeadLetter(rec, why.reason, why.detail, dedupe_key(rec.value)))
                if why.envelope_id is not None and why.receipt_key is not None:
                    addresses[id(rec)] = _Address(why.envelope_id, why.receipt_key)
            except Exception as exc:  # a bug: dead-letter the record, keep the partition moving  # noqa: BLE001  a bug must not stop the partition: logged by type and the record dead-lettered
                # Type only: a message or traceback could carry decrypted case text.
                log.error(  # noqa: TRY400  logged by type or code only: a traceback could carry decrypted case text
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
        """Apply one batch. Returns after its transactions committed and its receipts were
        acknowledged; raises otherwise."""
        batch = _Batch(BatchReport(received=len(records)))
        decoded, refused = self._decode_batch(records, batch)
        await self._apply(decoded, refused, batch)
        await self._send_receipts(batch)
        return batch.report

    async def _apply(
        self,
        decoded: Sequence[tuple[InboundRecord, CaseFacts]],
        refused: list[DeadLetter],
        batch: _Batch,
    ) -> None:
        """Apply *decoded* with *refused*'s dead letters in one transaction; if the database
        refuses it, bisect so that only the record that causes it is dead-lettered."""
        try:
            plan = await self._transaction(decoded, refused)
        except StorageRefusedError as exc:
            if len(decoded) <= 1:
                if await self._applies_on_retry(decoded, refused, batch):
                    return
                refused.extend(
                    DeadLetter(src, "database_refused", exc.message, facts.record_id)
                    for src, facts in decoded
                )
                await self._apply([], refused, batch)
                return
            half = len(decoded) // 2
            # Partition order is kept: the first half commits before the second starts.
            await self._apply(decoded[:half], refused, batch)
            await self._apply(decoded[half:], [], batch)
            return
        self._committed(decoded, refused, plan, batch)

    async def _applies_on_retry(
        self,
        decoded: Sequence[tuple[InboundRecord, CaseFacts]],
        refused: Sequence[DeadLetter],
        batch: _Batch,
    ) -> bool:
        """One more try of a lone refused record: a constraint can also be a race with
        another instance of this region's aggregator (during a rebalance), which the retry
        sees as a duplicate. Only a record refused twice is the record's fault."""
        try:
            plan = await self._transaction(decoded, refused)
        except StorageRefusedError:
            return False
        self._committed(decoded, refused, plan, batch)
        return True

    def _committed(
        self,
        decoded: Sequence[tuple[InboundRecord, CaseFacts]],
        refused: Sequence[DeadLetter],
        plan: BatchPlan,
        batch: _Batch,
    ) -> None:
        """Count what one committed transaction did, and note the receipts it owes."""
        batch.report.outcomes.update(map(_OUTCOME_LABELS.__getitem__, plan.outcomes))
        addresses, due = batch.addresses, batch.due
        for (src, _), outcome in zip(decoded, plan.outcomes, strict=True):
            if (address := addresses.get(id(src))) is not None:
                due.append((address, *_RECEIPTS[outcome]))
            if outcome is Outcome.APPLIED and (record := batch.records.get(id(src))):
                self._tell_applied(record)
        for d in refused:
            batch.report.outcomes[f"dlq:{d.reason}"] += 1
            log.warning(
                "dead-lettered %s[%d]@%d: %s",
                d.record.topic,
                d.record.partition,
                d.record.offset,
                d.reason,
            )
            if (address := addresses.get(id(d.record))) is not None:
                due.append((address, ReceiptOutcome.DEAD_LETTERED, d.reason))

    def _tell_applied(self, record: CaseRecord) -> None:
        """Tell the ``applied`` hook; its failure never stops the delivery path."""
        if self._applied is None:
            return
        try:
            self._applied(record)
        except Exception as exc:  # a bug in the hook: logged by type only (case text)  # noqa: BLE001  a bug must not stop the partition: logged by type and the record dead-lettered
            log.error("the applied hook failed with %s; the batch goes on", type(exc).__name__)  # noqa: TRY400  logged by type or code only: a traceback could carry decrypted case text

    async def _send_receipts(self, batch: _Batch) -> None:
        """Seal and send the receipts *batch* owes; returns once they are acknowledged."""
        if self._receipts is None or not batch.due:
            return
        region = self._code
        receipts: list[ReceiptRecord] = []
        for address, outcome, reason in batch.due:
            try:
                rid, value = seal_receipt(
                    address.receipt_key, address.envelope_id, outcome, reason, region
                )
            except ValueError:  # a reason code too long for the padded size: a bug
                log.error("a receipt did not fit its padded size (reason %s); not sent", reason)  # noqa: TRY400  logged by type or code only: a traceback could carry decrypted case text
                continue
            receipts.append(ReceiptRecord(rid, value))
        try:
            await self._receipts.send(receipts)
        except BrokerError as exc:
            log.error(  # noqa: TRY400  logged by type or code only: a traceback could carry decrypted case text
                "receipts of a batch of %d not sent (%s); the batch comes again",
                batch.report.received,
                exc.message,
            )
            raise
        batch.report.receipts += len(receipts)

    async def _transaction(
        self,
        decoded: Sequence[tuple[InboundRecord, CaseFacts]],
        refused: Sequence[DeadLetter],
    ) -> BatchPlan:
        facts = [f for _, f in decoded]

        async def send_dead_letters(plan: BatchPlan) -> None:
            mismatched = [
                DeadLetter(
                    src,
                    Outcome.OWNERSHIP.value,
                    "owner_key is not the stored case's; revision ignored",
                    f.record_id,
                )
                for (src, f), o in zip(decoded, plan.outcomes, strict=True)
                if o is Outcome.OWNERSHIP
            ]
            letters = [*refused, *mismatched]
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
