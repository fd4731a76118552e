"""The bulletins a node received and its watches, as the node portal reads them (DESIGN §13).

:class:`BulletinSource` is the seam; :class:`NodeBulletins` reads the node's own bulletin
store (:class:`dief.bulletins.BulletinStore`, in the node's outbox file: what the running
node followed from ``dief.bulletins``) and keeps the watches in the node's folder
(``watches.json``, shared with ``dief alerts watch``). Nothing here is sent anywhere: watches
are evaluated at the node, so nobody learns what a State watches.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from typing import TYPE_CHECKING, Protocol

from dief.bulletins import FACETS, BulletinStore, StoredBulletin, Watch, WatchStore, questions_of
from dief.exceptions import ConfigurationError
from dief.node import Outbox

if TYPE_CHECKING:
    from collections.abc import Mapping, Sequence
    from pathlib import Path

__all__ = ["BulletinSource", "BulletinView", "NodeBulletins", "view_of"]


class BulletinSource(Protocol):
    async def bulletins(self) -> list[StoredBulletin]:
        """Every bulletin the node opened, newest first, retracted ones included."""
        ...

    async def watches(self) -> list[Watch]: ...

    async def add_watch(self, facets: Mapping[str, Sequence[str]], label: str) -> Watch: ...

    async def remove_watch(self, watch_id: str) -> bool: ...


@dataclass(frozen=True, slots=True)
class WatchReason:
    """Why a bulletin matched a watch: per facet the watch names, the values it met."""

    watch: Watch
    hits: tuple[tuple[str, tuple[str, ...]], ...]  # (facet, matching values)


@dataclass(frozen=True, slots=True)
class BulletinView:
    """One bulletin as the page shows it: its indicators' checklist questions and the
    watches it matches now, with the reason."""

    bulletin: StoredBulletin
    questions: tuple[tuple[str, str], ...]
    matches: tuple[WatchReason, ...]


def _reason(watch: Watch, bulletin: StoredBulletin) -> WatchReason | None:
    if not bulletin.in_force or watch.match(bulletin.entry) is None:
        return None
    hits = []
    for facet, field in FACETS.items():
        wanted = getattr(watch, facet)
        if wanted:
            have = getattr(bulletin.entry, field)
            values = {have} if isinstance(have, str) else set(have or ())
            hits.append((facet, tuple(sorted(set(wanted) & values))))
    return WatchReason(watch, tuple(hits))


def view_of(bulletins: Sequence[StoredBulletin], watches: Sequence[Watch]) -> list[BulletinView]:
    """Each bulletin with its questions and the watches (in force only) it matches."""
    return [
        BulletinView(
            b,
            questions_of(b.entry.risk_indicators),
            tuple(r for w in watches if (r := _reason(w, b)) is not None),
        )
        for b in bulletins
    ]


class NodeBulletins:
    """:class:`BulletinSource` over the node's outbox file and its folder's watches."""

    def __init__(self, outbox: Path) -> None:
        self._path = outbox
        self._watches = WatchStore(outbox.parent / "watches.json")
        self._outbox: Outbox | None = None

    def __repr__(self) -> str:
        return "NodeBulletins()"

    async def start(self) -> None:
        outbox = Outbox(self._path)
        await outbox.start()
        self._outbox = outbox

    async def stop(self) -> None:
        if self._outbox is not None:
            await self._outbox.stop()
            self._outbox = None

    async def bulletins(self) -> list[StoredBulletin]:
        if self._outbox is None:
            raise ConfigurationError("the node's bulletin store is not open")
        return await BulletinStore(self._outbox).bulletins(include_retracted=True)

    async def watches(self) -> list[Watch]:
        return await asyncio.to_thread(self._watches.all)

    async def add_watch(self, facets: Mapping[str, Sequence[str]], label: str) -> Watch:
        def add() -> Watch:
            return self._watches.add(
                item_categories=facets.get("item_categories", ()),
                end_user_types=facets.get("end_user_types", ()),
                route_regions=facets.get("route_regions", ()),
                stages=facets.get("stages", ()),
                indicators=facets.get("indicators", ()),
                label=label,
            )

        return await asyncio.to_thread(add)

    async def remove_watch(self, watch_id: str) -> bool:
        return await asyncio.to_thread(self._watches.remove, watch_id)
