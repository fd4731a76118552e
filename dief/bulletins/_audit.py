"""The release rule's audit half, wired to :mod:`dief.audit` (DESIGN §13 ⚑).

:func:`bulletin_audit_check` gives the aggregator service its
:class:`~dief.seams.BulletinAuditCheck`: :class:`dief.audit.BulletinAudit` over the documents
the region's readers hold — the output folder ``DIEF_BULLETIN_AUDIT_FOLDER``
(``digests/<region>/``, ``summary/``), read again only when a file in it changed — with the
bulletins this check already let out counted as cases every reader knows. Without a folder
there is no check (the service checks the contributor half only and says so).

:mod:`dief.audit` (NumPy, HiGHS) is imported only when a folder is configured: it takes
seconds to import, and every node and CLI command imports this package.
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from dief.seams import BulletinAuditCheck

if TYPE_CHECKING:
    from dief.audit import BulletinAudit, OwnCase, ReaderView

__all__ = ["bulletin_audit_check"]


class _FolderDocuments:
    """A region's reader view from *folder*, the same object while no file changed (so the
    audit keeps its baseline)."""

    def __init__(self, folder: Path) -> None:
        self._folder = folder
        self._held: dict[str, tuple[tuple[tuple[str, int], ...], ReaderView]] = {}

    def _stamp(self) -> tuple[tuple[str, int], ...]:
        return tuple(sorted((str(p), p.stat().st_mtime_ns) for p in self._folder.rglob("*.json")))

    async def __call__(self, region: str) -> ReaderView:
        from dief.audit import load_reader  # see the module's docstring

        stamp = await asyncio.to_thread(self._stamp)
        held = self._held.get(region)
        if held is not None and held[0] == stamp:
            return held[1]
        view = await asyncio.to_thread(load_reader, [self._folder], region)
        self._held[region] = (stamp, view)
        return view


class _Released:
    """The bulletins let out so far, per region, as the cases every reader knows."""

    def __init__(self) -> None:
        self.cases: dict[str, list[OwnCase]] = {}

    async def __call__(self, region: str) -> Sequence[OwnCase]:
        return tuple(self.cases.get(region, ()))


class _RecordingAudit:
    """The audit's check, remembering each bulletin it let out (their facts are known)."""

    def __init__(self, audit: BulletinAudit, released: _Released) -> None:
        self._audit = audit
        self._released = released

    def __repr__(self) -> str:
        return f"RecordingAudit({self._audit!r})"

    async def holds_with(self, region: str, cycle: str, facts: Mapping[str, object]) -> bool:
        from dief.audit import bulletin_case  # see the module's docstring

        if not await self._audit.holds_with(region, cycle, facts):
            return False
        case = bulletin_case(facts, region)
        if case is not None:
            self._released.cases.setdefault(region, []).append(case)
        return True


def bulletin_audit_check(folder: Path | None) -> BulletinAuditCheck | None:
    """:class:`dief.audit.BulletinAudit` over the documents in *folder* (None without one)."""
    if folder is None:
        return None
    from dief.audit import BulletinAudit  # see the module's docstring

    released = _Released()
    return _RecordingAudit(BulletinAudit(_FolderDocuments(folder), released), released)
