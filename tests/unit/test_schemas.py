"""Generated contracts: drift check, AsyncAPI topics, and the output shapes' rules."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from pydantic import ValidationError as PydanticValidationError
from typer.testing import CliRunner

from dief.cli import app
from dief.exceptions import EnvelopeError
from dief.kafka import dief_topics
from dief.seams import DLQ_HEADERS
from dief.vocab import Dimension, Region
from dief.wire import Cell, ChecklistEntry, CspSummary, Digest, Totals, Trend
from dief.wire.schemas import (
    ASYNCAPI_FILE,
    RUN_FILES,
    SCHEMA_FILES,
    export_schemas,
    generate_schemas,
)

REPO_SCHEMAS = Path(__file__).resolve().parents[2] / "schemas"


def test_committed_schemas_match_the_code(tmp_path: Path) -> None:
    export_schemas(tmp_path)
    generated = sorted(p.name for p in tmp_path.iterdir())
    committed = sorted(p.name for p in REPO_SCHEMAS.glob("*.json"))
    assert generated == committed, "schemas/ is out of date: run `uv run dief schema export`"
    for name in generated:
        fresh = (tmp_path / name).read_text(encoding="utf-8")
        stored = (REPO_SCHEMAS / name).read_text(encoding="utf-8")
        assert fresh == stored, f"schemas/{name} is out of date: run `uv run dief schema export`"


def test_output_is_deterministic() -> None:
    first, second = generate_schemas(), generate_schemas()
    assert first == second
    for text in first.values():
        assert text.endswith("}\n")
        doc = json.loads(text)
        assert json.dumps(doc, indent=2, sort_keys=True, ensure_ascii=False) + "\n" == text


def test_every_schema_file_present() -> None:
    assert set(generate_schemas()) == {*SCHEMA_FILES, *RUN_FILES, ASYNCAPI_FILE}


def test_envelope_schema_uses_wire_names() -> None:
    envelope = json.loads(generate_schemas()["envelope.schema.json"])
    assert "schema" in envelope["properties"]
    assert "schema_" not in envelope["properties"]
    summary = json.loads(generate_schemas()["csp-summary.schema.json"])
    assert {"from", "global"} <= set(summary["properties"])


def test_asyncapi_describes_every_topic() -> None:
    doc = json.loads(generate_schemas()[ASYNCAPI_FILE])
    assert doc["asyncapi"] == "3.0.0"
    addresses = {ch["address"] for ch in doc["channels"].values()}
    expected = {f"dief.{r.topic_code}.cases" for r in Region}
    expected |= {f"dief.{r.topic_code}.dlq" for r in Region}
    expected |= {"dief.digests", "csp.reporting", "dief.receipts", "dief.routes"}
    expected |= {"dief.directory", "dief.credentials.requests", "dief.credentials.answers"}
    expected |= {"dief.bulletins"}
    assert addresses == expected
    assert addresses == {spec.name for spec in dief_topics()}  # every topic DIEF creates
    for operation in doc["operations"].values():
        channel_name = operation["channel"]["$ref"].rsplit("/", 1)[1]
        assert channel_name in doc["channels"]
        for message in operation["messages"]:
            parts = message["$ref"].split("/")
            assert parts[-1] in doc["channels"][parts[2]]["messages"]
    for message in doc["components"]["messages"].values():
        assert "key" in message["bindings"]["kafka"]


def test_cli_export_and_check(tmp_path: Path) -> None:
    runner = CliRunner()
    out = tmp_path / "out"
    result = runner.invoke(app, ["schema", "export", "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert (out / "case-input.schema.json").is_file()
    assert runner.invoke(app, ["schema", "export", "--out", str(out), "--check"]).exit_code == 0
    (out / "digest.schema.json").write_text("{}\n")
    stale = runner.invoke(app, ["schema", "export", "--out", str(out), "--check"])
    assert stale.exit_code == 1
    assert "dief schema export" in stale.output


# ------------------------------------------------------------------------ shapes


def test_suppressed_cell_must_hide_count() -> None:
    cell = Cell(value="small_arms", count=None, contributors=None, suppressed=True)
    assert json.loads(cell.model_dump_json())["count"] is None
    for leak in ({"count": 1}, {"contributors": 1}, {"change": 2}, {"share": 0.1}):
        fields: dict[str, object] = {"count": None, "contributors": None, **leak}
        with pytest.raises(PydanticValidationError, match="suppressed cell"):
            Cell.model_validate({"value": "x", "suppressed": True, **fields})


def test_unsuppressed_cell_rules() -> None:
    with pytest.raises(PydanticValidationError, match="needs count"):
        Cell(value="x", count=None, contributors=2)
    with pytest.raises(PydanticValidationError, match="exceed"):
        Cell(value="x", count=2, contributors=3)
    cell = Cell.model_validate(
        {"value": "x", "count": 4, "contributors": 2, "trend": "rising", "extra_note": 1}
    )
    assert cell.trend is Trend.RISING
    assert json.loads(cell.model_dump_json())["extra_note"] == 1


def test_checklist_suppressed_entry() -> None:
    with pytest.raises(PydanticValidationError):
        ChecklistEntry(id="DOC-01", question="Q?", count=None, prevalence=0.2)


def test_digest_and_summary_round_trip() -> None:
    table = {
        "totals": {"cases": 5, "contributors": 3, "suppressed": 1},
        "dimensions": {
            "kind": [
                {"value": "case", "count": 5, "contributors": 3, "previous": 2, "change": 3},
                {"value": "alert", "count": None, "contributors": None, "suppressed": True},
            ]
        },
    }
    digest = Digest.model_validate(
        {
            "region": "AFR",
            "period": "2026-Q3",
            "k": 2,
            **table,
            "checklist": [
                {"id": "DOC-01", "question": "Q?", "count": 3, "prevalence": 0.6, "trend": "new"}
            ],
            "lessons": [{"text": "Check the route.", "tlp": "amber"}],
            "notes": {"dead_lettered": 1},
        }
    )
    assert Digest.model_validate_json(digest.model_dump_json()) == digest
    assert digest.dimensions[Dimension.KIND][1].suppressed
    with pytest.raises(PydanticValidationError):
        Digest.model_validate({**digest.model_dump(), "period": "2026-Q5"})
    summary = CspSummary.model_validate(
        {
            "cycle": "CSP12",
            "from": "2025-09",
            "to": "2026-08",
            "k": 3,
            "regions": {"AFR": table},
            "global": table,
            "methodology": {"rules": ["k_csp = 3"], "k": 3, "suppressed": 1},
        }
    )
    wire = json.loads(summary.to_json())
    assert wire["from"] == "2025-09"
    assert "global" in wire
    assert wire["signature"] is None
    assert CspSummary.model_validate(wire) == summary


def test_asyncapi_dead_letter_headers_match_the_aggregator() -> None:

    doc = json.loads(generate_schemas()[ASYNCAPI_FILE])
    headers = doc["components"]["messages"]["DeadLetter"]["headers"]
    # the aggregator's five, and the two its Kafka client adds (content-type, correlation_id)
    assert set(headers["properties"]) == {*DLQ_HEADERS, "content-type", "correlation_id"}
    assert headers["required"] == list(DLQ_HEADERS)
    assert headers["additionalProperties"] is False
    reasons = set(headers["properties"]["dief-reason"]["enum"])
    codes = {cls.code for cls in EnvelopeError.__subclasses__()}
    codes |= {"invalid_payload", "wrong_region", "key_mismatch", "ownership", "bad_credential"}
    assert codes <= reasons
    topic = re.compile(headers["properties"]["dief-source-topic"]["pattern"])
    assert all(topic.match(f"dief.{r.topic_code}.cases") for r in Region)


def test_withheld_totals_hide_their_numbers() -> None:

    assert Totals(cases=None, contributors=None, withheld=True).withheld
    with pytest.raises(PydanticValidationError, match="withheld"):
        Totals(cases=3, contributors=None, withheld=True)
    with pytest.raises(PydanticValidationError, match="suppressed checklist entry"):
        ChecklistEntry(id="DOC-01", question="Q?", count=3, prevalence=None, suppressed=True)
