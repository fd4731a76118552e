"""The portal's seam to the national node: post a released case, and learn what became of
the node's cases (held, queued, published, then the receipts: applied or dead-lettered).

:class:`NodeServiceGateway` runs the node service (:class:`producers.node.NodeService`) in
the portal's process: the portal is the node's intake, its relay and its receipt reader.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import sqlite3
import tempfile
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

if TYPE_CHECKING:
    from producers.node import NodeService

__all__ = ["Delivery", "NodeGateway", "NodeServiceGateway", "PostOutcome", "read_deliveries"]

#: Where a refused case's reason points, when the node says which field.
_REASON_FIELDS = {
    "region_changed": "region",
    "cycle_changed": "detected",
    "stale_revision": "",
    "screening": "summary",
    "invalid_text": "summary",
}


@dataclass(frozen=True, slots=True)
class PostOutcome:
    """What the node did with one case: accepted (``held`` while its contributor token has
    not arrived) or refused with a reason code and the node's message."""

    accepted: bool
    case_id: str | None = None
    revision: int | None = None
    held: bool = False
    reason: str | None = None
    message: str | None = None

    @property
    def field(self) -> str:
        return _REASON_FIELDS.get(self.reason or "", "")


@dataclass(frozen=True, slots=True)
class Delivery:
    """The latest revision of one of the node's cases, as the node knows it. ``status``:
    ``held`` (accepted, waiting for its token), ``queued``, ``published``, or a receipt's
    outcome (``applied``, ``dead_lettered`` with ``reason``, ``duplicate``, ``stale``)."""

    case_id: str
    revision: int
    status: str
    reason: str | None = None


class NodeGateway(Protocol):
    async def post(self, case: dict[str, Any]) -> PostOutcome: ...

    async def deliveries(self) -> dict[str, Delivery]: ...


_DELIVERIES = """
SELECT c.case_id, c.revision,
    EXISTS (SELECT 1 FROM held h WHERE h.case_id = c.case_id AND h.revision = c.revision),
    r.outcome, r.reason
FROM node_cases c LEFT JOIN receipts r ON r.case_id = c.case_id AND r.revision = c.revision
ORDER BY c.case_index
"""


def read_deliveries(outbox: Path) -> dict[str, Delivery]:
    """What the node's outbox file says of each case (read only; blocking)."""
    if not outbox.exists():
        return {}
    db = sqlite3.connect(f"file:{outbox}?mode=ro", uri=True, timeout=10)
    try:
        rows = db.execute(_DELIVERIES).fetchall()
        queued = {
            bytes(k).decode("ascii")
            for (k,) in db.execute('SELECT "key" FROM outbox WHERE published_at IS NULL')
        }
    finally:
        db.close()
    found: dict[str, Delivery] = {}
    for case_id, revision, held, outcome, reason in rows:
        if held:
            status = "held"
        elif outcome is not None:
            status = str(outcome)
        elif case_id in queued:
            status = "queued"
        else:
            status = "published"
        found[case_id] = Delivery(case_id, int(revision or 0), status, reason)
    return found


class NodeServiceGateway:
    """:class:`NodeGateway` over a started :class:`~producers.node.NodeService`.

    A released case is handed to the node as a one-case file in a private folder (the
    node's file intake: validated, screened, sealed, written to the outbox), removed at
    once; the node's report says what it did.
    """

    def __init__(self, service: NodeService, outbox: Path, folder: Path) -> None:
        self._service = service
        self._outbox = outbox
        self._folder = folder

    def __repr__(self) -> str:
        return "NodeServiceGateway()"

    async def post(self, case: dict[str, Any]) -> PostOutcome:
        self._folder.mkdir(parents=True, exist_ok=True, mode=0o700)
        path = self._folder / f"{uuid.uuid4()}.json"
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            json.dump(case, fh, ensure_ascii=False)
        try:
            [result] = await self._service.post([path], again=True)
        finally:
            with contextlib.suppress(OSError):
                path.unlink()
        report = result.report
        if report.accepted:
            a = report.accepted[0]
            return PostOutcome(accepted=True, case_id=a.case_id, revision=a.revision, held=a.held)
        if report.already:
            done = report.already[0]
            return PostOutcome(accepted=True, case_id=done.case_id, revision=done.revision)
        r = report.rejected[0]
        return PostOutcome(accepted=False, case_id=r.case_id, reason=r.reason, message=r.message)

    async def deliveries(self) -> dict[str, Delivery]:
        return await asyncio.to_thread(read_deliveries, self._outbox)


def private_folder(base: Path) -> Path:
    """A folder only this user can read, for the cases handed to the node."""
    base.mkdir(parents=True, exist_ok=True)
    return Path(tempfile.mkdtemp(prefix="portal-intake-", dir=base))
