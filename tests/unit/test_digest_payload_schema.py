"""The published contract of dief.digests: digest-payload.schema.json and the AsyncAPI."""

from __future__ import annotations

import json
import re
from typing import TYPE_CHECKING

import pydantic
import pytest
from jsonschema import Draft202012Validator

from dief.aggregator import TOTAL
from dief.aggregator.store import CaseStore
from dief.database import sqlite_url
from dief.digests import DigestPayload, SummaryRow, build_payload, payload_bytes, sign_payload
from dief.disclosure import RowRequirement
from dief.vocab import Region
from dief.wire.schemas import ASYNCAPI_FILE, SCHEMA_FILES, generate_schemas
from tests.unit.secretariat_support import CATALOGUE, ISSUED, KEYS

if TYPE_CHECKING:
    from pathlib import Path

NAME = "digest-payload.schema.json"


def test_the_sealed_digest_plaintext_is_the_digest_payload() -> None:
    assert SCHEMA_FILES[NAME] is DigestPayload
    doc = json.loads(generate_schemas()[ASYNCAPI_FILE])
    message = doc["components"]["messages"]["SealedDigest"]
    assert message["x-dief-plaintext"] == {"$ref": NAME}
    assert message["payload"] == {"$ref": "envelope.schema.json"}
    assert "digest-payload.schema.json" in message["description"]
    case = doc["components"]["messages"]["SealedCase"]
    assert case["x-dief-plaintext"] == {"$ref": "case-record.schema.json"}


def test_the_secretariat_dead_letters_are_described() -> None:
    doc = json.loads(generate_schemas()[ASYNCAPI_FILE])
    headers = doc["components"]["messages"]["DeadLetter"]["headers"]["properties"]
    pattern = re.compile(headers["dief-source-topic"]["pattern"])
    assert pattern.match("dief.digests")
    assert pattern.match("dief.weog.cases")
    assert not pattern.match("csp.reporting")
    assert "bad_signature" in headers["dief-reason"]["description"]
    for region in Region:
        operation = doc["operations"][f"refuseDigest{region.value.title()}"]
        assert operation["channel"] == {"$ref": f"#/channels/{region.topic_code}Dlq"}


async def test_a_signed_payload_has_the_schemas_members(tmp_path: Path) -> None:
    schema = json.loads(generate_schemas()[NAME])
    assert schema["additionalProperties"] is False
    assert "signature" in schema["required"]
    assert schema["properties"]["signature"]["$ref"] == "#/$defs/Signature"
    async with CaseStore(sqlite_url(tmp_path / "cases.db")) as store:
        draft = await build_payload(
            store, Region.APG, "CSP12", version=3, issued_at=ISSUED, catalogue=CATALOGUE
        )
    wire = json.loads(payload_bytes(sign_payload(draft, KEYS.region_sign[Region.APG])))
    assert set(wire) == set(schema["properties"])
    # summary_row is optional (a cycle digest's requirement of its summary row; null else)
    assert set(schema["required"]) == set(wire) - {"summary_row"}
    signature_schema = schema["$defs"]["Signature"]
    assert set(wire["signature"]) == set(signature_schema["properties"])
    assert re.match(schema["properties"]["period"]["pattern"], wire["period"])


def _summary_row_validator() -> Draft202012Validator:
    schema = json.loads(generate_schemas()[NAME])
    row = {**schema["$defs"]["SummaryRow"], "$defs": schema["$defs"]}
    Draft202012Validator.check_schema(row)
    return Draft202012Validator(row)


def test_a_summary_rows_routed_cells_round_trip_through_the_wire() -> None:
    """``routed`` (#15): which row cells the region's route tables publish to which region,
    no counts; the JSON names them, the schema accepts it, and the Secretariat reads back
    the same requirement."""
    need = RowRequirement(
        "CSP12",
        hidden=frozenset({("transfer_stage", "at_import")}),
        routed=frozenset({("EEG", TOTAL), ("EEG", ("transfer_stage", "in_transit"))}),
    )
    wire = json.loads(SummaryRow.of(need).model_dump_json())
    assert wire["routed"] == [
        {"dimension": "_total", "value": "_all", "region": "EEG"},
        {"dimension": "transfer_stage", "value": "in_transit", "region": "EEG"},
    ]
    assert not list(_summary_row_validator().iter_errors(wire))
    assert SummaryRow.model_validate(wire).requirement("CSP12") == need


def test_a_summary_row_without_routed_cells_reads_and_writes_as_before() -> None:
    """An older payload has no ``routed``: it reads as none routed, and a requirement with
    none routed leaves the member out (the content hash of an unchanged digest stays)."""
    older = {"suppressed": [{"dimension": "kind", "value": "case"}], "known": [], "relations": []}
    row = SummaryRow.model_validate(older)
    assert row.requirement("CSP12").routed == frozenset()
    assert json.loads(row.model_dump_json()) == older
    assert not list(_summary_row_validator().iter_errors(older))


def test_a_routed_cell_names_a_known_region() -> None:
    wire = {"routed": [{"dimension": "kind", "value": "case", "region": "XYZ"}]}
    assert list(_summary_row_validator().iter_errors(wire))
    with pytest.raises(pydantic.ValidationError):
        SummaryRow.model_validate(wire)


def test_a_summary_rows_bounds_round_trip_through_the_wire() -> None:
    """``bounds`` (#15, session 19): the least and greatest count the region's meeting
    reads off its documents for a suppressed row cell; the schema accepts them and the
    Secretariat reads back the same requirement."""
    need = RowRequirement(
        "CSP12",
        hidden=frozenset({("transfer_stage", "at_import"), ("transfer_stage", "stockpile")}),
        bounds=(
            (("transfer_stage", "at_import"), 2, None),
            (("transfer_stage", "stockpile"), 1, 4),
        ),
    )
    wire = json.loads(SummaryRow.of(need).model_dump_json())
    assert wire["bounds"] == [
        {"dimension": "transfer_stage", "value": "at_import", "least": 2, "most": None},
        {"dimension": "transfer_stage", "value": "stockpile", "least": 1, "most": 4},
    ]
    assert not list(_summary_row_validator().iter_errors(wire))
    assert SummaryRow.model_validate(wire).requirement("CSP12") == need
    zero = {"bounds": [{"dimension": "kind", "value": "case", "least": 0, "most": None}]}
    assert list(_summary_row_validator().iter_errors(zero))
