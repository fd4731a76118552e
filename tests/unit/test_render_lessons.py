"""Lessons for the digests: opened from the stored sealed cases with the region's key."""

from __future__ import annotations

import dataclasses
import uuid
from datetime import date
from typing import TYPE_CHECKING

import pytest

from dief.aggregator.store import CaseStore
from dief.catalogue import load_catalogue
from dief.crypto import KemPrivateKey, Opener, Sealer
from dief.database import sqlite_url
from dief.digests import (
    CaseLesson,
    build_digest,
    lesson_of,
    lessons_for,
    load_lessons,
    open_lessons,
)
from dief.disclosure import months_by_total
from dief.periods import Month
from dief.render import render_digest_html
from dief.vocab import Dimension
from dief.wire import TYPE_CASE, CaseRecord, case_padded_size, parse_case
from tests.unit.record_helpers import signed_record
from tests.unit.reporting_support import make_facts

if TYPE_CHECKING:
    from collections.abc import AsyncIterator
    from pathlib import Path

CATALOGUE = load_catalogue()
KEY = KemPrivateKey.generate()
OTHER_KEY = KemPrivateKey.generate()


def record(
    *,
    region: str = "AFR",
    month: str = "2026-02",
    summary: str | None = "Stamps on the end-user certificate did not match.",
    tlp: str = "amber",
    stage: str = "pre_transfer",
    status: str = "active",
) -> CaseRecord:
    case = parse_case(
        {
            "confidence": "confirmed",
            "region": region,
            "detected": month,
            "items": [{"category": "small_arms", "quantity": 10}],
            "transfer_stage": stage,
            "detection_source": "licensing_review",
            "summary": summary,
            "tlp": tlp,
            "status": status,
            "case_id": str(uuid.uuid4()),
        },
        today=date(2026, 12, 1),
    )
    return signed_record(case, index=uuid.uuid4().int % 2**32)


def seal(rec: CaseRecord, key: KemPrivateKey = KEY, region: str | None = None) -> bytes:
    sealer = Sealer(type=TYPE_CASE, region=region or rec.region.value, recipients=[key.public_key])
    return sealer.seal(rec.to_json(), pad_to=case_padded_size(rec))


def test_lesson_of_keeps_only_what_a_meeting_may_read() -> None:
    kept = lesson_of(record(summary="  Route   via a free zone.\n", tlp="green"))
    assert kept is not None
    assert kept.month == "2026-02"
    assert kept.lesson.text == "Route via a free zone."
    assert kept.lesson.stage is not None
    assert kept.lesson.stage.value == "pre_transfer"
    assert set(kept.lesson.model_dump()) == {"text", "tlp", "stage"}  # nothing attributing
    for tlp in ("amber", "green", "clear"):
        assert lesson_of(record(tlp=tlp)) is not None
    for tlp in ("red", "amber_strict"):
        assert lesson_of(record(tlp=tlp)) is None
    assert lesson_of(record(summary=None)) is None
    assert lesson_of(record(status="withdrawn")) is None


def test_open_lessons_counts_what_it_cannot_read() -> None:
    good = record(summary="Good lesson.")
    sealed = [
        seal(good),
        seal(record(tlp="red", summary="Red lesson.")),
        seal(record(summary="Sealed for another key."), key=OTHER_KEY),
        seal(record(region="APG", summary="Another region's case.")),
        b"not an envelope",
    ]
    found = open_lessons("AFR", sealed, Opener([KEY]))
    assert [item.lesson.text for item in found.lessons] == ["Good lesson."]
    assert found.unreadable == 3
    assert "Red lesson." not in repr(found)


@pytest.fixture
async def store(tmp_path: Path) -> AsyncIterator[CaseStore]:
    async with CaseStore(sqlite_url(tmp_path / "cases.db")) as s:
        yield s


