"""Helpers for the reporting tests: random case histories and an independent recomputation.

The recomputation works from ``CaseStore.stored_cases()`` (a full scan of the cases), never
from the cell counts the reporting code reads, so the two can disagree if either is wrong.
"""

from __future__ import annotations

import hashlib
import random
import uuid
from collections import defaultdict
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from dief.aggregator import CaseFacts
from dief.periods import CspCycle, Month
from dief.vocab import (
    ActionTaken,
    CaseKind,
    Confidence,
    DetectionSource,
    EndUserType,
    ItemCategory,
    Method,
    TransferStage,
    TransportMode,
)

if TYPE_CHECKING:
    from collections.abc import Iterable, Sequence

    from dief.aggregator.store import StoredCase

TOTAL = ("_total", "_all")
INDICATORS = ("DOC-01", "DOC-02", "EU-01", "EU-02", "ACT-01", "RTE-01", "TRX-01", "PDV-01")

SINGLE = {
    "kind": [v.value for v in CaseKind],
    "confidence": [v.value for v in Confidence],
    "transfer_stage": [v.value for v in TransferStage],
    "end_user_type": [v.value for v in EndUserType],
    "detection_source": [v.value for v in DetectionSource],
}
MULTI = {
    "item_category": [v.value for v in ItemCategory],
    "method": [v.value for v in Method],
    "transport_mode": [v.value for v in TransportMode],
    "action_taken": [v.value for v in ActionTaken],
    "risk_indicator": list(INDICATORS),
}


def quarter_of(month: str) -> str:
    return f"{month[:4]}-Q{(int(month[5:7]) - 1) // 3 + 1}"


def cycle_of(month: str) -> str:
    return str(CspCycle.of(Month.parse(month)))


def half_of(month: str) -> str:
    """The half-cycle (September start): September-February H1, March-August H2."""
    return cycle_of(month) + ("-H1" if int(month[5:7]) in {9, 10, 11, 12, 1, 2} else "-H2")


def pseudonym(node: int, cycle: str) -> str:
    """A per-node, per-cycle contributor pseudonym (32 hex), as nodes derive them."""
    return hashlib.sha256(f"node-{node}/{cycle}".encode()).hexdigest()[:32]


def random_values(rng: random.Random, *, skew: float = 1.0) -> tuple[tuple[str, str], ...]:
    pairs = {(d, rng.choice(vals[: max(1, int(len(vals) * skew))])) for d, vals in SINGLE.items()}
    for d, vals in MULTI.items():
        low = 0 if d == "risk_indicator" else 1
        pairs.update((d, v) for v in rng.sample(vals, rng.randint(low, min(3, len(vals)))))
    return tuple(sorted(pairs))


def make_facts(
    *,
    region: str,
    month: str,
    node: int,
    values: Sequence[tuple[str, str]] | None = None,
    case_id: str | None = None,
    revision: int = 1,
    status: str = "active",
    tlp: str = "green",
    record_id: str | None = None,
    owner_key: str | None = None,
    rng: random.Random | None = None,
) -> CaseFacts:
    cid = case_id or str(uuid.uuid4())
    cycle = cycle_of(month)
    return CaseFacts(
        record_id=record_id or str(uuid.uuid4()),
        case_id=cid,
        revision=revision,
        region=region,
        status=status,
        contributor=pseudonym(node, cycle),
        owner_key=owner_key or hashlib.sha256(f"owner/{node}/{cid}".encode()).hexdigest()[:43],
        month=month,
        cycle=cycle,
        tlp=tlp,
        values=tuple(sorted(values))
        if values is not None
        else random_values(rng or random.Random(cid)),
        sealed=b"{}",
    )


@dataclass
class History:
    """A random case history of one region: new cases, revisions, withdrawals, noise."""

    region: str
    rng: random.Random
    months: Sequence[str]
    nodes: int = 4
    red_share: float = 0.15
    cases: dict[str, tuple[int, int, str]] = field(default_factory=dict)  # id → (rev, node, m)
    sent: list[CaseFacts] = field(default_factory=list)

    def batch(self, size: int) -> list[CaseFacts]:
        out: list[CaseFacts] = []
        for _ in range(size):
            roll = self.rng.random()
            if self.cases and roll < 0.2:
                out.append(self._revise(withdraw=False))
            elif self.cases and roll < 0.28:
                out.append(self._revise(withdraw=True))
            elif self.sent and roll < 0.32:
                out.append(self.rng.choice(self.sent))  # a redelivered record
            elif self.cases and roll < 0.35:
                out.append(self._revise(withdraw=False, stale=True))
            else:
                out.append(self._new())
        self.sent.extend(out)
        return out

    def _tlp(self) -> str:
        return (
            "red"
            if self.rng.random() < self.red_share
            else self.rng.choice(["green", "amber", "clear", "amber_strict"])
        )

    def _new(self) -> CaseFacts:
        node = min(int(self.rng.paretovariate(1.2)) - 1, self.nodes - 1)
        month = self.rng.choice(self.months)
        facts = make_facts(
            region=self.region,
            month=month,
            node=node,
            values=random_values(self.rng, skew=self.rng.choice([0.5, 1.0])),
            tlp=self._tlp(),
            # From the seeded generator, so a seed always gives the same history.
            case_id=str(uuid.UUID(int=self.rng.getrandbits(128), version=4)),
        )
        self.cases[facts.case_id] = (1, node, month)
        return facts

    def _revise(self, *, withdraw: bool, stale: bool = False) -> CaseFacts:
        case_id = self.rng.choice(sorted(self.cases))
        revision, node, month = self.cases[case_id]
        if stale:  # a revision not above the stored one, or one under another owner key
            forged = self.rng.random() < 0.5
            return make_facts(
                region=self.region,
                month=month,
                node=node,
                case_id=case_id,
                revision=revision + 1 if forged else revision,
                owner_key="f" * 43 if forged else None,
                rng=self.rng,
            )
        if self.rng.random() < 0.3:
            month = self.rng.choice(self.months)  # a revision may move the detection month
        revision += self.rng.choice([1, 1, 2])
        self.cases[case_id] = (revision, node, month)
        return make_facts(
            region=self.region,
            month=month,
            node=node,
            case_id=case_id,
            revision=revision,
            status="withdrawn" if withdraw else "active",
            values=random_values(self.rng),
            tlp=self._tlp(),
        )


@dataclass(frozen=True)
class Expected:
    count: int
    contributors: int  # lower bound: max over (period, cycle) of distinct contributors


def expected_cells(
    cases: Iterable[StoredCase], periods: Iterable[str], *, include_red: bool = True
) -> dict[tuple[str, str], Expected]:
    """Independent recomputation over several disjoint periods taken together.

    Count: cases whose month lies in any of the periods. Contributors: the largest number of
    distinct contributors within one (period, cycle): the documented lower bound.
    """
    wanted = set(periods)
    counts: dict[tuple[str, str], int] = defaultdict(int)
    who: dict[tuple[str, str], dict[tuple[str, str], set[str]]] = defaultdict(
        lambda: defaultdict(set)
    )
    for case in cases:
        if case.status != "active" or (case.tlp == "red" and not include_red):
            continue
        hits = {case.month, quarter_of(case.month), half_of(case.month), case.cycle} & wanted
        for period in hits:
            for pair in (TOTAL, *case.values):
                counts[pair] += 1
                who[pair][period, case.cycle].add(case.contributor)
    return {
        pair: Expected(n, max(len(s) for s in who[pair].values())) for pair, n in counts.items()
    }
