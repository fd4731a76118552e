"""Sealed regional digests (``dief.digests``) and the Secretariat's signed CSP summaries.

Regional side (the aggregator):

- :class:`DigestPayload` — the plaintext of a ``dief.digest`` envelope (schema 1): region,
  period, version, issue hour, the meeting digest, the period's unsuppressed CSP-scope cells
  and the region's signature;
- :func:`publish_digests` / :func:`publish_closed_periods` with a :class:`DigestIssuer` —
  build, version (:class:`dief.storage.DigestVersions`), sign, seal to the Secretariat and
  publish, keyed by region;
- :class:`DigestSchedule` with :func:`closed_period_publisher` and
  :func:`issuer_from_keyring` — the aggregator service's closed-period schedule.

Secretariat side:

- :class:`Secretariat` with a :class:`SecretariatStore` — open, verify, keep the latest
  version per (region, period), dead-letter refusals, build, sign and publish summaries;
- :func:`sign_summary` / :func:`verify_summary` — the summary ``signature``.

See docs/secretariat.md.
"""

from dief.digests._inbox import ReceivedDigest, SecretariatStore, StoreOutcome
from dief.digests._payload import (
    DIGEST_SCHEMA,
    CspCell,
    DigestPayload,
    KeysFor,
    build_payload,
    coarse_hour,
    content_hash,
    parse_payload,
    payload_bytes,
    sign_payload,
    signing_bytes,
)
from dief.digests._pipeline import SummaryCollector, issue_every_digest
from dief.digests._publish import (
    MAX_PAYLOAD_BYTES,
    DigestIssuer,
    KafkaRecordSink,
    PublishedDigest,
    RecordSink,
    closed_periods,
    publish_closed_periods,
    publish_digests,
)
from dief.digests._schedule import (
    DigestSchedule,
    PassHook,
    PublishRegion,
    SchedulePass,
    closed_period_publisher,
    issuer_from_keyring,
    read_lessons,
    today_of,
)
from dief.digests._secretariat import (
    IncompleteCycleError,
    Secretariat,
    SecretariatConfig,
    SecretariatReport,
    SummaryHook,
)
from dief.digests._signed_summary import (
    VerifiedSummary,
    sign_summary,
    summary_content_hash,
    summary_signing_bytes,
    verify_summary,
)

__all__ = [
    "DIGEST_SCHEMA",
    "MAX_PAYLOAD_BYTES",
    "CspCell",
    "DigestIssuer",
    "DigestPayload",
    "DigestSchedule",
    "IncompleteCycleError",
    "KafkaRecordSink",
    "KeysFor",
    "PassHook",
    "PublishRegion",
    "PublishedDigest",
    "ReceivedDigest",
    "RecordSink",
    "SchedulePass",
    "Secretariat",
    "SecretariatConfig",
    "SecretariatReport",
    "SecretariatStore",
    "StoreOutcome",
    "SummaryCollector",
    "SummaryHook",
    "VerifiedSummary",
    "build_payload",
    "closed_period_publisher",
    "closed_periods",
    "coarse_hour",
    "content_hash",
    "issue_every_digest",
    "issuer_from_keyring",
    "parse_payload",
    "payload_bytes",
    "publish_closed_periods",
    "publish_digests",
    "read_lessons",
    "sign_payload",
    "sign_summary",
    "signing_bytes",
    "summary_content_hash",
    "summary_signing_bytes",
    "today_of",
    "verify_summary",
]
