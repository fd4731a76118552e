"""The Secretariat reporter's logic, free of any Kafka client (DESIGN §2, §7, §8).

:meth:`Secretariat.handle` takes one batch of ``dief.digests`` records: it opens each with
the Secretariat's private key, verifies the region's signature, keeps the latest version per
(region, period), dead-letters what it refuses, and then, for every CSP cycle the batch
touched whose digests are complete (one from every expected region), builds the summary
from the stored cells, signs it and publishes it to ``csp.reporting`` (key = cycle), unless
an identical summary was published already. It returns only after all of that succeeded,
so the caller may commit offsets; on an outage (the broker or the database not answering)
it raises and the batch comes again (every step is idempotent). What fails the same way
every time never holds the partition: a digest the database refuses is isolated and
dead-lettered alone (``database_refused``), and a cycle whose summary cannot be built is
withheld with its reason (:meth:`SecretariatStore.withheld`).

Refusals go to ``dief.<region>.dlq`` of the region the record claims (the envelope's
``region`` if it opened, else its ``region`` field if it names a region, else the record
key), with the aggregator's DLQ headers; a record that names no region at all is kept in
the Secretariat's database (``secretariat_refused``) instead. See docs/secretariat.md.
"""

from __future__ import annotations

import inspect
import json
import logging
from collections import Counter
from collections.abc import Awaitable, Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from dief.digests import KeysFor, parse_payload
from dief.exceptions import (
    ConfigurationError,
    DiefError,
    EnvelopeError,
    SignatureError,
    StorageRefusedError,
    ValidationError,
    is_outage,
)
from dief.kafka import CSP_TOPIC
from dief.periods import CspCycle, parse_period
from dief.seams import DeadLetter, DeadLetterSink, InboundRecord, RecordSink
from dief.secretariat._cycle_summary import (
    SecretariatConfig,
    cycle_summary,
    missing_regions,
)
from dief.secretariat._inbox import ReceivedDigest, SecretariatStore, StoreOutcome
from dief.secretariat._signed_summary import next_issue, sign_summary, summary_content_hash
from dief.vocab import Region
from dief.wire import TYPE_DIGEST, CspSummary

if TYPE_CHECKING:
    from dief.aggregator import EnvelopeOpener
    from dief.crypto import SigningKey

__all__ = [
    "Secretariat",
    "SecretariatReport",
    "SummaryHook",
]

log = logging.getLogger("dief.secretariat")

#: Called with each signed summary once the broker acknowledged it.
SummaryHook = Callable[[CspSummary], Awaitable[None] | None]


@dataclass(slots=True)
class SecretariatReport:
    """What one batch did: outcome counts, the cycles whose summary was published, and
    those whose summary disclosure control could not protect (cycle → why; withheld);
    ``withheld_now``: how many cycles are withheld after it (``None`` where the service
    publishes no summary itself)."""

    received: int = 0
    outcomes: Counter[str] = field(default_factory=Counter)
    summaries: list[str] = field(default_factory=list)
    withheld: dict[str, str] = field(default_factory=dict)
    withheld_now: int | None = None

    @property
    def refused(self) -> int:
        return sum(n for k, n in self.outcomes.items() if k.startswith(("dlq:", "kept:")))


class _RefusedError(Exception):
    def __init__(self, reason: str, detail: str, region: Region | None) -> None:
        super().__init__(reason)
        self.reason = reason
        self.detail = detail
        self.region = region


def _region_of(text: object) -> Region | None:
    try:
        return Region(str(text))
    except ValueError:
        return None


def _claimed_region(rec: InboundRecord) -> Region | None:
    """The region an unopened record claims: its envelope's ``region``, else its key."""
    if rec.value is not None:
        try:
            doc = json.loads(rec.value)
        except (ValueError, UnicodeDecodeError, RecursionError):
            doc = None
        if isinstance(doc, dict):
            found = _region_of(doc.get("region"))
            if found is not None:
                return found
    if rec.key is not None:
        return _region_of(rec.key.decode("utf-8", "replace"))
    return None


