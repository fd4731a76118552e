"""Bulletins in the audit (DESIGN §13 ⚑): a bulletin's facts are a case every reader knows.

A bulletin (``dief.wire.BulletinEntry``: kind, item categories, end-user type, transfer
stage, methods, route regions, risk indicators, month) counts as one case of its region in
every table of its period: the region's month, quarter and cycle digests, the region's and
the global summary rows, the route tables to its route regions. Like the reader's own
cases it gives lower bounds only (at least one case in each cell it falls in), never an
exact count: the bulletin does not say the case's other values (detection source,
confidence, actions, transport), so those cells get no bound.

:func:`load_bulletins` reads the opened bulletins a node holds (the ``BulletinBoard`` file,
``{"live": [{"region", "issued_hour", "entry"}], "retracted": [...]}``), retracted ones left
out; :func:`known_cases` joins them to the reader's own cases without counting one case
twice (a bulletin the reader's own case could be is taken as that case).

The release rule's check: :func:`audit_baseline` audits a reader once, :func:`check_bulletin`
answers "does the audit still hold with this candidate" — a cheap sufficient test first
(every cell the candidate raises already has a least value at or above its new known
count: the feasible set is unchanged), the LP only on the blocks the candidate touches
otherwise, and there only for the cells feasible points do not show wide and that were
not narrower than their level before (:mod:`dief.audit._witness`: a block of withheld
month cells links most of a region's tables). :class:`BulletinAudit` is the
:class:`dief.seams.BulletinAuditCheck` over it.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from dief.audit._documents import ReaderView
from dief.audit._own import OwnCase
from dief.audit._relations import SystemOptions, build_system
from dief.audit._report import level_of
from dief.audit._solve import TOL, InfeasibleError, Interval, blocks, intervals
from dief.audit._witness import narrowed
from dief.exceptions import ConfigurationError

if TYPE_CHECKING:
    from pathlib import Path

    from dief.audit._system import LinearSystem

__all__ = [
    "AuditBaseline",
    "BulletinAudit",
    "BulletinCheck",
    "audit_baseline",
    "bulletin_case",
    "check_bulletin",
    "known_cases",
    "load_bulletins",
]

_LISTS = {
    "item_categories": "item_category",
    "methods": "method",
    "risk_indicators": "risk_indicator",
}
_SINGLE = ("kind", "end_user_type", "transfer_stage")


def bulletin_case(facts: Mapping[str, object], region: str) -> OwnCase | None:
    """A bulletin's facts as a case every reader knows; None for a retraction or a bulletin
    without a month (it says nothing countable)."""
    if facts.get("action", "publish") != "publish":
        return None
    month = facts.get("month")
    if not isinstance(month, str) or len(month) != 7:  # noqa: PLR2004  7 = len("YYYY-MM"): a month's period
        return None
    pairs: set[tuple[str, str]] = set()
    for name in _SINGLE:
        value = facts.get(name)
        if isinstance(value, str) and value:
            pairs.add((name, value))
    for name, dim in _LISTS.items():
        values = facts.get(name) or ()
        if isinstance(values, (list, tuple)):
            pairs.update((dim, str(v)) for v in values)
    routes = facts.get("route_regions") or ()
    related = (
        tuple(str(r) for r in routes if str(r) != region)
        if isinstance(routes, (list, tuple))
        else ()
    )
    return OwnCase(region, month, red=False, values=tuple(sorted(pairs)), related_regions=related)


def load_bulletins(path: Path) -> tuple[OwnCase, ...]:
    """The bulletins in force in a node's board file (or a JSON list of its ``live`` rows)."""
    try:
        data: Any = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise ConfigurationError(
            f"cannot read bulletins from {path.name}: {type(exc).__name__}"
        ) from exc
    rows = data.get("live", []) if isinstance(data, Mapping) else data
    retracted = set(data.get("retracted", [])) if isinstance(data, Mapping) else set()
    if not isinstance(rows, list):
        raise ConfigurationError(f"{path.name} holds no bulletins")
    out: list[OwnCase] = []
    for row in rows:
        if not isinstance(row, Mapping) or not isinstance(row.get("entry"), Mapping):
            raise ConfigurationError(f"{path.name}: a bulletin row without its entry")
        entry = row["entry"]
        if entry.get("bulletin_id") in retracted:
            continue
        case = bulletin_case(entry, str(row.get("region", "")))
        if case is not None:
            out.append(case)
    return tuple(out)


def _could_be(bulletin: OwnCase, own: OwnCase) -> bool:
    return (
        own.region == bulletin.region
        and own.month == bulletin.month
        and not own.red
        and set(bulletin.values) <= set(own.values)
    )


