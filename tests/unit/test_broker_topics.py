"""Topic names and specs (DESIGN §2 ⚑): pure functions, no broker."""

from __future__ import annotations

import pytest

from dief.exceptions import ConfigurationError
from dief.kafka import (
    BULLETINS_TOPIC,
    CREDENTIAL_ANSWERS_TOPIC,
    CREDENTIAL_REQUESTS_TOPIC,
    CSP_TOPIC,
    DIGESTS_TOPIC,
    DIRECTORY_TOPIC,
    RECEIPTS_TOPIC,
    ROUTES_TOPIC,
    EnsuredTopics,
    TopicSpec,
    cases_topic,
    dief_topics,
    dlq_topic,
)
from dief.vocab import Region


@pytest.mark.parametrize(
    ("region", "cases", "dlq"),
    [
        (Region.AFR, "dief.afr.cases", "dief.afr.dlq"),
        (Region.APG, "dief.apg.cases", "dief.apg.dlq"),
        (Region.EEG, "dief.eeg.cases", "dief.eeg.dlq"),
        (Region.GRULAC, "dief.grulac.cases", "dief.grulac.dlq"),
        (Region.WEOG, "dief.weog.cases", "dief.weog.dlq"),
    ],
)
def test_region_topic_names_use_the_lower_case_code(region: Region, cases: str, dlq: str) -> None:
    assert cases_topic(region) == cases
    assert dlq_topic(region) == dlq


def test_region_codes_are_accepted_as_strings_in_any_case() -> None:
    assert cases_topic("grulac") == "dief.grulac.cases"
    assert dlq_topic("WEOG") == "dief.weog.dlq"


def test_an_unknown_region_is_a_configuration_error_listing_the_known_ones() -> None:
    with pytest.raises(ConfigurationError, match="AFR APG EEG GRULAC WEOG"):
        cases_topic("EU")


def test_fixed_topic_names() -> None:
    assert DIGESTS_TOPIC == "dief.digests"
    assert CSP_TOPIC == "csp.reporting"
    assert RECEIPTS_TOPIC == "dief.receipts"


def test_dief_topics_is_the_contract_set_with_case_partitions_configurable() -> None:
    specs = {spec.name: spec for spec in dief_topics(partitions=5, replication_factor=3)}

    expected_cases = {f"dief.{r.topic_code}.cases" for r in Region}
    expected_dlq = {f"dief.{r.topic_code}.dlq" for r in Region}
    single = {DIGESTS_TOPIC, CSP_TOPIC, RECEIPTS_TOPIC, ROUTES_TOPIC, DIRECTORY_TOPIC}
    single |= {CREDENTIAL_REQUESTS_TOPIC, CREDENTIAL_ANSWERS_TOPIC, BULLETINS_TOPIC}
    assert set(specs) == expected_cases | expected_dlq | single
    assert {specs[name].partitions for name in expected_cases} == {5}
    assert {specs[name].partitions for name in expected_dlq | single} == {1}
    assert {spec.replication_factor for spec in specs.values()} == {3}


def test_dief_topics_defaults_to_three_case_partitions_and_can_limit_regions() -> None:
    specs = dief_topics(regions=[Region.EEG])

    assert [(s.name, s.partitions) for s in specs] == [
        ("dief.eeg.cases", 3),
        ("dief.eeg.dlq", 1),
        (DIGESTS_TOPIC, 1),
        (CSP_TOPIC, 1),
        (RECEIPTS_TOPIC, 1),
        (ROUTES_TOPIC, 1),
        (CREDENTIAL_REQUESTS_TOPIC, 1),
        (CREDENTIAL_ANSWERS_TOPIC, 1),
        (BULLETINS_TOPIC, 1),
        (DIRECTORY_TOPIC, 1),
    ]
    assert specs[-1].configs == (("cleanup.policy", "compact"),)  # the directory: compacted


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"name": ""}, "must not be empty"),
        ({"name": "t", "partitions": 0}, "partitions must be at least 1"),
        ({"name": "t", "replication_factor": 0}, "replication factor must be at least 1"),
    ],
)
def test_topic_spec_refuses_impossible_values(kwargs: dict[str, object], message: str) -> None:
    with pytest.raises(ConfigurationError, match=message):
        TopicSpec(**kwargs)  # type: ignore[arg-type]  # impossible values on purpose: the refusal is under test


def test_ensured_topics_names_lists_created_then_existing() -> None:
    assert EnsuredTopics(created=("a",), existing=("b", "c")).names == ("a", "b", "c")
