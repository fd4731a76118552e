"""What a node keeps of the bulletins it opened, and how ``dief alerts`` shows them.

:class:`BulletinBoard` holds the bulletins in force at this node (a retraction removes its
bulletin, and is remembered so that a bulletin read after it stays removed), in a JSON file
of the node's own folder. :func:`alert_listing` pairs each bulletin with the checklist
questions of its indicators (from the shipped catalogues) and the node's watch matches.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import TYPE_CHECKING

from dief.bulletins._watches import Watch, WatchMatch, match_watches
from dief.catalogue import load_catalogues
from dief.wire import BulletinEntry

if TYPE_CHECKING:
    from collections.abc import Iterable
    from pathlib import Path

    from dief.bulletins._seal import OpenedBulletins

__all__ = ["AlertLine", "BulletinBoard", "alert_listing", "questions_of"]


@dataclass(frozen=True, slots=True)
class AlertLine:
    """One bulletin as ``dief alerts`` lists it."""

    region: str
    issued_hour: str
    entry: BulletinEntry
    questions: tuple[tuple[str, str], ...]
    matches: tuple[WatchMatch, ...]


class BulletinBoard:
    """The bulletins in force at a node (optionally kept in *path*)."""

    def __init__(self, path: Path | None = None) -> None:
        self._path = path
        self._live: dict[str, tuple[str, str, BulletinEntry]] = {}
        self._retracted: set[str] = set()
        self._loaded = path is None

    def __repr__(self) -> str:
        return f"BulletinBoard({len(self._live)} in force)"

    def _load(self) -> None:
        if self._loaded:
            return
        self._loaded = True
        if self._path is not None and self._path.is_file():
            data = json.loads(self._path.read_text("utf-8"))
            self._retracted = set(data["retracted"])
            for row in data["live"]:
                entry = BulletinEntry.model_validate(row["entry"])
                self._live[entry.bulletin_id] = (row["region"], row["issued_hour"], entry)

    def take(self, opened: OpenedBulletins) -> tuple[list[BulletinEntry], list[str]]:
        """Apply one opened batch: the bulletins it added and the ids it retracted."""
        self._load()
        added: list[BulletinEntry] = []
        retracted: list[str] = []
        for entry in opened.entries:
            if entry.action == "retract":
                self._retracted.add(entry.bulletin_id)
                if self._live.pop(entry.bulletin_id, None) is not None:
                    retracted.append(entry.bulletin_id)
            elif entry.bulletin_id not in self._retracted:
                if entry.bulletin_id not in self._live:
                    added.append(entry)
                self._live[entry.bulletin_id] = (opened.region, opened.issued_hour, entry)
        self._save()
        return added, retracted

    def entries(self) -> list[tuple[str, str, BulletinEntry]]:
        """(region, issued hour, bulletin) in force, newest first."""
        self._load()
        return sorted(self._live.values(), key=lambda r: (r[1], r[2].bulletin_id), reverse=True)

    def __contains__(self, bulletin_id: object) -> bool:
        self._load()
        return bulletin_id in self._live

    def _save(self) -> None:
        if self._path is None:
            return
        rows = [
            {"region": r, "issued_hour": h, "entry": e.model_dump(mode="json")}
            for r, h, e in self._live.values()
        ]
        data = {"live": rows, "retracted": sorted(self._retracted)}
        self._path.parent.mkdir(parents=True, exist_ok=True)
        tmp = self._path.with_suffix(".tmp")
        tmp.write_text(json.dumps(data), "utf-8")
        tmp.replace(self._path)


def questions_of(indicators: Iterable[str]) -> tuple[tuple[str, str], ...]:
    """(indicator, its checklist question) from the newest shipped catalogue holding it."""
    catalogues = list(load_catalogues().values())
    out: list[tuple[str, str]] = []
    for ind in indicators:
        found = next((c[ind] for c in reversed(catalogues) if ind in c), None)
        out.append(
            (ind, found.question if found is not None else "(not in the shipped catalogues)")
        )
    return tuple(out)


def alert_listing(board: BulletinBoard, watches: Iterable[Watch] = ()) -> list[AlertLine]:
    """Every bulletin in force, with its indicators' questions and the watches it matches."""
    watch_list = list(watches)
    return [
        AlertLine(
            region,
            hour,
            entry,
            questions_of(entry.risk_indicators),
            tuple(match_watches(watch_list, entry)),
        )
        for region, hour, entry in board.entries()
    ]
