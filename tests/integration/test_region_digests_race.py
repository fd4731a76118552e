"""The data versions a region's digests state are those of the cells they count (issue #15,
docs/audit.md "Cells of unchanged tables"): :meth:`RegionDigests.load` reads the cells and
the versions in separate reads, and a batch applied between them must not make a digest
state a token its counts do not have. On SQLite and PostgreSQL, the store's real SQL; the
batch is applied by the store itself, right after a read returns."""

from __future__ import annotations

import random
from typing import TYPE_CHECKING

import pytest

from dief.aggregator import TOTAL
from dief.aggregator.store import CaseStore, PublishedPattern
from dief.digests import RegionDigests
from dief.disclosure import DigestPattern, digest_pattern
from dief.exceptions import StoreChangingError
from tests.integration._pipeline_helpers import DATABASE_KINDS, database_url
from tests.unit.reporting_support import History, make_facts

if TYPE_CHECKING:
    from collections.abc import Callable, Sequence
    from pathlib import Path

    from dief.aggregator import CaseFacts
    from dief.aggregator.store import CellRow

pytestmark = pytest.mark.integration

AFR = "AFR"
JANUARY = "2026-01"


class _Interleaved(CaseStore):
    """A :class:`CaseStore` that applies one new case of AFR (``case()``, a January one by
    default) right after a read of the region's cells returns, while ``armed`` is above 0
    (one less each time): the reads with TLP:RED cases (as the digests read them), or
    without them if ``red`` is ``False`` (as the summaries and the route tables do)."""

    armed = 0
    red = True

    def __init__(self, url: str) -> None:
        super().__init__(url)
        self.case: Callable[[], CaseFacts] = _new_case

    async def cell_rows(
        self, region: str, periods: Sequence[str], *, include_red: bool = True
    ) -> list[CellRow]:
        rows = await super().cell_rows(region, periods, include_red=include_red)
        if include_red is self.red and self.armed > 0:
            self.armed -= 1
            await self.apply_batch(region, [self.case()])
        return rows


class _AfterRecord(CaseStore):
    """A :class:`CaseStore` that applies one new January case of AFR right after the
    record of the region's published digests (``published_suppressions``) is read, while
    ``armed`` is above 0 (one less each time)."""

    armed = 0

    async def published_suppressions(self, region: str) -> PublishedPattern:
        earlier = await super().published_suppressions(region)
        if self.armed > 0:
            self.armed -= 1
            await self.apply_batch(region, [_new_case()])
        return earlier


def _new_case() -> CaseFacts:
    return make_facts(region=AFR, month=JANUARY, node=7)


async def _filled(store: CaseStore) -> None:
    history = History(AFR, random.Random(4), [JANUARY, "2026-02"], nodes=4, red_share=0.0)
    await store.apply_batch(AFR, history.batch(12))


async def _january(store: CaseStore) -> tuple[str, int]:
    """January's data version and its number of cases (TLP:RED included), read now."""
    token = (await store.data_versions(AFR))[JANUARY][1]
    rows = await store.cell_rows(AFR, [JANUARY], include_red=True)
    return token, sum(r.count for r in rows if (r.dimension, r.value) == TOTAL)


@pytest.mark.parametrize("kind", DATABASE_KINDS)
async def test_a_digest_states_the_data_version_of_the_cells_it_counts(
    kind: str, tmp_path: Path
) -> None:
    """A case applied between the read of the cells and the read of the versions: the
    version January's digest states is the one of the counts it has (red before: the new
    token with the old counts)."""
    async with database_url(kind, tmp_path) as url, _Interleaved(url) as store:
        await _filled(store)
        old_token, old_cases = await _january(store)
        store.armed = 1
        digests = await RegionDigests.load(store, AFR)
        assert store.armed == 0  # the case was applied during the load
        new_token, new_cases = await _january(store)
        assert (new_token, new_cases) != (old_token, old_cases)
        stated = dict(digests.versions)[JANUARY]
        counted = digests.tallies[JANUARY][TOTAL].count
        assert (stated, counted) == (new_token, new_cases), (
            f"states {stated} (before {old_token}, after {new_token}) with {counted} cases "
            f"(before {old_cases}, after {new_cases})"
        )


async def test_a_store_that_keeps_changing_is_read_a_few_times_then_refused(
    tmp_path: Path,
) -> None:
    """A case applied after every read of the cells: the load reads a few times, then
    raises, stating nothing; one read fewer than that, and the last read holds."""
    async with database_url("sqlite", tmp_path) as url, _Interleaved(url) as store:
        await _filled(store)
        store.armed = 100
        with pytest.raises(StoreChangingError, match="AFR kept changing") as raised:
            await RegionDigests.load(store, AFR)
        assert raised.value.code == "store_changing"
        tries = 100 - store.armed
        assert 1 < tries < 10
        store.armed = tries - 1
        digests = await RegionDigests.load(store, AFR)
        assert store.armed == 0
        token, cases = await _january(store)
        assert (dict(digests.versions)[JANUARY], digests.tallies[JANUARY][TOTAL].count) == (
            token,
            cases,
        )


@pytest.mark.parametrize("kind", DATABASE_KINDS)
async def test_an_unchanged_period_is_one_whose_version_the_cells_have(
    kind: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """January issued at its version, then a case applied right after an issue read the
    record of the published digests: the pattern does not take January as unchanged
    (``PublishedPattern.unchanged_periods``), since the cells it counts are not those
    the earlier issue published (red before: the record's January, unchanged when read)."""
    given: list[PublishedPattern | None] = []

    def spied(*args: object, **kwargs: object) -> DigestPattern:
        earlier = kwargs.get("earlier")
        assert earlier is None or isinstance(earlier, PublishedPattern)
        given.append(earlier)
        return digest_pattern(*args, **kwargs)  # type: ignore[arg-type]  # the loader's arguments, passed on

    monkeypatch.setattr("dief.digests._region.digest_pattern", spied)
    async with database_url(kind, tmp_path) as url, _AfterRecord(url) as store:
        await _filled(store)
        first = await RegionDigests.for_issue(store, AFR, k=2, k_csp=3)
        await first.record(store)
        await first.record_delivered(store, [JANUARY])
        assert JANUARY in (await store.published_suppressions(AFR)).unchanged_periods
        store.armed = 1
        given.clear()
        digests = await RegionDigests.for_issue(store, AFR, k=2, k_csp=3)
        assert store.armed == 0
        assert JANUARY not in (await store.published_suppressions(AFR)).unchanged_periods
        assert given
        assert all(e is not None and JANUARY not in e.unchanged_periods for e in given)
        assert dict(digests.versions)[JANUARY] == (await store.data_versions(AFR))[JANUARY][1]
