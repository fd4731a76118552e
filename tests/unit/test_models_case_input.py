"""CaseInput validation and the error messages a practitioner sees."""

from __future__ import annotations

from datetime import date
from typing import TYPE_CHECKING, Any
from uuid import UUID

import pytest

from dief.catalogue import load_catalogue
from dief.exceptions import ValidationError
from dief.vocab import (
    ActionTaken,
    CaseKind,
    CaseStatus,
    Confidence,
    DetectionSource,
    EndUserType,
    ItemCategory,
    Method,
    QuantityBand,
    Region,
    Tlp,
    TransferStage,
    TransportMode,
)
from dief.wire import MAX_INDICATORS, CaseInput, CaseValidationError, parse_case

if TYPE_CHECKING:
    from enum import StrEnum

TODAY = date(2026, 5, 14)


def minimal(**overrides: Any) -> dict[str, Any]:  # noqa: ANN401  a JSON document or an untyped library object, as the test builds it
    case: dict[str, Any] = {
        "confidence": "suspected",
        "region": "AFR",
        "detected": "2026-03",
        "items": [{"category": "small_arms", "quantity": 12}],
        "transfer_stage": "in_transit",
        "detection_source": "customs_border_control",
    }
    case.update(overrides)
    return case


def refuse(data: object) -> CaseValidationError:
    with pytest.raises(CaseValidationError) as info:
        parse_case(data, today=TODAY)
    return info.value


def test_minimal_case_gets_documented_defaults() -> None:
    case = parse_case(minimal(), today=TODAY)
    assert case.status is CaseStatus.ACTIVE
    assert case.kind is CaseKind.CASE
    assert case.tlp is Tlp.AMBER
    assert case.end_user_type is EndUserType.UNKNOWN
    assert case.related_regions == []
    assert (case.methods, case.transport_modes, case.actions_taken) == ([], [], [])
    assert case.risk_indicators == []
    assert case.case_id is None
    assert case.revision is None
    assert case.summary is None


@pytest.mark.parametrize(
    ("field", "enum"),
    [
        ("status", CaseStatus),
        ("kind", CaseKind),
        ("confidence", Confidence),
        ("region", Region),
        ("transfer_stage", TransferStage),
        ("end_user_type", EndUserType),
        ("detection_source", DetectionSource),
        ("tlp", Tlp),
    ],
)
def test_every_single_value_accepted(field: str, enum: type[StrEnum]) -> None:
    for member in enum:
        extra = {"case_id": str(UUID(int=1))} if member is CaseStatus.WITHDRAWN else {}
        case = parse_case(minimal(**{field: member.value}, **extra), today=TODAY)
        assert getattr(case, field) is member


@pytest.mark.parametrize(
    ("field", "enum"),
    [("methods", Method), ("transport_modes", TransportMode), ("actions_taken", ActionTaken)],
)
def test_every_list_value_accepted(field: str, enum: type[StrEnum]) -> None:
    values = [m.value for m in enum]
    case = parse_case(minimal(**{field: values}), today=TODAY)
    assert getattr(case, field) == list(enum)


def test_every_item_category_accepted() -> None:
    items = [{"category": c.value, "quantity": 1} for c in ItemCategory]
    case = parse_case(minimal(items=items), today=TODAY)
    assert [i.category for i in case.items] == list(ItemCategory)


def test_every_related_region_accepted_except_own() -> None:
    others = [r.value for r in Region if r is not Region.AFR]
    case = parse_case(minimal(related_regions=others), today=TODAY)
    assert [r.value for r in case.related_regions] == others


def test_every_catalogue_indicator_accepted() -> None:
    # The catalogue may hold more ids than one case may list (MAX_INDICATORS): in turns.
    ids = list(load_catalogue().ids)
    for start in range(0, len(ids), MAX_INDICATORS):
        some = ids[start : start + MAX_INDICATORS]
        assert parse_case(minimal(risk_indicators=some), today=TODAY).risk_indicators == some


def test_lists_are_deduplicated_in_order() -> None:
    case = parse_case(
        minimal(
            methods=["corruption", "shell_company", "corruption"],
            risk_indicators=["DOC-01", "RTE-01", "DOC-01"],
            related_regions=["WEOG", "EEG", "WEOG"],
        ),
        today=TODAY,
    )
    assert case.methods == [Method.CORRUPTION, Method.SHELL_COMPANY]
    assert case.risk_indicators == ["DOC-01", "RTE-01"]
    assert case.related_regions == [Region.WEOG, Region.EEG]


def test_scalar_for_list_field_is_one_element_list() -> None:
    case = parse_case(minimal(methods="theft_or_loss"), today=TODAY)
    assert case.methods == [Method.THEFT_OR_LOSS]


