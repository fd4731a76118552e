"""Operability of the services: Prometheus metrics, ``/healthz`` and ``/readyz``, JSON logs.

- :class:`Observability` — one service instance's own ``CollectorRegistry`` (never the
  global default one), its :class:`Readiness` and its loopback HTTP endpoint
  (:class:`ObservabilityServer`: ``/metrics``, ``/healthz``, ``/readyz``), configured by
  ``dief.settings.MetricsSettings`` (``DIEF_METRICS__PORT``, ``DIEF_METRICS__HOST``).
- :class:`AggregatorMetrics`, :class:`DigestMetrics`, :class:`SecretariatMetrics`,
  :class:`ConsumerLag`, :class:`NodeObservability` — the metric families of each service.
  Label values are regions, reason and outcome codes, CSP cycles and partition numbers
  only; the aggregator's reasons are ``dief.aggregator.REASONS``, given to it.
  ``AggregatorMetrics.pseudonyms_over_issued`` takes ``TokenVerifier.over_issued()``.
- :class:`StoreHealth`, :func:`kafka_consumers_check` — readiness checks.
- :class:`JsonFormatter`, :func:`json_handler` — one JSON object per log line, with no
  attributing field.

This package imports only ``seams``, ``vocab`` and ``exceptions`` of DIEF, so every service
can use it. See docs/architecture.md, Operability.
"""

from __future__ import annotations

from dief.observability._http import ObservabilityServer, ScrapeHook
from dief.observability._lag import ConsumerLag, LagConsumer
from dief.observability._logs import JsonFormatter, json_handler
from dief.observability._metrics import (
    AGGREGATOR_OUTCOMES,
    BATCH_BUCKETS,
    DIGEST_BUCKETS,
    OTHER,
    SECRETARIAT_OUTCOMES,
    AggregatorMetrics,
    DigestMetrics,
    PseudonymExcess,
    SecretariatMetrics,
    code_label,
    cycle_label,
    region_label,
)
from dief.observability._readiness import Readiness, ReadyCheck, ServiceState, StoreHealth
from dief.observability._service import (
    NodeObservability,
    Observability,
    OutboxBacklog,
    RelayCounters,
    kafka_consumers,
    kafka_consumers_check,
)

__all__ = [
    "AGGREGATOR_OUTCOMES",
    "BATCH_BUCKETS",
    "DIGEST_BUCKETS",
    "OTHER",
    "SECRETARIAT_OUTCOMES",
    "AggregatorMetrics",
    "ConsumerLag",
    "DigestMetrics",
    "JsonFormatter",
    "LagConsumer",
    "NodeObservability",
    "Observability",
    "ObservabilityServer",
    "OutboxBacklog",
    "PseudonymExcess",
    "Readiness",
    "ReadyCheck",
    "RelayCounters",
    "ScrapeHook",
    "SecretariatMetrics",
    "ServiceState",
    "StoreHealth",
    "code_label",
    "cycle_label",
    "json_handler",
    "kafka_consumers",
    "kafka_consumers_check",
    "region_label",
]
