"""Signed case records v2 for tests: what a node with a given secret would publish."""

from __future__ import annotations

import hashlib
import json
import uuid
from collections import defaultdict
from datetime import date
from typing import TYPE_CHECKING

from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

from dief.aggregator import CaseFacts
from dief.keyring import NodeSecret
from dief.node import NodeIdentity
from dief.testing import FakeCredentials
from dief.wire import (
    CaseInput,
    CaseRecord,
    case_id_for,
    case_padded_size,
    generalise,
    parse_case,
)
from dief.wire._ownership import b64url

if TYPE_CHECKING:
    from collections.abc import Iterable

    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    from dief.audit import OwnCase
    from dief.crypto import Sealer
    from dief.seams import CredentialSource
    from dief.synthetic import SyntheticCase

TODAY = date(2026, 11, 22)
SECRET = b"s" * 32

#: The random fields of a record and of an envelope (base64url), and of the key documents
#: (directory, registration, key files, backups: public keys, signatures, salts, and key ids in
#: base32): where a short string such as a State code or a node label occurs by chance (three
#: letters in a record's base64url: about one record in 250; four letters in a registration's
#: 9,000 characters: about one in 2,000).
RANDOM_FIELDS = frozenset(
    {
        *("contributor_token", "owner_key", "owner_sig"),
        *("nonce", "ciphertext", "wrapped", "salt"),
        *("public", "root_public", "subject_public", "registration_public", "kem_public"),
        *("kid", "subject_kid", "registration_kid", "kem_kid", "group_kid"),
        *("mldsa65", "ed25519"),
    }
)


def clear_text(document: bytes | str) -> str:
    """The JSON *document* without its :data:`RANDOM_FIELDS`: where a leak must not be."""

    def strip(value: object) -> object:
        if isinstance(value, dict):
            return {k: strip(v) for k, v in value.items() if k not in RANDOM_FIELDS}
        if isinstance(value, list):
            return [strip(v) for v in value]
        return value

    return json.dumps(strip(json.loads(document)))


def identity(secret: bytes = SECRET) -> NodeIdentity:
    return NodeIdentity(NodeSecret("test-node", secret))


def case_doc(**overrides: object) -> dict[str, object]:
    doc: dict[str, object] = {
        "confidence": "suspected",
        "region": "AFR",
        "detected": "2026-07-14",
        "items": [{"category": "small_arms", "quantity": 40}],
        "transfer_stage": "in_transit",
        "methods": ["falsified_documents"],
        "detection_source": "customs_border_control",
        "risk_indicators": ["DOC-01"],
    }
    doc.update(overrides)
    return doc


def owner_public(key: Ed25519PrivateKey) -> bytes:
    return key.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)


def signed_record(
    case: CaseInput | dict[str, object] | None = None,
    *,
    secret: bytes = SECRET,
    index: int = 0,
    revision: int = 1,
    envelope_id: str | None = None,
    credentials: CredentialSource | None = None,
    key: Ed25519PrivateKey | None = None,
    start_month: int = 9,
    catalogue_version: str | None = None,
) -> CaseRecord:
    """The record a node with *secret* signs for its case *index* (or with *key*), naming
    *catalogue_version* (default: the latest shipped)."""
    if not isinstance(case, CaseInput):
        case = parse_case(case if case is not None else case_doc(), today=TODAY)
    key = key if key is not None else identity(secret).owner_key(index)
    cycle = case.detected_month.cycle(start_month)
    raw = owner_public(key)
    unsigned = generalise(
        case,
        case_id=case_id_for(str(case.region), str(cycle), raw),
        revision=revision,
        owner_key=raw,
        cycle=cycle,
        catalogue_version=catalogue_version,
    )
    creds = credentials if credentials is not None else FakeCredentials(secret)
    credential = creds.credential(str(cycle), str(case.region))
    assert credential is not None
    return unsigned.sign(credential, envelope_id or str(uuid.uuid4()), key.sign)


__all__ = [
    "SECRET",
    "TODAY",
    "b64url",
    "case_doc",
    "identity",
    "owner_public",
    "seal_record",
    "signed_record",
]


def seal_record(sealer: Sealer, record: CaseRecord) -> bytes:
    """*record* sealed as a node seals it: padded to its size, in the envelope it names."""
    return sealer.seal(
        record.to_json(), pad_to=case_padded_size(record), record_id=uuid.UUID(record.envelope_id)
    )


def record_facts(
    record: CaseRecord, *, record_id: str | None = None, sealed: bytes = b""
) -> CaseFacts:
    """*record*'s facts as the aggregator stores them (its own region, no route)."""
    return CaseFacts.from_record(
        record, record_id=record_id or str(uuid.uuid4()), sealed=sealed, route=False
    )


def signed_facts(lines: Iterable[SyntheticCase], *, today: date) -> dict[str, list[CaseFacts]]:
    """Map each region to the facts of synthetic *lines* in posting order, each case signed
    as its State's node would (the node secret derived from the State's name, one owner key
    per case, the revision counted per case): a synthetic forum as its aggregators store it."""
    indexes: dict[str, int] = {}
    revisions: dict[str, int] = {}
    out: dict[str, list[CaseFacts]] = defaultdict(list)
    for line in lines:
        doc = dict(line.document)
        state = str(doc.pop("submitted_by"))
        case = parse_case(doc, today=today)
        case_id = str(case.case_id)
        revision = case.revision or revisions.get(case_id, 0) + 1
        revisions[case_id] = revision
        index = indexes.setdefault(case_id, len(indexes))
        secret = hashlib.sha256(state.encode()).digest()
        record = signed_record(case, secret=secret, index=index, revision=revision)
        out[str(record.region)].append(record_facts(record, sealed=record.to_json()))
    return out


def bulletin_facts(case: OwnCase) -> dict[str, object]:
    """The facts a bulletin of *case* carries, as a node posts them (``dief.audit.bulletin_case``
    reads them back)."""
    values: dict[str, list[str]] = {}
    for dim, value in case.values:
        values.setdefault(dim, []).append(value)
    return {
        "action": "publish",
        "kind": values.get("kind", [None])[0],
        "item_categories": values.get("item_category", []),
        "end_user_type": values.get("end_user_type", [None])[0],
        "transfer_stage": values.get("transfer_stage", [None])[0],
        "methods": values.get("method", []),
        "risk_indicators": values.get("risk_indicator", []),
        "month": case.month,
    }
