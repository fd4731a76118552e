"""The ``data_version`` of a summary's tables (docs/audit.md, "Issue linking"), and the
cells they count read with it (docs/audit.md, "Cells of unchanged tables").

Each region table states its region's data version of the cycle (the token its store
renews whenever the cycle's cases change, ``CaseStore.data_versions``), where the cell
source keeps one; the global table states a digest of every region's, only when each
region states one (a hash of random tokens, never of counts). Two issues stating the same
version count the same cases, so a reader may link their tables; a table stating none is
never linked. The version stated is the one of the cells counted: both are read together
(:func:`summary_cells`).
"""

from __future__ import annotations

import hashlib
from typing import TYPE_CHECKING, Any

from dief.aggregator.store import settled_read
from dief.disclosure import merge_rows

if TYPE_CHECKING:
    from collections.abc import Mapping, Sequence

    from dief.aggregator.store import DataVersion
    from dief.disclosure import CellSource, PeriodCells
    from dief.vocab import Region
    from dief.wire import RegionTable

__all__ = ["summary_cells", "with_data_versions"]

#: hex digits of the global table's version
_GLOBAL_DIGITS = 16


async def summary_cells(
    source: CellSource, region: str, periods: Sequence[str]
) -> tuple[dict[str, PeriodCells], dict[str, DataVersion]]:
    """*region*'s cells of *periods* without TLP:RED cases, by period, and the data
    versions of those periods they are of (``CaseStore.data_versions``): read between two
    reads of the versions that agree, else read again
    (:func:`~dief.aggregator.store.settled_read`). A source that keeps no versions is read
    once, with none."""
    wanted = list(periods)
    reader: Any = getattr(source, "data_versions", None)
    if reader is None:
        return merge_rows(await source.cell_rows(region, wanted, include_red=False)), {}

    async def versions() -> dict[str, DataVersion]:
        held: Mapping[str, DataVersion] = await reader(region)
        return {p: held[p] for p in wanted if p in held}

    async def read(
        before: dict[str, DataVersion],
    ) -> tuple[dict[str, PeriodCells], dict[str, DataVersion]]:
        return merge_rows(await source.cell_rows(region, wanted, include_red=False)), before

    return await settled_read(versions, read, region=region, reader="the CSP summary")


def _stating(table: RegionTable, version: str | None) -> RegionTable:
    if version is None:
        return table
    return table.model_copy(update={"data_version": version})


def with_data_versions(
    versions: Mapping[str, str],
    tables: Mapping[Region, RegionTable],
    global_table: RegionTable,
) -> tuple[dict[Region, RegionTable], RegionTable]:
    """*tables* and *global_table*, each stating its data version where known: *versions*,
    region → the token of the cycle its cells were read at (:func:`summary_cells`)."""
    codes = [r.value for r in tables]
    out = {r: _stating(t, versions.get(r.value)) for r, t in tables.items()}
    if not codes or any(c not in versions for c in codes):
        return out, global_table
    joined = ";".join(f"{c}:{versions[c]}" for c in sorted(codes)).encode()
    return out, _stating(global_table, hashlib.sha256(joined).hexdigest()[:_GLOBAL_DIGITS])
