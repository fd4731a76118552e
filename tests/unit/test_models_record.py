"""CaseRecord v3: generalisation, the owner signature, the JSON round trip, the schema's
bounds and the case id's derivation (DESIGN §5 ⚑)."""

from __future__ import annotations

import hashlib
import json
import uuid
from datetime import date

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from dief.catalogue import load_catalogue
from dief.periods import CspCycle
from dief.testing import FakeCredentials
from dief.vocab import QuantityBand
from dief.wire import (
    CASE_SCHEMA_VERSION,
    CaseRecord,
    CaseValidationError,
    case_id_for,
    generalise,
    owner_message,
    ownership_problem,
    parse_case,
)
from tests.unit.record_helpers import b64url, clear_text, owner_public, signed_record

ENVELOPE_ID = "6f1d2c3b-4a59-4e68-8b7a-0c1d2e3f4a5b"


def record(**overrides: object) -> CaseRecord:
    data: dict[str, object] = {
        "confidence": "confirmed",
        "region": "EEG",
        "related_regions": ["WEOG"],
        "detected": "2025-09-03",
        "items": [
            {"category": "small_arms", "quantity": 101},
            {"category": "ammunition", "quantity": "unknown"},
        ],
        "transfer_stage": "post_delivery",
        "methods": ["unauthorized_retransfer"],
        "risk_indicators": ["PDV-03"],
        "detection_source": "post_shipment_verification",
        "summary": "Re-transfer found during an on-site check.",
        "submitted_by": "ABC",
        "case_id": "11111111-2222-4333-8444-555555555555",
    }
    data.update(overrides)
    case = parse_case(data, today=date(2026, 5, 1))
    return signed_record(case, revision=2, envelope_id=ENVELOPE_ID)


def test_schema_version_is_3() -> None:
    assert CASE_SCHEMA_VERSION == 3


def test_generalise_coarsens_and_drops_submitter_and_reference() -> None:
    rec = record()
    assert rec.detected_month == "2025-09"
    assert rec.cycle == "CSP12"
    assert [(i.category.value, i.band) for i in rec.items] == [
        ("small_arms", QuantityBand.B101_1000),
        ("ammunition", QuantityBand.UNKNOWN),
    ]
    assert rec.catalogue_version == load_catalogue().version
    text = rec.to_json().decode()
    payload = json.loads(text)
    assert "submitted_by" not in payload
    assert "ABC" not in clear_text(text)  # (random fields can hold it by chance)
    assert "2025-09-03" not in text
    assert "11111111-2222-4333-8444-555555555555" not in text  # the reference stays home
    assert "related" not in payload
    assert "owner_tag" not in payload
    assert payload["related_regions"] == ["WEOG"]
    assert payload["envelope_id"] == ENVELOPE_ID


def test_case_id_is_a_version_8_uuid_bound_to_region_cycle_and_owner_key() -> None:
    key = owner_public(Ed25519PrivateKey.generate())
    cid = case_id_for("AFR", "CSP13", key)
    parsed = uuid.UUID(cid)
    assert parsed.version == 8
    assert parsed.variant == uuid.RFC_4122
    digest = bytearray(hashlib.sha256(b"dief/v2/case-id\x00AFR/CSP13/" + key).digest()[:16])
    digest[6] = (digest[6] & 0x0F) | 0x80
    digest[8] = (digest[8] & 0x3F) | 0x80
    assert cid == str(uuid.UUID(bytes=bytes(digest)))
    assert len({cid, case_id_for("APG", "CSP13", key), case_id_for("AFR", "CSP12", key)}) == 3


def test_owner_signature_covers_the_record_and_its_envelope_id() -> None:
    rec = record()
    data = json.loads(rec.to_json())
    assert ownership_problem(data, ENVELOPE_ID) is None
    message = owner_message(data)
    assert message.startswith(b"dief/v2/owner\x00{")
    assert b"owner_sig" not in message
    assert ownership_problem(data, str(uuid.uuid4())) is not None  # another envelope's id
    for field, value in [("revision", 3), ("status", "withdrawn"), ("tlp", "clear")]:
        assert ownership_problem({**data, field: value}, ENVELOPE_ID) is not None, field


def test_round_trip() -> None:
    rec = record()
    again = CaseRecord.from_json(rec.to_json())
    assert again == rec
    assert again.to_json() == rec.to_json()
    assert CaseRecord.model_validate_json(rec.model_dump_json()) == rec


def test_credential_is_the_contributor_and_token_of_cycle_and_region() -> None:
    rec = record()
    credential = rec.credential
    assert (credential.cycle, credential.region) == ("CSP12", "EEG")
    assert credential.contributor == rec.contributor
    assert FakeCredentials().verify(credential)


def test_cycle_must_contain_detection_month() -> None:
    case = parse_case(
        {
            "confidence": "confirmed",
            "region": "AFR",
            "detected": "2025-08",
            "items": [{"category": "warships"}],
            "transfer_stage": "stockpile",
            "detection_source": "other",
        },
        today=date(2026, 5, 1),
    )
    with pytest.raises(ValueError, match="does not contain"):
        generalise(
            case,
            case_id=str(uuid.uuid4()),
            revision=1,
            owner_key=b"\x00" * 32,
            cycle=CspCycle(12),
        )


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("contributor", "XYZ"),
        ("owner_key", "A" * 42),
        ("owner_key", "A" * 42 + "B"),  # non-canonical: unused bits set
        ("owner_sig", "A" * 85),
        ("contributor_token", "not base64url!"),
        ("contributor_token", "A" * 727),
        ("case_id", "6F1D2C3B-4A59-8E68-8B7A-0C1D2E3F4A5B"),
        ("case_id", "6f1d2c3b-4a59-4e68-8b7a-0c1d2e3f4a5b"),  # version 4, not derived
        ("envelope_id", "6f1d2c3b4a594e688b7a0c1d2e3f4a5b"),
        ("detected_month", "2025-13"),
        ("cycle", "CSP0"),
        ("revision", 0),
        ("risk_indicators", ["doc-1"]),
        ("related_regions", ["EEG"]),
        ("summary", "a lesson with a \x07 bell"),
        ("catalogue_version", "v\n1"),
        ("submitted_by", "ABC"),
        ("related", False),
        ("owner_tag", "0" * 32),
    ],
)
def test_from_json_refuses_bad_records(field: str, value: object) -> None:
    payload = json.loads(record().to_json())
    payload[field] = value
    with pytest.raises(CaseValidationError) as info:
        CaseRecord.from_json(json.dumps(payload))
    assert info.value.code == "invalid_record"
    assert info.value.errors[0].loc[0] == field


def test_from_json_refuses_non_json() -> None:
    with pytest.raises(CaseValidationError) as info:
        CaseRecord.from_json(b"not json")
    assert info.value.code == "invalid_record"


def test_b64url_is_unpadded() -> None:
    assert b64url(b"\xff" * 32).endswith("8")
    assert "=" not in b64url(b"\xff" * 32)
