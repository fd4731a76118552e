"""Issuing digests: build, version, sign, seal to the Secretariat, publish on ``dief.digests``.

:func:`publish_digests` issues the given periods now (on demand); with ``only_changed`` a
period whose digest and cells are unchanged since its last published version is skipped.
:func:`publish_closed_periods` issues every *closed* period with data (its last month is
before the current month) and the most recently closed CSP cycle, each only if changed: run
it on a schedule and a late revision of a closed month re-issues that month with the next
version.

Versions come from :class:`dief.aggregator.store.DigestVersions` (the aggregator's database): the
number is claimed before publishing, and the content hash recorded after the broker
acknowledged, so a failed publish leaves a gap, never two issues with one number.

The suppression pattern is kept across issues: the cells earlier issues suppressed stay
suppressed (``CaseStore.published_suppressions``), and what an issue lists is recorded
right after its versions are claimed, before it is sent (:meth:`RegionDigests.record`).
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from dief.aggregator.store import CaseStore, DigestVersions
from dief.crypto import KemPublicKey, Sealer, SigningKey
from dief.digests._payload import (
    DIGEST_SCHEMA,
    DigestPayload,
    build_payload,
    content_hash,
    payload_bytes,
    sign_payload,
)
from dief.digests._region import RegionDigests
from dief.exceptions import ConfigurationError, UnprotectedCellError
from dief.kafka import DIGESTS_TOPIC
from dief.periods import DEFAULT_CYCLE_START_MONTH, CspCycle, Month, parse_period
from dief.routes import RouteIssuer, publish_route_tables
from dief.seams import Clock, RecordSink, SystemClock, coarse_hour
from dief.vocab import Region
from dief.wire import TYPE_DIGEST, Digest, Lesson

if TYPE_CHECKING:
    from collections.abc import Iterable, Mapping, Sequence
    from datetime import date, datetime

    from dief.aggregator.store import DigestVersion
    from dief.catalogue import Catalogue
    from dief.digests._lessons import CaseLesson

__all__ = [
    "MAX_PAYLOAD_BYTES",
    "DigestIssuer",
    "PublishedDigest",
    "closed_periods",
    "publish_closed_periods",
    "publish_digests",
]

log = logging.getLogger("dief.digests")

#: Largest payload sealed: base64 makes the envelope 4/3 of it plus the header, under the
#: 256 KiB record limit (DESIGN §3) once padded to its power of two. Lessons are withheld,
#: last first, to fit.
MAX_PAYLOAD_BYTES = 131_072
#: what the signature adds to the payload at most (ML-DSA-65 is 3,309 bytes, in base64url)
_SIGNATURE_BYTES = 4_800


@dataclass(frozen=True, slots=True)
class PublishedDigest:
    """One digest issued on ``dief.digests``."""

    region: Region
    period: str
    version: int
    content_hash: str
    #: bytes of the sealed record value
    size: int
    #: lessons left out to keep the record under the size limit
    lessons_withheld: int = 0


@dataclass(frozen=True, slots=True)
class DigestIssuer:
    """What a region needs to issue digests: its signing key, the Secretariat's KEM public
    keys, where to publish, and the digest settings."""

    region: Region
    signer: SigningKey
    recipients: tuple[KemPublicKey, ...]
    sink: RecordSink
    catalogue: Catalogue
    k_meeting: int = 2
    start_month: int = DEFAULT_CYCLE_START_MONTH
    clock: Clock = field(default_factory=SystemClock)
    #: the CSP summaries' k (the directory's ``k_csp``): the region's rows of the summaries
    #: are protected with its digests (DESIGN §7, one system)
    k_csp: int = 3
    #: route tables to issue with the digests (closed cycles; :mod:`dief.routes`), if any
    routes: RouteIssuer | None = None

    def __post_init__(self) -> None:
        if not self.recipients:
            raise ConfigurationError("digests need at least one Secretariat KEM public key")
        if self.k_meeting < 1 or self.k_csp < 1:
            raise ConfigurationError("k_meeting and k_csp are at least 1")

    def sealer(self) -> Sealer:
        return Sealer(
            type=TYPE_DIGEST,
            region=self.region.value,
            recipients=self.recipients,
            schema=DIGEST_SCHEMA,
        )


def _without_lessons(payload: DigestPayload, keep: int) -> DigestPayload:
    digest = payload.digest.model_dump(mode="json", by_alias=True)
    withheld = len(payload.digest.lessons) - keep
    digest["lessons"] = digest["lessons"][:keep]
    digest["notes"]["lessons_withheld"] = withheld
    digest["notes"]["text"] = [
        *digest["notes"]["text"],
        (
            f"{withheld} lessons were left out of the sealed copy to keep it under the record "
            "size limit."
        ),
    ]
    return payload.model_copy(update={"digest": Digest.model_validate(digest)})


def _without_catalogue_details(payload: DigestPayload) -> DigestPayload:
    """The checklist without what the catalogue already says of each indicator (title,
    stages, transfer types, sources): a reader finds them by id in the digest's catalogue
    version. The question, counts and reasons stay (DESIGN §7)."""
    digest = payload.digest.model_dump(mode="json", by_alias=True)
    for entry in digest["checklist"]:
        entry.update(title=None, source=None, stages=[], transfer_types=[])
    digest["notes"]["text"] = [
        *digest["notes"]["text"],
        (
            "The checklist's titles, stages, transfer types and sources were left out of the "
            "sealed copy to keep it under the record size limit; they are in the catalogue, "
            "by indicator id."
        ),
    ]
    return payload.model_copy(update={"digest": Digest.model_validate(digest)})


def _fits(payload: DigestPayload) -> bool:
    return len(payload_bytes(payload)) + _SIGNATURE_BYTES <= MAX_PAYLOAD_BYTES


def _fit(payload: DigestPayload) -> tuple[DigestPayload, int]:
    """Withhold the fewest lessons, last first, that make the signed payload fit (after
    leaving out the checklist's catalogue details, which a reader can look up)."""
    if _fits(payload):
        return payload, 0
    payload = _without_catalogue_details(payload)
    if _fits(payload):
        return payload, 0
    total = len(payload.digest.lessons)
    best = _without_lessons(payload, 0)
    if not _fits(best):
        raise ConfigurationError(
            f"digest {payload.region} {payload.period} is larger than "
            f"{MAX_PAYLOAD_BYTES} bytes even without lessons"
        )
    fits, too_many = 0, total  # keeping `fits` lessons fits; keeping `too_many` does not
    while too_many - fits > 1:
        middle = (fits + too_many) // 2
        trial = _without_lessons(payload, middle)
        if _fits(trial):
            fits, best = middle, trial
        else:
            too_many = middle
    return best, total - fits


async def _region_source(
    store: CaseStore, code: Region, issuer: DigestIssuer, wanted: Sequence[str]
) -> RegionDigests:
    """The region's cells, read and protected once for all its digests (the suppression
    pattern is joint across them; what earlier issues suppressed stays suppressed).

    A cell no suppression can protect (:class:`UnprotectedCellError`, a first issue only)
    silences its table (:meth:`RegionDigests.load`: the period's digest lists nothing, and
    says why). Only where that cannot help — the table was silent already, or is no
    period's (a checklist window, a summary row) — is the region's whole issue withheld:
    the error goes up before anything is claimed, recorded, sealed or sent, with one log
    line naming the table and the cell's dimension and value, never a State or a count
    (docs/digests.md, "A cell no suppression can protect")."""
    try:
        return await RegionDigests.for_issue(
            store,
            code,
            k=issuer.k_meeting,
            k_csp=issuer.k_csp,
            start_month=issuer.start_month,
            periods=wanted,
        )
    except UnprotectedCellError as exc:
        log.error(  # noqa: TRY400  the table and cell only: a traceback's locals hold counts
            "%s: issue withheld, nothing of it published or recorded: %s",
            code.value,
            exc.message,
        )
        raise


async def _drafts(  # noqa: PLR0913  one issue's settings, each by keyword
    store: CaseStore,
    source: RegionDigests,
    wanted: Sequence[str],
    *,
    issuer: DigestIssuer,
    issued_at: datetime,
    known: Mapping[str, DigestVersion],
    lessons: Sequence[Lesson | CaseLesson] | None,
) -> dict[str, tuple[DigestPayload, int, str]]:
    """The payload of each of *wanted* (version 1 until claimed), fitted to the record size,
    with how many lessons that withheld and its content hash; with *known* (only
    changed), a period whose content equals its last published version is left out."""
    drafts: dict[str, tuple[DigestPayload, int, str]] = {}
    for canonical in wanted:
        draft = await build_payload(
            store,
            issuer.region,
            canonical,
            version=1,
            issued_at=issued_at,
            catalogue=issuer.catalogue,
            k_meeting=issuer.k_meeting,
            start_month=issuer.start_month,
            lessons=lessons,
            source=source,
        )
        draft, withheld = _fit(draft)
        digest_hash = content_hash(draft)
        state = known.get(canonical)
        if state is not None and state.content_hash == digest_hash:
            continue
        drafts[canonical] = (draft, withheld, digest_hash)
    return drafts


async def _send(
    versions: DigestVersions,
    issuer: DigestIssuer,
    drafts: Mapping[str, tuple[DigestPayload, int, str]],
    claimed: Mapping[str, int],
) -> list[PublishedDigest]:
    """Sign each draft with its claimed version, seal and send them together, and record
    them as published once the broker acknowledged every one."""
    code = issuer.region
    sealer = issuer.sealer()
    key = code.value.encode("ascii")
    published: list[PublishedDigest] = []
    values: list[bytes] = []
    for period, (draft, withheld, digest_hash) in drafts.items():
        version = claimed[period]
        payload = sign_payload(draft.model_copy(update={"version": version}), issuer.signer)
        value = sealer.seal(payload_bytes(payload))
        values.append(value)
        published.append(PublishedDigest(code, period, version, digest_hash, len(value), withheld))
    await asyncio.gather(*(issuer.sink.send(DIGESTS_TOPIC, key, value) for value in values))
    await versions.mark_published_many(
        code.value, [(d.period, d.version, d.content_hash) for d in published]
    )
    return published


async def publish_digests(  # noqa: PLR0913  a public keyword signature
    store: CaseStore,
    region: Region | str,
    periods: Iterable[str],
    *,
    issuer: DigestIssuer,
    only_changed: bool = False,
    lessons: Sequence[Lesson | CaseLesson] | None = (),
) -> list[PublishedDigest]:
    """Issue *region*'s digests for *periods*, each with its next version.

    With *only_changed*, a period whose content equals its last published version is
    skipped. The digests are built first, their versions claimed in one transaction, then
    sent together and recorded once the broker acknowledged every one. Returns what was
    published, in the order of *periods*. Raises :class:`BrokerError` or
    :class:`StorageError` on failure; a digest that was not recorded as published is
    issued again (with a new version) next time, even with *only_changed*. Raises
    :class:`UnprotectedCellError`, with nothing of the issue sent or recorded, where the
    region's pattern cannot protect a cell even with its table silenced
    (:func:`_region_source`).
    """
    code = Region(region)
    if code is not issuer.region:
        raise ConfigurationError(f"this issuer signs for {issuer.region}, not {code}")
    versions = DigestVersions(store)
    known = await versions.of_region(code.value) if only_changed else {}
    issued_at = coarse_hour(issuer.clock.now())
    wanted = list(
        dict.fromkeys(str(parse_period(p, start_month=issuer.start_month)) for p in periods)
    )
    source = await _region_source(store, code, issuer, wanted)
    if issuer.routes is not None:
        # the route tables of the closed cycles, protected with the same joint pattern,
        # first: a cycle digest's summary row names the row cells they published (their
        # record, read by build_payload), so the Secretariat protects the summary against
        # the receiving meetings (docs/digests.md, "Route tables and the summary")
        await publish_route_tables(
            store,
            issuer.routes,
            wanted,
            pattern=source.pattern,
            tallies=source.tallies,
            versions=dict(source.versions),
        )
    drafts = await _drafts(
        store, source, wanted, issuer=issuer, issued_at=issued_at, known=known, lessons=lessons
    )
    # a period skipped as unchanged: the digest its readers hold is this one, stating the
    # same data version (the content hash covers it), so that version is recorded too
    skipped = [p for p in wanted if p not in drafts and p in known]
    if not drafts:
        await source.record_delivered(store, skipped)
        return []
    claimed = await versions.claim_many(code.value, list(drafts))
    # what these digests list (suppressed or published), recorded before they leave: a
    # send that then fails only leaves cells suppressed that no issue showed (costs
    # cells, never a leak), while a digest never goes out unrecorded
    await source.record(store, list(drafts))
    published = await _send(versions, issuer, drafts, claimed)
    # the versions they stated, once the broker acknowledged every one
    await source.record_delivered(store, [*skipped, *(d.period for d in published)])
    log.info("%s: %d digests published", code.value, len(published))
    return published


def closed_periods(
    periods: Iterable[str], today: date, *, start_month: int = DEFAULT_CYCLE_START_MONTH
) -> list[str]:
    """The periods among *periods* whose last month is before *today*'s month, plus the
    most recently closed CSP cycle (issued even without data, so the Secretariat hears
    from every region)."""
    current = Month.of(today).index
    closed = {
        str(parsed)
        for parsed in (parse_period(p, start_month=start_month) for p in periods)
        if parsed.last.index < current
    }
    closed.add(str(CspCycle.of(Month.of(today), start_month=start_month).previous()))
    return sorted(closed, key=lambda p: (_kind_rank(p), p))


def _kind_rank(period: str) -> tuple[int, int]:
    if period.startswith("CSP"):
        number, _, half = period[3:].partition("-H")
        return (3, int(number)) if not half else (2, 2 * int(number) + int(half))
    return (1 if "Q" in period else 0, 0)


async def publish_closed_periods(
    store: CaseStore,
    region: Region | str,
    today: date,
    *,
    issuer: DigestIssuer,
    lessons: Sequence[Lesson | CaseLesson] | None = (),
) -> list[PublishedDigest]:
    """Issue every closed period of *region* whose digest changed since last published
    (see :func:`closed_periods`); the first call issues them all."""
    code = Region(region)
    periods = await store.periods_with_data(code.value)
    wanted = closed_periods(periods, today, start_month=issuer.start_month)
    return await publish_digests(
        store, code, wanted, issuer=issuer, only_changed=True, lessons=lessons
    )
