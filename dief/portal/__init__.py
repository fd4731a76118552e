"""The portal (DESIGN §13, issue 19): ``dief web`` serves each party its own part.

- National node: the case form built from the case model, validation and screening errors
  at their field and span, drafts, four-eyes release (:func:`check_four_eyes`), "my cases"
  with their delivery from the outbox and receipts, revise and withdraw, file import.
- Region: the meeting's dashboard of its digests by period, the printable checklist, the
  route tables.
- Secretariat: a first page (the rest is to come: docs/portal.md).

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
    "Draft",
    "DraftState",
    "DraftStore",
    "FormField",
    "HeldLine",
    "LocalLogin",
    "LoginLimiter",
    "LoginMethod",
    "NodeBulletins",
    "NodeGateway",
    "NodeServiceGateway",
    "Party",
    "Portal",
    "PortalDatabase",
    "PostOutcome",
    "Problem",
    "Role",
    "Session",
    "SessionCodec",
    "StoreDigests",
    "StoreSummaries",
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
    "portal_database",
    "private_folder",
    "read_deliveries",
    "read_form",
    "release_draft",
    "totp_code",
    "totp_uri",
    "translator",
]
