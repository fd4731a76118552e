"""``dief checklist`` through typer's CliRunner: the filter, the three formats, the version
option, and bad option values refused with the allowed values listed."""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from dief.catalogue import catalogue_version, load_catalogue
from dief.cli import app
from dief.vocab import TransferStage, TransferType

runner = CliRunner()


def _json(*args: str) -> dict[str, object]:
    result = runner.invoke(app, ["checklist", "--format", "json", *args])
    assert result.exit_code == 0, result.output
    doc = json.loads(result.stdout)
    assert isinstance(doc, dict)
    return doc


def _ids(doc: dict[str, object]) -> list[str]:
    groups = doc["groups"]
    assert isinstance(groups, list)
    return [ind["id"] for group in groups for ind in group["indicators"]]


def test_export_assessment_text() -> None:
    result = runner.invoke(
        app, ["checklist", "--stage", "pre_transfer", "--transfer-type", "export"]
    )
    assert result.exit_code == 0, result.output
    expected = load_catalogue().checklist(TransferStage.PRE_TRANSFER, TransferType.EXPORT)
    out = result.stdout
    assert f"{len(expected)} questions" in out
    assert f"(version {load_catalogue().version})" in out
    for ind in expected:
        assert ind.question in out
        assert f"{ind.id} · {ind.title}" in out
    assert "PDV-11" not in out  # stockpile only
    assert "RTE-10" not in out  # in transit only
    assert "DOC — Documents and end-use assurances" in out
    assert "stages: pre_transfer" in out
    assert "Arms Trade Treaty (adopted 2 April 2013" in out


def test_json_matches_the_catalogue_filter() -> None:
    doc = _json("--stage", "in_transit", "--transfer-type", "trans_shipment")
    expected = load_catalogue().checklist(TransferStage.IN_TRANSIT, TransferType.TRANS_SHIPMENT)
    assert _ids(doc) == [ind.id for ind in expected]
    assert doc["count"] == len(expected)
    assert doc["stage"] == "in_transit"
    assert doc["transfer_type"] == "trans_shipment"
    groups = doc["groups"]
    assert isinstance(groups, list)
    first = groups[0]["indicators"][0]
    assert set(first) == {"id", "title", "question", "stages", "transfer_types", "sources"}
    assert all(src["citation"] for src in first["sources"])


def test_markdown_groups_by_group() -> None:
    result = runner.invoke(app, ["checklist", "--format", "markdown", "--stage", "stockpile"])
    assert result.exit_code == 0, result.output
    assert result.stdout.startswith("# ")
    assert "## PDV — Post-delivery" in result.stdout
    assert "- [ ] " in result.stdout
    assert "**PDV-11**" in result.stdout
    assert "## ACT" not in result.stdout  # no broker indicator names the stockpile stage


def test_an_older_version_on_request() -> None:
    doc = _json("--version", "2026.1")
    assert doc["version"] == "2026.1"
    assert doc["count"] == len(catalogue_version("2026.1")) == 52
    assert _json()["version"] == load_catalogue().version


def test_case_insensitive_values() -> None:
    assert _json("--stage", "AT_IMPORT")["stage"] == "at_import"


@pytest.mark.parametrize(
    ("option", "value", "allowed"),
    [
        ("--stage", "shipping", [s.value for s in TransferStage]),
        ("--transfer-type", "exports", [t.value for t in TransferType]),
        ("--format", "pdf", ["text", "markdown", "json"]),
        ("--version", "1999.1", ["2026.1", "2026.2"]),
    ],
)
def test_bad_values_list_the_allowed_ones(option: str, value: str, allowed: list[str]) -> None:
    result = runner.invoke(app, ["checklist", option, value])
    assert result.exit_code == 2
    text = " ".join(result.output.split())  # the error box wraps lines
    assert option in text
    assert value in text
    for name in allowed:
        assert name in text, name
