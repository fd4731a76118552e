"""Pure planning of one batch of case records: what to write, and what each record did.

Kept free of I/O so that the rules of DESIGN §5 (latest revision counts, withdrawn counts
nowhere, owner tag must match, stale revisions are redeliveries) are tested without a
database, and so a whole batch becomes one set of merged cell deltas.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field

from dief.aggregator._facts import CaseFacts, CaseState, CellKey, Outcome, cell_keys

__all__ = ["BatchPlan", "plan_batch"]


@dataclass(slots=True)
class BatchPlan:
    """Everything one batch changes, merged."""

    outcomes: list[Outcome] = field(default_factory=list)
    #: case_id → the facts of the revision to store (the latest applied in this batch)
    upserts: dict[str, CaseFacts] = field(default_factory=dict)
    #: case_id → the related-region notice to store
    notices: dict[str, CaseFacts] = field(default_factory=dict)
    #: cell-count row → change in its count of cases (zero entries removed)
    deltas: Counter[CellKey] = field(default_factory=Counter)
    #: cell-count row → the part of that change made by TLP:RED cases (zero entries
    #: removed; a row can be here and not in ``deltas``, when a case turned red)
    red_deltas: Counter[CellKey] = field(default_factory=Counter)


def plan_batch(
    records: Sequence[CaseFacts],
    existing: Mapping[str, CaseState],
    applied_ids: Iterable[str],
    existing_notices: Mapping[str, int] | None = None,
) -> BatchPlan:
    """Plan *records* (in partition order) against the stored state.

    ``existing`` maps case_id → stored state for the batch's case ids; ``applied_ids`` are
    the record ids already applied; ``existing_notices`` maps case_id → stored revision of
    related-region notices.
    """
    plan = BatchPlan()
    seen = set(applied_ids)
    states = dict(existing)
    notices = dict(existing_notices or {})
    for rec in records:
        if rec.record_id in seen:
            plan.outcomes.append(Outcome.DUPLICATE)
            continue
        seen.add(rec.record_id)
        if rec.related:
            if rec.revision > notices.get(rec.case_id, 0):
                notices[rec.case_id] = rec.revision
                plan.notices[rec.case_id] = rec
            plan.outcomes.append(Outcome.RELATED)
            continue
        current = states.get(rec.case_id)
        if current is not None:
            if rec.owner_tag != current.owner_tag:
                plan.outcomes.append(Outcome.FORGED)
                continue
            if rec.revision <= current.revision:
                plan.outcomes.append(Outcome.STALE)
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
