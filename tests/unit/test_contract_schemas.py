"""The published schemas are as strict as the code (DESIGN §9 ⚑), judged on corpora.

- **Case input**: a corpus of valid inputs and near-misses is judged by the JSON Schema
  (``schemas/case-input.schema.json``, Draft 2020-12, the ``jsonschema`` package) and by
  :func:`dief.wire.parse_case`. They agree on every input except the ones listed in
  :data:`BY_NATURE` (the schema accepts, the validator refuses: a rule no JSON Schema can
  state) and :data:`LENIENT` (the schema states the canonical form, the validator also reads
  a lenient one) — the same lists as docs/contracts.md.
- **Outputs**: cells, totals and checklist entries judged by the model and the schema; the
  issue's leaks (a suppressed cell with counts, a digest or summary without its ⚑ fields, any
  object as a signature) refused.
- **Envelope**: real envelopes of both suites validate; unknown type, region or suite,
  non-UUID ids, wrong sizes refused (and the opener refuses them too).
- **Vectors**: every document in ``contracts/vectors/`` validates against its schema.
- ``dief --version``, and every ``dief`` command the contract documents name exists.
"""

from __future__ import annotations

import copy
import importlib.metadata
import json
import re
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pytest
import typer
from jsonschema import Draft202012Validator
from pydantic import BaseModel
from pydantic import ValidationError as PydanticValidationError
from referencing import Registry
from referencing.jsonschema import DRAFT202012
from typer.testing import CliRunner

from dief.cli import app
from dief.crypto import KemPrivateKey, Opener, Sealer
from dief.exceptions import EnvelopeError, ValidationError
from dief.kafka import dief_topics
from dief.wire import (
    CASE_PADDED_SIZES,
    SUITE_HYBRID,
    SUITE_X25519,
    TYPE_CASE,
    TYPE_DIGEST,
    Cell,
    ChecklistEntry,
    Totals,
    parse_case,
)
from dief.wire._schemas_case import DETECTED_PATTERN
from dief.wire.schemas import ASYNCAPI_FILE, generate_schemas

ROOT = Path(__file__).resolve().parents[2]
VECTORS = ROOT / "contracts" / "vectors"
TODAY = date(2026, 6, 15)
SCHEMAS: dict[str, Any] = {name: json.loads(t) for name, t in generate_schemas().items()}
REGISTRY: Registry[Any] = Registry().with_resources(
    (name, DRAFT202012.create_resource(schema)) for name, schema in SCHEMAS.items()
)


def validator(name: str, pointer: str | None = None) -> Draft202012Validator:
    """The validator of schema file *name* (or of its definition *pointer*, e.g. Cell)."""
    schema = SCHEMAS[name]
    if pointer is not None:
        schema = {"$ref": f"{name}#/$defs/{pointer}"}
    Draft202012Validator.check_schema(schema)
    return Draft202012Validator(schema, registry=REGISTRY)


def schema_accepts(name: str, document: object, pointer: str | None = None) -> bool:
    return bool(validator(name, pointer).is_valid(document))


# -- the case input -------------------------------------------------------------------------

BASE: dict[str, Any] = {
    "confidence": "suspected",
    "region": "AFR",
    "detected": "2026-03",
    "items": [{"category": "small_arms", "quantity": 12}],
    "transfer_stage": "in_transit",
    "detection_source": "customs_border_control",
}
CASE_ID = "0d9f1b2e-7a4c-4f3e-9b1a-2c3d4e5f6a7b"


def case(**changes: Any) -> dict[str, Any]:  # noqa: ANN401  field values of any JSON type, as the test overrides them
    doc = copy.deepcopy(BASE)
    for key, value in changes.items():
        if value is DROP:
            doc.pop(key, None)
        else:
            doc[key] = value
    return doc


DROP = object()

