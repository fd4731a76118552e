"""Regional trend digests (DESIGN §7): built from stored cells, protected with the region's
joint pattern, signed, sealed to the Secretariat and published on ``dief.digests``.

- Building: :func:`build_digest`, :class:`RegionDigests` (a region read once for many
  digests), trends (:func:`trend_flag`), series for charts, lessons (:func:`load_lessons`).
- Publishing: :class:`DigestPayload` (the sealed payload, schema 1), :func:`publish_digests`,
  :class:`DigestIssuer`, :class:`DigestSchedule` (closed periods) and
  :func:`issue_every_digest` and :func:`issue_every_route_table` (inside ``dief run``);
  :class:`DirectoryIssuers` (each region's issuer, kept to the current directory).
"""

from __future__ import annotations

from dief.digests._cells import (
    SHARE_DIGITS,
    cell_index,
    published_share,
    rank_cells,
    ratio,
    reason_of,
)
from dief.digests._checklist import (
    checklist_entry,
    filter_checklist,
    rank_checklist,
)
from dief.digests._digest import assemble_digest
from dief.digests._directory_issuers import DirectoryIssuers
from dief.digests._lessons import (
    CaseLesson,
    LessonOpener,
    LessonSet,
    lesson_of,
    lessons_for,
    load_lessons,
    open_lessons,
)
from dief.digests._notes import MONTHLY_NOTE, missing_tables_note
from dief.digests._payload import (
    DIGEST_SCHEMA,
    CspCell,
    DigestPayload,
    KeysFor,
    RoutedCell,
    RowCell,
    RowTerm,
    SummaryRow,
    build_payload,
    content_hash,
    parse_payload,
    payload_bytes,
    sign_payload,
    signing_bytes,
)
from dief.digests._pipeline import (
    SummaryCollector,
    issue_every_digest,
    issue_every_route_table,
)
from dief.digests._publish import (
    MAX_PAYLOAD_BYTES,
    DigestIssuer,
    PublishedDigest,
    closed_periods,
    publish_closed_periods,
    publish_digests,
)
from dief.digests._region import (
    RegionDigests,
    build_digest,
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
from dief.digests._series import (
    SERIES_LENGTH,
    SERIES_TOP,
    DigestSeries,
    Series,
    digest_series,
    load_series,
    series_periods,
)
from dief.digests._tables import checklist_window, previous_period
from dief.digests._trend import (
    ALPHA,
    MIN_COUNT,
    TREND_TEST,
    Z_CRITICAL,
    trend_flag,
    z_score,
)
from dief.digests._withheld import (
    WITHHELD_DIMENSION_TEXT,
    WITHHELD_KEY,
    WITHHELD_NOTE,
    withheld_dimensions,
)

__all__ = [
    "ALPHA",
    "DIGEST_SCHEMA",
    "MAX_PAYLOAD_BYTES",
    "MIN_COUNT",
    "MONTHLY_NOTE",
    "SERIES_LENGTH",
    "SERIES_TOP",
    "SHARE_DIGITS",
    "TREND_TEST",
    "WITHHELD_DIMENSION_TEXT",
    "WITHHELD_KEY",
    "WITHHELD_NOTE",
    "Z_CRITICAL",
    "CaseLesson",
    "CspCell",
    "DigestIssuer",
    "DigestPayload",
    "DigestSchedule",
    "DigestSeries",
    "DirectoryIssuers",
    "KeysFor",
    "LessonOpener",
    "LessonSet",
    "PassHook",
    "PublishRegion",
    "PublishedDigest",
    "RegionDigests",
    "RoutedCell",
    "RowCell",
    "RowTerm",
    "SchedulePass",
    "Series",
    "SummaryCollector",
    "SummaryRow",
    "assemble_digest",
    "build_digest",
    "build_payload",
    "cell_index",
    "checklist_entry",
    "checklist_window",
    "closed_period_publisher",
    "closed_periods",
    "content_hash",
    "digest_series",
    "filter_checklist",
    "issue_every_digest",
    "issue_every_route_table",
    "issuer_from_keyring",
    "lesson_of",
    "lessons_for",
    "load_lessons",
    "load_series",
    "missing_tables_note",
    "open_lessons",
    "parse_payload",
    "payload_bytes",
    "previous_period",
    "publish_closed_periods",
    "publish_digests",
    "published_share",
    "rank_cells",
    "rank_checklist",
    "ratio",
    "read_lessons",
    "reason_of",
    "series_periods",
    "sign_payload",
    "signing_bytes",
    "today_of",
    "trend_flag",
    "withheld_dimensions",
    "z_score",
]
