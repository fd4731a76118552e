"""The national node: validate, screen, generalise, sign, seal, outbox, relay, and read back
the receipts of what it posted (DESIGN §2, §5, §8).

Case identity and ownership: :class:`NodeIdentity` derives each case's owner key from the
node secret and the case index the outbox keeps (:class:`CaseIndexEntry`); cases wait
unsealed in the outbox (:class:`HeldCase`) until their contributor token arrives, and
:class:`HeldCases` releases them.

Running a node: :func:`own_keys` (its keys and directory), :func:`first_directory`,
:class:`DirectorySealer` (sealing to the directory's region keys at each seal),
:func:`post_files` and :func:`watch_intake` (files of cases, the intake directory).
"""

from dief.node._held import HeldCases
from dief.node._identity import OWNER_KEY_INFO, NodeIdentity
from dief.node._intake import INTAKE_SUFFIXES, FileResult, post_files, watch_intake
from dief.node._keys import (
    FIRST_DIRECTORY_SECONDS,
    DirectorySealer,
    OwnKeys,
    first_directory,
    own_keys,
)
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
    "FIRST_DIRECTORY_SECONDS",
    "INTAKE_SUFFIXES",
    "OWNER_KEY_INFO",
    "Accepted",
    "AlreadyPosted",
    "CaseIndexEntry",
    "CaseReceipts",
    "DirectorySealer",
    "FileResult",
    "HeldCase",
    "HeldCases",
    "NationalNode",
    "NodeIdentity",
    "Outbox",
    "OutboxRelay",
    "OwnKeys",
    "PendingEntry",
    "ReceiptBook",
    "ReceiptReader",
    "ReceiptState",
    "ReceiptTicket",
    "Rejection",
    "RevisionConflict",
    "SubmitReport",
    "case_fingerprint",
    "first_directory",
    "own_keys",
    "post_files",
    "watch_intake",
    "write_accepted",
    "write_rejections",
]
