"""The data versions route tables and CSP summaries state are those of the cells they count
(issue #15, docs/audit.md "Cells of unchanged tables"; the digests' own race is
test_region_digests_race.py): each read its cells and the version in separate reads, and a
batch applied between them must not make a document state a token its counts do not have.
On SQLite and PostgreSQL, the store's real SQL; the batch is applied by the store itself,
right after a read of the cells (without TLP:RED cases, as both read them) returns."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest

from dief.aggregator import TOTAL
from dief.catalogue import load_catalogue
from dief.digests import RegionDigests
from dief.disclosure import merge_rows
from dief.exceptions import StoreChangingError
from dief.periods import DEFAULT_CYCLE_START_MONTH
from dief.render._writing import summary_inputs
from dief.routes import RouteTables
from dief.secretariat import build_summary
from dief.testing import MemoryRecordSink
from dief.vocab import Region
from tests.integration._pipeline_helpers import DATABASE_KINDS, database_url
from tests.integration.test_region_digests_race import JANUARY, _filled, _Interleaved
from tests.unit.reporting_support import cycle_of
from tests.unit.route_helpers import (
    FIRST,
    issue_tables,
    publish_tables,
    received_table,
    route_issuer,
    routed_facts,
)

if TYPE_CHECKING:
    from pathlib import Path

    from dief.aggregator.store import CaseStore
    from dief.wire import RegionTable

pytestmark = pytest.mark.integration

AFR = Region.AFR
CYCLE = cycle_of(JANUARY)
CATALOGUE = load_catalogue()


async def _routed(store: CaseStore) -> tuple[str, int]:
    """CSP12's data version and AFR's number of cases routed through EEG, read now."""
    token = (await store.data_versions("AFR"))["CSP12"][1]
    routed = await RouteTables(store).routed_cases("AFR", "CSP12")
    return token, len(routed["EEG"])


async def _nonred(store: CaseStore) -> tuple[str, int]:
    """The cycle's data version and its number of cases without TLP:RED, read now."""
    token = (await store.data_versions("AFR"))[CYCLE][1]
    rows = await store.cell_rows("AFR", [CYCLE], include_red=False)
    return token, merge_rows(rows)[CYCLE][TOTAL].count


def _stated(table: RegionTable) -> tuple[object, int | None]:
    return (table.model_extra or {}).get("data_version"), table.totals.cases


@pytest.mark.parametrize("kind", DATABASE_KINDS)
async def test_a_route_table_states_the_data_version_of_the_cases_it_counts(
    kind: str, tmp_path: Path
) -> None:
    """A routed case applied while the route table reads its cases: the table states
    the version its count has (red before: the new token with the old count). It is not
    the digests' version any more, so nothing is sent (nor recorded) until the digests
    are read again; then the table states the new version with the new count."""
    async with database_url(kind, tmp_path) as url, _Interleaved(url) as store:
        await store.apply_batch("AFR", FIRST)
        store.red, store.case = False, lambda: routed_facts("n5", "post_delivery")
        sink = MemoryRecordSink()
        issuer = route_issuer(sink)
        before = await _routed(store)
        source = await RegionDigests.load(store, AFR, k=2, periods=["CSP12"])
        store.armed = 1
        with pytest.raises(StoreChangingError, match="AFR kept changing") as raised:
            await publish_tables(store, issuer, source)
        assert raised.value.code == "store_changing"
        assert store.armed == 0  # the case was applied during the issue
        after = await _routed(store)
        assert after[1] == before[1] + 1
        assert not sink.sent
        assert await RouteTables(store).published_patterns("AFR", "CSP12") == {}
        assert await issue_tables(store, issuer) == 1
        table = await received_table(sink, tmp_path, "eeg")
        stated = (table.data_version, table.totals.cases)
        assert stated == after, (
            f"states {stated[0]} with {stated[1]} cases (before {before}, after {after})"
        )


@pytest.mark.parametrize("kind", DATABASE_KINDS)
async def test_a_route_table_is_not_built_on_tallies_of_other_cases(
    kind: str, tmp_path: Path
) -> None:
    """A routed case applied after the digests read their cells, before the route tables
    read theirs: the tables, protected with the digests' tallies, would count other cases
    than those: none is sent."""
    async with database_url(kind, tmp_path) as url, _Interleaved(url) as store:
        await store.apply_batch("AFR", FIRST)
        sink = MemoryRecordSink()
        issuer = route_issuer(sink)
        source = await RegionDigests.load(store, AFR, k=2, periods=["CSP12"])
        await store.apply_batch("AFR", [routed_facts("n5", "post_delivery")])
        with pytest.raises(StoreChangingError, match="changed after its digests read them"):
            await publish_tables(store, issuer, source)
        assert not sink.sent


@pytest.mark.parametrize("kind", DATABASE_KINDS)
async def test_a_summary_table_states_the_data_version_of_the_cells_it_counts(
    kind: str, tmp_path: Path
) -> None:
    """A case applied right after the summary read a region's cells: its region table
    states the version of the counts it has (red before: the new token with the old
    counts)."""
    async with database_url(kind, tmp_path) as url, _Interleaved(url) as store:
        await _filled(store)
        store.red = False
        before = await _nonred(store)
        store.armed = 1
        summary = await build_summary(store, CYCLE, k=3, catalogue=CATALOGUE, regions=[AFR])
        assert store.armed == 0
        after = await _nonred(store)
        assert after != before
        stated = _stated(summary.regions[AFR])
        assert stated == after, (
            f"states {stated[0]} with {stated[1]} cases (before {before}, after {after})"
        )


@pytest.mark.parametrize("kind", DATABASE_KINDS)
async def test_a_summary_fingerprint_is_of_one_moment(kind: str, tmp_path: Path) -> None:
    """A case applied right after ``summary_inputs`` read a region's cells: the fingerprint
    is the one of the cells and the version read together (red before: the old cells
    with the new version, a fingerprint no moment of the store has)."""
    async with database_url(kind, tmp_path) as url, _Interleaved(url) as store:
        await _filled(store)
        store.red = False
        start = DEFAULT_CYCLE_START_MONTH
        unchanged = await summary_inputs(store, [AFR], [CYCLE], start_month=start)
        store.armed = 1
        got = await summary_inputs(store, [AFR], [CYCLE], start_month=start)
        assert store.armed == 0
        now = await summary_inputs(store, [AFR], [CYCLE], start_month=start)
        assert now != unchanged
        assert got == now
