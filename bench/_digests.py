"""Digest and summary generation time against the number of stored cases.

One store is filled cumulatively through ``CaseStore.apply_batch`` (the aggregator's own
write path, batches of 2,000) to each size; at each size the bench times one meeting
digest (a region's latest CSP cycle, and its latest month), one CSP summary (latest cycle),
and ``write_outputs`` (every digest and summary with data, JSON + Markdown).
"""

from __future__ import annotations

import statistics
import tempfile
import time
from collections import defaultdict
from pathlib import Path
from typing import TYPE_CHECKING

from sqlalchemy import func, select

from dief.aggregator.store import CaseStore
from dief.aggregator.store._schema import cell_counts
from dief.digests import build_digest
from dief.render import write_outputs
from dief.secretariat import build_summary
from dief.vocab import Region

if TYPE_CHECKING:
    from collections.abc import Awaitable, Callable, Iterable, Sequence

    from bench._fabricate import RecordPool
    from dief.aggregator import CaseFacts
    from dief.catalogue import Catalogue

__all__ = ["digest_timings"]

#: Facts per apply_batch call while filling (per region; the aggregator's own are <= 2,000)
_BATCH = 20_000


async def _timed(op: Callable[[], Awaitable[object]], repeat: int) -> tuple[float, list[float]]:
    runs: list[float] = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        await op()
        runs.append(time.perf_counter() - t0)
    return statistics.median(runs), runs


async def _cell_rows(store: CaseStore) -> int:
    engine = store._require()  # bench only: the row count of the incremental aggregate
    async with engine.connect() as conn:
        return int((await conn.execute(select(func.count()).select_from(cell_counts))).scalar_one())


async def digest_timings(  # noqa: PLR0914, PLR0913  one measured procedure: its steps in the order they are timed; the phase's inputs, passed by the bench driver
    url: str,
    pool: RecordPool,
    sealed: bytes,
    sizes: Sequence[int],
    catalogue: Catalogue,
    *,
    repeat: int = 3,
    log: Callable[[str], None] = print,
) -> list[dict[str, object]]:
    store = CaseStore(url)
    await store.start()
    rows: list[dict[str, object]] = []
    stored = 0
    fill_seconds = 0.0
    try:
        region = Region.AFR
        for size in sorted(sizes):
            t0 = time.perf_counter()
            await _fill(store, pool.facts(size - stored, sealed))
            fill_seconds += time.perf_counter() - t0
            stored = size
            periods = await store.periods_with_data(region.value)
            cycles = sorted((p for p in periods if p.startswith("CSP")), key=lambda c: int(c[3:]))
            months = sorted(p for p in periods if len(p) == len("YYYY-MM") and p[4] == "-")
            cycle, month = cycles[-1], months[-1]
            digest_cycle, d_runs = await _timed(
                lambda c=cycle: build_digest(store, region, c, catalogue=catalogue), repeat
            )
            digest_month, _ = await _timed(
                lambda m=month: build_digest(store, region, m, catalogue=catalogue), repeat
            )
            summary, s_runs = await _timed(
                lambda c=cycle: build_summary(store, c, catalogue=catalogue), repeat
            )
            with tempfile.TemporaryDirectory(prefix="dief-bench-out-") as out:
                t1 = time.perf_counter()
                index = await write_outputs(
                    Path(out), store, regions=list(Region), catalogue=catalogue
                )
                all_outputs = time.perf_counter() - t1
            cells = await _cell_rows(store)
            row: dict[str, object] = {
                "stored_cases": size,
                "cell_rows": cells,
                "fill_cases_per_second": round(size / fill_seconds, 1),
                "digest_cycle_seconds": round(digest_cycle, 4),
                "digest_month_seconds": round(digest_month, 4),
                "summary_seconds": round(summary, 4),
                "write_outputs_seconds": round(all_outputs, 3),
                "outputs_written": len(index.outputs),
                "digest_period": f"{region.value} {cycle}",
                "runs": {
                    "digest_cycle": [round(x, 4) for x in d_runs],
                    "summary": [round(x, 4) for x in s_runs],
                },
            }
            log(
                f"  {size:>9,} stored: digest {digest_cycle * 1000:.0f} ms, summary "
                f"{summary * 1000:.0f} ms, all {len(index.outputs)} outputs {all_outputs:.1f} s "
                f"({cells:,} cell rows)"
            )
            rows.append(row)
    finally:
        await store.stop()
    return rows


async def _fill(store: CaseStore, facts: Iterable[CaseFacts]) -> None:
    """Apply *facts* in per-region batches of 2,000, as the aggregator's consumers would."""
    buckets: dict[str, list[CaseFacts]] = defaultdict(list)
    for fact in facts:
        bucket = buckets[fact.region]
        bucket.append(fact)
        if len(bucket) == _BATCH:
            await store.apply_batch(fact.region, bucket)
            buckets[fact.region] = []
    for region, bucket in buckets.items():
        if bucket:
            await store.apply_batch(region, bucket)
