"""The national node: validate, screen, generalise, seal, outbox, relay, and read back the
receipts of what it posted (DESIGN §2, §5, §8)."""

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
from dief.node._reader import ReceiptReader
from dief.node._receipts import CaseReceipts, ReceiptBook, ReceiptState, ReceiptTicket
from dief.node._relay import OutboxRelay

__all__ = [
    "Accepted",
    "AlreadyPosted",
    "CaseReceipts",
    "NationalNode",
    "NodeIdentity",
    "Outbox",
    "OutboxRelay",
    "PendingEntry",
    "ReceiptBook",
    "ReceiptReader",
    "ReceiptState",
    "ReceiptTicket",
    "Rejection",
    "RevisionConflict",
    "SubmitReport",
    "case_fingerprint",
    "write_rejections",
]
