"""Applying case revisions to incremental aggregates (DESIGN §5 counting, §7 cells)."""

from dief.aggregation._facts import TOTAL, CaseFacts, CaseState, CellKey, Outcome, cell_keys
from dief.aggregation._plan import BatchPlan, plan_batch

__all__ = [
    "TOTAL",
    "BatchPlan",
    "CaseFacts",
    "CaseState",
    "CellKey",
    "Outcome",
    "cell_keys",
    "plan_batch",
]