#: name → case input. Valid inputs first, then near-misses.
CORPUS: dict[str, dict[str, Any]] = {
    "minimal": case(),
    "every field": case(
        case_id=CASE_ID,
        revision=2,
        status="active",
        kind="alert",
        confidence="confirmed",
        related_regions=["EEG", "WEOG"],
        detected="2025-11-30",
        items=[
            {"category": "small_arms", "quantity": "11-100", "subcategory": "converted"},
            {"category": "ammunition", "quantity": "unknown"},
        ],
        transfer_type="export",
        methods=["falsified_documents", "shell_company"],
        transport_modes=["sea", "land"],
        maritime=["transshipment"],
        actor_roles=[{"role": "broker", "registered": "no"}],
        end_user_type="criminal_organization",
        risk_indicators=["DOC-01", "RTE-03"],
        actions_taken=["seizure"],
        verification={"check": "on_site", "outcome": "diverted"},
        reassessment={"reassessed": True, "outcome": "revoked"},
        tlp="green",
        summary="Check the end-user certificate against the register.",
        submitted_by="QXZ-9K7W",
    ),
    "withdrawal with case_id": case(status="withdrawn", case_id=CASE_ID),
    "scalar methods": case(methods="theft_or_loss"),
    "scalar transport mode": case(transport_modes="air"),
    "scalar related region": case(related_regions="APG"),
    "scalar risk indicator": case(risk_indicators="DOC-01"),
    "scalar actions taken": case(actions_taken="seizure"),
    "scalar maritime with sea": case(maritime="transshipment", transport_modes="sea"),
    "duplicate methods": case(methods=["corruption", "corruption"]),
    "quantity as digits": case(items=[{"category": "small_arms", "quantity": "250"}]),
    "quantity omitted": case(items=[{"category": "warships"}]),
    "quantity as whole float": case(items=[{"category": "small_arms", "quantity": 5.0}]),
    "detected on 29 February": case(detected="2024-02-29"),
    "detected December 2014": case(detected="2014-12"),
    "detected this month": case(detected="2026-06"),
    "detected today": case(detected="2026-06-15"),
    "upper-case case_id": case(case_id=CASE_ID.upper()),
    "verification pending": case(verification={"check": "documentary"}),
    "verification none without outcome": case(verification={"check": "none"}),
    "reassessment pending": case(reassessment={"reassessed": True}),
    "not reassessed": case(reassessment={"reassessed": False}),
    "subcategory that fits": case(items=[{"category": "light_weapons", "subcategory": "uncrewed"}]),
    "blank summary": case(summary=""),
    "null summary": case(summary=None),
    "null case_id and revision": case(case_id=None, revision=None),
    # near-misses
    "withdrawal without case_id": case(status="withdrawn"),
    "withdrawal with null case_id": case(status="withdrawn", case_id=None),
    "own region among related": case(related_regions=["AFR"]),
    "own region as scalar related": case(related_regions="AFR"),
    "unknown method": case(methods=["smuggling"]),
    "unknown scalar method": case(methods="smuggling"),
    "methods as number": case(methods=3),
    "methods as null": case(methods=None),
    "items as object": case(items={"category": "small_arms"}),
    "items empty": case(items=[]),
    "items missing": case(items=DROP),
    "region lower case": case(region="afr"),
    "region unknown": case(region="EU"),
    "unknown field": case(vessel="MV Example"),
    "unknown item field": case(items=[{"category": "small_arms", "serial": "X"}]),
    "quantity zero": case(items=[{"category": "small_arms", "quantity": 0}]),
    "quantity fraction": case(items=[{"category": "small_arms", "quantity": 2.5}]),
    "quantity unknown band": case(items=[{"category": "small_arms", "quantity": "5-50"}]),
    "quantity boolean": case(items=[{"category": "small_arms", "quantity": True}]),
    "detected before the Treaty": case(detected="2014-11"),
    "detected 30 February": case(detected="2024-02-30"),
    "detected 29 February of a common year": case(detected="2025-02-29"),
    "detected 31 April": case(detected="2025-04-31"),
    "detected month 13": case(detected="2025-13"),
    "detected as number": case(detected=202503),
    "detected in the future": case(detected="2026-07"),
    "detected tomorrow": case(detected="2026-06-16"),
    "case_id not a UUID": case(case_id="case-42"),
    "revision zero": case(revision=0),
    "revision as text": case(revision="2"),
    "revision as whole float": case(revision=2.0),
    "revision too large": case(revision=2**31),
    "maritime without sea": case(maritime=["transshipment"], transport_modes=["air"]),
    "maritime without transport modes": case(maritime=["transshipment"]),
    "subcategory that does not fit": case(
        items=[{"category": "warships", "subcategory": "converted"}]
    ),
    "outcome for a check of none": case(verification={"check": "none", "outcome": "diverted"}),
    "outcome when not reassessed": case(reassessment={"reassessed": False, "outcome": "revoked"}),
    "reassessed as text": case(reassessment={"reassessed": "yes"}),
    "unknown risk indicator": case(risk_indicators=["DOC-99"]),
    "summary too long": case(summary="a" * 2001),
    "submitted_by lower case": case(submitted_by="qxz"),
    "tlp null": case(tlp=None),
    "related regions too many": case(related_regions=["APG", "EEG", "GRULAC", "WEOG", "APG"]),
    "confidence missing": case(confidence=DROP),
    # lenient readings
    "case_id without hyphens": case(case_id=CASE_ID.replace("-", "")),
    "case_id as URN": case(case_id=f"urn:uuid:{CASE_ID}"),
    "detected with spaces": case(detected=" 2026-03 "),
    "quantity with leading zero": case(items=[{"category": "small_arms", "quantity": "012"}]),
    "submitted_by with spaces": case(submitted_by=" QXZ-9K7W "),
}

