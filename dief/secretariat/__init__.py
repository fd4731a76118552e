"""The ATT Secretariat (DESIGN §7): its digest inbox, CSP summaries and their signatures.

- :class:`Secretariat` with a :class:`SecretariatStore` — open, verify, keep the latest
  version per (region, period), dead-letter refusals, build, sign and publish summaries.
- :func:`cycle_summary` — a cycle's summary as the Secretariat publishes it, from its store
  (the service's publication and the portal's preview); :func:`issued_summary` — the issue
  last published.
- :func:`build_summary` — the public CSP summary of a cycle (no TLP:RED; primary suppression
  below ``k_csp``, then secondary suppression across totals and regions), with its
  deterministic narrative.
- :func:`sign_summary` / :func:`verify_summary` — the summary ``signature``.
- :func:`summary_cells` — a region's cells a summary counts, with the data versions they
  are of, read together.
See docs/secretariat.md.
"""

from __future__ import annotations

from dief.secretariat._cycle_summary import (
    IncompleteCycleError,
    SecretariatConfig,
    cycle_summary,
    issued_summary,
)
from dief.secretariat._data_versions import summary_cells
from dief.secretariat._group_keys import GroupKeyIssuer, GroupKeyStore
from dief.secretariat._inbox import (
    ReceivedDigest,
    SecretariatStore,
    StoreOutcome,
    Withheld,
)
from dief.secretariat._narrative import (
    DIMENSION_LABELS,
    LIST_LIMIT,
    label,
    listed,
    narrative,
    percent,
)
from dief.secretariat._secretariat import (
    Secretariat,
    SecretariatReport,
    SummaryHook,
)
from dief.secretariat._signed_summary import (
    VerifiedSummary,
    next_issue,
    sign_summary,
    summary_content_hash,
    summary_signing_bytes,
    verify_summary,
)
from dief.secretariat._summary import (
    SummaryTables,
    build_summary,
    summary_tables,
)

__all__ = [
    "DIMENSION_LABELS",
    "LIST_LIMIT",
    "GroupKeyIssuer",
    "GroupKeyStore",
    "IncompleteCycleError",
    "ReceivedDigest",
    "Secretariat",
    "SecretariatConfig",
    "SecretariatReport",
    "SecretariatStore",
    "StoreOutcome",
    "SummaryHook",
    "SummaryTables",
    "VerifiedSummary",
    "Withheld",
    "build_summary",
    "cycle_summary",
    "issued_summary",
    "label",
    "listed",
    "narrative",
    "next_issue",
    "percent",
    "sign_summary",
    "summary_cells",
    "summary_content_hash",
    "summary_signing_bytes",
    "summary_tables",
    "verify_summary",
]
