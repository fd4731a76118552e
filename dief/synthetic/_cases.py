"""The synthetic cases: the forum's States, each region's profile, first versions and revisions."""

from __future__ import annotations

import json
import random
import uuid
from dataclasses import dataclass
from datetime import date
from typing import TYPE_CHECKING

from dief.synthetic._working_group import working_group_fields
from dief.vocab import (
    ActionTaken,
    Confidence,
    DetectionSource,
    EndUserType,
    ItemCategory,
    Method,
    Region,
    Tlp,
    TransferStage,
    TransportMode,
)

if TYPE_CHECKING:
    from collections.abc import Iterator, Sequence
    from pathlib import Path

__all__ = ["SIMULATED_STATES", "SyntheticCase", "generate_cases", "write_jsonl"]

#: Simulated States Parties by home region (ISO 3166 alpha-3 codes). They only ever appear
#: as ``submitted_by``, which never leaves the node.
SIMULATED_STATES: dict[Region, tuple[str, ...]] = {
    Region.AFR: (
        "NGA",
        "GHA",
        "SEN",
        "CIV",
        "MLI",
        "BFA",
        "NER",
        "ZAF",
        "KEN",
        "SLE",
        "LBR",
        "TGO",
    ),
    Region.APG: ("JPN", "KOR", "AUS", "NZL", "PHL", "MNG", "KAZ", "PSE", "SAU", "LBN"),
    Region.EEG: ("POL", "CZE", "ROU", "BGR", "SRB", "HRV", "LTU", "MDA", "UKR", "GEO", "ALB"),
    Region.GRULAC: ("MEX", "BRA", "ARG", "COL", "PER", "CHL", "CRI", "GTM", "JAM", "TTO", "DOM"),
    Region.WEOG: ("FRA", "DEU", "GBR", "ITA", "ESP", "NLD", "BEL", "SWE", "NOR", "CHE", "CAN"),
}

# Per-region profile: weights over methods, items, routes and end users, so that trends and
# checklists differ between regions as they would in a real exchange.
_PROFILES: dict[Region, dict[str, dict[str, float]]] = {
    Region.AFR: {
        "method": {
            "ant_trade": 4,
            "theft_or_loss": 4,
            "unauthorized_retransfer": 3,
            "corruption": 2,
        },
        "item": {"small_arms": 6, "ammunition": 6, "light_weapons": 3},
        "mode": {"land": 6, "sea": 2, "air": 1},
        "end_user": {"non_state_armed_group": 5, "criminal_organization": 3, "civilian_market": 2},
    },
    Region.APG: {
        "method": {"complex_routing": 4, "shell_company": 3, "misdeclaration_concealment": 4},
        "item": {"parts_and_components": 6, "missiles_and_launchers": 2, "ammunition": 3},
        "mode": {"sea": 6, "air": 3, "postal_courier": 2},
        "end_user": {"unauthorized_state_actor": 4, "criminal_organization": 2, "unknown": 2},
    },
    Region.EEG: {
        "method": {"theft_or_loss": 3, "insider_diversion": 3, "conversion_or_reactivation": 4},
        "item": {"small_arms": 5, "light_weapons": 4, "ammunition": 3, "parts_and_components": 2},
        "mode": {"land": 6, "postal_courier": 3, "air": 1},
        "end_user": {"criminal_organization": 5, "civilian_market": 3, "non_state_armed_group": 2},
    },
    Region.GRULAC: {
        "method": {"ant_trade": 5, "falsified_documents": 3, "misdeclaration_concealment": 3},
        "item": {"small_arms": 7, "ammunition": 5, "parts_and_components": 3},
        "mode": {"land": 4, "sea": 4, "postal_courier": 3},
        "end_user": {"criminal_organization": 7, "civilian_market": 3},
    },
    Region.WEOG: {
        "method": {"falsified_documents": 4, "illicit_brokering": 4, "shell_company": 3},
        "item": {"parts_and_components": 5, "small_arms": 3, "ammunition": 3},
        "mode": {"air": 4, "sea": 3, "postal_courier": 3},
        "end_user": {"unauthorized_state_actor": 3, "criminal_organization": 3, "unknown": 2},
    },
}

_DECEMBER = 12

