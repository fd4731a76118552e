"""The Working Group's case model (issue #14): case input and case record schema 3.

Every new vocabulary value is accepted at the input and in the record; near-misses are
refused with a message naming the field path and every allowed value; the cross-field rules
(maritime needs a sea leg, a subcategory fits its category, outcomes only where they mean
something) are refused at the input AND in the record, so a hostile node that builds and
signs a record by hand is dead-lettered by the aggregator; ``case_values`` yields exactly
the documented pairs (docs/case-model.md).
"""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass
from datetime import date
from itertools import product
from typing import TYPE_CHECKING, Any

import pytest
from pydantic import ValidationError as PydanticValidationError

from dief.aggregator import RegionAggregator, case_values
from dief.aggregator.store import CaseStore
from dief.crypto.envelope import Opener, Sealer
from dief.database import sqlite_url
from dief.exceptions import EnvelopeError
from dief.keyring import KeyRole, SimulatedForum
from dief.seams import InboundRecord
from dief.testing import FakeCredentials, MemoryDeadLetterSink
from dief.vocab import (
    ITEM_SUBCATEGORY_CATEGORIES,
    SINGLE_VALUED_DIMENSIONS,
    ActorRole,
    Dimension,
    ItemCategory,
    ItemSubcategory,
    MaritimeFeature,
    ReassessmentOutcome,
    Region,
    Registration,
    TransferType,
    VerificationCheck,
    VerificationOutcome,
)
from dief.wire import (
    CASE_PADDED_SIZES,
    CASE_SCHEMA_VERSION,
    ROUTE_DIMENSIONS,
    TYPE_CASE,
    CaseRecord,
    CaseValidationError,
    owner_message,
    parse_case,
)
from dief.wire._ownership import b64url
from dief.wire.schemas import generate_schemas
from tests.unit.record_helpers import case_doc, identity, signed_record

if TYPE_CHECKING:
    from collections.abc import Callable
    from enum import StrEnum
    from pathlib import Path

TODAY = date(2026, 11, 22)

#: Checks that may carry an outcome (the others have nothing to report).
CHECKED = (VerificationCheck.DOCUMENTARY, VerificationCheck.ON_SITE)
FITTING = sorted((sub, cat) for sub, cats in ITEM_SUBCATEGORY_CATEGORIES.items() for cat in cats)
NOT_FITTING = sorted(
    (sub, cat)
    for sub in ItemSubcategory
    for cat in ItemCategory
    if cat not in ITEM_SUBCATEGORY_CATEGORIES[sub]
)


def doc(**overrides: object) -> dict[str, object]:
    return case_doc(**overrides)


def accept(data: dict[str, object]) -> Any:  # noqa: ANN401  a JSON document or an untyped library object, as the test builds it
    return parse_case(data, today=TODAY)


def refuse(data: dict[str, object]) -> CaseValidationError:
    with pytest.raises(CaseValidationError) as info:
        parse_case(data, today=TODAY)
    return info.value


def record_json(**overrides: object) -> dict[str, object]:
    """A valid signed record's JSON fields, with the case document's *overrides*."""
    data: dict[str, object] = json.loads(signed_record(doc(**overrides)).to_json())
    return data


# -- every new value accepted, input and record ----------------------------------------------


@pytest.mark.parametrize("value", list(TransferType))
def test_every_transfer_type_accepted(value: TransferType) -> None:
    assert accept(doc(transfer_type=value.value)).transfer_type is value
    assert record_json(transfer_type=value.value)["transfer_type"] == value.value


@pytest.mark.parametrize("value", list(MaritimeFeature))
def test_every_maritime_feature_accepted(value: MaritimeFeature) -> None:
    case = accept(doc(transport_modes=["sea"], maritime=[value.value]))
    assert case.maritime == [value]
    assert record_json(transport_modes=["sea"], maritime=[value.value])["maritime"] == [value.value]


