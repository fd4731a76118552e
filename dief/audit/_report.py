"""The audit of one reader: every suppressed cell's feasible interval, and what leaks."""

from __future__ import annotations

import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from dief.audit._documents import TOTAL, ReaderView, load_reader
from dief.audit._relations import SystemOptions, build_system
from dief.audit._solve import TOL, InfeasibleError, Interval, intervals, rank_determined

if TYPE_CHECKING:
    from collections.abc import Sequence

    from dief.audit._own import OwnCase
    from dief.audit._system import LinearSystem

__all__ = ["AuditReport", "CellAudit", "DocumentAudit", "audit", "audit_folder", "report_json"]

#: the roles of the unknowns whose intervals are computed (LinearSystem roles)
_REPORTED = ("suppressed", "grouped", "red")


@dataclass(frozen=True)
class CellAudit:
    """One suppressed cell (a value a grouped cell holds, or a TLP:RED count) and what the
    reader can tell of it.

    ``role`` is ``suppressed``, ``grouped`` or ``red``; ``table`` is ``kind/scope/period``;
    ``cell`` is ``dimension/value`` or ``_total``; ``issue`` the issue's label when several
    were read. ``by_rank`` says whether the equalities alone give it (the SVD attacker)."""

    role: str
    table: str
    cell: str
    issue: str
    lower: int
    upper: int | None
    by_rank: bool
    documents: tuple[str, ...]
    level: int

    @property
    def width(self) -> int | None:
        return None if self.upper is None else self.upper - self.lower

    @property
    def determined(self) -> bool:
        return self.width == 0

    @property
    def narrowed(self) -> bool:
        """Not determined, but pinned to fewer than ``level + 1`` values."""
        return self.width is not None and 0 < self.width < self.level


@dataclass(frozen=True)
class DocumentAudit:
    """Per document: the suppressed cells it shows, and how many of them leak."""

    document: str
    suppressed: int
    determined: int
    narrowed: int


@dataclass(frozen=True)
class AuditReport:
    """The audit of every document one region's reader holds."""

    region: str
    cells: tuple[CellAudit, ...]
    documents: tuple[DocumentAudit, ...]
    unknowns: int
    free_unknowns: int
    equalities: int
    inequalities: int
    seconds: float
    notes: tuple[str, ...] = ()

    @property
    def suppressed(self) -> tuple[CellAudit, ...]:
        return tuple(c for c in self.cells if c.role == "suppressed")

    @property
    def determined(self) -> tuple[CellAudit, ...]:
        """Suppressed cells the reader computes exactly, and values a grouped cell holds
        that it computes at one case or more (at 0 there is no contributor to expose)."""
        return tuple(report_cells_determined(self.cells))

    @property
    def narrowed(self) -> tuple[CellAudit, ...]:
        return tuple(c for c in self.suppressed if c.narrowed)

    @property
    def red_isolated(self) -> tuple[CellAudit, ...]:
        """TLP:RED counts of a cycle that the reader can compute, where the cycle's red
        cases are fewer than ``level`` (they may all be one State's): each is a
        categorical fact about those cases (their total alone says only how many)."""
        totals = {c.table: c for c in self.cells if c.role == "red" and c.cell == TOTAL}
        out: list[CellAudit] = []
        for c in self.cells:
            if c.role != "red" or c.cell == TOTAL or not c.determined or c.lower == 0:
                continue
            total = totals.get(c.table)
            if total is not None and total.upper is not None and total.upper < c.level:
                out.append(c)
        return tuple(out)

    @property
    def leaks(self) -> bool:
        return bool(self.determined or self.red_isolated)


def report_cells_determined(cells: Sequence[CellAudit]) -> list[CellAudit]:
    """The cells :attr:`AuditReport.determined` reports, among *cells*."""
    return [
        c
        for c in cells
        if c.determined and (c.role == "suppressed" or (c.role == "grouped" and c.lower >= 1))
    ]


def level_of(system: LinearSystem, j: int, view: ReaderView, default: int | None) -> int:
    """The protection level of unknown *j*: *default*, else its document's ``k`` (red
    counts: the summaries' ``k``, as red cases are kept out of them)."""
    if default is not None:
        return default
    issue, key, _ = system.names[j]
    if key[0] == "red":  # red cases are kept out of the summaries: their k
        ks = [t.k for k, t in view.issues[issue].tables.items() if k[0] == "summary" and t.k]
        return max(ks, default=3)
    table = view.issues[issue].tables.get(key)
    return table.k if table is not None and table.k else 2


