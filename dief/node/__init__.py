"""The national node: validate, screen, generalise, seal, outbox, relay (DESIGN §2, §5, §8)."""

from dief.node._node import (
    Accepted,
    NationalNode,
    NodeIdentity,
    Rejection,
    SubmitReport,
    write_rejections,
)
from dief.node._outbox import Outbox, PendingEntry, RevisionConflict
from dief.node._relay import OutboxRelay

__all__ = [
    "Accepted",
    "NationalNode",
    "NodeIdentity",
    "Outbox",
    "OutboxRelay",
    "PendingEntry",
    "Rejection",
    "RevisionConflict",
    "SubmitReport",
    "write_rejections",
]