@pytest.mark.parametrize(("role", "registered"), list(product(ActorRole, Registration)))
def test_every_actor_role_and_registration_accepted(
    role: ActorRole, registered: Registration
) -> None:
    actor = {"role": role.value, "registered": registered.value}
    case = accept(doc(actor_roles=[actor]))
    assert (case.actor_roles[0].role, case.actor_roles[0].registered) == (role, registered)
    assert record_json(actor_roles=[actor])["actor_roles"] == [actor]


@pytest.mark.parametrize(
    ("check", "outcome"),
    [(c, None) for c in VerificationCheck] + list(product(CHECKED, VerificationOutcome)),
)
def test_every_verification_accepted(
    check: VerificationCheck, outcome: VerificationOutcome | None
) -> None:
    given: dict[str, object] = {"check": check.value}
    if outcome is not None:
        given["outcome"] = outcome.value
    case = accept(doc(verification=given))
    assert (case.verification.check, case.verification.outcome) == (check, outcome)
    assert record_json(verification=given)["verification"] == {
        "check": check.value,
        "outcome": outcome.value if outcome else None,
    }


@pytest.mark.parametrize(
    ("reassessed", "outcome"),
    [(False, None), (True, None), *((True, o) for o in ReassessmentOutcome)],
)
def test_every_reassessment_accepted(reassessed: bool, outcome: ReassessmentOutcome | None) -> None:
    given: dict[str, object] = {"reassessed": reassessed}
    if outcome is not None:
        given["outcome"] = outcome.value
    case = accept(doc(reassessment=given))
    assert (case.reassessment.reassessed, case.reassessment.outcome) == (reassessed, outcome)
    assert record_json(reassessment=given)["reassessment"] == {
        "reassessed": reassessed,
        "outcome": outcome.value if outcome else None,
    }


@pytest.mark.parametrize(("sub", "cat"), FITTING)
def test_every_fitting_item_subcategory_accepted(sub: ItemSubcategory, cat: ItemCategory) -> None:
    items = [{"category": cat.value, "quantity": 3, "subcategory": sub.value}]
    assert accept(doc(items=items)).items[0].subcategory is sub
    assert record_json(items=items)["items"] == [
        {"category": cat.value, "band": "1-10", "subcategory": sub.value}
    ]


def test_every_subcategory_fits_some_category() -> None:
    assert {sub for sub, _ in FITTING} == set(ItemSubcategory)


def test_defaults_and_every_new_field_always_in_the_record() -> None:
    case = accept(doc())
    assert case.transfer_type is TransferType.UNKNOWN
    assert case.maritime == case.actor_roles == []
    assert case.verification is None
    assert case.reassessment is None
    assert case.items[0].subcategory is None
    data = record_json()
    assert data["transfer_type"] == "unknown"
    assert data["maritime"] == data["actor_roles"] == []
    assert data["verification"] is None
    assert data["reassessment"] is None
    assert data["items"] == [{"category": "small_arms", "band": "11-100", "subcategory": None}]


def test_maritime_scalar_becomes_a_list_and_lists_are_deduplicated() -> None:
    case = accept(doc(transport_modes=["sea"], maritime="ais_gap"))
    assert case.maritime == [MaritimeFeature.AIS_GAP]
    case = accept(doc(transport_modes="sea", maritime=["flag_change", "ais_gap", "flag_change"]))
    assert case.maritime == [MaritimeFeature.FLAG_CHANGE, MaritimeFeature.AIS_GAP]


def test_actor_roles_exact_duplicates_deduplicated_registration_defaults_to_unknown() -> None:
    case = accept(
        doc(
            actor_roles=[
                {"role": "broker"},
                {"role": "broker", "registered": "no"},
                {"role": "broker", "registered": "unknown"},
                {"role": "carrier", "registered": "yes"},
            ]
        )
    )
    assert [(a.role.value, a.registered.value) for a in case.actor_roles] == [
        ("broker", "unknown"),
        ("broker", "no"),
        ("carrier", "yes"),
    ]


