"""Watches at a node (DESIGN §13): evaluated locally, so nobody learns what a State watches.

A :class:`Watch` names values of up to five facets — item categories, end-user types, route
regions, stages, indicators. A bulletin matches when, for every facet the watch names, it
carries at least one of the named values (any within a facet, all facets named); the
:class:`WatchMatch` says which values matched. :class:`WatchStore` keeps a node's watches in
a JSON file of its own folder; nothing about them is ever sent.
"""

from __future__ import annotations

import json
import secrets
from dataclasses import asdict, dataclass
from typing import TYPE_CHECKING

from dief.exceptions import ConfigurationError

if TYPE_CHECKING:
    from collections.abc import Iterable
    from pathlib import Path

    from dief.wire import BulletinEntry

__all__ = ["FACETS", "Watch", "WatchMatch", "WatchStore", "match_watches"]

#: Watch facet → the bulletin field it is checked against.
FACETS = {
    "item_categories": "item_categories",
    "end_user_types": "end_user_type",
    "route_regions": "route_regions",
    "stages": "transfer_stage",
    "indicators": "risk_indicators",
}


@dataclass(frozen=True, slots=True)
class Watch:
    """One watch: the values of each facet it looks for (an empty facet is not checked)."""

    watch_id: str
    item_categories: tuple[str, ...] = ()
    end_user_types: tuple[str, ...] = ()
    route_regions: tuple[str, ...] = ()
    stages: tuple[str, ...] = ()
    indicators: tuple[str, ...] = ()
    label: str = ""

    def __post_init__(self) -> None:
        if not any(getattr(self, facet) for facet in FACETS):
            raise ConfigurationError("a watch names at least one value to look for")

    def match(self, entry: BulletinEntry) -> WatchMatch | None:
        """Why *entry* matches this watch, or None."""
        if entry.action != "publish":
            return None
        reasons: list[str] = []
        for facet, field in FACETS.items():
            wanted = getattr(self, facet)
            if not wanted:
                continue
            have = getattr(entry, field)
            values = {have} if isinstance(have, str) else set(have or ())
            hit = sorted(set(wanted) & values)
            if not hit:
                return None
            reasons.append(f"{facet.replace('_', ' ')}: {', '.join(hit)}")
        return WatchMatch(self.watch_id, self.label, entry.bulletin_id, tuple(reasons))


@dataclass(frozen=True, slots=True)
class WatchMatch:
    """A bulletin that matched a watch, and the values that made it match."""

    watch_id: str
    label: str
    bulletin_id: str
    reasons: tuple[str, ...]

    @property
    def reason(self) -> str:
        return "; ".join(self.reasons)


def match_watches(watches: Iterable[Watch], entry: BulletinEntry) -> list[WatchMatch]:
    """Every watch *entry* matches, with its reason."""
    return [m for w in watches if (m := w.match(entry)) is not None]


def _watch(row: dict[str, object]) -> Watch:
    def values(name: str) -> tuple[str, ...]:
        raw = row.get(name) or ()
        return tuple(str(v) for v in raw) if isinstance(raw, list | tuple) else ()

    return Watch(
        watch_id=str(row["watch_id"]),
        item_categories=values("item_categories"),
        end_user_types=values("end_user_types"),
        route_regions=values("route_regions"),
        stages=values("stages"),
        indicators=values("indicators"),
        label=str(row.get("label", "")),
    )


class WatchStore:
    """A node's watches, in one JSON file (``watches.json`` in the node's folder)."""

    def __init__(self, path: Path) -> None:
        self._path = path

    def __repr__(self) -> str:
        return f"WatchStore({self._path.name})"

    def all(self) -> list[Watch]:
        """Every watch of this node."""
        if not self._path.is_file():
            return []
        rows = json.loads(self._path.read_text("utf-8"))
        return [_watch(row) for row in rows]

    def add(  # noqa: PLR0913  a public keyword signature, used outside dief/bulletins
        self,
        *,
        item_categories: Iterable[str] = (),
        end_user_types: Iterable[str] = (),
        route_regions: Iterable[str] = (),
        stages: Iterable[str] = (),
        indicators: Iterable[str] = (),
        label: str = "",
    ) -> Watch:
        """Add a watch (at least one value in one facet); the watch, with its new id."""
        watch = Watch(
            watch_id=secrets.token_hex(4),
            item_categories=tuple(item_categories),
            end_user_types=tuple(end_user_types),
            route_regions=tuple(r.upper() for r in route_regions),
            stages=tuple(stages),
            indicators=tuple(i.upper() for i in indicators),
            label=label,
        )
        self._write([*self.all(), watch])
        return watch

    def remove(self, watch_id: str) -> bool:
        """Remove watch *watch_id*; whether there was one."""
        watches = self.all()
        kept = [w for w in watches if w.watch_id != watch_id]
        self._write(kept)
        return len(kept) != len(watches)

    def _write(self, watches: list[Watch]) -> None:
        self._path.parent.mkdir(parents=True, exist_ok=True)
        tmp = self._path.with_suffix(".tmp")
        tmp.write_text(json.dumps([asdict(w) for w in watches], indent=1), "utf-8")
        tmp.replace(self._path)