def known_cases(own: Sequence[OwnCase], bulletins: Sequence[OwnCase]) -> tuple[OwnCase, ...]:
    """The reader's own cases and the bulletins, a bulletin that one of the reader's own
    cases could be taken as that case (one to one), so no case is counted twice."""
    free = list(own)
    out = list(own)
    for b in bulletins:
        match = next((n for n, o in enumerate(free) if _could_be(b, o)), None)
        if match is None:
            out.append(b)
        else:
            free.pop(match)
    return tuple(out)


@dataclass(frozen=True)
class BulletinCheck:
    """The answer for one candidate. ``holds``: no cell the audit found protected without
    the candidate is determined or narrowed below its level with it. ``by``: ``bounds``
    (the cheap test sufficed), ``lp`` (blocks re-solved) or ``contradiction`` (the documents
    do not count the candidate's case: refused until they do). ``cells`` the cells it would
    expose (``kind/scope/period``, ``cell``)."""

    holds: bool
    by: str
    seconds: float
    cells: tuple[tuple[str, str], ...] = ()


@dataclass(frozen=True)
class AuditBaseline:
    """One reader's system with its known cases, kept for :func:`check_bulletin`.
    ``found`` caches the intervals computed so far (on demand: a check needs only those of
    the unknowns a candidate raises, and of the cells it would narrow)."""

    view: ReaderView
    known: tuple[OwnCase, ...]
    level: int | None
    system: LinearSystem
    options: SystemOptions
    found: dict[int, Interval]
    targets: tuple[int, ...]

    @property
    def enough(self) -> int:
        """The widest level a cell is judged by: an interval at least this wide is left
        open above (:func:`dief.audit.intervals` ``enough``; the same verdicts)."""
        ks = [t.k or 2 for issue in self.view.issues for t in issue.tables.values()]
        return max([self.level or 0, 3, *ks])

    def intervals_of(self, unknowns: Sequence[int]) -> Mapping[int, Interval]:
        need = sorted({j for j in unknowns if j not in self.found})
        if need:
            self.found.update(intervals(self.system, need, enough=self.enough))
        return {j: self.found[j] for j in unknowns}


def _targets(system: LinearSystem) -> list[int]:
    return [
        j
        for j, role in enumerate(system.roles)
        if role in {"suppressed", "grouped", "red"} and j not in system.published
    ]


def audit_baseline(
    view: ReaderView, known: Sequence[OwnCase] = (), *, level: int | None = None
) -> AuditBaseline:
    """*view*'s reader with the *known* cases (own and bulletins), ready for checks: the
    system is built (and shown feasible) now, intervals are computed when a check needs
    them and kept."""
    for options in (SystemOptions(), SystemOptions(listed_at_least_one=False)):
        system = build_system(view, known, options)
        reduced = blocks(system)
        if not reduced.consistent:
            continue
        base = AuditBaseline(view, tuple(known), level, system, options, {}, ())
        try:  # feasibility: one unknown of each block (all blocks when there are few)
            base.intervals_of([int(b.unknowns[0]) for b in reduced.blocks])
        except InfeasibleError:
            continue
        return AuditBaseline(
            view, tuple(known), level, system, options, base.found, tuple(_targets(system))
        )
    raise InfeasibleError("the documents contradict the relations and the known cases")


def _exposed(base: AuditBaseline, j: int, new: Interval) -> bool:
    lvl = level_of(base.system, j, base.view, base.level)
    width = new.width
    if width is None or width >= lvl:
        return False
    old = base.intervals_of([j])[j]
    if old.width is not None and old.width < lvl:
        return False  # exposed already without the candidate: not this candidate's doing
    role = base.system.roles[j]
    return role == "suppressed" or (role in {"red", "grouped"} and width == 0 and new.lower > 0)