_LESSONS: dict[TransferStage, tuple[str, ...]] = {
    TransferStage.PRE_TRANSFER: (
        (
            "The end-user certificate carried a signature that did not match the issuing "
            "authority's specimen; verification with the issuing authority before licensing "
            "would have caught it."
        ),
        (
            "The declared end user had no record of operating the requested calibre; a "
            "consistency check against the stated inventory flagged the application."
        ),
    ),
    TransferStage.IN_TRANSIT: (
        (
            "The consignment was re-manifested at a transshipment hub and the consignee "
            "changed to a freight forwarder; requiring notification of route changes helps."
        ),
        (
            "Cargo declared as machine parts was found to contain rifle receivers after a "
            "risk-based inspection triggered by an unusual routing."
        ),
    ),
    TransferStage.AT_IMPORT: (
        (
            "The importer could not present the delivery verification certificate within the "
            "agreed period; follow-up requests went unanswered for months."
        ),
        (
            "Serial numbers recorded at import did not match the export licence annex, "
            "suggesting substitution during transit."
        ),
    ),
    TransferStage.POST_DELIVERY: (
        (
            "Weapons from a documented delivery were later recovered from an armed group; "
            "marking and record-keeping allowed the tracing request to succeed."
        ),
        (
            "An on-site inspection found a shortfall against the delivered quantity with no "
            "record of authorised re-transfer."
        ),
    ),
    TransferStage.STOCKPILE: (
        (
            "Poor physical security at a depot allowed gradual theft of ammunition; an "
            "inventory reconciliation revealed the losses."
        ),
        (
            "Insider access at a storage site enabled removal of small arms over a long "
            "period; dual-control procedures were introduced afterwards."
        ),
    ),
}


@dataclass(frozen=True, slots=True)
class SyntheticCase:
    """One input line: the case document (with ``submitted_by``) as a plain mapping."""

    document: dict[str, object]


def _pick(rng: random.Random, weights: dict[str, float], extra: Sequence[str] = ()) -> str:
    names = list(weights) + list(extra)
    ws = list(weights.values()) + [0.5] * len(extra)
    return rng.choices(names, ws)[0]


def _picks(
    rng: random.Random, weights: dict[str, float], universe: Sequence[str], most: int
) -> list[str]:
    n = rng.randint(1, most)
    out: list[str] = []
    for _ in range(n):
        value = _pick(rng, weights, [u for u in universe if u not in weights])
        if value not in out:
            out.append(value)
    return out


def _indicators(rng: random.Random, ordered: Sequence[str], n: int) -> list[str]:
    weights = [1.0 / (rank + 1) for rank in range(len(ordered))]
    out: list[str] = []
    for _ in range(n):
        pick = rng.choices(ordered, weights)[0]
        if pick not in out:
            out.append(pick)
    return out


def _months(first: date, last: date) -> list[str]:
    months: list[str] = []
    y, m = first.year, first.month
    while (y, m) <= (last.year, last.month):
        months.append(f"{y:04d}-{m:02d}")
        y, m = (y + 1, 1) if m == _DECEMBER else (y, m + 1)
    return months


@dataclass(frozen=True, slots=True)
class _World:
    """What every synthetic case is drawn from: when, who, where and which indicators."""

    today: date
    months: list[str]
    #: later months are busier, so recent trends rise
    month_weights: list[float]
    #: (home region, State) in a shuffled order, for the skewed activity
    states: list[tuple[Region, str]]
    state_weights: list[float]
    regions: list[Region]
    region_weights: list[int]
    #: each region's indicators, most prevalent first
    indicator_order: dict[Region, list[str]]


def _world(
    rng: random.Random, indicator_ids: Sequence[str], today: date, first_month: date | None
) -> _World:
    """Draw the world of a set: months from *first_month* (default: two CSP cycles back)
    to *today*, States with Zipf-like activity, and each region's indicator ranking."""
    start = first_month or date(today.year - 2, 9, 1)
    months = _months(start, today)
    # Later months are busier, so recent trends rise.
    month_weights = [1.0 + i / len(months) for i in range(len(months))]
    states = [(region, code) for region, codes in SIMULATED_STATES.items() for code in codes]
    # Skewed activity: Zipf-like weights over a shuffled order of States.
    rng.shuffle(states)
    state_weights = [1.0 / (rank + 1) ** 0.8 for rank in range(len(states))]
    regions = list(Region)
    # Each region has its own most prevalent indicators.
    indicator_order = {r: rng.sample(list(indicator_ids), len(indicator_ids)) for r in regions}
    return _World(
        today=today,
        months=months,
        month_weights=month_weights,
        states=states,
        state_weights=state_weights,
        regions=regions,
        region_weights=[5, 4, 3, 4, 3],
        indicator_order=indicator_order,
    )


def _reporter(rng: random.Random, world: _World) -> tuple[Region, str]:
    """The State that reports the case, and the case's region (often the State's own)."""
    home, state = rng.choices(world.states, world.state_weights)[0]
    region = home if rng.random() < 0.55 else rng.choices(world.regions, world.region_weights)[0]  # noqa: PLR2004  a probability of the synthetic data
    return region, state