async def test_lessons_from_the_store_reach_the_digests_of_their_period(store: CaseStore) -> None:
    plan = [
        ("2026-01", "January lesson.", "amber", 1),
        ("2026-02", "February lesson.", "green", 2),
        ("2026-02", "February red.", "red", 3),
        ("2026-04", "April lesson.", "clear", 1),
        ("2026-02", None, "green", 2),
    ]
    facts = []
    for month, text, tlp, node in plan:
        rec = record(month=month, summary=text, tlp=tlp, stage="in_transit")
        base = make_facts(
            region="AFR",
            month=month,
            node=node,
            values=(("kind", "case"), ("transfer_stage", "in_transit")),
            case_id=rec.case_id,
            tlp=tlp,
        )
        facts.append(dataclasses.replace(base, sealed=seal(rec)))
    # one more contributor every month, so that the stage cells are published
    for month in ("2026-01", "2026-02", "2026-04"):
        rec = record(month=month, summary=None)
        base = make_facts(
            region="AFR",
            month=month,
            node=9,
            values=(("transfer_stage", "in_transit"),),
            case_id=rec.case_id,
        )
        facts.append(dataclasses.replace(base, sealed=seal(rec)))
    # an undecryptable stored case is skipped (no key), not fatal; its stage is fixed so
    # that the suppression pattern below is too (random values would make it random)
    facts.append(
        dataclasses.replace(
            make_facts(
                region="AFR",
                month="2026-02",
                node=4,
                values=(("transfer_stage", "post_delivery"),),
            ),
            sealed=seal(record(summary="Other key."), key=OTHER_KEY),
        )
    )
    await store.apply_batch("AFR", facts)

    found = await load_lessons(store, "AFR", Opener([KEY]))
    assert found.unreadable == 1
    assert sorted(item.lesson.text for item in found.lessons) == [
        "April lesson.",
        "February lesson.",
        "January lesson.",
    ]
    texts = {
        period: [
            lesson.text
            for lesson in (
                await build_digest(
                    store, "AFR", period, k=2, catalogue=CATALOGUE, lessons=found.lessons
                )
            ).lessons
        ]
        for period in ("2026-01", "2026-02", "2026-Q1", "2026-Q2", "CSP12")
    }
    assert texts == {
        "2026-01": ["January lesson."],
        "2026-02": ["February lesson."],
        "2026-Q1": ["February lesson.", "January lesson."],
        "2026-Q2": ["April lesson."],
        "CSP12": ["April lesson.", "February lesson.", "January lesson."],
    }
    digest = await build_digest(
        store, "AFR", "2026-01", k=2, catalogue=CATALOGUE, lessons=found.lessons
    )
    html = render_digest_html(digest)
    assert "January lesson." in html
    assert "February red." not in html
    # a lesson names its stage only where the digest publishes that stage's cell: a month
    # by total (the default tables) lists no stage, a full month publishes in_transit
    stages_now = {c.value: c for c in digest.dimensions.get(Dimension.TRANSFER_STAGE, [])}
    shown = "in_transit" in stages_now and not stages_now["in_transit"].suppressed
    assert shown is (not months_by_total(None))
    assert ("In transit" in html) is shown
    # in February the undecryptable case adds a one-contributor post_delivery cell, which
    # the total minus in_transit would give away: the joint suppression hides in_transit in
    # February, 2026-Q1 and CSP12, so there the lessons are listed without their stage
    quarter = await build_digest(
        store, "AFR", "2026-Q1", k=2, catalogue=CATALOGUE, lessons=found.lessons
    )
    stages = {c.value: c for c in quarter.dimensions[Dimension.TRANSFER_STAGE]}
    assert stages["in_transit"].suppressed
    assert stages["post_delivery"].suppressed
    assert quarter.totals.cases == 7
    assert [lesson.stage for lesson in quarter.lessons] == [None, None]
    html = render_digest_html(quarter)
    assert "February red." not in html
    assert "In transit" not in html
    assert "Other stages" in html


def test_lessons_for_undated_lessons_go_everywhere() -> None:
    dated = lesson_of(record(month="2026-03"))
    assert isinstance(dated, CaseLesson)
    assert lessons_for([dated], Month.parse("2026-03")) == [dated.lesson]
    assert lessons_for([dated], Month.parse("2026-04")) == []
    assert lessons_for([dated.lesson], Month.parse("2026-04")) == [dated.lesson]
