"""From an applied case record to a bulletin entry: generalised facts only (DESIGN §13 ⚑).

What a bulletin carries: the kind, item categories, end-user type, transfer stage, methods,
the route regions (the counting region and the related ones), risk indicators, the month
and the lesson. Never the contributor, pseudonym, owner key, case id, envelope id, revision,
item subcategories or quantity bands. Only TLP clear and green cases become bulletins.
"""

from __future__ import annotations

import secrets

from dief.vocab import CaseKind, CaseStatus, Tlp
from dief.wire import BulletinEntry, CaseRecord

__all__ = ["BULLETIN_TLPS", "eligible", "generalise", "new_bulletin_id", "retraction"]

#: The TLP levels whose cases may become bulletins; red, amber and amber-strict never do.
BULLETIN_TLPS = frozenset({Tlp.CLEAR, Tlp.GREEN})


def new_bulletin_id() -> str:
    """A random bulletin id (128 bits, hex): nothing in it derives from the case."""
    return secrets.token_hex(16)


def eligible(record: CaseRecord, *, any_case: bool = False) -> bool:
    """Whether this (active) revision becomes a bulletin: an alert — or any case when the
    forum setting *any_case* says so — at TLP clear or green."""
    if record.status is not CaseStatus.ACTIVE or record.tlp not in BULLETIN_TLPS:
        return False
    return any_case or record.kind is CaseKind.ALERT


def generalise(record: CaseRecord, bulletin_id: str) -> BulletinEntry:
    """The bulletin of *record* under *bulletin_id* (the caller checked :func:`eligible`)."""
    regions = sorted({str(record.region), *(str(r) for r in record.related_regions)})
    return BulletinEntry(
        bulletin_id=bulletin_id,
        action="publish",
        kind=str(record.kind),
        item_categories=tuple(sorted({str(item.category) for item in record.items})),
        end_user_type=str(record.end_user_type),
        transfer_stage=str(record.transfer_stage),
        methods=tuple(sorted(str(m) for m in record.methods)),
        route_regions=tuple(regions),
        risk_indicators=tuple(sorted(record.risk_indicators)),
        month=record.detected_month,
        lesson=record.summary if record.tlp in BULLETIN_TLPS else None,
    )


def retraction(bulletin_id: str) -> BulletinEntry:
    """The entry that retracts bulletin *bulletin_id*: its id and nothing else."""
    return BulletinEntry(bulletin_id=bulletin_id, action="retract")
