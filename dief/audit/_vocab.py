"""The values a dimension can take, as any reader knows them (DESIGN §5 ⚑, docs/case-model.md).

A grouped cell ``(other)`` counts the table's cases under every value of its dimension the
table does not list: the reader's equation runs over this vocabulary. The vocabularies are
public (the case model's enumerations; the risk indicators of every shipped catalogue
version, as a case may cite an id of an older one), so reading them here is what a reader
does, not knowledge of the suppression code.
"""

from __future__ import annotations

from functools import cache
from typing import TYPE_CHECKING

from dief.catalogue import load_catalogues
from dief.vocab import (
    ActionTaken,
    ActorRole,
    CaseKind,
    Confidence,
    DetectionSource,
    EndUserType,
    ItemCategory,
    ItemSubcategory,
    MaritimeFeature,
    Method,
    ReassessmentOutcome,
    TransferStage,
    TransferType,
    TransportMode,
    VerificationCheck,
    VerificationOutcome,
)

if TYPE_CHECKING:
    from enum import StrEnum

__all__ = ["OTHER", "vocabulary"]

#: the value of a grouped cell (never a vocabulary value: those are snake_case or ids)
OTHER = "(other)"

_ENUMS: dict[str, tuple[type[StrEnum], ...]] = {
    "kind": (CaseKind,),
    "confidence": (Confidence,),
    "item_category": (ItemCategory,),
    "item_subcategory": (ItemSubcategory,),
    "transfer_stage": (TransferStage,),
    "transfer_type": (TransferType,),
    "method": (Method,),
    "transport_mode": (TransportMode,),
    "end_user_type": (EndUserType,),
    "detection_source": (DetectionSource,),
    "action_taken": (ActionTaken,),
    "maritime": (MaritimeFeature,),
    "actor_role": (ActorRole,),
    "unregistered_actor": (ActorRole,),
    "verification": (VerificationCheck,),
    "verification_outcome": (VerificationOutcome,),
    "reassessment": (ReassessmentOutcome,),
}
#: values the aggregator adds to an enumeration (dief.aggregator.case_values)
_EXTRA = {"reassessment": frozenset({"not_reassessed", "pending"})}


@cache
def vocabulary(dimension: str) -> frozenset[str] | None:
    """Every value *dimension* can take, or None for a dimension the audit does not know
    (its grouped cells then get no bound from the number of values)."""
    if dimension == "risk_indicator":
        ids: set[str] = set()
        for catalogue in load_catalogues().values():
            ids.update(str(i) for i in catalogue.ids)
        return frozenset(ids)
    enums = _ENUMS.get(dimension)
    if enums is None:
        return None
    values = {str(v) for e in enums for v in e}
    return frozenset(values | _EXTRA.get(dimension, frozenset()))
