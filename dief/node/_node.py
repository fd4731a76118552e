"""The national node's intake: validate, screen, generalise, seal, write to the outbox.

Nothing a node publishes names its State: the contributor pseudonym and owner tag are
HMACs of the node secret (DESIGN §5), record timestamps are coarsened to the hour, the
record key is the case id, and ``submitted_by`` never leaves the node.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import uuid
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from dief.crypto.envelope import Sealer
from dief.crypto.keys import KemPublicKey
from dief.exceptions import DiefError, ValidationError
from dief.kafka import cases_topic
from dief.node._outbox import Outbox, RevisionConflict
from dief.node._receipts import ReceiptTicket
from dief.periods import CspCycle, Month
from dief.screening import check_text
from dief.seams import Clock, OutboxEntry, SystemClock, coarse_timestamp_ms
from dief.vocab import CaseStatus, Region
from dief.wire import TYPE_CASE, CaseInput, CaseValidationError, generalise

__all__ = [
    "Accepted",
    "AlreadyPosted",
    "NationalNode",
    "NodeIdentity",
    "Rejection",
    "SubmitReport",
    "case_fingerprint",
    "write_rejections",
]

log = logging.getLogger("dief.node")

#: Numbering passes before a submit gives up on a file other writers keep changing.
_NUMBERING_ATTEMPTS = 3


class NodeIdentity:
    """Derives a node's pseudonyms from its secret. The secret never leaves this object."""

    __slots__ = ("_contributors", "_secret")

    def __init__(self, secret: bytes) -> None:
        if len(secret) < 32:
            raise ValueError("a node secret is at least 32 bytes")
        self._secret = bytes(secret)
        self._contributors: dict[str, str] = {}  # cycle → pseudonym (a handful per node)

    def __repr__(self) -> str:
        return "NodeIdentity(<secret>)"

    def _tag(self, label: str) -> str:
        return hmac.new(self._secret, label.encode("utf-8"), hashlib.sha256).digest()[:16].hex()

    def contributor(self, cycle: str) -> str:
        """Stable within a CSP cycle, unlinkable across cycles."""
        found = self._contributors.get(cycle)
        if found is None:
            found = self._contributors[cycle] = self._tag("dief/contributor/v1/" + cycle)
        return found

    def owner_tag(self, case_id: str) -> str:
        """Proves, to the aggregator, that later revisions come from the same node."""
        return self._tag("dief/owner/v1/" + case_id)


@dataclass(frozen=True, slots=True)
class Accepted:
    """A case the node accepted: it is in the outbox and will be published. ``receipts``
    are the receipt ids of its records (its region's first, then each related region's)."""

    line: int
    case_id: str
    revision: int
    records: int
    receipts: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class AlreadyPosted:
    """An input line whose case this node already accepted (from an earlier file, or an
    earlier line of this one): skipped, so it is never sent twice under a new id."""

    line: int
    case_id: str
    revision: int


@dataclass(frozen=True, slots=True)
class Rejection:
    """A refused input: where, which case (if known), a reason code and a message.

    The message describes the problem and its location; it never quotes free text.
    """

    line: int
    case_id: str | None
    reason: str
    message: str


def write_rejections(path: Path, rejections: Iterable[Rejection]) -> None:
    """Write ``rejected.jsonl``: one object per refused input, never the refused text
    (DESIGN §9 ⚑)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", encoding="utf-8") as fh:
        for r in sorted(rejections, key=lambda r: r.line):
            row = {"line": r.line, "case_id": r.case_id, "reason": r.reason, "message": r.message}
            fh.write(json.dumps(row, ensure_ascii=False) + "\n")


@dataclass(slots=True)
class SubmitReport:
    """What became of each input line: accepted, already posted (skipped) or refused."""

    accepted: list[Accepted] = field(default_factory=list)
    rejected: list[Rejection] = field(default_factory=list)
    already: list[AlreadyPosted] = field(default_factory=list)

    @property
    def records(self) -> int:
        return sum(a.records for a in self.accepted)


def _rejection(line: int, case_id: str | None, exc: DiefError) -> Rejection:
    return Rejection(line=line, case_id=case_id, reason=exc.code, message=exc.message)


def case_fingerprint(case: CaseInput) -> str:
    """What identifies a new case's input across files: SHA-256 of the parsed input (without
    ``submitted_by``). Kept in the node's outbox only, never sent."""
    body = case.model_dump_json(exclude={"submitted_by"}).encode("utf-8")
    return hashlib.sha256(b"dief/intake/v1/" + body).hexdigest()


