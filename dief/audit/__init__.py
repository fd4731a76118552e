"""An independent disclosure audit (DESIGN §7, issue #15): what a reader of one region can
compute from everything it holds.

It reads the published documents only (an output folder: the region's digests with the
route tables they show, every CSP summary; optionally the reader's own cases), sets up the
linear relations a reader knows from DESIGN §5/§7 — never the suppression code's own model
— and bounds every suppressed cell by linear programming (HiGHS), and by rank (SVD) on the
equalities alone. See docs/audit.md.
"""

from dief.audit._bulletins import (
    AuditBaseline,
    BulletinAudit,
    BulletinCheck,
    audit_baseline,
    bulletin_case,
    check_bulletin,
    known_cases,
    load_bulletins,
)
from dief.audit._documents import (
    TOTAL,
    Issue,
    PublishedTable,
    ReaderView,
    TableKey,
    load_reader,
    read_issue,
)
from dief.audit._held import held_reader
from dief.audit._own import OwnCase, load_own_cases, own_case
from dief.audit._publication import check_publication
from dief.audit._relations import SystemOptions, build_system
from dief.audit._report import (
    AuditReport,
    CellAudit,
    DocumentAudit,
    audit,
    audit_folder,
    report_json,
)
from dief.audit._solve import InfeasibleError, Interval, intervals, rank_determined
from dief.audit._system import LinearSystem, SystemBuilder, Var
from dief.audit._utility import (
    Utility,
    UtilityCell,
    document_type,
    folder_utility,
    published_share,
)

__all__ = [
    "TOTAL",
    "AuditBaseline",
    "AuditReport",
    "BulletinAudit",
    "BulletinCheck",
    "CellAudit",
    "DocumentAudit",
    "InfeasibleError",
    "Interval",
    "Issue",
    "LinearSystem",
    "OwnCase",
    "PublishedTable",
    "ReaderView",
    "SystemBuilder",
    "SystemOptions",
    "TableKey",
    "Utility",
    "UtilityCell",
    "Var",
    "audit",
    "audit_baseline",
    "audit_folder",
    "build_system",
    "bulletin_case",
    "check_bulletin",
    "check_publication",
    "document_type",
    "folder_utility",
    "held_reader",
    "intervals",
    "known_cases",
    "load_bulletins",
    "load_own_cases",
    "load_reader",
    "own_case",
    "published_share",
    "rank_determined",
    "read_issue",
    "report_json",
]