class Secretariat:
    """Receives digests and publishes signed CSP summaries."""

    def __init__(  # noqa: PLR0913  a public signature, used outside dief/secretariat (consumers, tests)
        self,
        store: SecretariatStore,
        opener: EnvelopeOpener,
        keys_for: KeysFor,
        signer: SigningKey,
        *,
        dead_letters: Callable[[Region], DeadLetterSink],
        sink: RecordSink,
        config: SecretariatConfig,
        on_summary: SummaryHook | None = None,
    ) -> None:
        if config.k_csp < 1:
            raise ConfigurationError("k_csp is at least 1")
        if not config.regions:
            raise ConfigurationError("the Secretariat expects at least one region")
        self._store = store
        self._opener = opener
        self._keys_for = keys_for
        self._signer = signer
        self._dead_letters = dead_letters
        self._sink = sink
        self._config = config
        self._on_summary = on_summary

    def __repr__(self) -> str:
        return (
            f"Secretariat(k_csp={self._config.k_csp}, "
            f"regions={[r.value for r in self._config.regions]})"
        )

    @property
    def config(self) -> SecretariatConfig:
        return self._config

    # -- receiving -------------------------------------------------------------------------

    def decode(self, rec: InboundRecord) -> ReceivedDigest:
        """Open and verify one record, or raise ``_RefusedError`` with a reason code."""
        if rec.value is None:
            raise _RefusedError(
                "malformed", "record has no value (tombstone)", _claimed_region(rec)
            )
        try:
            opened = self._opener.open(rec.value)
        except EnvelopeError as exc:
            raise _RefusedError(exc.code, exc.message, _claimed_region(rec)) from exc
        claimed = _region_of(opened.region) or _claimed_region(rec)
        if opened.type != TYPE_DIGEST:
            raise _RefusedError(
                "wrong_type", f"envelope type {opened.type!r} on the digests topic", claimed
            )
        try:
            payload = parse_payload(opened.payload, self._keys_for)
        except (ValidationError, SignatureError) as exc:
            raise _RefusedError(exc.code, exc.message, claimed) from exc
        if payload.region.value != opened.region:
            raise _RefusedError(
                "wrong_region",
                f"digest of {payload.region} in an envelope sealed as {opened.region!r}",
                claimed,
            )
        if rec.key is not None and rec.key.decode("utf-8", "replace") != payload.region.value:
            raise _RefusedError("key_mismatch", "record key is not the digest's region", claimed)
        return ReceivedDigest(payload, rec.value)

    async def handle(self, records: Sequence[InboundRecord]) -> SecretariatReport:
        """Apply one batch; returns once stored, dead-lettered and summaries published."""
        report = SecretariatReport(received=len(records))
        accepted: list[tuple[InboundRecord, ReceivedDigest]] = []
        refused: list[tuple[InboundRecord, _RefusedError]] = []
        for rec in records:
            try:
                accepted.append((rec, self.decode(rec)))
            except _RefusedError as why:
                refused.append((rec, why))
            except Exception as exc:  # noqa: BLE001  a bug must not stop the partition: logged by type and the record dead-lettered, as the aggregator does
                # Type only: a message or traceback could carry the opened payload.
                log.error(  # noqa: TRY400  logged by type only: a traceback could carry the opened payload
                    "unexpected %s decoding %s[%d]@%d; dead-lettered",
                    type(exc).__name__, rec.topic, rec.partition, rec.offset,
                )  # fmt: skip
                bug = _RefusedError("internal_error", type(exc).__name__, _claimed_region(rec))
                refused.append((rec, bug))

        for rec, item, outcome in await self._stored(accepted, refused):
            if outcome is StoreOutcome.CONFLICT:
                detail = (
                    f"digest {item.payload.region} {item.payload.period} "
                    f"v{item.payload.version} differs from the stored one of the same version"
                )
                refused.append(
                    (rec, _RefusedError("version_conflict", detail, item.payload.region))
                )
            else:
                report.outcomes[outcome.value] += 1
        await self._refuse(refused, report)

        touched: set[int] = set()
        for _, item in accepted:
            period = parse_period(item.payload.period, start_month=self._config.start_month)
            if isinstance(period, CspCycle):
                # the cycle itself, and the next one, whose trends compare with it
                touched.update((period.number, period.number + 1))
        if self._config.publish_complete:  # else each is released in the Secretariat's portal
            await self._publish_touched(sorted(touched), report)
            report.withheld_now = len(await self._store.withheld())
        return report

    async def _stored(
        self,
        accepted: Sequence[tuple[InboundRecord, ReceivedDigest]],
        refused: list[tuple[InboundRecord, _RefusedError]],
    ) -> list[tuple[InboundRecord, ReceivedDigest, StoreOutcome]]:
        """Store *accepted* in one transaction. If the database refuses it (the data, not
        an outage: :class:`StorageRefusedError`), bisect in partition order until the
        digest it refuses stands alone; tried once more alone (a constraint can also be a
        race with another instance), then refused into *refused* (``database_refused``),
        so that one digest never holds the partition. An outage raises."""
        try:
            outcomes = await self._store.store_digests([item for _, item in accepted])
        except StorageRefusedError as exc:
            if len(accepted) > 1:
                half = len(accepted) // 2
                first = await self._stored(accepted[:half], refused)
                return [*first, *await self._stored(accepted[half:], refused)]
            (rec, item), why = accepted[0], exc
            try:
                outcomes = await self._store.store_digests([item])
            except StorageRefusedError as again:
                why = again
            else:
                return [(rec, item, outcomes[0])]
            payload = item.payload
            detail = (
                f"the database refused the digest {payload.region} {payload.period} "
                f"v{payload.version}: {why.message}"
            )
            refused.append((rec, _RefusedError("database_refused", detail, payload.region)))
            return []
        return [(rec, item, o) for (rec, item), o in zip(accepted, outcomes, strict=True)]

    async def _publish_touched(self, numbers: Iterable[int], report: SecretariatReport) -> None:
        """Publish the summary of every complete cycle of *numbers* into *report*; one
        that cannot be built (disclosure control cannot protect it, or any other
        :class:`DiefError` but an outage: :func:`~dief.exceptions.is_outage`) is withheld
        (docs/secretariat.md, "A summary that cannot be protected"): the same digests fail
        the same way, and a batch retried for it would hold the partition, and every later
        digest, for good. Said (the log, and :meth:`SecretariatStore.withheld`, which the
        portal shows), and tried again by the next batch for the cycle; the cycle after it
        in this batch waits too (its trends compare with the withheld one)."""
        for number in numbers:
            cycle = f"CSP{number}"
            if not await self.complete(cycle):
                continue
            before = f"CSP{number - 1}"
            if before in report.withheld:
                # its trend flags compare with that cycle's tables, which were never
                # published nor checked against the regions' meetings
                report.withheld[cycle] = f"its trends compare with {before}, withheld"
                log.error("the %s summary is withheld: %s", cycle, report.withheld[cycle])
                await self._store.record_withheld(cycle, report.withheld[cycle])
                continue
            try:
                published = await self.publish_summary(cycle)
            except DiefError as exc:
                if is_outage(exc):
                    raise  # an outage: the batch comes again
                log.exception("the %s summary is withheld: %s", cycle, exc)  # noqa: TRY401  the reason on the line itself, not only in the traceback
                report.withheld[cycle] = str(exc)
                await self._store.record_withheld(cycle, report.withheld[cycle])
                continue
            if published is not None:
                report.summaries.append(cycle)

    async def _refuse(
        self, refused: Sequence[tuple[InboundRecord, _RefusedError]], report: SecretariatReport
    ) -> None:
        by_region: dict[Region, list[DeadLetter]] = {}
        for rec, why in refused:
            log.warning(
                "refused %s[%d]@%d: %s (%s)",
                rec.topic,
                rec.partition,
                rec.offset,
                why.reason,
                why.region.value if why.region is not None else "no region",
            )
            if why.region is None:
                await self._store.record_refused(
                    reason=why.reason,
                    detail=why.detail,
                    topic=rec.topic,
                    partition=rec.partition,
                    offset=rec.offset,
                    value=rec.value,
                )
                report.outcomes[f"kept:{why.reason}"] += 1
                continue
            by_region.setdefault(why.region, []).append(DeadLetter(rec, why.reason, why.detail))
            report.outcomes[f"dlq:{why.reason}"] += 1
        for region, letters in by_region.items():
            await self._dead_letters(region).send(letters)

    # -- summaries -------------------------------------------------------------------------

    async def missing(self, cycle: str) -> list[Region]:
        """The expected regions without a digest for *cycle*."""
        return await missing_regions(self._store, cycle, self._config)

    async def complete(self, cycle: str) -> bool:
        return not await self.missing(cycle)

    async def build(self, cycle: str, *, partial: bool = False) -> CspSummary:
        """The unsigned summary of *cycle* from the stored digests (:func:`cycle_summary`:
        the portal's preview is the same).

        :raises IncompleteCycleError: a region's digest is missing (with *partial*, the
            summary covers the regions present; still an error if there are none).
        """
        return await cycle_summary(self._store, cycle, self._config, partial=partial)

    def sign(self, summary: CspSummary, *, issue: int | None = None) -> CspSummary:
        return sign_summary(summary, self._signer, issue=issue)

    async def publish_summary(
        self, cycle: str, *, force: bool = False, expected: str | None = None
    ) -> CspSummary | None:
        """Build, sign and publish *cycle*'s summary; ``None`` if unchanged since the last
        one published (unless *force*).

        :raises ValidationError: code ``changed``: *expected* is given (the content hash of
            the summary a person released, as they were shown it) and the summary built
            now differs (digests arrived since): nothing is published.
        """
        summary = await self.build(cycle)
        digest_hash = summary_content_hash(summary)
        if expected is not None and digest_hash != expected:
            raise ValidationError(
                f"the {summary.cycle} summary changed since it was shown (digests arrived "
                "since): look at it again and ask again",
                code="changed",
            )
        held = await self._store.summary(summary.cycle)
        if held is not None and held[0] == digest_hash and not force:
            # it builds, and the issue published is current: nothing is withheld
            await self._store.clear_withheld(summary.cycle)
            return None
        # the next issue of the cycle (DESIGN §7 ⚑ issue: an older one cannot be replayed)
        signed = self.sign(summary, issue=next_issue(held[1] if held is not None else None))
        text = signed.to_json()
        await self._sink.send(CSP_TOPIC, summary.cycle.encode("ascii"), text.encode("utf-8"))
        await self._store.record_summary(summary.cycle, digest_hash, text)
        await self._store.clear_withheld(summary.cycle)  # published: no longer withheld
        log.info("published the %s summary", summary.cycle)
        if self._on_summary is not None:
            result = self._on_summary(signed)
            if inspect.isawaitable(result):
                await result
        return signed
