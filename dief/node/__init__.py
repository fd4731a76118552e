"""The national node: validate, screen, generalise, seal, outbox, relay (DESIGN §2, §5, §8)."""

from dief.node._node import (
    Accepted,
    AlreadyPosted,
    NationalNode,
    NodeIdentity,
    Rejection,
    SubmitReport,
    case_fingerprint,
    write_rejections,
)
from dief.node._outbox import Outbox, PendingEntry, RevisionConflict
from dief.node._relay import OutboxRelay

__all__ = [
    "Accepted",
    "AlreadyPosted",
    "NationalNode",
    "NodeIdentity",
    "Outbox",
    "OutboxRelay",
    "PendingEntry",
    "Rejection",
    "RevisionConflict",
    "SubmitReport",
    "case_fingerprint",
    "write_rejections",
]
