"""The two padded sizes of case records (DESIGN §3 ⚑): each the smallest multiple of 256
that fits the largest valid record of its kind (schema 3: the Working Group's fields too)."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest
from pydantic import ValidationError as PydanticValidationError

from dief.vocab import (
    ITEM_SUBCATEGORY_CATEGORIES,
    ActionTaken,
    ActorRole,
    CaseKind,
    CaseStatus,
    Confidence,
    DetectionSource,
    EndUserType,
    ItemCategory,
    MaritimeFeature,
    Method,
    QuantityBand,
    ReassessmentOutcome,
    Region,
    Registration,
    Tlp,
    TransferStage,
    TransferType,
    TransportMode,
    VerificationCheck,
    VerificationOutcome,
)
from dief.wire import (
    CASE_PADDED_SIZES,
    MAX_ACTORS,
    MAX_INDICATORS,
    MAX_ITEMS,
    MAX_REVISION,
    MAX_TOKEN_BYTES,
    SUMMARY_MAX_CHARS,
    CaseRecord,
    RecordItem,
    case_padded_size,
)
from tests.unit.record_helpers import b64url, case_doc, signed_record

if TYPE_CHECKING:
    from enum import Enum


def _longest(values: type[Enum]) -> str:
    return max((str(v) for v in values), key=len)


def _largest_item() -> dict[str, object]:
    """The longest valid item: category, band and subcategory (or none) that fit together."""
    pairs = [(c, None) for c in ItemCategory] + [
        (c, s) for s, categories in ITEM_SUBCATEGORY_CATEGORIES.items() for c in categories
    ]
    items = [RecordItem(category=c, band=_longest(QuantityBand), subcategory=s) for c, s in pairs]
    return max(items, key=lambda item: len(item.model_dump_json())).model_dump(mode="json")


def _largest(summary: str | None) -> CaseRecord:
    """The largest valid record: every list full (each value once, as the record requires),
    every string at its longest, every nullable object present with its longest values."""
    regions = sorted((r.value for r in Region), key=len, reverse=True)
    actors = [{"role": r.value, "registered": g.value} for r in ActorRole for g in Registration]
    assert len(actors) == MAX_ACTORS
    return CaseRecord(
        case_id="ffffffff-ffff-8fff-bfff-ffffffffffff",
        revision=MAX_REVISION,
        status=_longest(CaseStatus),
        kind=_longest(CaseKind),
        confidence=_longest(Confidence),
        region=regions[0],
        related_regions=regions[1:],
        detected_month="9999-12",
        items=[_largest_item()] * MAX_ITEMS,
        transfer_stage=_longest(TransferStage),
        transfer_type=_longest(TransferType),
        methods=[m.value for m in Method],
        transport_modes=[m.value for m in TransportMode],
        maritime=[m.value for m in MaritimeFeature],
        actor_roles=actors,
        end_user_type=_longest(EndUserType),
        risk_indicators=[f"DOC-{i:02d}" for i in range(MAX_INDICATORS)],
        detection_source=_longest(DetectionSource),
        actions_taken=[a.value for a in ActionTaken],
        verification={
            "check": max(("documentary", "on_site"), key=len),
            "outcome": _longest(VerificationOutcome),
        },
        reassessment={"reassessed": True, "outcome": _longest(ReassessmentOutcome)},
        tlp=_longest(Tlp),
        summary=summary,
        cycle="CSP9999",
        contributor="f" * 32,
        contributor_token=b64url(b"\xff" * MAX_TOKEN_BYTES),
        catalogue_version="x" * 32,
        envelope_id="ffffffff-ffff-4fff-bfff-ffffffffffff",
        owner_key="A" * 43,
        owner_sig="A" * 86,
    )


def test_each_size_is_the_smallest_multiple_of_256_that_fits_the_largest_record() -> None:
    without = len(_largest(None).to_json())
    # A lesson's JSON is at most four bytes per character (control characters other than
    # tab and line breaks are refused; an astral character is four UTF-8 bytes; an escaped
    # quote two).
    astral = len(_largest("\U0001f600" * SUMMARY_MAX_CHARS).to_json())
    quoted = len(_largest('"' * SUMMARY_MAX_CHARS).to_json())
    lines = len(_largest("\n" * SUMMARY_MAX_CHARS).to_json())
    with_lesson = max(astral, quoted, lines)
    assert (-(-without // 256) * 256, -(-with_lesson // 256) * 256) == CASE_PADDED_SIZES
    assert all(size % 256 == 0 for size in CASE_PADDED_SIZES)


def test_padded_size_depends_only_on_whether_there_is_a_lesson() -> None:
    short = signed_record()
    long = signed_record({**_doc(), "summary": "a lesson " * 200})
    assert case_padded_size(short) == CASE_PADDED_SIZES[0]
    assert case_padded_size(long) == CASE_PADDED_SIZES[1]
    assert len(short.to_json()) < CASE_PADDED_SIZES[0]
    assert len(long.to_json()) < CASE_PADDED_SIZES[1]


def _doc() -> dict[str, object]:

    return case_doc()


def test_the_largest_record_cannot_grow() -> None:
    """Each list holds each value once: a record repeating one is invalid, so no valid record
    is larger than :func:`_largest`."""
    data = _largest(None).model_dump(mode="json")
    for name in ("methods", "maritime", "actor_roles", "risk_indicators", "actions_taken"):
        longer = {**data, name: [*data[name][:-1], data[name][0]]}
        with pytest.raises(PydanticValidationError):
            CaseRecord.model_validate(longer)
    assert {c.value for c in VerificationCheck} >= {"documentary", "on_site"}
