"""Route tables state the sender's data version of their cycle (``data_version``, as its
digests and summary rows do; docs/audit.md "Issue linking"): a re-issue of the same cases
builds the same table and sends nothing, other cases (even ones on no route) a table
stating another version, sent again."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING

import pytest

from dief.aggregator.store import CaseStore
from dief.database import sqlite_url
from dief.testing import MemoryRecordSink
from dief.wire import RouteTable
from tests.unit.route_helpers import (
    FIRST,
    LATE,
    issue_tables,
    received_table,
    route_issuer,
    routed_facts,
)

if TYPE_CHECKING:
    from collections.abc import AsyncIterator
    from pathlib import Path


@pytest.fixture
async def afr(tmp_path: Path) -> AsyncIterator[CaseStore]:
    async with CaseStore(sqlite_url(tmp_path / "afr.db")) as store:
        await store.apply_batch("AFR", FIRST)
        yield store


async def _token(store: CaseStore) -> str:
    return (await store.data_versions("AFR"))["CSP12"][1]


async def test_a_reissue_of_the_same_cases_sends_nothing_and_other_cases_do(
    afr: CaseStore, tmp_path: Path
) -> None:
    sink = MemoryRecordSink()
    issuer = route_issuer(sink)
    assert await issue_tables(afr, issuer) == 1
    first = await received_table(sink, tmp_path, "eeg1")
    assert first.data_version == await _token(afr)
    assert await issue_tables(afr, issuer) == 0  # unchanged data: nothing republished
    # a case on no route: the table's cells are the same, its cases' cycle is not
    await afr.apply_batch("AFR", [routed_facts("n9", "stockpile", routed=False)])
    assert await issue_tables(afr, issuer) == 1
    second = await received_table(sink, tmp_path, "eeg2")
    assert second.data_version == await _token(afr) != first.data_version
    assert second.totals == first.totals
    assert second.dimensions == first.dimensions
    assert await issue_tables(afr, issuer) == 0
    await afr.apply_batch("AFR", LATE)  # cases on the route
    assert await issue_tables(afr, issuer) == 1
    third = await received_table(sink, tmp_path, "eeg3")
    assert third.data_version == await _token(afr) not in {first.data_version, second.data_version}


async def test_after_a_restart_the_same_cases_build_the_same_table(
    afr: CaseStore, tmp_path: Path
) -> None:
    before, after = MemoryRecordSink(), MemoryRecordSink()
    assert await issue_tables(afr, route_issuer(before)) == 1
    # a fresh issuer sends every table once
    assert await issue_tables(afr, route_issuer(after)) == 1
    one = await received_table(before, tmp_path, "a")
    two = await received_table(after, tmp_path, "b")
    assert one == two  # the same version stated: a reader links them, rightly


def test_a_table_without_a_version_reads_as_before() -> None:
    document = json.loads(
        RouteTable.model_validate(
            {
                "from_region": "AFR",
                "to_region": "EEG",
                "period": "CSP12",
                "k": 2,
                "issued_at": "2026-09-10T10:00:00Z",
                "totals": {"cases": None, "contributors": None, "withheld": True},
                "withheld": True,
            }
        ).model_dump_json()
    )
    assert "data_version" not in document  # the signed bytes of older tables are unchanged
    with pytest.raises(ValueError, match="data_version"):
        RouteTable.model_validate({**document, "data_version": "not hex"})
