"""The national node's intake: validate, screen, generalise, sign, seal, write to the outbox.

Case identity (DESIGN §5 ⚑): every new case gets the next index of the node's case index;
its owner key derives from the node secret and that index (:class:`NodeIdentity`), and its
case id from the owner public key, its region and its CSP cycle
(:func:`dief.wire.case_id_for`). An input ``case_id`` the node knows (a derived id, or the
practitioner's own reference of a case it posted) names that case; one it does not know is
the reference of a new case (revision 1, active), kept in the outbox and never sent.

Each record carries the contributor credential of its (cycle, region), from the node's
:class:`dief.seams.CredentialSource`; while a token has not arrived, the case is **held**
in the outbox, unsealed, and :meth:`NationalNode.release_held` seals it once it has.

Nothing a node publishes names its State: the record key is the case id, timestamps are
coarsened to the hour, ``submitted_by`` and references never leave the node, and each
record is padded to a fixed size (whether it carries a lesson is all its size tells).
"""

from __future__ import annotations

import hashlib
import logging
import re
import uuid
from collections import Counter
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

from dief.crypto.envelope import Sealer
from dief.exceptions import DiefError, ValidationError
from dief.kafka import cases_topic
from dief.node._outbox import CaseIndexEntry, HeldCase, Outbox, RevisionConflict
from dief.node._receipts import ReceiptTicket
from dief.node._reports import Accepted, AlreadyPosted, SubmitReport, rejection
from dief.periods import CspCycle, Month
from dief.screening import TextScreener, default_screener
from dief.seams import (
    Clock,
    ContributorCredential,
    CredentialSource,
    OutboxEntry,
    SystemClock,
    coarse_timestamp_ms,
)
from dief.vocab import CaseStatus, Region
from dief.wire import (
    CASE_SCHEMA_VERSION,
    TYPE_CASE,
    CaseInput,
    CaseValidationError,
    UnsignedRecord,
    case_id_for,
    case_padded_size,
    generalise,
)

if TYPE_CHECKING:
    from collections.abc import Iterable, Mapping, Sequence

    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    from dief.crypto.keys import KemPublicKey
    from dief.node._identity import NodeIdentity

__all__ = ["NationalNode", "case_fingerprint"]

log = logging.getLogger("dief.node")

#: Numbering passes before a submit gives up on a file other writers keep changing.
_NUMBERING_ATTEMPTS = 3
#: Control characters a lesson may not hold (the record schema refuses them).
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")

_Parsed = CaseInput | ValidationError


def case_fingerprint(case: CaseInput) -> str:
    """What identifies a new case's input across files: SHA-256 of the parsed input (without
    ``submitted_by``). Kept in the node's outbox only, never sent."""
    body = case.model_dump_json(exclude={"submitted_by"}).encode("utf-8")
    return hashlib.sha256(b"dief/intake/v1/" + body).hexdigest()


def _is_new(case: CaseInput) -> bool:
    """A new case: no case id, active, revision absent or 1 (what a re-posted file repeats)."""
    return case.case_id is None and case.revision in {None, 1} and case.status is CaseStatus.ACTIVE


class _Reposts:
    """Which new cases of a submission this node already accepted from an earlier one.

    A case is known by its input's fingerprint; the same input twice in one file is two
    cases, so the k-th occurrence of a fingerprint in this submission is the k-th case
    accepted with it before, if there was one. Nothing is a repost when *again*.
    """

    def __init__(
        self,
        items: Sequence[tuple[int, CaseInput | ValidationError]],
        outbox: Outbox,
        *,
        again: bool,
    ) -> None:
        self._prints = {
            line: case_fingerprint(c)
            for line, c in items
            if isinstance(c, CaseInput) and _is_new(c)
        }
        wanted = sorted(set(self._prints.values()))
        self._posted = {} if again else outbox.known_fingerprints(wanted)
        self._seen: Counter[str] = Counter()

    def fingerprint(self, line: int) -> str | None:
        """The fingerprint of this line's case, if it is a new case."""
        return self._prints.get(line)

    def earlier(self, line: int) -> str | None:
        """The case id an earlier submission gave this line's case, or None."""
        fingerprint = self._prints.get(line)
        if fingerprint is None:
            return None
        k = self._seen[fingerprint]
        self._seen[fingerprint] += 1
        posted = self._posted.get(fingerprint, [])
        return posted[k] if k < len(posted) else None


