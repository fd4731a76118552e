"""CaseRecord: generalisation and the JSON round trip."""

from __future__ import annotations

import json
from datetime import date
from uuid import UUID

import pytest

from dief.catalogue import load_catalogue
from dief.periods import CspCycle
from dief.vocab import QuantityBand, Region
from dief.wire import CaseRecord, CaseValidationError, generalise, parse_case

CONTRIBUTOR = "0123456789abcdef0123456789abcdef"
OWNER = "fedcba9876543210fedcba9876543210"
CASE_ID = UUID("6f1d2c3b-4a59-4e68-8b7a-0c1d2e3f4a5b")


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
    }
    data.update(overrides)
    case = parse_case(data, today=date(2026, 5, 1))
    return generalise(
        case,
        case_id=CASE_ID,
        revision=2,
        contributor=CONTRIBUTOR,
        owner_tag=OWNER,
        cycle=case.detected_month.cycle(),
    )


def test_generalise_coarsens_and_drops_submitter() -> None:
    rec = record()
    assert rec.detected_month == "2025-09"
    assert rec.cycle == "CSP12"
    assert [(i.category.value, i.band) for i in rec.items] == [
        ("small_arms", QuantityBand.B101_1000),
        ("ammunition", QuantityBand.UNKNOWN),
    ]
    assert rec.case_id == str(CASE_ID)
    assert rec.catalogue_version == load_catalogue().version
    payload = json.loads(rec.to_json())
    assert "submitted_by" not in payload
    assert "ABC" not in rec.to_json().decode()
    assert "2025-09-03" not in rec.to_json().decode()
    assert payload["related"] is False


def test_round_trip() -> None:
    rec = record()
    again = CaseRecord.from_json(rec.to_json())
    assert again == rec
    assert again.to_json() == rec.to_json()
    assert CaseRecord.model_validate_json(rec.model_dump_json()) == rec


def test_related_copy() -> None:
    copy = record().as_related_copy()
    assert copy.related is True
    assert not copy.counted
    assert copy.region is Region.EEG


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
            case_id=CASE_ID,
            revision=1,
            contributor=CONTRIBUTOR,
            owner_tag=OWNER,
            cycle=CspCycle(12),
        )


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("contributor", "XYZ"),
        ("owner_tag", "0" * 31),
        ("case_id", "6F1D2C3B-4A59-4E68-8B7A-0C1D2E3F4A5B"),
        ("detected_month", "2025-13"),
        ("cycle", "CSP0"),
        ("revision", 0),
        ("risk_indicators", ["doc-1"]),
        ("related_regions", ["EEG"]),
        ("submitted_by", "ABC"),
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
