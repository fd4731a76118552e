"""The shipped risk-indicator catalogue."""

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
from dief.vocab import TransferStage


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
        catalogue.indicators[0].title = "x"  # type: ignore[misc]


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
            "version": "1",
            "groups": {g.value: g.value for g in IndicatorGroup},
            "sources": {"s": {"citation": "C"}},
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
