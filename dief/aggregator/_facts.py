"""Internal value objects of the aggregator: the facts of one case revision, and deltas."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum

__all__ = ["TOTAL", "CaseFacts", "CaseState", "CellKey", "Outcome", "cell_keys"]

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
    them); they never count the case.
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
        )


#: (period, dimension, value, cycle, contributor): one row of the per-contributor counts
CellKey = tuple[str, str, str, str, str]


def _quarter(month: str) -> str:
    return f"{month[:4]}-Q{(int(month[5:7]) - 1) // 3 + 1}"


def cell_keys(state: CaseState) -> list[CellKey]:
    """Every cell-count row a counted case revision adds one to: its month, quarter and cycle,
    for the totals and for each distinct (dimension, value). Whether the case is TLP:RED is
    the state's ``red``, not part of the key."""
    if state.status != "active":
        return []
    periods = (state.month, _quarter(state.month), state.cycle)
    pairs = (TOTAL, *state.values)
    cycle, contributor = state.cycle, state.contributor
    return [(period, dim, value, cycle, contributor) for period in periods for dim, value in pairs]
