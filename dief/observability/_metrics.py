"""The services' metrics, each family on the registry of one service instance.

Label values are regions, reasons, outcomes, CSP cycles and partition numbers only: never a
node name, a file name, a case id or anything else that could name a State. Every value
passes :func:`region_label`, :func:`code_label` or :func:`cycle_label`, so even a value that
is not one of the known codes becomes ``other`` rather than free text. The aggregator's
dead-letter reasons are the ones it is given (``dief.aggregator.REASONS``, the one list):
any other reason is counted as ``other``.
"""

from __future__ import annotations

import re
import time
from typing import TYPE_CHECKING, Protocol, TypeVar

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram

from dief.vocab import Region

if TYPE_CHECKING:
    from collections.abc import Awaitable, Callable, Iterable, Mapping, Sequence
    from datetime import date

__all__ = [
    "AGGREGATOR_OUTCOMES",
    "BATCH_BUCKETS",
    "DIGEST_BUCKETS",
    "OTHER",
    "SECRETARIAT_OUTCOMES",
    "AggregatorMetrics",
    "DigestMetrics",
    "PseudonymExcess",
    "SecretariatMetrics",
    "code_label",
    "cycle_label",
    "region_label",
]

#: The label value of anything that is not a known region or a well-formed code.
OTHER = "other"
#: What applying a record can do besides dead-lettering it (``dief.aggregator.Outcome`` less
#: ``ownership``, which is a dead letter; a test holds the two together).
AGGREGATOR_OUTCOMES = ("applied", "duplicate", "stale")
#: What storing a received digest can do (``dief.secretariat.StoreOutcome``, less
#: ``conflict``, which is a refusal).
SECRETARIAT_OUTCOMES = ("stored", "duplicate", "stale")
#: Seconds: a batch of a few records to one of thousands on a slow database.
BATCH_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0)
#: Seconds: a region's digest pass opens its sealed lessons, builds, signs and seals.
DIGEST_BUCKETS = (0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 120.0, 300.0)

_CODE = re.compile(r"[a-z][a-z0-9_]{0,47}")
_CYCLE = re.compile(r"CSP[0-9]{1,3}")
_REGIONS = frozenset(r.value for r in Region)

T = TypeVar("T")


def region_label(region: Region | str) -> str:
    """A region's code, or ``other``."""
    value = region.value if isinstance(region, Region) else str(region)
    return value if value in _REGIONS else OTHER


def code_label(code: str) -> str:
    """A reason or outcome code (lower case, digits, underscores; at most 48), or ``other``."""
    return code if _CODE.fullmatch(code) else OTHER


def cycle_label(cycle: str) -> str:
    """A CSP cycle (``CSP12``), or ``other``."""
    return cycle if _CYCLE.fullmatch(cycle) else OTHER


class PseudonymExcess(Protocol):
    """More distinct pseudonyms verified in (cycle, region) than tokens were issued
    (``dief.credentials.PseudonymExcess``, what ``TokenVerifier.over_issued()`` lists)."""

    @property
    def cycle(self) -> str: ...

    @property
    def region(self) -> str: ...

    @property
    def pseudonyms(self) -> int: ...

    @property
    def issued(self) -> int: ...