def test_actor_roles_bounded() -> None:
    every = [{"role": r.value, "registered": g.value} for r, g in product(ActorRole, Registration)]
    assert len(accept(doc(actor_roles=every)).actor_roles) == len(every)
    err = refuse(doc(actor_roles=[*every, every[0]]))
    assert err.loc == ("actor_roles",)


def test_record_schema_is_3() -> None:
    assert CASE_SCHEMA_VERSION == 3
    assert CaseRecord.model_config.get("title") == "DIEF case record v3"


# -- near-misses: field path, every allowed value, did you mean -------------------------------


@pytest.mark.parametrize(
    ("overrides", "path", "loc", "enum", "meant"),
    [
        ({"transfer_type": "transhipment"}, "transfer_type", ("transfer_type",), TransferType,
         "trans_shipment"),
        ({"transport_modes": ["sea"], "maritime": ["ais-gap"]}, "maritime[0]", ("maritime", 0),
         MaritimeFeature, "ais_gap"),
        ({"actor_roles": [{"role": "brokr"}]}, "actor_roles[0].role",
         ("actor_roles", 0, "role"), ActorRole, "broker"),
        ({"actor_roles": [{"role": "broker", "registered": "Yes"}]},
         "actor_roles[0].registered", ("actor_roles", 0, "registered"), Registration, "yes"),
        ({"verification": {"check": "onsite"}}, "verification.check", ("verification", "check"),
         VerificationCheck, "on_site"),
        ({"verification": {"check": "on_site", "outcome": "consistant"}},
         "verification.outcome", ("verification", "outcome"), VerificationOutcome,
         "consistent"),
        ({"reassessment": {"reassessed": True, "outcome": "revoke"}}, "reassessment.outcome",
         ("reassessment", "outcome"), ReassessmentOutcome, "revoked"),
        ({"items": [{"category": "warships", "subcategory": "uncrewed_systems"}]},
         "items[0].subcategory", ("items", 0, "subcategory"), ItemSubcategory,
         "uncrewed_system"),
    ],
)  # fmt: skip
def test_near_misses_refused_naming_the_path_and_every_allowed_value(
    overrides: dict[str, object],
    path: str,
    loc: tuple[str | int, ...],
    enum: type[StrEnum],
    meant: str,
) -> None:
    err = refuse(doc(**overrides))
    assert (err.code, err.loc) == ("invalid_value", loc)
    message = err.errors[0].message
    assert message.startswith(f"{path}: ")
    assert f"is not one of {', '.join(m.value for m in enum)} " in message
    assert f"(did you mean {meant!r}?)" in message


def test_the_two_outcomes_list_their_own_vocabularies() -> None:
    verification = refuse(doc(verification={"check": "on_site", "outcome": "revoked"}))
    assert "consistent" in verification.message
    assert "conditions_added" not in verification.message
    reassessment = refuse(doc(reassessment={"reassessed": True, "outcome": "consistent"}))
    assert "conditions_added" in reassessment.message
    assert "items_missing" not in reassessment.message


@pytest.mark.parametrize(
    ("overrides", "loc", "meant", "allowed"),
    [
        ({"actor_roles": [{"rol": "broker"}]}, ("actor_roles", 0, "rol"), "role",
         "role, registered"),
        ({"verification": {"check": "none", "outcom": None}}, ("verification", "outcom"),
         "outcome", "check, outcome"),
        ({"reassessment": {"reassesed": True}}, ("reassessment", "reassesed"), "reassessed",
         "reassessed, outcome"),
        ({"items": [{"category": "small_arms", "subcategry": None}]},
         ("items", 0, "subcategry"), "subcategory", "category, quantity, subcategory"),
    ],
)  # fmt: skip
def test_unknown_nested_field_lists_that_objects_fields(
    overrides: dict[str, object], loc: tuple[str | int, ...], meant: str, allowed: str
) -> None:
    err = refuse(doc(**overrides))
    [problem] = [p for p in err.errors if p.code == "unknown_field"]
    assert problem.loc == loc
    assert f"did you mean {meant!r}" in problem.message
    assert problem.message.endswith(f"allowed: {allowed}")


