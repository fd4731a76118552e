"""The portal (DESIGN §13, issue 19): ``dief web`` serves each party its own part.

- National node: the case form built from the case model, validation and screening errors
  at their field and span, drafts, four-eyes release (:func:`check_four_eyes`), "my cases"
  with their delivery from the outbox and receipts, revise and withdraw, file import.
- Region: the meeting's dashboard of its digests by period, the printable checklist, the
  route tables, the meeting pack in three languages (:func:`render_meeting_pack`).
- Secretariat: each cycle's summary and its documents, publication to ``csp.reporting``
  released by a second person (:class:`SummaryPublisher`, :class:`ReleaseStore`), the
  registry of nodes and directory versions (:class:`NodeRegistry`,
  :class:`KeyringRegistry`).

Every party: local accounts (Argon2id, TOTP, roles, disabling) behind the
:class:`LoginMethod` seam, signed session cookies with an idle timeout, CSRF tokens on every
form, strict security headers, login rate limiting, an audit log, English, French and
Spanish. :func:`create_app` builds the application from a :class:`Portal`; ``dief web``
(:mod:`dief.cli.web`) makes both from :class:`dief.settings.PortalSettings`.
"""

from __future__ import annotations

from dief.portal._accounts import (
    LANGUAGES,
    Account,
    AccountStore,
    AuditEntry,
    LocalLogin,
    LoginMethod,
    Role,
)
from dief.portal._app import PARTY_ROLES, Portal, create_app
from dief.portal._bulletins import BulletinSource, NodeBulletins
from dief.portal._dashboard import Dashboard, DigestSource, StoreDigests, charts_of
from dief.portal._drafts import (
    Draft,
    DraftState,
    DraftStore,
    approve_release,
    check_four_eyes,
)
from dief.portal._form import FormField, Problem, case_fields, check_case, read_form
from dief.portal._four_eyes import HeldLine, hold_cases, hold_file, release_draft
from dief.portal._gateway import (
    Delivery,
    NodeGateway,
    NodeServiceGateway,
    PostOutcome,
    private_folder,
    read_deliveries,
)
from dief.portal._i18n import Translator, extract_messages, negotiate, translator
from dief.portal._meeting_pack import pack_period, render_meeting_pack
from dief.portal._registry import DirectoryVersion, KeyringRegistry, NodeEntry, NodeRegistry
from dief.portal._releases import (
    Release,
    ReleaseKind,
    ReleaseState,
    ReleaseStore,
    SecretariatPublisher,
    SummaryPublisher,
)
from dief.portal._security import SECURITY_HEADERS, LoginLimiter, Session, SessionCodec
from dief.portal._settings import Party, portal_database
from dief.portal._summaries import CycleSummary, StoreSummaries, SummarySource
from dief.portal._tables import PortalDatabase
from dief.portal._totp import new_totp_secret, totp_code, totp_uri

__all__ = [
    "LANGUAGES",
    "PARTY_ROLES",
    "SECURITY_HEADERS",
    "Account",
    "AccountStore",
    "AuditEntry",
    "BulletinSource",
    "CycleSummary",
    "Dashboard",
    "Delivery",
    "DigestSource",
    "DirectoryVersion",
    "Draft",
    "DraftState",
    "DraftStore",
    "FormField",
    "HeldLine",
    "KeyringRegistry",
    "LocalLogin",
    "LoginLimiter",
    "LoginMethod",
    "NodeBulletins",
    "NodeEntry",
    "NodeGateway",
    "NodeRegistry",
    "NodeServiceGateway",
    "Party",
    "Portal",
    "PortalDatabase",
    "PostOutcome",
    "Problem",
    "Release",
    "ReleaseKind",
    "ReleaseState",
    "ReleaseStore",
    "Role",
    "SecretariatPublisher",
    "Session",
    "SessionCodec",
    "StoreDigests",
    "StoreSummaries",
    "SummaryPublisher",
    "SummarySource",
    "Translator",
    "approve_release",
    "case_fields",
    "charts_of",
    "check_case",
    "check_four_eyes",
    "create_app",
    "extract_messages",
    "hold_cases",
    "hold_file",
    "negotiate",
    "new_totp_secret",
    "pack_period",
    "portal_database",
    "private_folder",
    "read_deliveries",
    "read_form",
    "release_draft",
    "render_meeting_pack",
    "totp_code",
    "totp_uri",
    "translator",
]
