"""Honest pages (issue #15): every suppressed figure says why, in words a diplomat reads;
the checklist says when hidden entries sit outside its ranking; charts draw a hidden value
as hidden, never as zero; "what changed" says what it cannot compare."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest

from dief.aggregator.store import CaseStore
from dief.catalogue import load_catalogue
from dief.database import sqlite_url
from dief.digests import build_digest
from dief.render import render_digest_html, render_digest_markdown
from dief.render._svg import column_chart
from dief.wire import SUPPRESSION_TEXT, Digest, SuppressionReason
from tests.unit.reporting_support import make_facts

if TYPE_CHECKING:
    from collections.abc import AsyncIterator
    from pathlib import Path

CATALOGUE = load_catalogue()
MONTH = "2025-10"


@pytest.fixture
async def store(tmp_path: Path) -> AsyncIterator[CaseStore]:
    async with CaseStore(sqlite_url(tmp_path / "cases.db")) as s:
        yield s


def _values(stage: str, *extra: tuple[str, str]) -> tuple[tuple[str, str], ...]:
    return (
        ("kind", "case"),
        ("confidence", "suspected"),
        ("transfer_stage", stage),
        ("end_user_type", "unknown"),
        ("detection_source", "intelligence"),
        ("item_category", "small_arms"),
        *extra,
    )


async def _digest(store: CaseStore) -> Digest:
    cases = [
        *(
            make_facts(region="AFR", month=MONTH, node=n % 4, values=_values("pre_transfer"))
            for n in range(8)
        ),
        *(
            make_facts(region="AFR", month=MONTH, node=4 + n % 2, values=_values("in_transit"))
            for n in range(4)
        ),
        make_facts(
            region="AFR",
            month=MONTH,
            node=9,
            values=_values("stockpile", ("risk_indicator", "DOC-01")),
        ),
    ]
    await store.apply_batch("AFR", cases)
    return await build_digest(store, "AFR", "CSP12", k=2, catalogue=CATALOGUE)


async def test_each_suppressed_cell_says_why(store: CaseStore) -> None:
    digest = await _digest(store)
    stages = {
        c.value: c
        for c in digest.dimensions[
            next(iter(d for d in digest.dimensions if d.value == "transfer_stage"))
        ]
    }
    # one State: hidden for too few contributors; its partner hidden to protect it
    assert stages["stockpile"].reason is SuppressionReason.CONTRIBUTORS
    partners = [c for c in stages.values() if c.suppressed and c.value != "stockpile"]
    assert partners, "the single-contributor stage needs a partner"
    assert all(c.reason is SuppressionReason.PROTECTION for c in partners)
    assert all(c.reason is None for c in stages.values() if not c.suppressed)
    markdown = render_digest_markdown(digest)
    assert "| `stockpile` | suppressed (few) |" in markdown
    assert "suppressed (protects)" in markdown
    for text in SUPPRESSION_TEXT.values():
        assert text in markdown
    html = render_digest_html(digest)
    assert 'data-reason="contributors"' in html
    assert 'data-reason="protection"' in html
    for text in SUPPRESSION_TEXT.values():
        assert text in html


async def test_the_checklist_says_hidden_entries_are_not_ranked(store: CaseStore) -> None:
    digest = await _digest(store)
    hidden = [e for e in digest.checklist if e.suppressed]
    assert hidden, "DOC-01 has one contributor"
    assert all(e.reason is SuppressionReason.CONTRIBUTORS for e in hidden)
    assert all(e.transfer_types for e in digest.checklist), "the catalogue's transfer types"
    sentence = "listed last without a rank: any of them may be more prevalent"
    assert sentence in render_digest_markdown(digest)
    assert sentence in render_digest_html(digest)


def test_a_hidden_value_is_drawn_as_hidden_not_as_zero() -> None:
    svg = column_chart(["2026-Q1", "2026-Q2", "2026-Q3"], [None, 0, 5], title="cases")
    hidden = svg.split('data-label="2026-Q1"')[1].split("</g>")[0]
    zero = svg.split('data-label="2026-Q2"')[1].split("</g>")[0]
    assert "suppressed" in hidden
    assert "not zero" in hidden
    assert 'stroke-dasharray="3 2"' in hidden  # a dashed full-height column
    assert 'data-value="0"' not in hidden
    assert "suppressed" not in zero


async def test_what_changed_says_what_it_cannot_compare(store: CaseStore) -> None:
    digest = await _digest(store)
    html = render_digest_html(digest)
    assert 'id="uncomparable"' in html
    assert "cannot be compared with the previous period" in html