def test_no_free_text_vessel_names_ports_or_imo_numbers() -> None:
    """Every new field is a vocabulary: free text is refused, and never echoed."""
    err = refuse(doc(transport_modes=["sea"], maritime=["MV Ruritanian Star IMO 9123456"]))
    assert (err.code, err.loc) == ("invalid_value", ("maritime", 0))
    assert "Ruritanian" not in err.message
    assert "9123456" not in err.message
    err = refuse(doc(actor_roles=[{"role": "broker", "name": "Ruritania Shipping Ltd"}]))
    assert err.code == "unknown_field"
    assert "Ruritania" not in err.message
    err = refuse(doc(verification={"check": "on_site", "port": "Port of Ruritania"}))
    assert "Ruritania" not in err.message
    err = refuse(doc(reassessment={"reassessed": "only in Ruritania"}))
    assert (err.code, err.loc) == ("wrong_type", ("reassessment", "reassessed"))
    assert "Ruritania" not in err.message


# -- cross-field rules at the input ----------------------------------------------------------


def test_maritime_without_a_sea_leg_refused() -> None:
    for modes in ([], ["air"], ["land", "unknown"]):
        err = refuse(doc(transport_modes=modes, maritime=["floating_armoury"]))
        assert (err.code, err.loc) == ("invalid_value", ("maritime",))
        assert "add 'sea' to transport_modes" in err.message


@pytest.mark.parametrize("outcome", list(VerificationOutcome))
def test_verification_outcome_without_a_check_refused(outcome: VerificationOutcome) -> None:
    err = refuse(doc(verification={"check": "none", "outcome": outcome.value}))
    assert (err.code, err.loc) == ("invalid_value", ("verification", "outcome"))
    assert "documentary or on_site" in err.message


@pytest.mark.parametrize("outcome", list(ReassessmentOutcome))
def test_reassessment_outcome_without_a_reassessment_refused(
    outcome: ReassessmentOutcome,
) -> None:
    err = refuse(doc(reassessment={"reassessed": False, "outcome": outcome.value}))
    assert (err.code, err.loc) == ("invalid_value", ("reassessment", "outcome"))
    assert "reassessed is true" in err.message


@pytest.mark.parametrize(("sub", "cat"), NOT_FITTING)
def test_subcategory_outside_its_categories_refused(
    sub: ItemSubcategory, cat: ItemCategory
) -> None:
    items = [{"category": "ammunition"}, {"category": cat.value, "subcategory": sub.value}]
    err = refuse(doc(items=items))
    assert (err.code, err.loc) == ("invalid_value", ("items", 1, "subcategory"))
    for allowed in ITEM_SUBCATEGORY_CATEGORIES[sub]:
        assert allowed.value in err.message


def test_required_parts_of_the_new_objects() -> None:
    assert refuse(doc(verification={"outcome": "consistent"})).loc == ("verification", "check")
    assert refuse(doc(reassessment={})).loc == ("reassessment", "reassessed")
    assert refuse(doc(actor_roles=[{"registered": "no"}])).loc == ("actor_roles", 0, "role")
    assert refuse(doc(actor_roles=["broker"])).code == "wrong_type"


# -- cross-field rules at the record: a hostile node signs a record by hand -------------------


def _mutate(**changes: object) -> Callable[[dict[str, Any]], None]:
    return lambda data: data.update(changes)


def _drop(name: str) -> Callable[[dict[str, Any]], None]:
    return lambda data: data.pop(name)


