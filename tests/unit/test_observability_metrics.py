"""The services' metric families: what a batch report adds, which label values can appear,
and that each service instance has a registry of its own."""

from __future__ import annotations

from collections import Counter
from datetime import date
from typing import TYPE_CHECKING

import pytest
from prometheus_client import REGISTRY, CollectorRegistry, generate_latest
from prometheus_client.parser import text_string_to_metric_families

from consumers.secretariat import SecretariatTelemetry
from dief.aggregator import REASONS, Outcome
from dief.credentials import PseudonymExcess
from dief.database import sqlite_url
from dief.observability import (
    AGGREGATOR_OUTCOMES,
    OTHER,
    AggregatorMetrics,
    DigestMetrics,
    Observability,
    SecretariatMetrics,
    code_label,
    region_label,
)
from dief.secretariat import SecretariatStore
from dief.settings import MetricsSettings
from dief.vocab import Region

if TYPE_CHECKING:
    from pathlib import Path

AFR, EEG = Region.AFR, Region.EEG
RECORDS = "dief_aggregator_records_total"
LETTERS = "dief_aggregator_dead_letters_total"


def samples(registry: CollectorRegistry) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    """(sample name, sorted labels) -> value, as a scraper would parse them."""
    text = generate_latest(registry).decode()
    return {
        (s.name, tuple(sorted(s.labels.items()))): s.value
        for family in text_string_to_metric_families(text)
        for s in family.samples
    }


def value(registry: CollectorRegistry, name: str, **labels: str) -> float:
    return samples(registry)[name, tuple(sorted(labels.items()))]


def test_a_batch_report_counts_outcomes_and_dead_letters_by_region() -> None:
    registry = CollectorRegistry()
    metrics = AggregatorMetrics(registry, [AFR, EEG], REASONS)
    metrics.batch_applied(
        AFR,
        Counter({"applied": 3, "duplicate": 2, "stale": 1, "dlq:malformed": 2, "dlq:bad_id": 1}),
        0.02,
    )
    metrics.batch_applied(AFR, Counter({"applied": 1, "dlq:ownership": 1}), 0.5)
    metrics.batch_failed(EEG)

    assert value(registry, RECORDS, region="AFR", outcome="applied") == 4
    assert value(registry, LETTERS, region="AFR", reason="ownership") == 1
    assert value(registry, RECORDS, region="AFR", outcome="duplicate") == 2
    assert value(registry, RECORDS, region="AFR", outcome="stale") == 1
    assert value(registry, LETTERS, region="AFR", reason="malformed") == 2
    assert value(registry, LETTERS, region="AFR", reason="bad_id") == 1
    assert value(registry, "dief_aggregator_batch_duration_seconds_count", region="AFR") == 2
    assert value(
        registry, "dief_aggregator_batch_duration_seconds_sum", region="AFR"
    ) == pytest.approx(0.52)
    assert value(registry, "dief_aggregator_batch_failures_total", region="EEG") == 1
    # the other series exist at 0 from the start
    assert value(registry, RECORDS, region="EEG", outcome="applied") == 0
    for reason in REASONS:
        assert value(registry, LETTERS, region="EEG", reason=reason) == 0


def test_the_outcome_and_reason_labels_are_the_aggregators_own() -> None:
    """Outcomes are what applying a record can do besides dead-lettering it; reasons are
    exactly dief.aggregator.REASONS (no second list): ``related`` and ``forged_revision`` are
    gone, ``ownership``, ``bad_credential`` and ``bad_padding`` are there."""
    assert set(AGGREGATOR_OUTCOMES) == {o.value for o in Outcome} - {Outcome.OWNERSHIP.value}
    registry = CollectorRegistry()
    AggregatorMetrics(registry, [AFR], REASONS)
    found = samples(registry)
    outcomes = {dict(k)["outcome"] for (name, k) in found if name == RECORDS}
    reasons = {dict(k)["reason"] for (name, k) in found if name == LETTERS}
    assert outcomes == {"applied", "duplicate", "stale"}
    assert reasons == set(REASONS)
    assert {"ownership", "bad_credential", "bad_padding"} <= reasons
    assert not {"related", "forged_revision"} & (outcomes | reasons)