@dataclass(slots=True)
class _Batch:
    """What one numbering pass of a submission decided so far."""

    next_index: int
    cases: dict[str, CaseIndexEntry] = field(default_factory=dict)  # case id → entry
    references: dict[str, str] = field(default_factory=dict)  # new cases' references
    entries: list[OutboxEntry] = field(default_factory=list)
    tickets: list[ReceiptTicket] = field(default_factory=list)
    held: list[HeldCase] = field(default_factory=list)
    prints: list[tuple[str, str]] = field(default_factory=list)  # (fingerprint, case id)


def _raw(key: Ed25519PrivateKey) -> bytes:
    return key.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)


def _refuse(code: str, message: str, loc: str) -> ValidationError:
    return ValidationError(message, code=code, loc=(loc,))


class NationalNode:
    """One national node: turns validated cases into signed, sealed outbox entries."""

    def __init__(  # noqa: PLR0913  public constructor, used outside dief/node
        self,
        identity: NodeIdentity,
        outbox: Outbox,
        sealers: Mapping[Region, Sealer],
        topics: Mapping[Region, str],
        *,
        credentials: CredentialSource,
        clock: Clock | None = None,
        start_month: int = 9,
        catalogue_version: str | None = None,
        screener: TextScreener | None = None,
    ) -> None:
        """*screener* screens lessons (default: the shared one; a forum's own terms need a
        :class:`~dief.screening.Screener` of their own)."""
        self._identity = identity
        self._screener: TextScreener = screener if screener is not None else default_screener()
        self._outbox = outbox
        self._sealers = dict(sealers)
        self._topics = dict(topics)
        self._credentials = credentials
        self._clock: Clock = clock or SystemClock()
        self._start_month = start_month
        self._catalogue_version = catalogue_version
        self._cycles: dict[Month, CspCycle] = {}  # detected month → its CSP cycle

    @classmethod
    def for_regions(  # noqa: PLR0913  public constructor, used outside dief/node
        cls,
        identity: NodeIdentity,
        outbox: Outbox,
        recipients_by_region: Mapping[Region, Iterable[KemPublicKey]],
        *,
        credentials: CredentialSource,
        start_month: int,
        catalogue_version: str | None,
        clock: Clock | None = None,
    ) -> NationalNode:
        """A node sealing each region's cases to its recipients, onto its cases topic."""
        sealers = {
            r: Sealer(type=TYPE_CASE, region=r.value, recipients=keys, schema=CASE_SCHEMA_VERSION)
            for r, keys in recipients_by_region.items()
        }
        return cls(
            identity,
            outbox,
            sealers,
            {r: cases_topic(r) for r in recipients_by_region},
            credentials=credentials,
            clock=clock,
            start_month=start_month,
            catalogue_version=catalogue_version,
        )

    def __repr__(self) -> str:
        return f"NationalNode(outbox={self._outbox!r})"

    async def submit(
        self,
        items: Sequence[tuple[int, _Parsed]],
        *,
        source: str | None = None,
        again: bool = False,
    ) -> SubmitReport:
        """Accept or refuse each (line, case); accepted ones are in the outbox on return
        (sealed, or held for their contributor token).

        One refused case never affects the others. A new case this node already accepted
        (the same input, from an earlier file or line) is reported as already posted and
        skipped, unless *again*. *source* (a file's digest) is recorded as posted only when
        no line was refused, so a file with refusals is never taken for posted. Cases and
        revisions are numbered from the outbox's case index; if another writer moved it
        meanwhile, the outbox refuses the write and the cases are numbered (and sealed)
        once more. A case this node seems never to have sent is looked up in the file
        before it is refused. Held cases whose token has arrived are released first.
        """
        await self.release_held()
        attempt = 1
        looked_up = False
        while True:
            report, batch = self._prepare(items, again=again)
            if not looked_up and any(r.reason == "unknown_case" for r in report.rejected):
                looked_up = True  # another process on this outbox may have sent it
                await self._outbox.reload_revisions()
                continue
            try:
                await self._outbox.add(
                    list(batch.cases.values()),
                    batch.entries,
                    source=None if report.rejected else source,
                    fingerprints=batch.prints,
                    receipts=batch.tickets,
                    held=batch.held,
                )
                break
            except RevisionConflict:
                if attempt == _NUMBERING_ATTEMPTS:
                    raise
                attempt += 1
                log.info("the case index moved in the outbox meanwhile; numbering again")
        if report.rejected:
            log.info("refused %d of %d cases", len(report.rejected), len(items))
        if batch.held:
            log.info("%d cases held until their contributor tokens arrive", len(batch.held))
        return report

    async def release_held(self) -> int:
        """Seal and release the held cases whose contributor token has arrived, oldest
        first (a (cycle, region) still without a token keeps all of its cases, in order);
        returns how many were released."""
        if self._outbox.held_count == 0:
            return 0
        stamp = coarse_timestamp_ms(self._clock.now())
        seqs: list[int] = []
        entries: list[OutboxEntry] = []
        tickets: list[ReceiptTicket] = []
        blocked: set[tuple[str, str]] = set()
        for held in await self._outbox.held():
            pair = (held.record.cycle, held.record.region)
            credential = None if pair in blocked else self._credentials.credential(*pair)
            if credential is None:
                blocked.add(pair)
                continue
            try:
                entry, ticket = self._seal(
                    held.record, self._identity.owner_key(held.index), credential, stamp
                )
            except DiefError as exc:  # a bug or a key problem: keep it, and its successors
                log.error("a held case could not be sealed (%s); it stays held", exc.code)  # noqa: TRY400  the reason only, never a traceback (its locals may hold case text)
                blocked.add(pair)
                continue
            seqs.append(held.seq)
            entries.append(entry)
            tickets.append(ticket)
        if not seqs or await self._outbox.release(seqs, entries, tickets) is None:
            return 0
        log.info("released %d held cases", len(seqs))
        return len(seqs)

    def _prepare(
        self, items: Sequence[tuple[int, _Parsed]], *, again: bool
    ) -> tuple[SubmitReport, _Batch]:
        report = SubmitReport()
        batch = _Batch(next_index=self._outbox.next_index)
        reposts = _Reposts(items, self._outbox, again=again)
        stamp = coarse_timestamp_ms(self._clock.now())
        for line, case in items:
            if isinstance(case, ValidationError):
                cid = case.case_id if isinstance(case, CaseValidationError) else None
                report.rejected.append(rejection(line, cid, case))
                continue
            earlier = reposts.earlier(line)
            if earlier is not None:
                latest = self._outbox.known_revisions([earlier]).get(earlier, 1)
                report.already.append(AlreadyPosted(line, earlier, latest))
                continue
            given = str(case.case_id) if case.case_id else None
            try:
                accepted = self._accept(line, case, batch, stamp)
            except DiefError as exc:  # screening, identity, validation; sealing: keys, size
                report.rejected.append(rejection(line, given, exc))
                continue
            if (fingerprint := reposts.fingerprint(line)) is not None:
                batch.prints.append((fingerprint, accepted.case_id))
            report.accepted.append(accepted)
        return report, batch

    def _accept(self, line: int, case: CaseInput, batch: _Batch, stamp: int) -> Accepted:
        """Number, generalise and sign+seal (or hold) one case into *batch*."""
        if case.summary:
            self._screener.check({"summary": case.summary})
            if (bad := _CONTROL.search(case.summary)) is not None:
                raise _refuse(
                    "invalid_text",
                    f"summary: a control character at offset {bad.start()} (only tab and "
                    "line breaks are allowed)",
                    "summary",
                )
        cycle = self._cycle(case.detected_month)
        entry, key = self._number(case, str(cycle), batch)
        unsigned = generalise(
            case,
            case_id=entry.case_id,
            revision=int(entry.revision or 0),
            owner_key=_raw(key),
            cycle=cycle,
            catalogue_version=self._catalogue_version,
        )
        credential = self._credentials.credential(entry.cycle, entry.region)
        if credential is None:
            batch.held.append(HeldCase(entry.index, unsigned))
            accepted = Accepted(line, entry.case_id, unsigned.revision, 0, (), held=True)
        else:
            sealed, ticket = self._seal(unsigned, key, credential, stamp)
            batch.entries.append(sealed)
            batch.tickets.append(ticket)
            accepted = Accepted(line, entry.case_id, unsigned.revision, 1, (ticket.receipt_id,))
        batch.cases[entry.case_id] = entry
        if entry.reference is not None:
            batch.references[entry.reference] = entry.case_id
        return accepted

    def _known(self, name: str, batch: _Batch) -> CaseIndexEntry | None:
        """The case *name* (a derived id or a reference) names, as this batch left it."""
        found = self._outbox.lookup(name)
        if found is not None:
            return batch.cases.get(found.case_id, found)
        return batch.cases.get(batch.references.get(name, name))

    def _number(
        self, case: CaseInput, cycle: str, batch: _Batch
    ) -> tuple[CaseIndexEntry, Ed25519PrivateKey]:
        """The case's index entry with its new revision, and its owner key; or
        :class:`ValidationError` (``unknown_case``, ``region_changed``, ``cycle_changed``,
        ``stale_revision``, ``unknown_revision``)."""
        given = str(case.case_id) if case.case_id else None
        region = str(case.region)
        known = None if given is None else self._known(given, batch)
        if known is None:
            if case.revision not in {None, 1} or case.status is not CaseStatus.ACTIVE:
                what = f"this node knows no case {given}" if given else "no case_id is given"
                raise _refuse(
                    "unknown_case",
                    f"case_id: {what}; a new case is revision 1 and active (a withdrawal or "
                    "a later revision names a case this node posted)",
                    "case_id",
                )
            key = self._identity.owner_key(batch.next_index)
            case_id = case_id_for(region, cycle, _raw(key))
            entry = CaseIndexEntry(case_id, batch.next_index, region, cycle, 1, given)
            batch.next_index += 1
            return entry, key
        if region != known.region:
            raise _refuse(
                "region_changed",
                f"region: case {known.case_id} is a case of {known.region}; a revision cannot "
                "move it to another region: withdraw it and post it anew",
                "region",
            )
        if cycle != known.cycle:
            raise _refuse(
                "cycle_changed",
                f"detected: case {known.case_id} is a case of {known.cycle}; a revision cannot "
                "move it to another CSP cycle: withdraw it and post it anew",
                "detected",
            )
        stored = known.revision
        if case.revision is None:
            if stored is None:
                raise _refuse(
                    "unknown_revision",
                    f"revision: this node does not know the latest revision of case "
                    f"{known.case_id} (restored from a backup); give the revision",
                    "revision",
                )
            revision = stored + 1
        elif stored is not None and case.revision <= stored:
            raise _refuse(
                "stale_revision",
                f"revision: {case.revision} is not above revision {stored} this node "
                f"already sent for case {known.case_id}",
                "revision",
            )
        else:
            revision = case.revision
        entry = CaseIndexEntry(
            known.case_id, known.index, known.region, known.cycle, revision, known.reference
        )
        return entry, self._identity.owner_key(known.index)

    def _cycle(self, month: Month) -> CspCycle:
        cycle = self._cycles.get(month)
        if cycle is None:
            cycle = self._cycles[month] = CspCycle.of(month, start_month=self._start_month)
        return cycle

    def _seal(
        self,
        unsigned: UnsignedRecord,
        key: Ed25519PrivateKey,
        credential: ContributorCredential,
        stamp: int,
    ) -> tuple[OutboxEntry, ReceiptTicket]:
        """The signed record, padded and sealed for its region, with the ticket that
        recognises and opens its receipts."""
        envelope_id = uuid.uuid4()
        record = unsigned.sign(credential, str(envelope_id), key.sign)
        region = Region(record.region)
        # Padded to its kind's fixed size (DESIGN §3 ⚑); the sealer refuses a record that
        # does not fit (record_too_large), which the schema's bounds rule out.
        sealed = self._sealers[region].seal_with_receipt(
            record.to_json(), pad_to=case_padded_size(record), record_id=envelope_id
        )
        entry = OutboxEntry(
            self._topics[region],
            record.case_id.encode("ascii"),
            sealed.value,
            stamp,
            group=self._identity.group(credential.contributor),
            urgent=unsigned.urgent,
        )
        ticket = ReceiptTicket(
            sealed.receipt_id, sealed.receipt_key, record.case_id, record.revision, region.value
        )
        return entry, ticket