def _item(**changes: object) -> Callable[[dict[str, Any]], None]:
    return lambda data: data["items"][0].update(changes)


def _item_without_subcategory(data: dict[str, Any]) -> None:
    data["items"][0].pop("subcategory")


#: Records no honest node builds: each must fail CaseRecord validation.
HOSTILE: dict[str, Callable[[dict[str, Any]], None]] = {
    "maritime without sea": _mutate(transport_modes=["air"], maritime=["ais_gap"]),
    "verification none with an outcome": _mutate(
        verification={"check": "none", "outcome": "consistent"}
    ),
    "outcome of the wrong vocabulary": _mutate(
        verification={"check": "on_site", "outcome": "revoked"}
    ),
    "reassessment not done with an outcome": _mutate(
        reassessment={"reassessed": False, "outcome": "revoked"}
    ),
    "reassessed as text": _mutate(reassessment={"reassessed": "true", "outcome": None}),
    "subcategory outside its category": _item(
        category="ammunition", subcategory="converted_non_lethal_firearm"
    ),
    "near-miss transfer type": _mutate(transfer_type="transhipment"),
    "free text in maritime": _mutate(transport_modes=["sea"], maritime=["MV Example"]),
    "actor with a name": _mutate(actor_roles=[{"role": "broker", "registered": "no", "n": "x"}]),
    "actor without registration": _mutate(actor_roles=[{"role": "broker"}]),
    "verification without outcome key": _mutate(verification={"check": "on_site"}),
    "no transfer_type": _drop("transfer_type"),
    "no maritime": _drop("maritime"),
    "no actor_roles": _drop("actor_roles"),
    "no verification": _drop("verification"),
    "no reassessment": _drop("reassessment"),
    "item without subcategory": _item_without_subcategory,
    "too many maritime features": _mutate(
        transport_modes=["sea"], maritime=[m.value for m in MaritimeFeature] * 2
    ),
}


def hostile_record(mutate: Callable[[dict[str, Any]], None], index: int = 0) -> dict[str, Any]:
    """A valid record's fields changed by *mutate* and signed again with the owner key: the
    signature verifies; only validation can refuse it."""
    data: dict[str, Any] = json.loads(signed_record(doc(), index=index).to_json())
    mutate(data)
    data.pop("owner_sig")
    data["owner_sig"] = b64url(identity().owner_key(index).sign(owner_message(data)))
    return data


@pytest.mark.parametrize("name", list(HOSTILE))
def test_a_record_breaking_the_rules_is_invalid(name: str) -> None:
    data = hostile_record(HOSTILE[name])
    with pytest.raises(PydanticValidationError):
        CaseRecord.model_validate(data)
    with pytest.raises(CaseValidationError) as info:
        CaseRecord.from_json(json.dumps(data))
    assert info.value.code == "invalid_record"


@dataclass(frozen=True)
class _Opened:
    type: str
    id: str
    region: str
    payload: bytes
    receipt_key: bytes = b"k" * 32


class _PlainOpener:
    """Opens "envelopes" that are the padded payload itself (the crypto is tested elsewhere;
    this is about what the aggregator does with what opened)."""

    def open(self, value: bytes) -> _Opened:
        envelope_id = json.loads(value)["envelope_id"]
        return _Opened(TYPE_CASE, envelope_id, "AFR", value)


def _padded(data: dict[str, Any]) -> bytes:
    raw = json.dumps(data, separators=(",", ":")).encode()
    return raw.ljust(CASE_PADDED_SIZES[0], b" ")


