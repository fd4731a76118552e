"""The Working Group's case-model fields of a synthetic case, with realistic frequencies.

Each case's fields come from a generator seeded by its case id, so adding them left every
other field of a seeded synthetic set unchanged. The frequencies follow what the case
already says: the transfer type its stage makes likely, maritime details only on a sea leg
(about half of sea cases), brokers when the method is illicit brokering, a State official
when it is corruption or insider diversion, checks mostly at import and after delivery
(always when a post-shipment verification detected the case), Article 7(7) reassessments for
export-side cases, converted non-lethal firearms among small arms (most in the Eastern
European Group), uncrewed systems among aircraft, helicopters, warships and vehicles.
"""

from __future__ import annotations

import random
from typing import TYPE_CHECKING

from dief.vocab import (
    ITEM_SUBCATEGORY_CATEGORIES,
    ItemCategory,
    ItemSubcategory,
    Region,
)

if TYPE_CHECKING:
    from collections.abc import Mapping, Sequence

__all__ = ["working_group_fields"]

#: transfer stage → weights over transfer types
_TRANSFER_TYPES: dict[str, dict[str, float]] = {
    "pre_transfer": {"export": 6, "brokering": 2, "import": 1, "unknown": 1},
    "in_transit": {"transit": 4.5, "trans_shipment": 3.5, "export": 1, "unknown": 1},
    "at_import": {"import": 7.5, "trans_shipment": 1, "unknown": 1.5},
    "post_delivery": {"import": 5, "export": 3, "unknown": 2},
    "stockpile": {"internal": 8.5, "unknown": 1.5},
}
_MARITIME: dict[str, float] = {
    "transshipment_in_port": 4,
    "ais_gap": 3,
    "free_zone_passage": 2.5,
    "transshipment_at_sea": 2,
    "flag_of_convenience": 2,
    "flag_change": 1.5,
    "floating_armoury": 0.7,
}
_ROLES: dict[str, float] = {
    "broker": 4,
    "freight_forwarder": 3,
    "carrier": 2,
    "front_or_shell_company": 2,
    "state_official": 1.5,
    "shipping_agent": 1.5,
    "financier": 1,
    "insurer": 0.3,
}
#: role → weights over "registered" (yes, no, unknown)
_REGISTERED: dict[str, tuple[float, float, float]] = {
    "broker": (2.5, 4.5, 3),
    "freight_forwarder": (5, 1.5, 3.5),
    "shipping_agent": (5, 1, 4),
}
_OUTCOMES: dict[str, float] = {
    "inconsistent": 3.5,
    "items_missing": 2.5,
    "consistent": 1.5,
    "refused_by_end_user": 1,
    "": 1.5,  # no outcome yet
}
_REASSESSMENT: dict[str, float] = {
    "suspended": 3,
    "revoked": 2.5,
    "conditions_added": 2,
    "maintained": 1.5,
    "": 1,  # reassessed, no outcome yet
}
#: region → chance that a small-arms item is a converted non-lethal firearm
_CONVERTED: dict[str, float] = {
    Region.EEG.value: 0.3,
    Region.WEOG.value: 0.15,
    Region.GRULAC.value: 0.1,
    Region.AFR.value: 0.06,
    Region.APG.value: 0.05,
}


def _choice(rng: random.Random, weights: Mapping[str, float]) -> str:
    return rng.choices(list(weights), list(weights.values()))[0]


def _strings(doc: Mapping[str, object], name: str) -> list[str]:
    value = doc.get(name)
    return [str(v) for v in value] if isinstance(value, list) else []


def _maritime(rng: random.Random, modes: Sequence[str]) -> list[str]:
    if "sea" not in modes or rng.random() >= 0.5:  # noqa: PLR2004  a probability of the synthetic data
        return []
    picks = {_choice(rng, _MARITIME) for _ in range(rng.randint(1, 2))}
    return sorted(picks, key=list(_MARITIME).index)


