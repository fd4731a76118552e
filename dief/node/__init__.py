"""The national node: validate, screen, generalise, sign, seal, outbox, relay, and read back
the receipts of what it posted (DESIGN §2, §5, §8).

Case identity and ownership: :class:`NodeIdentity` derives each case's owner key from the
node secret and the case index the outbox keeps (:class:`CaseIndexEntry`); cases wait
unsealed in the outbox (:class:`HeldCase`) until their contributor token arrives.
"""

from dief.node._identity import OWNER_KEY_INFO, NodeIdentity
from dief.node._node import NationalNode, case_fingerprint
from dief.node._outbox import (
    CaseIndexEntry,
    HeldCase,
    Outbox,
    PendingEntry,
    RevisionConflict,
)
from dief.node._reader import ReceiptReader
from dief.node._receipts import CaseReceipts, ReceiptBook, ReceiptState, ReceiptTicket
from dief.node._relay import OutboxRelay
from dief.node._reports import (
    Accepted,
    AlreadyPosted,
    Rejection,
    SubmitReport,
    write_accepted,
    write_rejections,
)

__all__ = [
    "OWNER_KEY_INFO",
    "Accepted",
    "AlreadyPosted",
    "CaseIndexEntry",
    "CaseReceipts",
    "HeldCase",
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
    "write_accepted",
    "write_rejections",
]
