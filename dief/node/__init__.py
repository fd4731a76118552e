"""The national node: validate, screen, generalise, seal, outbox, relay (DESIGN §2, §5, §8)."""

from dief.node._node import (
    Accepted,
    NationalNode,
    NodeIdentity,
    Rejection,
    SubmitReport,
    write_rejections,
)
from dief.node._outbox import Outbox, OutboxEntry, PendingEntry, RevisionConflict
from dief.node._relay import Backoff, OutboxRelay, Publisher

__all__ = [
    "Accepted",
    "Backoff",
    "NationalNode",
    "NodeIdentity",
    "Outbox",
    "OutboxEntry",
    "OutboxRelay",
    "PendingEntry",
    "Publisher",
    "Rejection",
    "RevisionConflict",
    "SubmitReport",
    "write_rejections",
]