def _actors(rng: random.Random, methods: Sequence[str]) -> list[dict[str, str]]:
    roles: list[str] = []
    if "illicit_brokering" in methods:
        roles.append("broker")
    if "shell_company" in methods:
        roles.append("front_or_shell_company")
    if {"corruption", "insider_diversion"} & set(methods):
        roles.append("state_official")
    if not roles and rng.random() >= 0.4:  # noqa: PLR2004  a probability of the synthetic data
        return []
    for _ in range(rng.randint(0, 2)):
        role = _choice(rng, _ROLES)
        if role not in roles:
            roles.append(role)
    actors = []
    for role in roles:
        weights = _REGISTERED.get(role, (0.5, 0.5, 4))
        registered = rng.choices(("yes", "no", "unknown"), weights)[0]
        actors.append({"role": role, "registered": registered})
    return actors


def _verification(rng: random.Random, stage: str, source: str) -> dict[str, str | None] | None:
    if source == "post_shipment_verification":
        outcome = _choice(rng, {k: v for k, v in _OUTCOMES.items() if k not in {"consistent", ""}})
        return {"check": "on_site", "outcome": outcome}
    chance = 0.5 if stage in {"at_import", "post_delivery"} else 0.1
    if rng.random() >= chance:
        return None
    check = rng.choices(("documentary", "on_site", "none"), (5.5, 3.5, 1))[0]
    if check == "none":
        return {"check": check, "outcome": None}
    return {"check": check, "outcome": _choice(rng, _OUTCOMES) or None}


def _reassessment(rng: random.Random, transfer_type: str) -> dict[str, object] | None:
    if transfer_type not in {"export", "brokering"} or rng.random() >= 0.3:  # noqa: PLR2004  a probability of the synthetic data
        return None
    if rng.random() < 0.3:  # noqa: PLR2004  a probability of the synthetic data
        return {"reassessed": False, "outcome": None}
    return {"reassessed": True, "outcome": _choice(rng, _REASSESSMENT) or None}


def _subcategory(rng: random.Random, category: str, region: str) -> str | None:
    if category == ItemCategory.SMALL_ARMS.value and rng.random() < _CONVERTED[region]:
        return ItemSubcategory.CONVERTED_NON_LETHAL_FIREARM.value
    reactivated = ITEM_SUBCATEGORY_CATEGORIES[ItemSubcategory.REACTIVATED_FIREARM]
    if category in reactivated and rng.random() < 0.04:  # noqa: PLR2004  a probability of the synthetic data
        return ItemSubcategory.REACTIVATED_FIREARM.value
    uncrewed = ITEM_SUBCATEGORY_CATEGORIES[ItemSubcategory.UNCREWED_SYSTEM]
    if category in uncrewed and rng.random() < 0.3:  # noqa: PLR2004  a probability of the synthetic data
        return ItemSubcategory.UNCREWED_SYSTEM.value
    return None


def working_group_fields(doc: Mapping[str, object]) -> dict[str, object]:
    """The Working Group's fields for the synthetic case *doc* (an input document with
    ``case_id``, ``region``, ``transfer_stage``, ``methods``, ``transport_modes``,
    ``detection_source`` and ``items``): only the fields that have a value, and ``items``
    with their subcategories."""
    rng = random.Random(f"dief/synthetic/wg/{doc['case_id']}")
    stage = str(doc["transfer_stage"])
    transfer_type = _choice(rng, _TRANSFER_TYPES[stage])
    methods = _strings(doc, "methods")
    if "illicit_brokering" in methods and rng.random() < 0.5:  # noqa: PLR2004  a probability of the synthetic data
        transfer_type = "brokering"
    fields: dict[str, object] = {"transfer_type": transfer_type}
    maritime = _maritime(rng, _strings(doc, "transport_modes"))
    if maritime:
        fields["maritime"] = maritime
    actors = _actors(rng, methods)
    if actors:
        fields["actor_roles"] = actors
    verification = _verification(rng, stage, str(doc["detection_source"]))
    if verification is not None:
        fields["verification"] = {k: v for k, v in verification.items() if v is not None}
    reassessment = _reassessment(rng, transfer_type)
    if reassessment is not None:
        fields["reassessment"] = {k: v for k, v in reassessment.items() if v is not None}
    items = doc.get("items")
    if isinstance(items, list):
        region = str(doc["region"])
        with_sub: list[object] = []
        for item in items:
            if isinstance(item, dict):
                sub = _subcategory(rng, str(item.get("category")), region)
                with_sub.append({**item, "subcategory": sub} if sub else item)
            else:
                with_sub.append(item)
        fields["items"] = with_sub
    return fields
