"""Loading case files: JSON, YAML and JSON Lines, with line numbers and bad lines."""

from __future__ import annotations

import json
from datetime import date
from typing import TYPE_CHECKING, Any

import pytest

from dief.exceptions import ConfigurationError
from dief.wire import CaseInput, CaseValidationError, load_cases

if TYPE_CHECKING:
    from pathlib import Path

TODAY = date(2026, 5, 14)


def case(**overrides: Any) -> dict[str, Any]:  # noqa: ANN401  a JSON document or an untyped library object, as the test builds it
    data: dict[str, Any] = {
        "confidence": "confirmed",
        "region": "GRULAC",
        "detected": "2026-01-20",
        "items": [{"category": "ammunition", "quantity": 5000}],
        "transfer_stage": "at_import",
        "detection_source": "customs_border_control",
    }
    data.update(overrides)
    return data


def test_jsonl_bad_lines_do_not_stop_the_rest(tmp_path: Path) -> None:
    lines = [
        json.dumps(case(kind="alert")),  # 1
        "",  # 2 blank: skipped
        '{"confidence": "suspected", ',  # 3 not JSON
        json.dumps(case(tlp="purple")),  # 4 invalid
        "   ",  # 5 blank
        json.dumps(case(submitted_by="ABC")),  # 6
    ]
    path = tmp_path / "cases.jsonl"
    path.write_text("\n".join(lines) + "\n")
    results = list(load_cases(path, today=TODAY))
    assert [line for line, _ in results] == [1, 3, 4, 6]
    assert isinstance(results[0][1], CaseInput)
    bad_json = results[1][1]
    assert isinstance(bad_json, CaseValidationError)
    assert bad_json.code == "malformed_json"
    assert bad_json.line == 3
    assert "suspected" not in bad_json.message
    invalid = results[2][1]
    assert isinstance(invalid, CaseValidationError)
    assert (invalid.code, invalid.line) == ("invalid_value", 4)
    last = results[3][1]
    assert isinstance(last, CaseInput)
    assert last.submitted_by == "ABC"


def test_jsonl_non_utf8_line(tmp_path: Path) -> None:
    path = tmp_path / "cases.jsonl"
    path.write_bytes(b'{"a": "\xff"}\n' + json.dumps(case()).encode() + b"\n")
    results = list(load_cases(path, today=TODAY))
    assert results[0][0] == 1
    assert isinstance(results[0][1], CaseValidationError)
    assert results[0][1].code == "malformed_json"
    assert results[1][0] == 2
    assert isinstance(results[1][1], CaseInput)


def test_jsonl_line_that_is_json_but_not_object(tmp_path: Path) -> None:
    path = tmp_path / "cases.jsonl"
    path.write_text("[1, 2]\n" + json.dumps(case()) + "\n")
    first, second = list(load_cases(path, today=TODAY))
    assert isinstance(first[1], CaseValidationError)
    assert first[1].code == "wrong_type"
    assert isinstance(second[1], CaseInput)


def test_json_object(tmp_path: Path) -> None:
    path = tmp_path / "case.json"
    path.write_text(json.dumps(case(), indent=2))
    [(line, result)] = list(load_cases(path, today=TODAY))
    assert line == 1
    assert isinstance(result, CaseInput)


def test_json_list_reports_start_lines(tmp_path: Path) -> None:
    path = tmp_path / "cases.json"
    path.write_text(json.dumps([case(), case(region="nowhere"), case()], indent=2))
    results = list(load_cases(path, today=TODAY))
    text_lines = path.read_text().splitlines()
    for line, _ in results:
        assert text_lines[line - 1].strip() == "{"
    assert [type(r) for _, r in results] == [CaseInput, CaseValidationError, CaseInput]


def test_json_empty_list(tmp_path: Path) -> None:
    path = tmp_path / "cases.json"
    path.write_text("[ ]")
    assert list(load_cases(path, today=TODAY)) == []


def test_malformed_json_file(tmp_path: Path) -> None:
    path = tmp_path / "cases.json"
    path.write_text('[\n{"region": "AFR",\n')
    [(line, result)] = list(load_cases(path, today=TODAY))
    assert isinstance(result, CaseValidationError)
    assert result.code == "malformed_json"
    assert line == result.line
    assert line >= 2


def test_yaml_documents_and_lists(tmp_path: Path) -> None:
    path = tmp_path / "cases.yaml"
    path.write_text(
        "confidence: suspected\n"
        "region: APG\n"
        "detected: 2026-02-03\n"  # YAML turns this into a date
        "items:\n  - category: light_weapons\n    quantity: 4\n"
        "transfer_stage: stockpile\n"
        "detection_source: intelligence\n"
        "methods: insider_diversion\n"
        "---\n"
        "- confidence: suspected\n"
        "  region: APG\n"
        "  detected: '2026-02'\n"
        "  items: [{category: warships, quantity: 1}]\n"
        "  transfer_stage: stockpile\n"
        "  detection_source: intelligence\n"
        "- confidence: maybe\n"
    )
    results = list(load_cases(path, today=TODAY))
    assert [line for line, _ in results] == [1, 11, 17]
    first = results[0][1]
    assert isinstance(first, CaseInput)
    assert first.detected == "2026-02-03"
    assert isinstance(results[1][1], CaseInput)
    assert isinstance(results[2][1], CaseValidationError)


def test_malformed_yaml(tmp_path: Path) -> None:
    path = tmp_path / "cases.yml"
    path.write_text("region: AFR\n  bad: [indent\n")
    [(_, result)] = list(load_cases(path, today=TODAY))
    assert isinstance(result, CaseValidationError)
    assert result.code == "malformed_yaml"
    assert "bad" not in result.message


def test_format_sniffed_without_suffix(tmp_path: Path) -> None:
    jsonl = tmp_path / "batch"
    jsonl.write_text(json.dumps(case()) + "\n" + json.dumps(case()) + "\n")
    assert [line for line, _ in load_cases(jsonl, today=TODAY)] == [1, 2]
    pretty = tmp_path / "pretty"
    pretty.write_text(json.dumps(case(), indent=2))
    assert len(list(load_cases(pretty, today=TODAY))) == 1


def test_missing_file_raises_configuration_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigurationError):
        load_cases(tmp_path / "absent.jsonl")


def test_byte_order_mark_tolerated(tmp_path: Path) -> None:
    path = tmp_path / "cases.jsonl"
    path.write_bytes(b"\xef\xbb\xbf" + json.dumps(case()).encode() + b"\n")
    [(line, result)] = list(load_cases(path, today=TODAY))
    assert line == 1
    assert isinstance(result, CaseInput)
