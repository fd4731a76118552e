"""Pure planning of one batch of case records: what to write, and what each record did.

Kept free of I/O so that the rules of DESIGN §5 and §8 (latest revision counts, withdrawn
counts nowhere, duplicates absorbed by (case_id, revision) of verified records, revisions not
above the stored one are redeliveries) are tested without a database, and so a whole batch
becomes one set of merged cell deltas. Records reach the plan only once their ownership
verified (:class:`dief.aggregator.RecordValidator`).
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from dief.aggregator._facts import CaseFacts, CaseState, CellKey, Outcome, cell_keys

if TYPE_CHECKING:
    from collections.abc import Iterable, Mapping, Sequence

__all__ = ["BatchPlan", "plan_batch"]


@dataclass(slots=True)
class BatchPlan:
    """Everything one batch changes, merged."""

    outcomes: list[Outcome] = field(default_factory=list)
    #: case_id → the facts of the revision to store (the latest applied in this batch)
    upserts: dict[str, CaseFacts] = field(default_factory=dict)
    #: cell-count row → change in its count of cases (zero entries removed)
    deltas: Counter[CellKey] = field(default_factory=Counter)
    #: cell-count row → the part of that change made by TLP:RED cases (zero entries
    #: removed; a row can be here and not in ``deltas``, when a case turned red)
    red_deltas: Counter[CellKey] = field(default_factory=Counter)


def plan_batch(
    records: Sequence[CaseFacts],
    existing: Mapping[str, CaseState],
    applied_ids: Iterable[str],
) -> BatchPlan:
    """Plan *records* (in partition order, ownership verified) against the stored state.

    ``existing`` maps case_id → stored state for the batch's case ids; ``applied_ids`` are
    the value hashes of records already applied (the same bytes again are a duplicate,
    and their outcome is not recorded twice). A revision equal to the stored one is a
    duplicate, one below it stale: (case_id, revision) is what deduplicates verified
    records (DESIGN §8), never an envelope id.
    """
    plan = BatchPlan()
    seen = set(applied_ids)
    states = dict(existing)
    for rec in records:
        if rec.record_id in seen:
            plan.outcomes.append(Outcome.DUPLICATE)
            continue
        seen.add(rec.record_id)
        current = states.get(rec.case_id)
        if current is not None:
            if rec.owner_key != current.owner_key:
                plan.outcomes.append(Outcome.OWNERSHIP)
                continue
            if rec.revision <= current.revision:
                stale = rec.revision < current.revision
                plan.outcomes.append(Outcome.STALE if stale else Outcome.DUPLICATE)
                continue
            old_keys = cell_keys(current)
            plan.deltas.subtract(old_keys)
            if current.red:
                plan.red_deltas.subtract(old_keys)
        new = CaseState.of(rec)
        new_keys = cell_keys(new)
        plan.deltas.update(new_keys)
        if new.red:
            plan.red_deltas.update(new_keys)
        states[rec.case_id] = new
        plan.upserts[rec.case_id] = rec
        plan.outcomes.append(Outcome.APPLIED)
    for deltas in (plan.deltas, plan.red_deltas):
        for key in [k for k, v in deltas.items() if v == 0]:
            del deltas[key]
    return plan