def test_a_reason_the_aggregator_does_not_list_is_other() -> None:
    registry = CollectorRegistry()
    metrics = AggregatorMetrics(registry, [AFR], REASONS)
    metrics.batch_applied(AFR, Counter({"dlq:forged_revision": 2, "related": 1}), 0.01)
    assert value(registry, LETTERS, region="AFR", reason=OTHER) == 2
    assert value(registry, RECORDS, region="AFR", outcome=OTHER) == 1
    assert not any(dict(k).get("reason") == "forged_revision" for _n, k in samples(registry))


def test_pseudonyms_above_tokens_issued_are_a_gauge_per_cycle_and_region() -> None:
    registry = CollectorRegistry()
    metrics = AggregatorMetrics(registry, [AFR], REASONS)
    gauge = "dief_aggregator_pseudonyms_over_issued"
    metrics.pseudonyms_over_issued(
        [PseudonymExcess("CSP12", "AFR", 5, 3), PseudonymExcess("CSP11", "EEG", 2, 1)]
    )
    assert value(registry, gauge, cycle="CSP12", region="AFR") == 2
    assert value(registry, gauge, cycle="CSP11", region="EEG") == 1
    # a pair no longer over (the directory now counts more tokens) goes back to 0
    metrics.pseudonyms_over_issued([PseudonymExcess("CSP12", "AFR", 5, 4)])
    assert value(registry, gauge, cycle="CSP12", region="AFR") == 1
    assert value(registry, gauge, cycle="CSP11", region="EEG") == 0
    # labels are cycles and regions only
    metrics.pseudonyms_over_issued([PseudonymExcess("France", "FRA", 9, 1)])
    labels = {v for (_name, pairs) in samples(registry) for _k, v in pairs}
    assert not any("fra" in v.lower() for v in labels), labels
    assert value(registry, gauge, cycle=OTHER, region=OTHER) == 8


def test_label_values_are_regions_codes_and_outcomes_only() -> None:
    registry = CollectorRegistry()
    metrics = AggregatorMetrics(registry, [AFR], REASONS)
    metrics.batch_applied(
        AFR,
        Counter({"dlq:France said so": 1, "dlq:bad_padding": 1, "FRA": 1, "applied": 0}),
        0.01,
    )
    metrics.batch_applied("France", Counter({"applied": 1}), 0.01)  # type: ignore[arg-type]  # a State name where a region belongs, on purpose
    labels = {v for (_name, pairs) in samples(registry) for _k, v in pairs}
    assert not any("fra" in v.lower() for v in labels), labels
    assert value(registry, LETTERS, region="AFR", reason=OTHER) == 1
    assert value(registry, LETTERS, region="AFR", reason="bad_padding") == 1
    assert value(registry, RECORDS, region="AFR", outcome=OTHER) == 1
    assert value(registry, RECORDS, region=OTHER, outcome="applied") == 1


@pytest.mark.parametrize(
    ("given", "label"),
    [("malformed", "malformed"), ("wrong_region", "wrong_region"), ("Bad", OTHER),
     ("a b", OTHER), ("x" * 49, OTHER), ("", OTHER), ("node-fr", OTHER)],
)  # fmt: skip
def test_code_label(given: str, label: str) -> None:
    assert code_label(given) == label


def test_region_label() -> None:
    assert region_label(Region.GRULAC) == "GRULAC"
    assert region_label("WEOG") == "WEOG"
    assert region_label("FRA") == OTHER