#: The schema accepts, the validator refuses: rules a JSON Schema cannot state.
BY_NATURE = {
    # "today" is the node's date: a schema has no clock.
    "detected in the future": "future date",
    "detected tomorrow": "future date",
    # JSON Schema judges a number by its value (2.0 is the integer 2); the validator refuses
    # a revision written as a fraction.
    "revision as whole float": "2.0 for an integer",
}
#: The schema refuses, the validator accepts: the schema states the canonical form, the
#: validator also reads a lenient one (and the node sends only the canonical form on).
LENIENT = {
    "case_id without hyphens": "other UUID text forms",
    "case_id as URN": "other UUID text forms",
    "detected with spaces": "surrounding whitespace is trimmed",
    "submitted_by with spaces": "surrounding whitespace is trimmed",
    "quantity with leading zero": "leading zeros in a number written as text",
}


def validator_accepts(document: dict[str, Any]) -> bool:
    try:
        parse_case(document, today=TODAY)
    except ValidationError:
        return False
    return True


def test_the_corpus_is_large_and_mixed() -> None:
    verdicts = [validator_accepts(doc) for doc in CORPUS.values()]
    assert len(CORPUS) >= 40
    assert sum(verdicts) >= 15
    assert len(verdicts) - sum(verdicts) >= 25
    assert set(BY_NATURE) | set(LENIENT) <= set(CORPUS)


@pytest.mark.parametrize("name", list(CORPUS))
def test_schema_and_validator_judge_each_input_alike(name: str) -> None:
    document = CORPUS[name]
    by_schema = schema_accepts("case-input.schema.json", document)
    by_validator = validator_accepts(document)
    if name in BY_NATURE:
        assert (by_schema, by_validator) == (True, False), BY_NATURE[name]
    elif name in LENIENT:
        assert (by_schema, by_validator) == (False, True), LENIENT[name]
    else:
        assert by_schema == by_validator, f"schema {by_schema}, validator {by_validator}"


def test_the_documented_differences_are_the_tested_ones() -> None:
    text = " ".join((ROOT / "docs" / "contracts.md").read_text(encoding="utf-8").split())
    for reason in {*BY_NATURE.values(), *LENIENT.values()}:
        assert reason in text, f"docs/contracts.md does not list {reason!r}"


def test_the_detected_pattern_is_the_calendar() -> None:
    """Every day from 2014-12-01 to 2099-12-31 and every non-day around them, against the
    calendar (the validator's own check, without its "not in the future")."""
    pattern = re.compile(DETECTED_PATTERN)
    day = date(2014, 12, 1)
    while day.year < 2100:
        assert pattern.match(day.isoformat()), day
        day += timedelta(days=1)
    for text in ("2014-11-30", "2014-11", "2100-02-29", "2023-02-29", "2016-02-30", "2016-00"):
        assert not pattern.match(text), text
    assert pattern.match("2400-02-29")


# -- outputs -------------------------------------------------------------------------------

