"""The release rule's audit half, wired to :mod:`dief.audit` (DESIGN §13 ⚑, issue #18).

:func:`bulletin_audit_check` gives the aggregator its :class:`~dief.seams.BulletinAuditCheck`:
:class:`dief.audit.BulletinAudit` over the documents the region's readers hold, with every
bulletin the :class:`~dief.bulletins.BulletinLedger` says the region let out (and did not
retract) counted as a case every reader knows, so a series of bulletins cannot narrow a
hidden cell one by one. The documents are, **by default, the aggregator's own**
(:class:`~dief.bulletins._documents.StoreDocuments`: the digests it builds from its store,
the summaries it read from ``csp.reporting``); a folder of published documents
(``DIEF_BULLETIN_AUDIT_FOLDER``, ``digests/<region>/``, ``summary/``, read again when a file
changes) is used instead when given — for a deployment that keeps the issues its readers
were sent and wants the audit on exactly those.

A candidate the ledger already holds (sent, then put back after a failed send) is not
asked about again: it is counted already. A failure to read the documents (or any
unforeseen failure of the check) refuses the candidate for now (logged by error type; the
bulletin waits for the next batch).

:mod:`dief.audit` (NumPy, HiGHS) is imported only when the check is first made: it takes
seconds to import, and every node and CLI command imports this package.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Awaitable, Callable, Mapping, Sequence
from typing import TYPE_CHECKING

from dief.bulletins._ledger import BulletinLedger, MemoryLedger
from dief.exceptions import DiefError

if TYPE_CHECKING:
    from pathlib import Path

    from dief.audit import BulletinAudit, OwnCase, ReaderView
    from dief.seams import BulletinAuditCheck

__all__ = ["Documents", "bulletin_audit_check", "folder_documents"]

log = logging.getLogger("dief.bulletins")

#: A region's reader view (the documents its readers hold).
Documents = Callable[[str], Awaitable["ReaderView"]]


class _FolderDocuments:
    """A region's reader view from *folder*, the same object while no file changed (so the
    audit keeps its baseline)."""

    def __init__(self, folder: Path) -> None:
        self._folder = folder
        self._held: dict[str, tuple[tuple[tuple[str, int], ...], ReaderView]] = {}

    def __repr__(self) -> str:
        return "FolderDocuments()"

    def _stamp(self) -> tuple[tuple[str, int], ...]:
        return tuple(sorted((str(p), p.stat().st_mtime_ns) for p in self._folder.rglob("*.json")))

    async def __call__(self, region: str) -> ReaderView:
        from dief.audit import load_reader  # noqa: PLC0415  deferred: seconds to import, and every node and CLI command imports this package (module docstring)

        stamp = await asyncio.to_thread(self._stamp)
        held = self._held.get(region)
        if held is not None and held[0] == stamp:
            return held[1]
        view = await asyncio.to_thread(load_reader, [self._folder], region)
        self._held[region] = (stamp, view)
        return view


def folder_documents(folder: Path) -> Documents:
    """The documents in an output folder, as :func:`bulletin_audit_check` reads them."""
    return _FolderDocuments(folder)


class _Released:
    """The bulletins in force in the ledger, as the cases every reader knows (all but the
    candidate asked about)."""

    def __init__(self, ledger: BulletinLedger) -> None:
        self._ledger = ledger
        self.candidate: str | None = None

    async def ids(self, region: str) -> set[str]:
        return {b.bulletin_id for b in await self._ledger.released(region)}

    async def __call__(self, region: str) -> Sequence[OwnCase]:
        from dief.audit import bulletin_case  # noqa: PLC0415  deferred: seconds to import, and every node and CLI command imports this package (module docstring)

        out: list[OwnCase] = []
        for kept in await self._ledger.released(region):
            if kept.bulletin_id == self.candidate:
                continue
            case = bulletin_case(_facts(kept.facts), region)
            if case is not None:
                out.append(case)
        return out


def _facts(text: str) -> Mapping[str, object]:
    try:
        data = json.loads(text)
    except ValueError:
        return {}
    return data if isinstance(data, dict) else {}


class _LedgerAudit:
    """The audit's check over the ledger's released bulletins (module docstring)."""

    def __init__(self, audit: BulletinAudit, released: _Released) -> None:
        self._audit = audit
        self._released = released

    def __repr__(self) -> str:
        return f"LedgerAudit({self._audit!r})"

    @property
    def last(self) -> object:
        """The last :class:`dief.audit.BulletinCheck` made (tests, measurements)."""
        return self._audit.last

    async def holds_with(self, region: str, cycle: str, facts: Mapping[str, object]) -> bool:
        bulletin_id = facts.get("bulletin_id")
        if isinstance(bulletin_id, str) and bulletin_id in await self._released.ids(region):
            return True  # let out already (then put back): counted, not asked again
        self._released.candidate = bulletin_id if isinstance(bulletin_id, str) else None
        try:
            return await self._audit.holds_with(region, cycle, facts)
        except DiefError as exc:
            log.warning(
                "%s: a bulletin waits: the documents its audit needs were not read (%s)",
                region,
                type(exc).__name__,
            )
            return False
        except Exception as exc:  # noqa: BLE001  a check that fails unforeseen refuses (safe) and must not stop the batches
            log.error(  # noqa: TRY400  logged by type only: a traceback could carry case facts
                "%s: a bulletin waits: its audit failed (%s)", region, type(exc).__name__
            )
            return False


def bulletin_audit_check(
    folder: Path | None = None,
    *,
    documents: Documents | None = None,
    ledger: BulletinLedger | None = None,
    max_lp: int | None = None,
) -> BulletinAuditCheck | None:
    """:class:`dief.audit.BulletinAudit` over *documents* (the aggregator's own:
    :class:`~dief.bulletins._documents.StoreDocuments`), or over the documents in *folder*
    when given (it wins: an override), counting the bulletins in force in *ledger* (an
    in-memory one if None; the collector must write to the same). None when neither
    documents nor a folder is given."""
    if folder is not None:
        documents = folder_documents(folder)
    if documents is None:
        return None
    from dief.audit import BulletinAudit  # noqa: PLC0415  deferred: seconds to import, and every node and CLI command imports this package (module docstring)

    released = _Released(ledger if ledger is not None else MemoryLedger())
    return _LedgerAudit(BulletinAudit(documents, released, max_lp=max_lp), released)
