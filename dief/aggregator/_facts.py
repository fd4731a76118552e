"""Internal value objects of the aggregator: the facts of one case revision, and deltas."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum

from dief.periods import HalfCycle, Month

__all__ = ["TOTAL", "CaseFacts", "CaseState", "CellKey", "Outcome", "cell_keys", "default_half"]

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