CELLS: dict[str, dict[str, Any]] = {
    "published": {"value": "x", "count": 4, "contributors": 2, "suppressed": False},
    "published with trend": {
        "value": "x",
        "count": 4,
        "contributors": 2,
        "suppressed": False,
        "previous": 1,
        "change": 3,
        "trend": "rising",
        "share": 0.5,
    },
    "suppressed": {"value": "x", "count": None, "contributors": None, "suppressed": True},
    "suppressed with count": {"value": "x", "count": 1, "contributors": None, "suppressed": True},
    "suppressed with contributors": {
        "value": "x",
        "count": None,
        "contributors": 1,
        "suppressed": True,
    },
    "suppressed with change": {
        "value": "x",
        "count": None,
        "contributors": None,
        "suppressed": True,
        "change": 2,
    },
    "suppressed with share": {
        "value": "x",
        "count": None,
        "contributors": None,
        "suppressed": True,
        "share": 0.1,
    },
    "unsuppressed without count": {"value": "x", "count": None, "contributors": 2},
    "negative count": {"value": "x", "count": -1, "contributors": 0},
}
#: contributors ≤ count compares two members: no JSON Schema can.
CELLS_BY_NATURE = {
    "more contributors than cases": {
        "value": "x",
        "count": 2,
        "contributors": 3,
        "suppressed": False,
    }
}


@pytest.mark.parametrize("name", [*CELLS, *CELLS_BY_NATURE])
def test_cells_are_judged_alike(name: str) -> None:
    cell = CELLS.get(name) or CELLS_BY_NATURE[name]
    try:
        Cell.model_validate(cell)
        by_model = True
    except PydanticValidationError:
        by_model = False
    for file in ("digest.schema.json", "csp-summary.schema.json", "digest-payload.schema.json"):
        by_schema = schema_accepts(file, cell, "Cell")
        if name in CELLS_BY_NATURE:
            assert (by_schema, by_model) == (True, False)
        else:
            assert by_schema == by_model, f"{file}: schema {by_schema}, model {by_model}"


@pytest.mark.parametrize(
    ("model", "pointer", "document"),
    [
        (Totals, "Totals", {"cases": 3, "contributors": 2, "suppressed": 0}),
        (Totals, "Totals", {"cases": None, "contributors": None, "suppressed": 0,
                           "withheld": True}),
        (Totals, "Totals", {"cases": 3, "contributors": None, "suppressed": 0,
                           "withheld": True}),
        (ChecklistEntry, "ChecklistEntry", {"id": "DOC-01", "question": "Q?", "count": 3,
                                            "prevalence": 0.5, "trend": None}),
        (ChecklistEntry, "ChecklistEntry", {"id": "DOC-01", "question": "Q?", "count": None,
                                            "prevalence": 0.2, "trend": None}),
        (ChecklistEntry, "ChecklistEntry", {"id": "DOC-01", "question": "Q?", "count": 3,
                                            "prevalence": None, "trend": None,
                                            "suppressed": True}),
    ],
)  # fmt: skip
def test_totals_and_checklist_entries_are_judged_alike(
    model: type[BaseModel], pointer: str, document: dict[str, Any]
) -> None:
    try:
        model.model_validate(document)
        by_model = True
    except PydanticValidationError:
        by_model = False
    assert schema_accepts("digest.schema.json", document, pointer) == by_model


def _summary() -> dict[str, Any]:
    vector = json.loads((VECTORS / "summary.json").read_text(encoding="utf-8"))
    summary: dict[str, Any] = json.loads(vector["summary"])
    return summary


def test_a_signed_summary_validates_and_its_leaks_do_not() -> None:
    summary = _summary()
    assert schema_accepts("csp-summary.schema.json", summary)
    for field in ("issue", "issued_at", "signature", "narrative", "patterns", "checklist"):
        broken = {k: v for k, v in summary.items() if k != field}
        assert not schema_accepts("csp-summary.schema.json", broken), field
    for signature in (
        None,
        {"any": "object"},
        {**summary["signature"], "extra": 1},
        {**summary["signature"], "ed25519": summary["signature"]["ed25519"][:-4]},
        {**summary["signature"], "alg": "Ed25519"},
    ):
        assert not schema_accepts("csp-summary.schema.json", {**summary, "signature": signature})
    leaked = copy.deepcopy(summary)
    region = next(iter(leaked["regions"].values()))
    cells = [c for cells in region["dimensions"].values() for c in cells]
    hidden = next(c for c in cells if c["suppressed"])
    hidden["count"] = 1
    assert not schema_accepts("csp-summary.schema.json", leaked)


