"""Internal value objects of the aggregator: the facts of one case revision, and deltas."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from typing import TYPE_CHECKING

from dief.periods import HalfCycle, Month
from dief.vocab import Registration

if TYPE_CHECKING:
    from dief.wire import CaseRecord

__all__ = [
    "REASSESSMENT_NOT_REASSESSED",
    "REASSESSMENT_PENDING",
    "TOTAL",
    "CaseFacts",
    "CaseState",
    "CellKey",
    "Outcome",
    "case_values",
    "cell_keys",
    "default_half",
]

#: The pseudo-dimension and value under which a case counts once in its period's totals.
TOTAL = ("_total", "_all")


class Outcome(StrEnum):
    """What applying one record did (stored with the record id for dedupe and notes)."""

    APPLIED = "applied"
    DUPLICATE = "duplicate"  # the stored revision again, or the same bytes: a redelivery
    STALE = "stale"  # revision below the stored one: silently ignored (DESIGN §5)
    #: the owner key differs from the stored case's (never, as the case id derives from it:
    #: a check kept as defence): dead-lettered as ``ownership``
    OWNERSHIP = "ownership"


@dataclass(frozen=True, slots=True)
class CaseFacts:
    """The categorical facts of one case revision, as the aggregator stores them.

    ``sealed`` is the envelope exactly as received; free text never leaves it in clear.
    ``related_regions`` are the other regions on the case's route (route tables read
    them); they never count the case. ``half`` is the half-cycle of ``month`` (``CSP12-H1``)
    by the aggregator's cycle start month; left empty, it is :func:`default_half`.
    """

    record_id: str
    case_id: str
    revision: int
    region: str
    status: str
    contributor: str
    owner_key: str
    month: str
    cycle: str
    tlp: str
    values: tuple[tuple[str, str], ...]
    sealed: bytes = field(repr=False)
    related_regions: tuple[str, ...] = ()
    half: str = ""

    def __post_init__(self) -> None:
        if not self.half:
            object.__setattr__(self, "half", default_half(self.month, self.cycle))

    @classmethod
    def from_record(  # noqa: PLR0913  what the record does not say, each by name
        cls,
        record: CaseRecord,
        *,
        record_id: str,
        sealed: bytes = b"",
        region: str | None = None,
        start_month: int | None = None,
        route: bool = True,
    ) -> CaseFacts:
        """The facts of the decoded *record*: the one construction of them, for the
        aggregator and for what stands in for it (tests, benchmarks).

        *record_id* is the key it is deduplicated by; *sealed* the envelope as stored
        (the aggregator stores none for a withdrawal, DESIGN §8); *region* the counting
        region's code (default the record's). *start_month* gives the half-cycle by the
        forum's cycle start (default :func:`default_half`); *route* keeps the record's
        related regions (False: its own region only).
        """
        return cls(
            record_id=record_id,
            case_id=str(record.case_id),
            revision=record.revision,
            region=str(record.region) if region is None else region,
            status=str(record.status),
            contributor=record.contributor,
            owner_key=record.owner_key,
            month=record.detected_month,
            cycle=record.cycle,
            tlp=str(record.tlp),
            values=case_values(record),
            sealed=sealed,
            related_regions=tuple(str(r) for r in record.related_regions) if route else (),
            half=""
            if start_month is None
            else str(HalfCycle.of(Month.parse(record.detected_month), start_month=start_month)),
        )

    @property
    def counts(self) -> bool:
        """Whether this revision counts (active)."""
        return self.status == "active"

    @property
    def red(self) -> bool:
        return self.tlp == "red"


@dataclass(frozen=True, slots=True)
class CaseState:
    """What the store holds for a case before a batch: enough to undo its contribution."""

    case_id: str
    revision: int
    owner_key: str
    status: str
    contributor: str
    month: str
    cycle: str
    tlp: str
    values: tuple[tuple[str, str], ...]
    half: str = ""

    def __post_init__(self) -> None:
        if not self.half:
            object.__setattr__(self, "half", default_half(self.month, self.cycle))

    @property
    def red(self) -> bool:
        return self.tlp == "red"

    @classmethod
    def of(cls, facts: CaseFacts) -> CaseState:
        return cls(
            case_id=facts.case_id,
            revision=facts.revision,
            owner_key=facts.owner_key,
            status=facts.status,
            contributor=facts.contributor,
            month=facts.month,
            cycle=facts.cycle,
            tlp=facts.tlp,
            values=facts.values,
            half=facts.half,
        )


#: The ``reassessment`` value of a case whose authorization was not reassessed.
REASSESSMENT_NOT_REASSESSED = "not_reassessed"
#: The ``reassessment`` value of a reassessment without an outcome yet.
REASSESSMENT_PENDING = "pending"


def case_values(record: CaseRecord) -> tuple[tuple[str, str], ...]:
    """The distinct (dimension, value) pairs a case counts under (DESIGN §5 counting ⚑).

    The Working Group's dimensions (docs/case-model.md): ``transfer_type`` always (single
    valued); ``maritime`` per feature; ``actor_role`` per distinct role and
    ``unregistered_actor`` per distinct role reported not registered; ``verification`` the
    check and ``verification_outcome`` its outcome, when given; ``reassessment`` the
    outcome, ``pending`` (reassessed, no outcome yet) or ``not_reassessed``;
    ``item_subcategory`` per distinct subcategory. An absent verification or reassessment
    counts nowhere.
    """
    pairs: set[tuple[str, str]] = {
        ("kind", str(record.kind)),
        ("confidence", str(record.confidence)),
        ("transfer_stage", str(record.transfer_stage)),
        ("end_user_type", str(record.end_user_type)),
        ("detection_source", str(record.detection_source)),
        ("transfer_type", str(record.transfer_type)),
    }
    for item in record.items:
        pairs.add(("item_category", str(item.category)))
        if item.subcategory is not None:
            pairs.add(("item_subcategory", str(item.subcategory)))
    pairs.update(("method", str(m)) for m in record.methods)
    pairs.update(("transport_mode", str(m)) for m in record.transport_modes)
    pairs.update(("maritime", str(m)) for m in record.maritime)
    for actor in record.actor_roles:
        pairs.add(("actor_role", str(actor.role)))
        if actor.registered is Registration.NO:
            pairs.add(("unregistered_actor", str(actor.role)))
    pairs.update(("risk_indicator", str(i)) for i in record.risk_indicators)
    pairs.update(("action_taken", str(a)) for a in record.actions_taken)
    if (verification := record.verification) is not None:
        pairs.add(("verification", str(verification.check)))
        if verification.outcome is not None:
            pairs.add(("verification_outcome", str(verification.outcome)))
    if (reassessment := record.reassessment) is not None:
        if not reassessment.reassessed:
            pairs.add(("reassessment", REASSESSMENT_NOT_REASSESSED))
        else:
            outcome = reassessment.outcome
            pairs.add(("reassessment", REASSESSMENT_PENDING if outcome is None else str(outcome)))
    return tuple(sorted(pairs))


#: (period, dimension, value, cycle, contributor): one row of the per-contributor counts
CellKey = tuple[str, str, str, str, str]


def _quarter(month: str) -> str:
    return f"{month[:4]}-Q{(int(month[5:7]) - 1) // 3 + 1}"


def default_half(month: str, cycle: str) -> str:
    """The half-cycle of *month* (``YYYY-MM``) in *cycle* with the default September start,
    or ``""`` when the two do not match that start (then the caller must say the half).

    Facts made without a half (tests, fabricated stores, the migration of a store written
    before halves) take this one; the aggregator always gives the half by its start month.
    """
    try:
        half = HalfCycle.of(Month.parse(month))
    except ValueError:
        return ""
    return str(half) if str(half.cycle) == cycle else ""


def cell_keys(state: CaseState) -> list[CellKey]:
    """Every cell-count row a counted case revision adds one to: its month, quarter,
    half-cycle and cycle, for the totals and for each distinct (dimension, value). Whether
    the case is TLP:RED is the state's ``red``, not part of the key. A half lies in one
    cycle, so its rows keep the case's cycle (one pseudonym domain: exact contributors)."""
    if state.status != "active":
        return []
    quarter = _quarter(state.month)
    periods = (
        (state.month, quarter, state.half, state.cycle)
        if state.half
        else (state.month, quarter, state.cycle)
    )
    pairs = (TOTAL, *state.values)
    cycle, contributor = state.cycle, state.contributor
    return [(period, dim, value, cycle, contributor) for period in periods for dim, value in pairs]