def _detected(rng: random.Random, world: _World, month: str) -> str:
    """When the case was detected in *month*: the month alone, or a day of it (up to today)."""
    last_day = world.today.day if month == world.months[-1] else 28
    return month if rng.random() < 0.5 else f"{month}-{rng.randint(1, last_day):02d}"  # noqa: PLR2004  a probability of the synthetic data


def _items(rng: random.Random, weights: dict[str, float]) -> list[dict[str, object]]:
    """One or two item categories, each with a quantity of some magnitude or "unknown"."""
    return [
        {
            "category": c,
            "quantity": rng.choice(
                [rng.randint(1, 10), rng.randint(11, 400), rng.randint(500, 20000), "unknown"]
            ),
        }
        for c in _picks(rng, weights, list(ItemCategory), 2)
    ]


def _first_version(rng: random.Random, world: _World) -> dict[str, object]:
    """A new case (revision 1), drawn from its region's profile."""
    region, state = _reporter(rng, world)
    profile = _PROFILES[region]
    stage = rng.choice(list(TransferStage))
    month = rng.choices(world.months, world.month_weights)[0]
    detected = _detected(rng, world, month)
    items = _items(rng, profile["item"])
    related = [r for r in world.regions if r != region and rng.random() < 0.06]  # noqa: PLR2004  a probability of the synthetic data
    doc: dict[str, object] = {
        "case_id": str(uuid.UUID(int=rng.getrandbits(128), version=4)),
        "revision": 1,
        "status": "active",
        "kind": "alert" if rng.random() < 0.04 else "case",  # noqa: PLR2004  a probability of the synthetic data
        "confidence": rng.choice(list(Confidence)).value,
        "region": region.value,
        "related_regions": [r.value for r in related],
        "detected": detected,
        "items": items,
        "transfer_stage": stage.value,
        "methods": _picks(rng, profile["method"], list(Method), 3),
        "transport_modes": _picks(rng, profile["mode"], list(TransportMode), 2),
        "end_user_type": _pick(
            rng, profile["end_user"], [e.value for e in EndUserType if e not in profile]
        ),
        "risk_indicators": _indicators(rng, world.indicator_order[region], rng.randint(1, 4)),
        "detection_source": rng.choice(list(DetectionSource)).value,
        "actions_taken": rng.sample([a.value for a in ActionTaken if a.value != "none"], 2),
        "tlp": rng.choices(list(Tlp), [1, 1, 5, 3, 1])[0].value,
        "submitted_by": state,
    }
    if rng.random() < 0.6:  # noqa: PLR2004  a probability of the synthetic data
        doc["summary"] = rng.choice(_LESSONS[stage])
    doc.update(working_group_fields(doc))
    return doc


def _next_revision(
    rng: random.Random, originals: Sequence[dict[str, object]], latest: dict[str, int]
) -> dict[str, object]:
    """A revision or withdrawal of one of *originals*, by the same node.

    *latest* holds each revised case's last revision number, and is updated.
    """
    base = rng.choice(originals)
    case_id = str(base["case_id"])
    latest[case_id] = latest.get(case_id, 1) + 1
    revised = dict(base)
    revised["revision"] = latest[case_id]
    if rng.random() < 0.25:  # noqa: PLR2004  a probability of the synthetic data
        revised["status"] = "withdrawn"
    else:
        revised["confidence"] = "confirmed"
        revised["actions_taken"] = sorted({*base["actions_taken"], "seizure"})  # type: ignore[misc]
    return revised


def generate_cases(
    n: int,
    *,
    seed: int = 7,
    indicator_ids: Sequence[str],
    today: date,
    first_month: date | None = None,
) -> Iterator[SyntheticCase]:
    """Yield about *n* input lines: first versions, then revisions and withdrawals.

    Dates fall between *first_month* (default: two CSP cycles back) and *today*.
    """
    rng = random.Random(seed)
    world = _world(rng, indicator_ids, today, first_month)
    originals: list[dict[str, object]] = []
    n_first = max(1, int(n * 0.88)) if n > 1 else n
    for _ in range(n_first):
        doc = _first_version(rng, world)
        originals.append(doc)
        yield SyntheticCase(doc)

    # Revisions and withdrawals of earlier cases, by the same node.
    latest: dict[str, int] = {}
    for _ in range(n - n_first):
        yield SyntheticCase(_next_revision(rng, originals, latest))


def write_jsonl(cases: Iterator[SyntheticCase], path: Path) -> int:
    """Write *cases* as JSON Lines; returns the number of lines."""
    n = 0
    with path.open("w", encoding="utf-8") as fh:
        for case in cases:
            fh.write(json.dumps(case.document, ensure_ascii=False) + "\n")
            n += 1
    return n