def test_near_miss_enum_names_field_lists_values_and_suggests() -> None:
    err = refuse(minimal(items=[{"category": "small_arm", "quantity": 3}]))
    assert err.code == "invalid_value"
    assert err.loc == ("items", 0, "category")
    message = err.errors[0].message
    assert message.startswith("items[0].category: 'small_arm' is not one of battle_tanks,")
    for category in ItemCategory:
        assert category.value in message
    assert "(did you mean 'small_arms'?)" in message


@pytest.mark.parametrize(
    ("field", "wrong", "meant"),
    [
        ("region", "afr", "AFR"),
        ("region", "WEO", "WEOG"),
        ("tlp", "amber-strict", "amber_strict"),
        ("transfer_stage", "intransit", "in_transit"),
        ("detection_source", "customs", None),
        ("confidence", "confirmd", "confirmed"),
    ],
)
def test_near_misses_refused(field: str, wrong: str, meant: str | None) -> None:
    err = refuse(minimal(**{field: wrong}))
    assert err.errors[0].loc == (field,)
    assert err.errors[0].message.startswith(f"{field}: ")
    assert "is not one of" in err.errors[0].message
    if meant:
        assert f"did you mean {meant!r}" in err.message


def test_list_element_error_has_index() -> None:
    err = refuse(minimal(methods=["corruption", "smuggling"]))
    assert err.errors[0].loc == ("methods", 1)
    assert err.errors[0].message.startswith("methods[1]: ")
    assert "falsified_documents" in err.errors[0].message


def test_refused_value_not_echoed_unless_near_miss() -> None:
    err = refuse(minimal(region="Ruritania", methods=["Ruritanian militia"]))
    assert "Ruritania" not in err.message
    assert "AFR, APG, EEG, GRULAC, WEOG" in err.message


@pytest.mark.parametrize(
    "field", ["confidence", "region", "detected", "items", "transfer_stage", "detection_source"]
)
def test_missing_required_field(field: str) -> None:
    data = minimal()
    del data[field]
    err = refuse(data)
    assert err.code == "missing"
    assert err.loc == (field,)
    assert err.message == f"{field}: required field is missing"


def test_missing_item_category() -> None:
    err = refuse(minimal(items=[{"quantity": 3}]))
    assert (err.code, err.loc) == ("missing", ("items", 0, "category"))


def test_empty_items_refused() -> None:
    err = refuse(minimal(items=[]))
    assert (err.code, err.loc) == ("too_short", ("items",))


def test_unknown_field_refused_with_suggestion() -> None:
    err = refuse(minimal(method=["corruption"]))
    assert err.code == "unknown_field"
    assert err.loc == ("method",)
    assert "did you mean 'methods'" in err.message


def test_unknown_field_inside_item() -> None:
    err = refuse(minimal(items=[{"category": "ammunition", "qty": 5}]))
    assert err.loc == ("items", 0, "qty")
    assert err.code == "unknown_field"
    assert "category, quantity" in err.message


def test_unknown_field_with_free_text_name_not_echoed() -> None:
    err = refuse(minimal(**{"Shipment from Ruritania": 1}))
    assert err.code == "unknown_field"
    assert "Ruritania" not in err.message


def test_several_problems_all_reported() -> None:
    data = minimal(tlp="purple", kind="warning")
    del data["region"]
    err = refuse(data)
    assert {p.loc for p in err.errors} == {("tlp",), ("kind",), ("region",)}
    assert err.loc == ()  # several problems: no single location
    assert err.message.count(";") == 2


@pytest.mark.parametrize(
    ("detected", "fragment"),
    [
        ("2026-13", "not a valid calendar date"),
        ("2026-02-30", "not a valid calendar date"),
        ("2026-00", "not a valid calendar date"),
        ("2026/03/01", "YYYY-MM or YYYY-MM-DD"),
        ("March 2026", "YYYY-MM or YYYY-MM-DD"),
        ("2026-06", "in the future"),
        ("2026-05-15", "in the future"),
        ("2014-11", "before 2014-12"),
        (202603, "YYYY-MM or YYYY-MM-DD"),
    ],
)
def test_bad_dates(detected: object, fragment: str) -> None:
    err = refuse(minimal(detected=detected))
    assert err.code == "bad_date"
    assert err.loc == ("detected",)
    assert fragment in err.message
    assert "March" not in err.message


@pytest.mark.parametrize(
    ("detected", "stored"),
    [("2026-05", "2026-05"), ("2026-05-14", "2026-05-14"), ("2014-12", "2014-12")],
)
def test_good_dates_edges(detected: str, stored: str) -> None:
    case = parse_case(minimal(detected=detected), today=TODAY)
    assert case.detected == stored
    assert str(case.detected_month) == stored[:7]


def test_date_objects_from_yaml_accepted() -> None:
    case = parse_case(minimal(detected=date(2026, 1, 31)), today=TODAY)
    assert case.detected == "2026-01-31"


