"""Digest versions in the aggregator's database (table ``digest_versions``, migration 0002).

A digest for (region, period) is issued with a version: 1 the first time, and one more for
every re-issue. :meth:`DigestVersions.claim` takes the next number *before* publishing, so
a failed publish leaves only a gap and two issues never share a number;
:meth:`DigestVersions.mark_published` then records which version went out and a hash of its
content, so an unchanged digest need not be issued again.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import TYPE_CHECKING

from sqlalchemy import or_, select, update
from sqlalchemy.exc import SQLAlchemyError

from dief.aggregator.store._schema import digest_versions
from dief.aggregator.store._store import CaseStore
from dief.database import db_reason as _why
from dief.exceptions import StorageError
from dief.seams import coarse_hour

if TYPE_CHECKING:
    from collections.abc import Sequence

__all__ = ["DigestVersion", "DigestVersions"]


@dataclass(frozen=True, slots=True)
class DigestVersion:
    """The version state of one (region, period)."""

    region: str
    period: str
    #: the last version claimed (published or not)
    version: int
    #: the last version published, and the hash of its content
    published_version: int | None
    content_hash: str | None


class DigestVersions:
    """Claims and records digest versions in a started :class:`CaseStore`'s database."""

    def __init__(self, store: CaseStore) -> None:
        self._store = store

    def __repr__(self) -> str:
        return f"DigestVersions({self._store!r})"

    async def claim(self, region: str, period: str) -> int:
        """The next version of (region, period): 1 the first time, then one more each call."""
        return (await self.claim_many(region, [period]))[period]

    async def claim_many(self, region: str, periods: Sequence[str]) -> dict[str, int]:
        """:meth:`claim` for several periods of *region* in one transaction."""
        engine = self._store._require()  # noqa: SLF001  the store's query helpers share its private engine accessor, inside the store package
        t = digest_versions
        now = coarse_hour(time.time())  # stored times tell the hour only
        claimed: dict[str, int] = {}
        try:
            async with engine.begin() as conn:
                for period in periods:
                    stmt = CaseStore._insert(conn, t).values(  # noqa: SLF001  the store's query helpers share its private engine accessor, inside the store package
                        region=region, period=period, version=1, updated_at=now
                    )
                    stmt = stmt.on_conflict_do_update(  # type: ignore[attr-defined]
                        index_elements=["region", "period"],
                        set_={"version": t.c.version + 1, "updated_at": now},
                    ).returning(t.c.version)
                    claimed[period] = int((await conn.execute(stmt)).scalar_one())
        except SQLAlchemyError as exc:
            raise StorageError(
                f"claiming digest versions for {region} failed: {_why(exc)}"
            ) from exc
        return claimed

    async def mark_published(
        self, region: str, period: str, version: int, content_hash: str
    ) -> None:
        """Record that *version* was published (ignored if a later one already was)."""
        await self.mark_published_many(region, [(period, version, content_hash)])

    async def mark_published_many(
        self, region: str, published: Sequence[tuple[str, int, str]]
    ) -> None:
        """:meth:`mark_published` for several (period, version, content hash) at once."""
        engine = self._store._require()  # noqa: SLF001  the store's query helpers share its private engine accessor, inside the store package
        t = digest_versions
        now = coarse_hour(time.time())  # stored times tell the hour only
        try:
            async with engine.begin() as conn:
                for period, version, content_hash in published:
                    await conn.execute(
                        update(t)
                        .where(
                            t.c.region == region,
                            t.c.period == period,
                            or_(t.c.published_version.is_(None), t.c.published_version < version),
                        )
                        .values(
                            published_version=version, content_hash=content_hash, updated_at=now
                        )
                    )
        except SQLAlchemyError as exc:
            raise StorageError(
                f"recording published digests of {region} failed: {_why(exc)}"
            ) from exc

    async def of_region(self, region: str) -> dict[str, DigestVersion]:
        """The version state by period, for every period of *region* ever claimed."""
        engine = self._store._require()  # noqa: SLF001  the store's query helpers share its private engine accessor, inside the store package
        t = digest_versions
        try:
            async with engine.connect() as conn:
                rows = await conn.execute(select(t).where(t.c.region == region))
                return {
                    r.period: DigestVersion(
                        r.region, r.period, int(r.version), r.published_version, r.content_hash
                    )
                    for r in rows
                }
        except SQLAlchemyError as exc:
            raise StorageError(f"reading digest versions of {region} failed: {_why(exc)}") from exc