def test_a_digest_needs_its_flagged_fields() -> None:
    digest: dict[str, Any] = {
        "region": "AFR", "period": "2026-Q2", "k": 2,
        "totals": {"cases": 3, "contributors": 2, "suppressed": 0},
        "dimensions": {"kind": [{"value": "case", "count": 3, "contributors": 2,
                                 "suppressed": False, "previous": None, "change": None,
                                 "trend": None}]},
        "checklist": [], "lessons": [], "notes": {},
    }  # fmt: skip
    assert schema_accepts("digest.schema.json", digest)
    for field in ("checklist", "lessons", "notes", "totals", "k"):
        broken = {k: v for k, v in digest.items() if k != field}
        assert not schema_accepts("digest.schema.json", broken), field
    no_trend = copy.deepcopy(digest)
    del no_trend["dimensions"]["kind"][0]["trend"]
    assert not schema_accepts("digest.schema.json", no_trend)


@pytest.mark.parametrize(
    ("file", "document"),
    [
        ("run.schema.json", {"read": 3, "accepted": 2, "rejected": 1, "published": 2,
                             "applied": 2, "dead_lettered": 0, "timings": {"total": 1.5}}),
        ("accepted-line.schema.json",
         {"line": 1, "case_id": "fab5f103-b52a-87d4-a8da-0230b1359ac4", "revision": 1}),
        ("rejected-line.schema.json",
         {"line": 3, "case_id": None, "reason": "bad_date", "message": "detected: ..."}),
    ],
)  # fmt: skip
def test_the_run_files_have_schemas(file: str, document: dict[str, Any]) -> None:
    assert schema_accepts(file, document)
    assert not schema_accepts(file, {**document, "extra": 1})
    first = next(iter(document))
    assert not schema_accepts(file, {**document, first: -1})
    assert not schema_accepts(file, {k: v for k, v in document.items() if k != first})


# -- the envelope ----------------------------------------------------------------------------

KEYS = {suite: KemPrivateKey.generate(suite) for suite in (SUITE_HYBRID, SUITE_X25519)}


def _sealed(suite: str, payload_type: str = TYPE_CASE) -> dict[str, Any]:
    sealer = Sealer(type=payload_type, region="AFR", recipients=[KEYS[suite].public_key])
    envelope: dict[str, Any] = json.loads(sealer.seal(b'{"a":1}'))
    return envelope


@pytest.mark.parametrize("suite", [SUITE_HYBRID, SUITE_X25519])
@pytest.mark.parametrize("payload_type", [TYPE_CASE, TYPE_DIGEST])
def test_real_envelopes_validate(suite: str, payload_type: str) -> None:
    envelope = _sealed(suite, payload_type)
    if payload_type == TYPE_DIGEST:
        envelope_ok = {**envelope, "schema": 1}
        assert envelope["schema"] == 1
    else:
        envelope_ok = envelope
    assert schema_accepts("envelope.schema.json", envelope_ok)


ENVELOPE_MUTATIONS: dict[str, Any] = {
    "unknown type": lambda e: {**e, "type": "dief.other"},
    "unknown region": lambda e: {**e, "region": "EU"},
    "unknown suite": lambda e: {**e, "suite": "X448-HKDFSHA512-AES256GCM"},
    "non-UUID id": lambda e: {**e, "id": "record-1"},
    "upper-case id": lambda e: {**e, "id": e["id"].upper()},
    "case schema 2": lambda e: {**e, "schema": 2},
    "padded nonce": lambda e: {**e, "nonce": e["nonce"] + "=="},
    "short nonce": lambda e: {**e, "nonce": e["nonce"][:-4]},
    "ciphertext of another size": lambda e: {**e, "ciphertext": e["ciphertext"][:-8]},
    "wrapped of another suite": lambda e: {
        **e,
        "recipients": [{**e["recipients"][0], "wrapped": "A" * 107}],
    },
    "bad kid": lambda e: {**e, "recipients": [{**e["recipients"][0], "kid": "KID"}]},
    "no recipients": lambda e: {**e, "recipients": []},
    "credentials label for a case": lambda e: {**e, "region": "credentials"},
    "extra field": lambda e: {**e, "sender": "x"},
}


@pytest.mark.parametrize("name", list(ENVELOPE_MUTATIONS))
def test_envelope_mutations_are_refused(name: str) -> None:
    envelope = _sealed(SUITE_HYBRID)
    assert schema_accepts("envelope.schema.json", envelope)
    mutated = ENVELOPE_MUTATIONS[name](envelope)
    assert not schema_accepts("envelope.schema.json", mutated)


