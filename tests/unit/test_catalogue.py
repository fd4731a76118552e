"""The shipped risk-indicator catalogue (the latest version) and the parser's refusals.

Versions and the rules between them: tests/unit/test_catalogue_versions.py."""

from __future__ import annotations

import json
import re

import pytest

from dief.catalogue import (
    Catalogue,
    IndicatorGroup,
    is_well_formed_id,
    load_catalogue,
    parse_catalogue,
)
from dief.exceptions import ConfigurationError
from dief.vocab import TransferStage, TransferType


@pytest.fixture(scope="module")
def catalogue() -> Catalogue:
    return load_catalogue()


def test_loaded_once_and_versioned(catalogue: Catalogue) -> None:
    assert load_catalogue() is catalogue
    assert re.match(r"^\d{4}\.\d+$", catalogue.version)


def test_size_ids_and_groups(catalogue: Catalogue) -> None:
    assert len(catalogue) >= 30
    ids = catalogue.ids
    assert len(set(ids)) == len(ids)
    assert all(is_well_formed_id(i) for i in ids)
    assert {ind.group for ind in catalogue} == set(IndicatorGroup)
    for ind in catalogue:
        assert ind.id.startswith(ind.group.value + "-")
    for group in IndicatorGroup:
        numbers = [int(ind.id.split("-")[1]) for ind in catalogue.in_group(group)]
        assert numbers == list(range(1, len(numbers) + 1)), group


def test_entries_are_complete(catalogue: Catalogue) -> None:
    for ind in catalogue:
        assert ind.title
        assert ind.title[0].isupper()
        assert ind.question.endswith("?")
        assert "\n" not in ind.question
        assert len(ind.question) <= 250, ind.id
        assert ind.stages
        assert all(isinstance(s, TransferStage) for s in ind.stages)
        assert len(set(ind.stages)) == len(ind.stages)
        assert ind.sources
        assert all(s.citation for s in ind.sources)
        assert ind.transfer_types
        assert TransferType.UNKNOWN not in ind.transfer_types
        assert len(set(ind.transfer_types)) == len(ind.transfer_types)


def test_every_stage_has_indicators(catalogue: Catalogue) -> None:
    for stage in TransferStage:
        assert catalogue.for_stage(stage), stage


def test_lookup(catalogue: Catalogue) -> None:
    first = catalogue.get("DOC-01")
    assert first is not None
    assert first is catalogue["DOC-01"]
    assert "DOC-01" in catalogue
    assert "DOC-99" not in catalogue
    assert catalogue.get("DOC-99") is None
    assert [ind.id for ind in catalogue] == list(catalogue.ids)


def test_entries_frozen(catalogue: Catalogue) -> None:
    with pytest.raises(AttributeError):
        catalogue.indicators[0].title = "x"  # type: ignore[misc]  # frozen: the refused assignment is under test


def _minimal(**entry: object) -> str:
    base: dict[str, object] = {
        "id": "DOC-01",
        "title": "T",
        "question": "Q?",
        "stages": ["pre_transfer"],
        "sources": [{"ref": "s"}],
    }
    base.update(entry)
    return json.dumps(
        {
            "version": "2026.1",
            "groups": {g.value: g.value for g in IndicatorGroup},
            "sources": {"s": {"title": "T", "body": "B", "year": 2020}},
            "indicators": [base],
        }
    )


@pytest.mark.parametrize(
    ("entry", "fragment"),
    [
        ({"id": "DOC-1"}, "not <GROUP>-<nn>"),
        ({"id": "FOO-01"}, "not <GROUP>-<nn>"),
        ({"stages": ["shipping"]}, "shipping"),
        ({"sources": [{"ref": "nope"}]}, "unknown source"),
        ({"question": "A statement."}, "must end with"),
        ({"question": "Two\nlines?"}, "one line"),
        ({"stages": []}, "non-empty"),
        ({"stages": ["at_import", "at_import"]}, "twice"),
        ({"transfer_types": ["exports"]}, "exports"),
        ({"transfer_types": []}, "non-empty"),
        ({"transfer_types": ["export", "unknown"]}, "cannot name 'unknown'"),
        ({"sources": []}, "non-empty"),
        ({"sources": [{"ref": "s", "page": "4"}]}, "unknown key(s) ['page']"),
        ({"stage": ["at_import"]}, "unknown key(s) ['stage']"),
        ({"title": ""}, "non-empty string"),
    ],
)
def test_parse_refuses_broken_data(entry: dict[str, object], fragment: str) -> None:
    with pytest.raises(ConfigurationError, match=re.escape(fragment)):
        parse_catalogue(_minimal(**entry))


def test_parse_refuses_duplicates() -> None:
    data = json.loads(_minimal())
    data["indicators"].append(dict(data["indicators"][0]))
    with pytest.raises(ConfigurationError, match="twice"):
        parse_catalogue(json.dumps(data))


@pytest.mark.parametrize(
    ("source", "fragment"),
    [
        ({"title": "T", "body": "B"}, "'year' is missing"),
        ({"title": "T", "body": "B", "year": "2020"}, "must be a year or null"),
        ({"title": "T", "body": "B", "year": 20}, "must be a year or null"),
        ({"title": "T", "body": "B", "year": True}, "must be a year or null"),
        ({"body": "B", "year": 2020}, "'title' is missing"),
        ({"title": "T", "year": 2020}, "'body' is missing"),
        ({"citation": "C", "title": "T", "body": "B", "year": 2020}, "unknown key(s)"),
        ({"title": "T", "body": "B", "year": 2020, "style": "book"}, "book"),
    ],
)
def test_parse_refuses_broken_sources(source: dict[str, object], fragment: str) -> None:
    data = json.loads(_minimal())
    data["sources"]["s"] = source
    with pytest.raises(ConfigurationError, match=re.escape(fragment)):
        parse_catalogue(json.dumps(data))


def test_parse_refuses_a_version_that_cannot_be_ordered() -> None:
    data = json.loads(_minimal())
    data["version"] = "2026.1-rc1"
    with pytest.raises(ConfigurationError, match=re.escape("YYYY.n")):
        parse_catalogue(json.dumps(data))


def test_transfer_types_default_to_all_but_unknown() -> None:
    (entry,) = parse_catalogue(_minimal()).indicators
    assert set(entry.transfer_types) == set(TransferType) - {TransferType.UNKNOWN}
    (entry,) = parse_catalogue(_minimal(transfer_types=["brokering"])).indicators
    assert entry.transfer_types == (TransferType.BROKERING,)