def _solve_all(
    view: ReaderView, own: Sequence[OwnCase], refine_below: int, enough: int | None = None
) -> tuple[LinearSystem, dict[int, Interval], list[str]]:
    notes: list[str] = []
    attempts = [SystemOptions()]
    if len(view.issues) > 1:
        attempts.append(SystemOptions(link_issues=False))
    attempts.append(SystemOptions(link_issues=False, listed_at_least_one=False))
    # a contradiction with fewer assumptions means a document is wrong, or a relation:
    # each retry is noted in the report
    for options in attempts:
        system = build_system(view, own, options)
        # a cell one document hides and another publishes (an issue linked to another,
        # a previous count) is reported too: at its published count, determined
        targets = [
            j
            for j, role in enumerate(system.roles)
            if role in _REPORTED and (j not in system.published or role == "suppressed")
        ]
        try:
            found = intervals(system, targets, refine_below=refine_below, enough=enough)
        except InfeasibleError as exc:
            notes.append(f"{exc} with {options}: retried with fewer assumptions")
        else:
            return system, found, notes
    raise InfeasibleError("the documents contradict even the weakest relations")


def audit(  # noqa: PLR0913, PLR0914  a public keyword signature (the CLI, the bulletin audit, tests)
    view: ReaderView,
    own: Sequence[OwnCase] = (),
    *,
    level: int | None = None,
    integer: bool = False,
    bulletins: Sequence[OwnCase] = (),
    verdicts_only: bool = False,
) -> AuditReport:
    """Audit everything *view*'s reader holds. ``level``: the protection level (an interval
    narrower than it is reported); default each document's ``k``. ``integer``: check the
    narrowed intervals again as integer programmes (the LP bounds are rounded inwards, and
    bound propagation is integer, so this rarely finds more; slower). ``bulletins``: the
    bulletins the reader holds (:func:`dief.audit.load_bulletins`), cases every reader
    knows, joined to *own* without counting a case twice. ``verdicts_only``: an interval
    at least as wide as every level is not computed to its upper end (``upper`` None):
    the same determined, narrowed and red-isolated cells, much faster."""
    started = time.perf_counter()
    if bulletins:
        from dief.audit._bulletins import known_cases  # noqa: PLC0415  _bulletins imports this module: loaded on use

        own = known_cases(own, bulletins)
    enough = None
    if verdicts_only:  # the widest level any cell is judged by (red counts: the summaries')
        ks = [t.k or 2 for issue in view.issues for t in issue.tables.values()]
        enough = max([level or 0, 3, *ks])
    refine = max(level or 0, 3) if integer else 0
    system, found, notes = _solve_all(view, own, refine_below=refine, enough=enough)
    by_rank = rank_determined(system, list(found))
    labels = [issue.label for issue in view.issues]
    cells: list[CellAudit] = []
    for j, interval in sorted(found.items()):
        issue, key, cell = system.names[j]
        cells.append(
            CellAudit(
                role=system.roles[j],
                table="/".join(key),
                cell=cell,
                issue=labels[issue] if len(labels) > 1 else "",
                lower=interval.lower,
                upper=interval.upper,
                by_rank=j in by_rank,
                documents=system.documents[j],
                level=level_of(system, j, view, level),
            )
        )
    per_doc: dict[str, list[CellAudit]] = {d: [] for d in view.documents}
    for c in cells:
        for d in c.documents:
            per_doc.setdefault(d, []).append(c)
    exact = {id(c) for c in report_cells_determined(cells)}
    documents = tuple(
        DocumentAudit(
            d,
            sum(c.role == "suppressed" for c in cs),
            sum(id(c) in exact for c in cs),
            sum(c.role == "suppressed" and c.narrowed for c in cs),
        )
        for d, cs in per_doc.items()
    )
    free = int(sum(1 for lo, hi in zip(system.lower, system.upper, strict=True) if hi - lo > TOL))
    return AuditReport(
        region=view.region,
        cells=tuple(cells),
        documents=documents,
        unknowns=system.size,
        free_unknowns=free,
        equalities=system.a_eq.shape[0],
        inequalities=system.a_ub.shape[0],
        seconds=time.perf_counter() - started,
        notes=tuple(dict.fromkeys((*system.notes, *notes))),
    )


def audit_folder(  # noqa: PLR0913  a public keyword signature (the CLI, tests)
    folders: Path | Sequence[Path],
    region: str,
    *,
    own: Sequence[OwnCase] = (),
    level: int | None = None,
    integer: bool = False,
    bulletins: Sequence[OwnCase] = (),
    verdicts_only: bool = False,
) -> AuditReport:
    """Read the output folder(s) (oldest issue first) and audit *region*'s reader."""
    paths = [folders] if isinstance(folders, Path) else list(folders)
    view = load_reader(paths, region)
    return audit(
        view, own, level=level, integer=integer, bulletins=bulletins, verdicts_only=verdicts_only
    )


def report_json(report: AuditReport) -> dict[str, object]:
    """The report as plain JSON values (every audited cell, every document)."""
    data = asdict(report)
    data["summary"] = {
        "suppressed": len(report.suppressed),
        "determined": len(report.determined),
        "narrowed": len(report.narrowed),
        "red_isolated": len(report.red_isolated),
        "leaks": report.leaks,
    }
    return data
