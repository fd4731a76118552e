"""One region's aggregator (DESIGN §5 counting, §7 cells, §8 delivery): open, validate, plan
the batch, apply idempotently, dead-letter.

- :class:`RegionAggregator` — decodes and applies batches of inbound records
  (:class:`dief.seams.InboundRecord`), sending refusals to a
  :class:`dief.seams.DeadLetterSink`.
- :class:`CaseFacts`, :func:`plan_batch` — what a case revision changes in the aggregates.
- :mod:`dief.aggregator.store` — the region's database: case facts, incremental cell counts,
  digest versions and published patterns, with its migrations.
- Running a service: :func:`region_holder` (which regions a keyring may serve),
  :func:`first_directory`, :class:`RegionOpeners` (openers kept to the keys the directory
  lets open), :class:`AggregatorTelemetry` (what the service measures).
"""

from __future__ import annotations

from dief.aggregator._aggregator import BatchReport, RegionAggregator, dedupe_key
from dief.aggregator._facts import (
    REASSESSMENT_NOT_REASSESSED,
    REASSESSMENT_PENDING,
    TOTAL,
    CaseFacts,
    CaseState,
    CellKey,
    Outcome,
    case_values,
    cell_keys,
)
from dief.aggregator._keys import (
    FIRST_DIRECTORY_SECONDS,
    RegionOpeners,
    first_directory,
    region_holder,
)
from dief.aggregator._plan import BatchPlan, plan_batch
from dief.aggregator._telemetry import AggregatorTelemetry, BatchHandler
from dief.aggregator._validation import (
    REASONS,
    EnvelopeOpener,
    OpenedEnvelope,
    RecordRefusedError,
    RecordValidator,
    ValidRecord,
)

__all__ = [
    "FIRST_DIRECTORY_SECONDS",
    "REASONS",
    "REASSESSMENT_NOT_REASSESSED",
    "REASSESSMENT_PENDING",
    "TOTAL",
    "AggregatorTelemetry",
    "BatchHandler",
    "BatchPlan",
    "BatchReport",
    "CaseFacts",
    "CaseState",
    "CellKey",
    "EnvelopeOpener",
    "OpenedEnvelope",
    "Outcome",
    "RecordRefusedError",
    "RecordValidator",
    "RegionAggregator",
    "RegionOpeners",
    "ValidRecord",
    "case_values",
    "cell_keys",
    "dedupe_key",
    "first_directory",
    "plan_batch",
    "region_holder",
]