async def test_the_aggregator_dead_letters_hostile_records_and_counts_nothing(
    tmp_path: Path,
) -> None:
    sink = MemoryDeadLetterSink()
    async with CaseStore(sqlite_url(tmp_path / "agg.sqlite")) as store:
        agg = RegionAggregator(
            Region.AFR, _PlainOpener(), store, sink, credentials=FakeCredentials()
        )
        batch = []
        for offset, mutate in enumerate(HOSTILE.values()):
            data = hostile_record(mutate, index=offset)
            key = str(data["case_id"]).encode()
            batch.append(InboundRecord("dief.afr.cases", 0, offset, key, _padded(data)))
        good = hostile_record(lambda data: None, index=99)  # noqa: ARG005  the lookup seam's signature (cycle, region); this fake answers the same key
        batch.append(
            InboundRecord("dief.afr.cases", 0, 99, str(good["case_id"]).encode(), _padded(good))
        )
        report = await agg.handle(batch)
        assert report.outcomes == {"dlq:invalid_payload": len(HOSTILE), "applied": 1}
        assert [letter.reason for letter in sink.sent] == ["invalid_payload"] * len(HOSTILE)
        assert (await store.dead_letter_counts("AFR")) == {"invalid_payload": len(HOSTILE)}


def test_a_schema_2_envelope_is_refused_as_an_unsupported_version(tmp_path: Path) -> None:
    forum = SimulatedForum.create(tmp_path / "keys", "pw")
    keys = forum.sealing_keys(KeyRole.REGION, "AFR")
    record = signed_record(doc())
    for old in (1, 2):
        sealed = Sealer(type=TYPE_CASE, region="AFR", recipients=keys, schema=old).seal(
            record.to_json(), pad_to=CASE_PADDED_SIZES[0], record_id=uuid.UUID(record.envelope_id)
        )
        with pytest.raises(EnvelopeError) as info:
            Opener(forum.opening_keys(KeyRole.REGION, "AFR")).open(sealed)
        assert info.value.code == "unsupported_version"


# -- counting ---------------------------------------------------------------------------------


def _wg_pairs(**overrides: object) -> set[tuple[str, str]]:
    """The pairs of a record that are not the older dimensions'."""
    old = {d.value for d in list(Dimension)[:10]}
    return {p for p in case_values(signed_record(doc(**overrides))) if p[0] not in old}


def test_case_values_yield_exactly_the_working_groups_pairs() -> None:
    pairs = _wg_pairs(
        transfer_type="trans_shipment",
        transport_modes=["sea", "air"],
        maritime=["ais_gap", "flag_of_convenience"],
        actor_roles=[
            {"role": "broker", "registered": "no"},
            {"role": "broker", "registered": "yes"},
            {"role": "broker", "registered": "no"},
            {"role": "carrier"},
            {"role": "financier", "registered": "no"},
        ],
        verification={"check": "on_site", "outcome": "items_missing"},
        reassessment={"reassessed": True, "outcome": "revoked"},
        items=[
            {
                "category": "small_arms",
                "quantity": 5,
                "subcategory": "converted_non_lethal_firearm",
            },
            {"category": "light_weapons", "subcategory": "reactivated_firearm"},
            {"category": "small_arms", "quantity": 500, "subcategory": "reactivated_firearm"},
            {"category": "ammunition"},
        ],
    )
    assert pairs == {
        ("transfer_type", "trans_shipment"),
        ("maritime", "ais_gap"),
        ("maritime", "flag_of_convenience"),
        ("actor_role", "broker"),
        ("actor_role", "carrier"),
        ("actor_role", "financier"),
        ("unregistered_actor", "broker"),
        ("unregistered_actor", "financier"),
        ("verification", "on_site"),
        ("verification_outcome", "items_missing"),
        ("reassessment", "revoked"),
        ("item_subcategory", "converted_non_lethal_firearm"),
        ("item_subcategory", "reactivated_firearm"),
    }