class AggregatorMetrics:
    """Records by outcome, dead letters by reason, batch durations and failures, per region;
    pseudonyms above the tokens issued, per (cycle, region).

    *reasons* are the dead-letter reason codes (``dief.aggregator.REASONS``): the only
    ``reason`` label values besides ``other``. The series of each of *regions* with
    :data:`AGGREGATOR_OUTCOMES` and *reasons* exist from the start at 0, so a rate is defined
    before the first record arrives.
    """

    def __init__(
        self, registry: CollectorRegistry, regions: Iterable[Region], reasons: Iterable[str]
    ) -> None:
        self.records = Counter(
            "dief_aggregator_records",
            "Case records finished with, by region and outcome (applied, duplicate, stale); "
            "dead letters are counted in dief_aggregator_dead_letters_total",
            ["region", "outcome"],
            registry=registry,
        )
        self.dead_letters = Counter(
            "dief_aggregator_dead_letters",
            "Case records dead-lettered, by region and reason code (dief.aggregator.REASONS)",
            ["region", "reason"],
            registry=registry,
        )
        self.batch_seconds = Histogram(
            "dief_aggregator_batch_duration_seconds",
            "Seconds from a batch reaching the aggregator to its transaction committed",
            ["region"],
            buckets=BATCH_BUCKETS,
            registry=registry,
        )
        self.batch_failures = Counter(
            "dief_aggregator_batch_failures",
            "Batches not applied (database or broker failure); they come again",
            ["region"],
            registry=registry,
        )
        self.over_issued = Gauge(
            "dief_aggregator_pseudonyms_over_issued",
            "Distinct verified contributor pseudonyms above the tokens the directory says the "
            "issuer key of (cycle, region) signed (DESIGN §5: invented contributors); 0 when "
            "none",
            ["cycle", "region"],
            registry=registry,
        )
        self._over: set[tuple[str, str]] = set()
        codes = [code_label(r) for r in reasons]
        self._reasons = frozenset(codes)
        for region in regions:
            label = region_label(region)
            for outcome in AGGREGATOR_OUTCOMES:
                self.records.labels(label, outcome)
            for code in codes:
                self.dead_letters.labels(label, code)
            self.batch_seconds.labels(label)
            self.batch_failures.labels(label)

    def __repr__(self) -> str:
        return "AggregatorMetrics()"

    def batch_applied(self, region: Region, outcomes: Mapping[str, int], seconds: float) -> None:
        """One committed batch: its ``BatchReport.outcomes`` (``applied``, ``dlq:<reason>``…)."""
        label = region_label(region)
        for outcome, n in outcomes.items():
            if n <= 0:
                continue
            if outcome.startswith("dlq:"):
                reason = outcome[4:] if outcome[4:] in self._reasons else OTHER
                self.dead_letters.labels(label, reason).inc(n)
            else:
                known = outcome if outcome in AGGREGATOR_OUTCOMES else OTHER
                self.records.labels(label, known).inc(n)
        self.batch_seconds.labels(label).observe(seconds)

    def batch_failed(self, region: Region) -> None:
        self.batch_failures.labels(region_label(region)).inc()

    def pseudonyms_over_issued(self, excesses: Iterable[PseudonymExcess]) -> None:
        """Set the gauge to *excesses* (``TokenVerifier.over_issued()`` now): each pair's
        pseudonyms less tokens issued; a pair listed before and not now goes back to 0."""
        now: dict[tuple[str, str], float] = {}
        for excess in excesses:
            pair = (cycle_label(excess.cycle), region_label(excess.region))
            now[pair] = now.get(pair, 0.0) + max(excess.pseudonyms - excess.issued, 0)
        for pair in self._over - now.keys():
            self.over_issued.labels(*pair).set(0)
        for pair, value in now.items():
            self.over_issued.labels(*pair).set(value)
        self._over |= now.keys()


