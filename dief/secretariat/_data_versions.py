"""The ``data_version`` of a summary's tables (docs/audit.md, "Issue linking").

Each region table states its region's data version of the cycle (the token its store
renews whenever the cycle's cases change, ``CaseStore.data_versions``), where the cell
source keeps one; the global table states a digest of every region's, only when each
region states one (a hash of random tokens, never of counts). Two issues stating the same
version count the same cases, so a reader may link their tables; a table stating none is
never linked.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from dief.vocab import Region
    from dief.wire import RegionTable

__all__ = ["with_data_versions"]

#: hex digits of the global table's version
_GLOBAL_DIGITS = 16


async def _versions(stores: object, codes: list[str], cycle: str) -> dict[str, str]:
    found: dict[str, str] = {}
    by_region = {str(k): v for k, v in stores.items()} if isinstance(stores, Mapping) else {}
    for code in codes:
        source: Any = by_region.get(code) if isinstance(stores, Mapping) else stores
        read = getattr(source, "data_versions", None)
        if read is None:
            continue
        version = (await read(code)).get(cycle)
        if version is not None:
            found[code] = str(version[1])
    return found


def _stating(table: RegionTable, version: str | None) -> RegionTable:
    if version is None:
        return table
    return table.model_copy(update={"data_version": version})


async def with_data_versions(
    stores: object,
    cycle: str,
    tables: Mapping[Region, RegionTable],
    global_table: RegionTable,
) -> tuple[dict[Region, RegionTable], RegionTable]:
    """*tables* and *global_table*, each stating its data version where known."""
    codes = [r.value for r in tables]
    versions = await _versions(stores, codes, cycle)
    out = {r: _stating(t, versions.get(r.value)) for r, t in tables.items()}
    if not codes or len(versions) < len(codes):
        return out, global_table
    joined = ";".join(f"{c}:{versions[c]}" for c in sorted(codes)).encode()
    return out, _stating(global_table, hashlib.sha256(joined).hexdigest()[:_GLOBAL_DIGITS])
