"""The node's bulletin store (DESIGN §13): what the running node opened, in its own database.

The node's follower (:class:`~dief.bulletins.BulletinFollower`) writes here; ``dief alerts``
and the portal read here, never the topic. Tables, in the node's outbox file (created by
:meth:`BulletinStore.start` beside the outbox's own):

- ``bulletins``: one row per bulletin id met: the region, the coarse hour of its batch, the
  generalised entry (JSON; NULL when only its retraction was met) and when it was received
  and retracted (a retraction read before its bulletin keeps the bulletin out);
- ``bulletin_matches``: which of the node's watches a bulletin matched when it arrived, and
  why (the values that matched); watches themselves stay in the node's folder;
- ``bulletin_group_releases``: the group key releases this node opened (public documents,
  each holding this node's sealed copy; verified before being kept), so a restart opens
  the same keys again without the topic;
- ``bulletin_positions``: where the follower stopped, per partition.

Read API (the portal's): :meth:`BulletinStore.bulletins`, :meth:`BulletinStore.matches`,
:meth:`BulletinStore.counts` and :meth:`BulletinStore.listing` (what ``dief alerts``
shows: each bulletin in force with its checklist questions and watch matches).
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Protocol, TypeVar

from dief.bulletins._board import AlertLine, questions_of
from dief.bulletins._watches import Watch, WatchMatch, match_watches
from dief.wire import BulletinEntry, BulletinGroupKeyRelease

if TYPE_CHECKING:
    import sqlite3
    from collections.abc import Callable, Iterable, Mapping, Sequence

    from dief.bulletins._seal import OpenedBulletins

__all__ = [
    "BULLETIN_SCHEMA",
    "BulletinCounts",
    "BulletinStore",
    "StoredBulletin",
    "StoredMatch",
    "Transactor",
]

_T = TypeVar("_T")

#: The node's bulletin tables (created by :meth:`BulletinStore.start`).
BULLETIN_SCHEMA = (
    """CREATE TABLE IF NOT EXISTS bulletins (
        bulletin_id VARCHAR(32) NOT NULL,
        region VARCHAR(8) NOT NULL,
        issued_hour VARCHAR(20) NOT NULL,
        entry TEXT,
        received_at DATETIME NOT NULL,
        retracted_at DATETIME,
        PRIMARY KEY (bulletin_id)
    )""",
    """CREATE TABLE IF NOT EXISTS bulletin_matches (
        bulletin_id VARCHAR(32) NOT NULL,
        watch_id VARCHAR(16) NOT NULL,
        label TEXT NOT NULL,
        reason TEXT NOT NULL,
        matched_at DATETIME NOT NULL,
        PRIMARY KEY (bulletin_id, watch_id)
    )""",
    """CREATE TABLE IF NOT EXISTS bulletin_group_releases (
        directory_version INTEGER NOT NULL,
        group_kid VARCHAR(32) NOT NULL,
        release TEXT NOT NULL,
        PRIMARY KEY (directory_version, group_kid)
    )""",
    """CREATE TABLE IF NOT EXISTS bulletin_positions (
        topic VARCHAR(64) NOT NULL,
        partition INTEGER NOT NULL,
        next_offset INTEGER NOT NULL,
        PRIMARY KEY (topic, partition)
    )""",
)


class Transactor(Protocol):
    """Runs ``fn(db, *args)`` in one transaction of the node's database (a started
    :class:`dief.node.Outbox`)."""

    async def transact(self, what: str, fn: Callable[..., _T], *args: object) -> _T: ...


@dataclass(frozen=True, slots=True)
class StoredBulletin:
    """A bulletin this node opened: ``retracted_at`` is set once its region retracted it."""

    bulletin_id: str
    region: str
    issued_hour: str
    entry: BulletinEntry
    received_at: str
    retracted_at: str | None

    @property
    def in_force(self) -> bool:
        return self.retracted_at is None


@dataclass(frozen=True, slots=True)
class StoredMatch:
    """A watch a bulletin matched when it arrived, and why."""

    bulletin_id: str
    watch_id: str
    label: str
    reason: str
    matched_at: str


@dataclass(frozen=True, slots=True)
class BulletinCounts:
    """How many bulletins are in force and retracted, and how many watch matches."""

    in_force: int
    retracted: int
    matches: int


@dataclass(frozen=True, slots=True)
class Applied:
    """What applying one opened batch changed."""

    added: tuple[BulletinEntry, ...]
    retracted: tuple[str, ...]
    matches: tuple[WatchMatch, ...]


def _now() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _create(db: sqlite3.Connection) -> None:
    for statement in BULLETIN_SCHEMA:
        db.execute(statement)


def _apply(
    db: sqlite3.Connection,
    batches: list[OpenedBulletins],
    watches: list[Watch],
    positions: dict[int, int],
    topic: str,
) -> Applied:
    now = _now()
    added: list[BulletinEntry] = []
    retracted: list[str] = []
    matches: list[WatchMatch] = []
    for batch in batches:
        for entry in batch.entries:
            row = db.execute(
                "SELECT entry, retracted_at FROM bulletins WHERE bulletin_id = ?",
                (entry.bulletin_id,),
            ).fetchone()
            if entry.action == "retract":
                if row is None:
                    db.execute(
                        "INSERT INTO bulletins VALUES (?, ?, ?, NULL, ?, ?)",
                        (entry.bulletin_id, batch.region, batch.issued_hour, now, now),
                    )
                elif row[1] is None:
                    db.execute(
                        "UPDATE bulletins SET retracted_at = ? WHERE bulletin_id = ?",
                        (now, entry.bulletin_id),
                    )
                    retracted.append(entry.bulletin_id)
                continue
            if row is not None:
                continue  # met before (again, or retracted first): nothing changes
            db.execute(
                "INSERT INTO bulletins VALUES (?, ?, ?, ?, ?, NULL)",
                (entry.bulletin_id, batch.region, batch.issued_hour, entry.model_dump_json(), now),
            )
            added.append(entry)
            for match in match_watches(watches, entry):
                db.execute(
                    "INSERT OR IGNORE INTO bulletin_matches VALUES (?, ?, ?, ?, ?)",
                    (match.bulletin_id, match.watch_id, match.label, match.reason, now),
                )
                matches.append(match)
    for partition, offset in positions.items():
        db.execute(
            "INSERT INTO bulletin_positions VALUES (?, ?, ?) ON CONFLICT (topic, partition) "
            "DO UPDATE SET next_offset = max(next_offset, excluded.next_offset)",
            (topic, partition, offset),
        )
    return Applied(tuple(added), tuple(retracted), tuple(matches))


def _bulletins(db: sqlite3.Connection, *, include_retracted: bool) -> list[StoredBulletin]:
    rows = db.execute(
        "SELECT bulletin_id, region, issued_hour, entry, received_at, retracted_at "
        "FROM bulletins WHERE entry IS NOT NULL AND (? OR retracted_at IS NULL) "
        "ORDER BY issued_hour DESC, received_at DESC, bulletin_id DESC",
        (1 if include_retracted else 0,),
    ).fetchall()
    return [
        StoredBulletin(
            str(r[0]),
            str(r[1]),
            str(r[2]),
            BulletinEntry.model_validate_json(r[3]),
            str(r[4]),
            None if r[5] is None else str(r[5]),
        )
        for r in rows
    ]


def _matches(db: sqlite3.Connection) -> list[StoredMatch]:
    rows = db.execute(
        "SELECT m.bulletin_id, m.watch_id, m.label, m.reason, m.matched_at "
        "FROM bulletin_matches m JOIN bulletins b ON b.bulletin_id = m.bulletin_id "
        "WHERE b.retracted_at IS NULL ORDER BY m.matched_at DESC, m.bulletin_id, m.watch_id"
    ).fetchall()
    return [StoredMatch(*(str(v) for v in r)) for r in rows]


def _counts(db: sqlite3.Connection) -> BulletinCounts:
    (live,) = db.execute(
        "SELECT count(*) FROM bulletins WHERE entry IS NOT NULL AND retracted_at IS NULL"
    ).fetchone()
    (gone,) = db.execute(
        "SELECT count(*) FROM bulletins WHERE entry IS NOT NULL AND retracted_at IS NOT NULL"
    ).fetchone()
    (matched,) = db.execute(
        "SELECT count(*) FROM bulletin_matches m JOIN bulletins b "
        "ON b.bulletin_id = m.bulletin_id WHERE b.retracted_at IS NULL"
    ).fetchone()
    return BulletinCounts(int(live), int(gone), int(matched))


def _keep_release(db: sqlite3.Connection, release: BulletinGroupKeyRelease) -> None:
    db.execute(
        "INSERT OR IGNORE INTO bulletin_group_releases VALUES (?, ?, ?)",
        (release.directory_version, release.group_kid, release.model_dump_json()),
    )


def _releases(db: sqlite3.Connection) -> list[BulletinGroupKeyRelease]:
    rows = db.execute(
        "SELECT release FROM bulletin_group_releases ORDER BY directory_version"
    ).fetchall()
    return [BulletinGroupKeyRelease.model_validate_json(r[0]) for r in rows]


def _positions(db: sqlite3.Connection, topic: str) -> dict[int, int]:
    rows = db.execute(
        "SELECT partition, next_offset FROM bulletin_positions WHERE topic = ?", (topic,)
    ).fetchall()
    return {int(p): int(o) for p, o in rows}


class BulletinStore:
    """The bulletin tables of the node's database (*db*: a started :class:`dief.node.Outbox`)."""

    def __init__(self, db: Transactor) -> None:
        self._db = db
        self._ready = False

    def __repr__(self) -> str:
        return "BulletinStore()"

    async def start(self) -> None:
        """Create the tables if absent (the outbox must be started); every other method
        does it first too."""
        if not self._ready:
            await self._db.transact("writing", _create)
            self._ready = True

    async def _call(self, what: str, fn: Callable[..., _T], *args: object) -> _T:
        await self.start()
        return await self._db.transact(what, fn, *args)

    # -- written by the follower -----------------------------------------------------------

    async def apply(
        self,
        batches: Sequence[OpenedBulletins],
        watches: Iterable[Watch],
        positions: Mapping[int, int],
        *,
        topic: str,
    ) -> Applied:
        """Keep *batches* (in arrival order), the watch matches of each new bulletin and the
        follower's *positions* on *topic*, in one transaction."""
        return await self._call(
            "writing", _apply, list(batches), list(watches), dict(positions), topic
        )

    async def keep_release(self, release: BulletinGroupKeyRelease) -> None:
        """Keep a group key release this node opened (verified by the caller)."""
        await self._call("writing", _keep_release, release)

    async def releases(self) -> list[BulletinGroupKeyRelease]:
        """The group key releases kept, oldest directory version first."""
        return await self._call("reading", _releases)

    async def positions(self, topic: str) -> dict[int, int]:
        """Where the follower stopped on *topic*: partition → next offset."""
        return await self._call("reading", _positions, topic)

    # -- the read API (dief alerts, the portal) --------------------------------------------

    async def bulletins(self, *, include_retracted: bool = False) -> list[StoredBulletin]:
        """The bulletins opened, newest batch first (in force only, unless
        *include_retracted*)."""
        return await self._call(
            "reading", functools.partial(_bulletins, include_retracted=include_retracted)
        )

    async def matches(self) -> list[StoredMatch]:
        """The watch matches of bulletins in force, newest first, as recorded on arrival."""
        return await self._call("reading", _matches)

    async def counts(self) -> BulletinCounts:
        return await self._call("reading", _counts)

    async def listing(self, watches: Iterable[Watch] = ()) -> list[AlertLine]:
        """Each bulletin in force with its indicators' checklist questions and the watches
        it matches with the reason: *watches* (the node's current ones) evaluated now, and
        the matches recorded on arrival of watches since removed are left out."""
        watch_list = list(watches)
        return [
            AlertLine(
                b.region,
                b.issued_hour,
                b.entry,
                questions_of(b.entry.risk_indicators),
                tuple(match_watches(watch_list, b.entry)),
            )
            for b in await self.bulletins()
        ]