def test_today_comes_from_validation_context() -> None:
    data = minimal(detected="2027-01")
    assert CaseInput.model_validate(data, context={"today": date(2027, 1, 1)}).detected == "2027-01"
    with pytest.raises(ValidationError):
        parse_case(data, today=date(2026, 12, 31))


@pytest.mark.parametrize(
    ("quantity", "band"),
    [
        (1, QuantityBand.B1_10),
        (10, QuantityBand.B1_10),
        (11, QuantityBand.B11_100),
        (100, QuantityBand.B11_100),
        (101, QuantityBand.B101_1000),
        (1000, QuantityBand.B101_1000),
        (1001, QuantityBand.B1001_10000),
        (10000, QuantityBand.B1001_10000),
        (10001, QuantityBand.OVER_10000),
        (5.0, QuantityBand.B1_10),
        ("250", QuantityBand.B101_1000),
        ("unknown", QuantityBand.UNKNOWN),
        ("11-100", QuantityBand.B11_100),
        (">10000", QuantityBand.OVER_10000),
    ],
)
def test_quantity_banding_edges(quantity: object, band: QuantityBand) -> None:
    case = parse_case(
        minimal(items=[{"category": "ammunition", "quantity": quantity}]), today=TODAY
    )
    assert case.items[0].band is band


def test_quantity_defaults_to_unknown() -> None:
    case = parse_case(minimal(items=[{"category": "ammunition"}]), today=TODAY)
    assert case.items[0].band is QuantityBand.UNKNOWN


@pytest.mark.parametrize("quantity", [0, -3, 2.5, True, "many", "10-100", None, [5]])
def test_bad_quantities_refused(quantity: object) -> None:
    err = refuse(minimal(items=[{"category": "ammunition", "quantity": quantity}]))
    assert err.loc == ("items", 0, "quantity")
    assert err.code == "invalid_value"
    assert "11-100" in err.message


def test_summary_at_limit_accepted_over_limit_refused_without_echo() -> None:
    assert parse_case(minimal(summary="a" * 2000), today=TODAY).summary == "a" * 2000
    secret = "Lesson: " + "z" * 2100
    err = refuse(minimal(summary=secret))
    assert err.code == "too_long"
    assert err.loc == ("summary",)
    assert "2108 characters" in err.message
    assert "2000" in err.message
    assert "zzz" not in err.message
    assert "Lesson" not in err.message
    assert "zzz" not in repr(err)
    assert err.__cause__ is None
    assert err.__context__ is None


def test_blank_summary_becomes_none() -> None:
    assert parse_case(minimal(summary="   "), today=TODAY).summary is None


def test_related_regions_must_not_contain_region() -> None:
    err = refuse(minimal(region="EEG", related_regions=["WEOG", "EEG"]))
    assert err.loc == ("related_regions",)
    assert err.code == "invalid_value"
    assert "EEG" in err.message


def test_unknown_indicator_refused_with_suggestion() -> None:
    err = refuse(minimal(risk_indicators=["DOC-01", "doc-02", "XYZ-01"]))
    assert [p.code for p in err.errors] == ["unknown_indicator", "unknown_indicator"]
    assert [p.loc for p in err.errors] == [("risk_indicators", 1), ("risk_indicators", 2)]
    assert "did you mean 'DOC-02'" in err.errors[0].message
    assert load_catalogue().version in err.errors[1].message


def test_revision_and_case_id() -> None:
    case = parse_case(minimal(case_id=str(UUID(int=7)), revision=3), today=TODAY)
    assert case.case_id == UUID(int=7)
    assert case.revision == 3
    assert refuse(minimal(revision=0)).code == "invalid_value"
    assert refuse(minimal(revision=True)).code == "wrong_type"
    assert refuse(minimal(case_id="not-a-uuid")).loc == ("case_id",)


def test_withdrawal_needs_case_id() -> None:
    err = refuse(minimal(status="withdrawn"))
    assert (err.code, err.loc) == ("missing", ("case_id",))


def test_submitted_by() -> None:
    assert parse_case(minimal(submitted_by="XYZ"), today=TODAY).submitted_by == "XYZ"
    err = refuse(minimal(submitted_by="somewhere"))
    assert err.loc == ("submitted_by",)


def test_not_an_object() -> None:
    err = refuse(["a", "list"])
    assert (err.code, err.loc) == ("wrong_type", ())


def test_wrong_type_for_list() -> None:
    err = refuse(minimal(items={"category": "ammunition"}))
    assert (err.code, err.loc) == ("wrong_type", ("items",))


def test_line_and_case_id_carried() -> None:
    cid = str(UUID(int=99))
    with pytest.raises(CaseValidationError) as info:
        parse_case(minimal(case_id=cid, tlp="x"), line=12, today=TODAY)
    assert info.value.line == 12
    assert info.value.case_id == cid
    assert info.value.message.startswith("line 12: tlp: ")
