"""Shareable lessons for the regional digests (DESIGN §7): the screened ``summary`` texts.

Lessons live inside the sealed cases, so reading them needs the region's private key. A
lesson is kept only when a meeting may read it (TLP amber or lower, not amber+strict, never
red), and it carries nothing but its text, its TLP and the transfer stage of its case: no
case id, no contributor, no revision, no month. The month of the case is kept beside it
(:class:`CaseLesson`) only to choose which digests it belongs to; it is never published.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import TYPE_CHECKING, Protocol

from pydantic import ValidationError as PydanticValidationError

from dief.exceptions import DiefError
from dief.periods import Month, Period
from dief.vocab import CaseStatus, Region
from dief.wire import CaseRecord, Lesson

if TYPE_CHECKING:
    from collections.abc import Iterable, Sequence

    from dief.aggregator.store import CaseStore

__all__ = [
    "CaseLesson",
    "LessonOpener",
    "LessonSet",
    "lesson_of",
    "lessons_for",
    "load_lessons",
    "open_lessons",
]

log = logging.getLogger("dief.digests")


class _Opened(Protocol):
    @property
    def payload(self) -> bytes: ...


class LessonOpener(Protocol):
    """Opens sealed envelopes (a :class:`dief.crypto.Opener` holding the region's keys)."""

    def open(self, value: bytes) -> _Opened: ...


@dataclass(frozen=True, slots=True)
class CaseLesson:
    """A shareable lesson and the month of its case (used to pick digests, never shown)."""

    month: str
    lesson: Lesson


@dataclass(frozen=True, slots=True)
class LessonSet:
    """The lessons of one region, and how many stored cases could not be read for them."""

    region: Region
    lessons: tuple[CaseLesson, ...]
    unreadable: int = 0


def lesson_of(record: CaseRecord) -> CaseLesson | None:
    """The shareable lesson of *record*, or ``None`` (no summary, TLP too high, or a
    withdrawn case)."""
    if record.status is not CaseStatus.ACTIVE or record.summary is None:
        return None
    text = " ".join(record.summary.split())
    if not text or not record.tlp.meeting_may_read:
        return None
    return CaseLesson(
        month=record.detected_month,
        lesson=Lesson(text=text, tlp=record.tlp, stage=record.transfer_stage),
    )


def open_lessons(region: Region | str, sealed: Iterable[bytes], opener: LessonOpener) -> LessonSet:
    """Open each sealed case of *region* and keep its shareable lesson.

    A case that cannot be opened (a retired key, say) or is not a valid record of *region*
    is counted as unreadable and skipped; nothing about it is logged but the count.
    """
    code = Region(region)
    found: list[CaseLesson] = []
    unreadable = 0
    for value in sealed:
        try:
            record = CaseRecord.model_validate_json(opener.open(value).payload)
        except (DiefError, PydanticValidationError):
            unreadable += 1
            continue
        if record.region != code:
            unreadable += 1
            continue
        lesson = lesson_of(record)
        if lesson is not None:
            found.append(lesson)
    if unreadable:
        log.warning("%d stored cases of %s could not be read for lessons", unreadable, code.value)
    return LessonSet(code, tuple(found), unreadable)


async def load_lessons(store: CaseStore, region: Region | str, opener: LessonOpener) -> LessonSet:
    """The shareable lessons of *region*'s active cases in *store* (reads every sealed case
    of the region once: O(cases), so call it once per region, not once per digest)."""
    code = Region(region)
    rows = await store.sealed_cases(code.value)
    return open_lessons(code, (value for _case_id, value in rows), opener)


def lessons_for(lessons: Sequence[Lesson | CaseLesson], period: Period) -> list[Lesson]:
    """The lessons that belong to a digest of *period*: dated ones whose month lies in it,
    and every undated one."""
    out: list[Lesson] = []
    for item in lessons:
        if isinstance(item, CaseLesson):
            if period.contains(Month.parse(item.month)):
                out.append(item.lesson)
        else:
            out.append(item)
    return out