def _is_new(case: CaseInput) -> bool:
    """A new case: no case id, active, revision absent or 1 (what a re-posted file repeats)."""
    return case.case_id is None and case.revision in (None, 1) and case.status is CaseStatus.ACTIVE


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


class NationalNode:
    """One national node: turns validated cases into sealed outbox entries."""

    def __init__(
        self,
        identity: NodeIdentity,
        outbox: Outbox,
        sealers: Mapping[Region, Sealer],
        topics: Mapping[Region, str],
        *,
        clock: Clock | None = None,
        start_month: int = 9,
        catalogue_version: str | None = None,
    ) -> None:
        self._identity = identity
        self._outbox = outbox
        self._sealers = dict(sealers)
        self._topics = dict(topics)
        self._clock: Clock = clock or SystemClock()
        self._start_month = start_month
        self._catalogue_version = catalogue_version
        self._cycles: dict[Month, CspCycle] = {}  # detected month → its CSP cycle

    @classmethod
    def for_regions(
        cls,
        identity: NodeIdentity,
        outbox: Outbox,
        recipients_by_region: Mapping[Region, Iterable[KemPublicKey]],
        *,
        start_month: int,
        catalogue_version: str | None,
        clock: Clock | None = None,
    ) -> NationalNode:
        """A node sealing each region's cases to its recipients, onto its cases topic."""
        sealers = {
            r: Sealer(type=TYPE_CASE, region=r.value, recipients=keys)
            for r, keys in recipients_by_region.items()
        }
        return cls(
            identity,
            outbox,
            sealers,
            {r: cases_topic(r) for r in recipients_by_region},
            clock=clock,
            start_month=start_month,
            catalogue_version=catalogue_version,
        )

    def __repr__(self) -> str:
        return f"NationalNode(outbox={self._outbox!r})"

    async def submit(
        self,
        items: Sequence[tuple[int, CaseInput | ValidationError]],
        *,
        source: str | None = None,
        again: bool = False,
    ) -> SubmitReport:
        """Accept or refuse each (line, case); accepted ones are in the outbox on return.

        One refused case never affects the others. A new case this node already accepted
        (the same input, from an earlier file or line) is reported as already posted and
        skipped, unless *again*. *source* (a file's digest) is recorded as posted only when
        no line was refused, so a file with refusals is never taken for posted. Revisions
        are numbered from the outbox's memory of each case; if another writer moved one
        meanwhile, the outbox refuses the write and the cases are numbered (and sealed)
        once more. A case this node seems never to have sent is looked up in the file
        before it is refused.
        """
        attempt = 1
        looked_up = False
        while True:
            report, revisions, entries, prints, tickets = self._prepare(items, again=again)
            if not looked_up and any(r.reason == "unknown_case" for r in report.rejected):
                looked_up = True  # another process on this outbox may have sent it
                await self._outbox.reload_revisions()
                continue
            try:
                await self._outbox.add(
                    revisions,
                    entries,
                    source=None if report.rejected else source,
                    fingerprints=prints,
                    receipts=tickets,
                )
                break
            except RevisionConflict:
                if attempt == _NUMBERING_ATTEMPTS:
                    raise
                attempt += 1
                log.info("revisions moved in the outbox meanwhile; numbering again")
        if report.rejected:
            log.info("refused %d of %d cases", len(report.rejected), len(items))
        return report

    def _prepare(
        self, items: Sequence[tuple[int, CaseInput | ValidationError]], *, again: bool
    ) -> tuple[
        SubmitReport,
        dict[str, int],
        list[OutboxEntry],
        list[tuple[str, str]],
        list[ReceiptTicket],
    ]:
        report = SubmitReport()
        given_ids = [str(c.case_id) for _, c in items if isinstance(c, CaseInput) and c.case_id]
        known = self._outbox.known_revisions(given_ids)
        reposts = _Reposts(items, self._outbox, again=again)
        prints: list[tuple[str, str]] = []  # (fingerprint, case id) of new cases accepted now
        revisions: dict[str, int] = {}
        entries: list[OutboxEntry] = []
        tickets: list[ReceiptTicket] = []
        stamp = coarse_timestamp_ms(self._clock.now())
        for line, case in items:
            if isinstance(case, ValidationError):
                cid = case.case_id if isinstance(case, CaseValidationError) else None
                report.rejected.append(_rejection(line, cid, case))
                continue
            earlier = reposts.earlier(line)
            if earlier is not None:
                latest = self._outbox.known_revisions([earlier]).get(earlier, 1)
                report.already.append(AlreadyPosted(line, earlier, latest))
                continue
            case_id = str(case.case_id) if case.case_id else str(uuid.uuid4())
            stored = revisions.get(case_id, known.get(case_id, 0))
            try:
                revision = self._revision(case, case_id, stored)
                new = self._seal(case, case_id, revision, stamp)
            except DiefError as exc:  # screening, validation; sealing: oversized value, keys
                report.rejected.append(_rejection(line, case_id if case.case_id else None, exc))
                continue
            revisions[case_id] = revision
            entries.extend(entry for entry, _ in new)
            tickets.extend(ticket for _, ticket in new)
            if (fingerprint := reposts.fingerprint(line)) is not None:
                prints.append((fingerprint, case_id))
            receipts = tuple(ticket.receipt_id for _, ticket in new)
            report.accepted.append(Accepted(line, case_id, revision, len(new), receipts))
        return report, revisions, entries, prints, tickets

    @staticmethod
    def _revision(case: CaseInput, case_id: str, stored: int) -> int:
        """The revision *case* gets, after screening it; :class:`ValidationError` if it is
        stale or withdraws a case this node never sent."""
        if case.summary:
            check_text({"summary": case.summary})
        if case.revision is not None and case.revision <= stored:
            raise ValidationError(
                f"revision: {case.revision} is not above revision {stored} this node "
                f"already sent for case {case_id}",
                code="stale_revision",
                loc=("revision",),
            )
        if case.status is CaseStatus.WITHDRAWN and stored == 0 and case.revision is None:
            raise ValidationError(
                f"case_id: this node never sent case {case_id}; give the revision to "
                "withdraw a case posted from elsewhere",
                code="unknown_case",
                loc=("case_id",),
            )
        return case.revision if case.revision is not None else stored + 1

    def _seal(
        self, case: CaseInput, case_id: str, revision: int, stamp: int
    ) -> list[tuple[OutboxEntry, ReceiptTicket]]:
        """The case's record for its region, and a flagged copy for each related region,
        each with the ticket that recognises and opens its receipts."""
        month = case.detected_month
        cycle = self._cycles.get(month)
        if cycle is None:
            cycle = self._cycles[month] = CspCycle.of(month, start_month=self._start_month)
        record = generalise(
            case,
            case_id=case_id,
            revision=revision,
            contributor=self._identity.contributor(str(cycle)),
            owner_tag=self._identity.owner_tag(case_id),
            cycle=cycle,
            catalogue_version=self._catalogue_version,
        )
        key = case_id.encode("ascii")
        targets = [(case.region, record.to_json(), False)]
        if case.related_regions:
            copy = record.as_related_copy().to_json()
            targets.extend((r, copy, True) for r in case.related_regions)
        new = []
        for region, payload, related in targets:
            sealed = self._sealers[region].seal_with_receipt(payload)
            entry = OutboxEntry(self._topics[region], key, sealed.value, stamp)
            ticket = ReceiptTicket(
                sealed.receipt_id, sealed.receipt_key, case_id, revision, region.value, related
            )
            new.append((entry, ticket))
        return new
