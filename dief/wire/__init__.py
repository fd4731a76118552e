"""Every shape that crosses a process boundary (DESIGN §3, §5, §7 ⚑), as pydantic models.

- The case: :class:`CaseInput` / :func:`parse_case` / :func:`load_cases` (what a practitioner
  submits: JSON, YAML, JSON Lines, validated with errors that name each field) and
  :class:`CaseRecord` / :func:`generalise` (the generalised payload sealed in a
  ``dief.case`` envelope, schema 3), its ownership (:func:`case_id_for`,
  :func:`owner_message`, :func:`ownership_problem`) and its padded sizes
  (:data:`CASE_PADDED_SIZES`, :func:`case_padded_size`). The Working Group's details
  (docs/case-model.md): :class:`ActorInput`, :class:`VerificationInput`,
  :class:`ReassessmentInput` and, as shared, :class:`RecordActor`,
  :class:`RecordVerification`, :class:`RecordReassessment`.
- The sealed envelope v1: :class:`SealedEnvelope`, :class:`Recipient`, the suites and the
  payload types :data:`TYPE_CASE` and :data:`TYPE_DIGEST` (sealing and opening are in
  :mod:`dief.crypto`).
- Route tables (DESIGN §5 ⚑): :class:`RouteTable`, :data:`TYPE_ROUTE_TABLE`,
  :data:`ROUTE_DIMENSIONS`, :func:`route_key` (signing and protection: :mod:`dief.routes`).
- Receipts (DESIGN §8 ⚑): :class:`Receipt`, :class:`ReceiptOutcome`, :class:`SealedReceipt`
  and the padded plaintext (:func:`receipt_plaintext`, :func:`parse_receipt_plaintext`);
  sealing and opening are in :mod:`dief.crypto`.
- The published outputs: :class:`Cell`, :class:`Digest`, :class:`CspSummary` and their parts.
- :func:`unsigned_document`: the document a signature covers.
- Contributor credentials (DESIGN §5 ⚑): :class:`CredentialRequest`,
  :class:`CredentialAnswer`, :class:`NodeKemKey`, :data:`TYPE_CREDENTIAL_REQUEST`,
  :data:`TYPE_CREDENTIAL_ANSWER` (building, signing and sealing: :mod:`dief.credentials`).
- The signed forum directory (DESIGN §4 ⚑) and the files the parties hand each other:
  :class:`ForumDirectoryDocument`, :class:`DirectoryKeyCertificate`,
  :class:`DirectoryKeyRequest`, :class:`RegionKeyBundle`, :class:`NodeRegistration`
  (verification and rules in :mod:`dief.keyring`).

The JSON Schema and AsyncAPI export is :mod:`dief.wire.schemas` (imported on demand: it
reads every package's shapes).
"""

from __future__ import annotations

from dief.wire._bulletin import (
    CONTEXT_BULLETIN,
    CONTEXT_BULLETIN_GROUP_KEY,
    TYPE_BULLETIN,
    TYPE_BULLETIN_GROUP_KEY,
    BulletinBatch,
    BulletinEntry,
    BulletinGroupKeyRelease,
    SignedBulletinBatch,
    WrappedGroupKey,
)
from dief.wire._case import (
    EARLIEST_DETECTED,
    MAX_INDICATORS,
    MAX_ITEMS,
    MAX_REVISION,
    SUMMARY_MAX_CHARS,
    CaseInput,
    ItemInput,
    suggest,
)
from dief.wire._credentials import (
    CREDENTIAL_ENVELOPE_LABEL,
    CREDENTIAL_WIRE_VERSION,
    TYPE_CREDENTIAL_ANSWER,
    TYPE_CREDENTIAL_REQUEST,
    CredentialAnswer,
    CredentialRequest,
    NodeKemKey,
)
from dief.wire._details import (
    MAX_ACTORS,
    ActorInput,
    ReassessmentInput,
    RecordActor,
    RecordReassessment,
    RecordVerification,
    VerificationInput,
)
from dief.wire._directory import (
    CONTEXT_DIRECTORY,
    CONTEXT_DIRECTORY_CERTIFICATE,
    CONTEXT_DIRECTORY_KEY_REQUEST,
    CONTEXT_KEY_ENDORSEMENT,
    CONTEXT_REGISTRATION,
    DIRECTORY_FORMAT,
    ISSUER_ALG,
    DirectoryKey,
    DirectoryKeyCertificate,
    DirectoryKeyRequest,
    DirectoryRole,
    Endorsement,
    EndorsementKind,
    ForumDirectoryDocument,
    ForumParameters,
    KeyStatus,
    NodeRegistration,
    RegionKeyBundle,
)
from dief.wire._envelope import (
    ENVELOPE_VERSION,
    MAX_VALUE_BYTES,
    SUITE_HYBRID,
    SUITE_X25519,
    TYPE_CASE,
    TYPE_DIGEST,
    Recipient,
    SealedEnvelope,
)
from dief.wire._errors import (
    CaseValidationError,
    format_loc,
    problems_from_pydantic,
    to_validation_error,
)
from dief.wire._json import loads_strict
from dief.wire._loading import (
    CaseFormat,
    detect_format,
    load_cases,
    parse_case,
)
from dief.wire._outputs import (
    SUPPRESSION_TEXT,
    Cell,
    ChecklistEntry,
    CspSummary,
    Digest,
    DigestNotes,
    Lesson,
    Methodology,
    Pattern,
    RegionTable,
    SuppressionReason,
    Totals,
    Trend,
    TrendTest,
)
from dief.wire._ownership import (
    case_id_for,
    owner_message,
    ownership_problem,
)
from dief.wire._padding import (
    CASE_PADDED_SIZES,
    case_padded_size,
)
from dief.wire._receipt import (
    RECEIPT_PLAINTEXT_BYTES,
    RECEIPT_VERSION,
    Receipt,
    ReceiptOutcome,
    SealedReceipt,
    parse_receipt_plaintext,
    receipt_plaintext,
)
from dief.wire._record import (
    CASE_SCHEMA_VERSION,
    MAX_TOKEN_BYTES,
    CaseRecord,
    RecordItem,
    UnsignedRecord,
    generalise,
)
from dief.wire._route import (
    ROUTE_DIMENSIONS,
    ROUTE_TABLE_SCHEMA,
    TYPE_ROUTE_TABLE,
    RouteTable,
    digest_routes,
    route_key,
)
from dief.wire._signed import (
    unsigned_document,
)