def test_the_secretariat_counts_received_refused_and_summaries() -> None:
    registry = CollectorRegistry()
    metrics = SecretariatMetrics(registry)
    metrics.batch_handled(
        Counter({"stored": 2, "duplicate": 1, "dlq:authentication_failed": 1, "kept:malformed": 2}),
        summaries=1,
        seconds=0.1,
    )
    assert value(registry, "dief_secretariat_summaries_withheld_total") == 0
    assert value(registry, "dief_secretariat_cycles_withheld") == 0
    metrics.batch_handled(Counter(), summaries=0, seconds=0.1, withheld=2, withheld_now=3)
    assert value(registry, "dief_secretariat_summaries_withheld_total") == 2
    assert value(registry, "dief_secretariat_cycles_withheld") == 3  # what is withheld now
    metrics.batch_handled(Counter(), summaries=1, seconds=0.1, withheld_now=None)
    assert value(registry, "dief_secretariat_cycles_withheld") == 3  # not known: kept
    metrics.batch_handled(Counter(), summaries=1, seconds=0.1, withheld_now=0)
    assert value(registry, "dief_secretariat_cycles_withheld") == 0
    assert value(registry, "dief_secretariat_digests_received_total", outcome="stored") == 2
    assert value(registry, "dief_secretariat_digests_received_total", outcome="duplicate") == 1
    assert value(registry, "dief_secretariat_digests_received_total", outcome="stale") == 0
    assert value(registry, "dief_secretariat_digests_received_total", outcome="refused") == 3
    refused = "dief_secretariat_digests_refused_total"
    assert value(registry, refused, reason="authentication_failed", destination="dlq") == 1
    assert value(registry, refused, reason="malformed", destination="kept") == 2
    assert value(registry, "dief_secretariat_summaries_issued_total") == 3
    assert value(registry, "dief_secretariat_batch_duration_seconds_count") == 4


async def test_digest_passes_are_timed_counted_and_failures_counted() -> None:
    registry = CollectorRegistry()
    metrics = DigestMetrics(registry, [AFR, EEG])

    async def publish(region: Region, day: date) -> list[str]:
        if region is EEG:
            raise RuntimeError("database away")
        return ["2026-01", "2026-Q1"]

    timed = metrics.timed(publish)
    assert await timed(AFR, date(2026, 6, 15)) == ["2026-01", "2026-Q1"]
    with pytest.raises(RuntimeError):
        await timed(EEG, date(2026, 6, 15))
    assert value(registry, "dief_digests_issued_total", region="AFR") == 2
    assert value(registry, "dief_digest_issue_seconds_count", region="AFR") == 1
    assert value(registry, "dief_digest_issue_seconds_count", region="EEG") == 0
    assert value(registry, "dief_digest_pass_failures_total", region="EEG") == 1


def test_each_service_instance_has_a_registry_of_its_own() -> None:
    first, second = Observability(), Observability()
    # the same families on both, no "Duplicated timeseries" error, nothing shared
    AggregatorMetrics(first.registry, [AFR], REASONS).batch_applied(
        AFR, Counter({"applied": 2}), 0.01
    )
    AggregatorMetrics(second.registry, [AFR], REASONS)
    assert value(first.registry, RECORDS, region="AFR", outcome="applied") == 2
    assert value(second.registry, RECORDS, region="AFR", outcome="applied") == 0
    # and none of it on the global default registry

    assert REGISTRY.get_sample_value(RECORDS, {"region": "AFR", "outcome": "applied"}) is None
    # the process metrics are on each service's registry
    assert any(name == "process_cpu_seconds_total" for name, _ in samples(first.registry))


async def test_the_secretariat_gauge_reads_the_store_when_it_starts(tmp_path: Path) -> None:
    """After a restart the gauge says what is withheld before any batch (it read 0)."""
    observability = Observability(MetricsSettings())
    async with SecretariatStore(sqlite_url(tmp_path / "secretariat.db")) as store:
        telemetry = SecretariatTelemetry(observability, store)
        await store.record_withheld("CSP12", "a cell no suppression can protect")
        await store.record_withheld("CSP13", "its trends compare with CSP12, withheld")
        assert value(observability.registry, "dief_secretariat_cycles_withheld") == 0
        await telemetry.started()
    assert value(observability.registry, "dief_secretariat_cycles_withheld") == 2