@pytest.mark.parametrize("name", ["unknown type", "unknown suite", "case schema 2",
                                  "no recipients", "extra field", "short nonce"])  # fmt: skip
def test_the_opener_refuses_them_too(name: str) -> None:
    envelope = _sealed(SUITE_HYBRID)
    opener = Opener([KEYS[SUITE_HYBRID]])
    opener.open(json.dumps(envelope))
    with pytest.raises(EnvelopeError):
        opener.open(json.dumps(ENVELOPE_MUTATIONS[name](envelope)))


# -- the vectors -------------------------------------------------------------------------------


def test_the_vectors_validate_against_their_schemas() -> None:
    record = json.loads((VECTORS / "case-record.json").read_text(encoding="utf-8"))
    assert schema_accepts("case-record.schema.json", record["record"])
    assert schema_accepts("case-input.schema.json", record["input"])
    envelopes = json.loads((VECTORS / "envelope.json").read_text(encoding="utf-8"))
    for vector in envelopes.values():
        # The envelope vectors pad a short payload to 1,024 bytes to stay small: they test
        # sealing and opening, not a case record's size, so only the ciphertext's length is
        # not a case record's (a receiver would refuse it: bad_padding).
        assert vector["padded_size"] not in CASE_PADDED_SIZES
        errors = validator("envelope.schema.json").iter_errors(json.loads(vector["envelope"]))
        assert [list(e.absolute_path) for e in errors] == [["ciphertext"]]
        assert schema_accepts("receipt.schema.json", json.loads(vector["receipt"]["value"]))
    directory = json.loads((VECTORS / "directory.json").read_text(encoding="utf-8"))
    assert schema_accepts("directory.schema.json", json.loads(directory["directory"]))
    token = json.loads((VECTORS / "token.json").read_text(encoding="utf-8"))
    assert schema_accepts("credential-request.schema.json", token["request"])
    assert schema_accepts("csp-summary.schema.json", _summary())


# -- AsyncAPI -----------------------------------------------------------------------------------


def test_asyncapi_binds_every_topic_and_states_the_partitioner() -> None:

    doc = SCHEMAS[ASYNCAPI_FILE]
    partitions = {spec.name: spec.partitions for spec in dief_topics()}
    for channel in doc["channels"].values():
        assert channel["bindings"]["kafka"]["partitions"] == partitions[channel["address"]]
    assert "murmur2" in doc["info"]["description"]
    messages = doc["components"]["messages"]
    for name, message in messages.items():
        assert "headers" in message, name
    assert messages["DeadLetter"]["bindings"]["kafka"]["key"]["type"] == ["string", "null"]
    assert (
        "cleanup.policy" in doc["channels"]["directory"]["bindings"]["kafka"]["topicConfiguration"]
    )


# -- the command line ---------------------------------------------------------------------------


def test_dief_version_prints_the_version() -> None:

    result = CliRunner().invoke(app, ["--version"])
    assert result.exit_code == 0, result.output
    assert result.output.strip() == f"dief {importlib.metadata.version('dief-exchange')}"


_COMMAND = re.compile(r"`dief ((?:[a-z][a-z-]*)(?: [a-z][a-z-]*)*)")


def _resolves(words: list[str]) -> bool:
    """Whether ``dief`` + *words* names a command: each word after a group is one of its
    subcommands; after a command, the rest are its arguments."""
    command: Any = typer.main.get_command(app)
    for word in words:
        if not hasattr(command, "commands"):
            return True  # a command: the rest are its arguments
        sub = command.commands.get(word)
        if sub is None:
            return False
        command = sub
    return True


def test_the_command_check_catches_a_missing_command() -> None:
    assert _resolves(["keys", "directory", "issue", "DIR"])
    assert not _resolves(["keys", "export"])
    assert not _resolves(["keys", "export-public"])


@pytest.mark.parametrize("doc", ["contracts.md", "secretariat.md"])
def test_every_command_the_documents_name_exists(doc: str) -> None:
    text = (ROOT / "docs" / doc).read_text(encoding="utf-8")
    named = {m.group(1) for m in _COMMAND.finditer(text)}
    assert named
    missing = sorted(c for c in named if not _resolves(c.split()))
    assert missing == [], f"docs/{doc} names commands that do not exist"