__all__ = [
    "CASE_PADDED_SIZES",
    "CASE_SCHEMA_VERSION",
    "CONTEXT_BULLETIN",
    "CONTEXT_BULLETIN_GROUP_KEY",
    "CONTEXT_DIRECTORY",
    "CONTEXT_DIRECTORY_CERTIFICATE",
    "CONTEXT_DIRECTORY_KEY_REQUEST",
    "CONTEXT_KEY_ENDORSEMENT",
    "CONTEXT_REGISTRATION",
    "CREDENTIAL_ENVELOPE_LABEL",
    "CREDENTIAL_WIRE_VERSION",
    "DIRECTORY_FORMAT",
    "EARLIEST_DETECTED",
    "ENVELOPE_VERSION",
    "ISSUER_ALG",
    "MAX_ACTORS",
    "MAX_INDICATORS",
    "MAX_ITEMS",
    "MAX_REVISION",
    "MAX_TOKEN_BYTES",
    "MAX_VALUE_BYTES",
    "RECEIPT_PLAINTEXT_BYTES",
    "RECEIPT_VERSION",
    "ROUTE_DIMENSIONS",
    "ROUTE_TABLE_SCHEMA",
    "SUITE_HYBRID",
    "SUITE_X25519",
    "SUMMARY_MAX_CHARS",
    "SUPPRESSION_TEXT",
    "TYPE_BULLETIN",
    "TYPE_BULLETIN_GROUP_KEY",
    "TYPE_CASE",
    "TYPE_CREDENTIAL_ANSWER",
    "TYPE_CREDENTIAL_REQUEST",
    "TYPE_DIGEST",
    "TYPE_ROUTE_TABLE",
    "ActorInput",
    "BulletinBatch",
    "BulletinEntry",
    "BulletinGroupKeyRelease",
    "CaseFormat",
    "CaseInput",
    "CaseRecord",
    "CaseValidationError",
    "Cell",
    "ChecklistEntry",
    "CredentialAnswer",
    "CredentialRequest",
    "CspSummary",
    "Digest",
    "DigestNotes",
    "DirectoryKey",
    "DirectoryKeyCertificate",
    "DirectoryKeyRequest",
    "DirectoryRole",
    "Endorsement",
    "EndorsementKind",
    "ForumDirectoryDocument",
    "ForumParameters",
    "ItemInput",
    "KeyStatus",
    "Lesson",
    "Methodology",
    "NodeKemKey",
    "NodeRegistration",
    "Pattern",
    "ReassessmentInput",
    "Receipt",
    "ReceiptOutcome",
    "Recipient",
    "RecordActor",
    "RecordItem",
    "RecordReassessment",
    "RecordVerification",
    "RegionKeyBundle",
    "RegionTable",
    "RouteTable",
    "SealedEnvelope",
    "SealedReceipt",
    "SignedBulletinBatch",
    "SuppressionReason",
    "Totals",
    "Trend",
    "TrendTest",
    "UnsignedRecord",
    "VerificationInput",
    "WrappedGroupKey",
    "case_id_for",
    "case_padded_size",
    "detect_format",
    "digest_routes",
    "format_loc",
    "generalise",
    "load_cases",
    "loads_strict",
    "owner_message",
    "ownership_problem",
    "parse_case",
    "parse_receipt_plaintext",
    "problems_from_pydantic",
    "receipt_plaintext",
    "route_key",
    "suggest",
    "to_validation_error",
    "unsigned_document",
]