def check_bulletin(  # noqa: C901, PLR0911  one early answer per case, in the order of their cost
    base: AuditBaseline, candidate: OwnCase, *, max_lp: int | None = None, witness: bool = True
) -> BulletinCheck:
    """Does the audit still hold with *candidate* known to every reader? Sufficient test
    first (the least value of every unknown it raises, one LP each, kept), then the LP on
    the touched blocks only — unless they hold more than *max_lp* reported cells: then
    ``deferred`` (refused for now, safe; two LPs per cell, about 0.04 s each here). There,
    with *witness* (default), a cell a few feasible points show at least its level wide,
    or one narrower than its level without the candidate, is not solved: it cannot be
    exposed (:func:`dief.audit._witness.narrowed`; the same answers as solving every
    cell, ``witness=False``: realistic AFR with withheld dimensions, 16.6 s against
    244.8 s for one candidate, the same six cells named)."""
    started = time.perf_counter()
    system = build_system(base.view, (*base.known, candidate), base.options)
    n = base.system.size
    raised: list[int] = []
    for j in (int(x) for x in np.flatnonzero(system.lower[:n] > base.system.lower + 1e-9)):
        if system.lower[j] > base.system.upper[j] + 1e-9:
            return BulletinCheck(
                holds=False, by="contradiction", seconds=time.perf_counter() - started
            )
        if base.system.upper[j] - base.system.lower[j] > TOL:
            raised.append(j)  # a published count already includes the candidate's case
    try:
        old = base.intervals_of(raised)
    except InfeasibleError:
        return BulletinCheck(holds=False, by="contradiction", seconds=time.perf_counter() - started)
    slow = [j for j in raised if system.lower[j] > old[j].lower]
    if not slow:
        return BulletinCheck(holds=True, by="bounds", seconds=time.perf_counter() - started)
    reduced = blocks(system)
    if not reduced.consistent:
        return BulletinCheck(holds=False, by="contradiction", seconds=time.perf_counter() - started)
    touched: set[int] = set()
    for block in reduced.blocks:
        members = {int(j) for j in block.unknowns}
        if members.intersection(slow):
            touched |= members
    wanted = [j for j in base.targets if j in touched]
    if max_lp is not None and len(wanted) > max_lp:
        return BulletinCheck(holds=False, by="deferred", seconds=time.perf_counter() - started)
    levels = {j: level_of(system, j, base.view, base.level) for j in wanted}
    try:
        # only a cell narrower than its level with the candidate may be exposed; the
        # cells two feasible points show wide are not solved (dief.audit._witness)
        found = narrowed(
            system,
            reduced,
            levels,
            enough=base.enough,
            before=base.intervals_of if witness else None,
        )
    except InfeasibleError:
        return BulletinCheck(holds=False, by="contradiction", seconds=time.perf_counter() - started)
    base.intervals_of(sorted(found))  # the intervals without the candidate, in one pass
    exposed = [j for j in wanted if j in found and _exposed(base, j, found[j])]
    cells = tuple(("/".join(system.names[j][1]), system.names[j][2]) for j in exposed)
    return BulletinCheck(not exposed, "lp", time.perf_counter() - started, cells)


Documents = Callable[[str], Awaitable[ReaderView]]
Known = Callable[[str], Awaitable[Sequence[OwnCase]]]


class BulletinAudit:
    """:class:`dief.seams.BulletinAuditCheck` over :func:`check_bulletin`.

    *documents* gives a region's reader view — the documents the region publishes, counting
    the candidate's case (the same object while they are unchanged: the baseline is kept
    per region and view); *released* the bulletins already out for the region's readers
    (their facts are known too). A candidate is refused when the documents do not count
    its case yet (``contradiction``), when it would expose a protected cell, or when the LP
    it needs exceeds *max_lp* cells (``deferred``; None: no limit)."""

    def __init__(
        self,
        documents: Documents,
        released: Known | None = None,
        *,
        level: int | None = None,
        max_lp: int | None = None,
    ) -> None:
        self._documents = documents
        self._released = released
        self._level = level
        self._max_lp = max_lp
        self._cache: dict[str, tuple[ReaderView, tuple[OwnCase, ...], AuditBaseline]] = {}
        self.last: BulletinCheck | None = None

    def __repr__(self) -> str:
        return f"BulletinAudit(regions cached={len(self._cache)})"

    async def _baseline(self, region: str) -> AuditBaseline:
        view = await self._documents(region)
        known = tuple(await self._released(region)) if self._released is not None else ()
        cached = self._cache.get(region)
        if cached is not None and cached[0] is view and cached[1] == known:
            return cached[2]
        base = await asyncio.to_thread(audit_baseline, view, known, level=self._level)
        self._cache[region] = (view, known, base)
        return base

    async def holds_with(self, region: str, cycle: str, facts: Mapping[str, object]) -> bool:  # noqa: ARG002  the seam's signature: the audit reads the whole region
        candidate = bulletin_case(facts, region)
        if candidate is None:
            return True  # a retraction or a bulletin without a month counts nothing
        try:
            base = await self._baseline(region)
        except InfeasibleError:
            return False
        result = await asyncio.to_thread(check_bulletin, base, candidate, max_lp=self._max_lp)
        self.last = result
        return result.holds