class SecretariatMetrics:
    """Digests received by outcome, refused by reason, summaries issued, batch durations."""

    def __init__(self, registry: CollectorRegistry, reasons: Iterable[str] = ()) -> None:
        self.received = Counter(
            "dief_secretariat_digests_received",
            "Digest records received, by outcome (stored, duplicate, stale, refused)",
            ["outcome"],
            registry=registry,
        )
        self.refused = Counter(
            "dief_secretariat_digests_refused",
            "Digest records refused, by reason code and where they went (dlq: the claimed "
            "region's dead-letter topic; kept: the Secretariat's store, no region to send to)",
            ["reason", "destination"],
            registry=registry,
        )
        self.summaries = Counter(
            "dief_secretariat_summaries_issued",
            "Signed CSP summaries published on csp.reporting",
            registry=registry,
        )
        self.withheld = Counter(
            "dief_secretariat_summaries_withheld",
            "CSP summaries withheld: disclosure control could not protect them, or the "
            "cycle before was withheld (the log says which and why; a later digest of the "
            "cycle tries again)",
            registry=registry,
        )
        self.withheld_now = Gauge(
            "dief_secretariat_cycles_withheld",
            "CSP cycles whose summary is withheld now (the Secretariat's portal shows which "
            "and why); set after each batch the service publishes summaries for",
            registry=registry,
        )
        self.batch_seconds = Histogram(
            "dief_secretariat_batch_duration_seconds",
            "Seconds from a batch of digests reaching the Secretariat to its summaries published",
            buckets=BATCH_BUCKETS,
            registry=registry,
        )
        self.batch_failures = Counter(
            "dief_secretariat_batch_failures",
            "Batches of digests not handled (database or broker failure); they come again",
            registry=registry,
        )
        for outcome in (*SECRETARIAT_OUTCOMES, "refused"):
            self.received.labels(outcome)
        for reason in reasons:
            self.refused.labels(code_label(reason), "dlq")

    def __repr__(self) -> str:
        return "SecretariatMetrics()"

    def batch_handled(
        self,
        outcomes: Mapping[str, int],
        summaries: int,
        seconds: float,
        withheld: int = 0,
        withheld_now: int | None = None,
    ) -> None:
        """One handled batch: its ``SecretariatReport.outcomes``, summaries published and
        summaries withheld, and how many cycles are withheld after it (``None``: not
        known, the gauge keeps its value)."""
        for outcome, n in outcomes.items():
            if n <= 0:
                continue
            where, sep, reason = outcome.partition(":")
            if sep and where in {"dlq", "kept"}:
                self.refused.labels(code_label(reason), where).inc(n)
                self.received.labels("refused").inc(n)
            else:
                known = outcome if outcome in SECRETARIAT_OUTCOMES else OTHER
                self.received.labels(known).inc(n)
        if summaries:
            self.summaries.inc(summaries)
        if withheld:
            self.withheld.inc(withheld)
        if withheld_now is not None:
            self.withheld_now.set(withheld_now)
        self.batch_seconds.observe(seconds)

    def batch_failed(self) -> None:
        self.batch_failures.inc()


class DigestMetrics:
    """The digest schedule of an aggregator: how long a region's pass takes, what it issues."""

    def __init__(self, registry: CollectorRegistry, regions: Iterable[Region]) -> None:
        self.issue_seconds = Histogram(
            "dief_digest_issue_seconds",
            "Seconds one region's digest pass took (read its lessons, then build, sign, seal "
            "and publish each changed closed period), passes that issued nothing included",
            ["region"],
            buckets=DIGEST_BUCKETS,
            registry=registry,
        )
        self.issued = Counter(
            "dief_digests_issued",
            "Digests published on dief.digests, by region",
            ["region"],
            registry=registry,
        )
        self.failures = Counter(
            "dief_digest_pass_failures",
            "Region digest passes that failed (retried later)",
            ["region"],
            registry=registry,
        )
        for region in regions:
            label = region_label(region)
            self.issue_seconds.labels(label)
            self.issued.labels(label)
            self.failures.labels(label)

    def __repr__(self) -> str:
        return "DigestMetrics()"

    def timed(
        self, publish: Callable[[Region, date], Awaitable[Sequence[T]]]
    ) -> Callable[[Region, date], Awaitable[Sequence[T]]]:
        """*publish* (a ``dief.digests.PublishRegion``), measured."""

        async def measured(region: Region, day: date) -> Sequence[T]:
            label = region_label(region)
            started = time.perf_counter()
            try:
                issued = await publish(region, day)
            except Exception:
                self.failures.labels(label).inc()
                raise
            self.issue_seconds.labels(label).observe(time.perf_counter() - started)
            self.issued.labels(label).inc(len(issued))
            return issued

        return measured