@pytest.mark.parametrize(
    ("overrides", "expected"),
    [
        ({}, set()),
        ({"verification": {"check": "none"}}, {("verification", "none")}),
        ({"verification": {"check": "documentary"}}, {("verification", "documentary")}),
        ({"reassessment": {"reassessed": False}}, {("reassessment", "not_reassessed")}),
        ({"reassessment": {"reassessed": True}}, {("reassessment", "pending")}),
        (
            {"reassessment": {"reassessed": True, "outcome": "conditions_added"}},
            {("reassessment", "conditions_added")},
        ),
        ({"actor_roles": [{"role": "insurer", "registered": "unknown"}]},
         {("actor_role", "insurer")}),
    ],
)  # fmt: skip
def test_case_values_of_absent_pending_and_unreported(
    overrides: dict[str, object], expected: set[tuple[str, str]]
) -> None:
    assert _wg_pairs(**overrides) == {("transfer_type", "unknown"), *expected}


def test_every_pair_is_a_dimension_and_transfer_type_is_single_valued() -> None:
    record = signed_record(
        doc(
            transport_modes=["sea"],
            maritime=["free_zone_passage"],
            actor_roles=[{"role": "shipping_agent", "registered": "no"}],
            verification={"check": "documentary", "outcome": "inconsistent"},
            reassessment={"reassessed": True},
            items=[{"category": "combat_aircraft", "subcategory": "uncrewed_system"}],
        )
    )
    dimensions = {d for d, _ in case_values(record)}
    assert dimensions <= {d.value for d in Dimension}
    assert dimensions == {d.value for d in Dimension} - {"action_taken"}
    single = [d for d, _ in case_values(record) if d in SINGLE_VALUED_DIMENSIONS]
    assert sorted(single) == sorted(d.value for d in SINGLE_VALUED_DIMENSIONS)


def test_route_tables_tell_the_transfer_type_and_the_sea_leg() -> None:
    assert Dimension.TRANSFER_TYPE in ROUTE_DIMENSIONS
    assert Dimension.MARITIME in ROUTE_DIMENSIONS


# -- the JSON Schemas say the same ------------------------------------------------------------


def _rules(schema: dict[str, Any]) -> list[dict[str, Any]]:
    rules: list[dict[str, Any]] = schema.get("allOf", [])
    return rules


@pytest.mark.parametrize(
    ("name", "item", "verification", "reassessment"),
    [
        ("case-record.schema.json", "RecordItem", "RecordVerification", "RecordReassessment"),
        ("case-input.schema.json", "ItemInput", "VerificationInput", "ReassessmentInput"),
    ],
)
def test_the_json_schemas_state_the_cross_field_rules(
    name: str, item: str, verification: str, reassessment: str
) -> None:

    schema = json.loads(generate_schemas()[name])
    [sea] = [rule for rule in _rules(schema) if "maritime" in rule["if"]["properties"]]
    assert sea["if"]["properties"] == {"maritime": {"minItems": 1}}
    assert sea["then"]["properties"]["transport_modes"] == {"contains": {"const": "sea"}}
    fits = {
        rule["if"]["properties"]["subcategory"]["const"]: set(
            rule["then"]["properties"]["category"]["enum"]
        )
        for rule in _rules(schema["$defs"][item])
    }
    assert fits == {
        sub.value: {c.value for c in cats} for sub, cats in ITEM_SUBCATEGORY_CATEGORIES.items()
    }
    [check] = _rules(schema["$defs"][verification])
    assert check["if"]["properties"]["check"] == {"not": {"enum": ["documentary", "on_site"]}}
    assert check["then"]["properties"]["outcome"] == {"type": "null"}
    [reassessed] = _rules(schema["$defs"][reassessment])
    assert reassessed["if"]["properties"]["reassessed"] == {"const": False}
    assert reassessed["then"]["properties"]["outcome"] == {"type": "null"}
    if name == "case-record.schema.json":
        for field in ("maritime", "actor_roles", "methods", "related_regions"):
            assert schema["properties"][field]["uniqueItems"] is True
        assert {"transfer_type", "maritime", "actor_roles", "verification", "reassessment"} <= set(
            schema["required"]
        )
        assert set(schema["$defs"][item]["required"]) == {"category", "band", "subcategory"}
