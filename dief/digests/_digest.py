"""Regional trend digests for DIEF meetings (DESIGN §7): one digest assembled from its parts.

One digest costs one read of the region's stored cells (every period: the suppression
pattern is joint across them), never a scan of the cases. Cells with fewer than ``k``
distinct contributors are suppressed (primary), and further cells so that no suppressed
cell follows from the published ones, within the digest or across the region's month,
quarter and cycle digests (secondary; :mod:`dief.disclosure._pattern`).

:func:`assemble_digest` reads the digest's tables (:mod:`dief.digests._tables`) and puts
together its cells and totals (:mod:`dief.digests._cells`), its checklist
(:mod:`dief.digests._checklist`), the lessons it lists (:func:`_lessons`, here) and its
notes (:mod:`dief.digests._notes`).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from dief.aggregator import TOTAL
from dief.digests._cells import _listed, _totals
from dief.digests._checklist import _checklist
from dief.digests._lessons import CaseLesson, lessons_for
from dief.digests._notes import _notes
from dief.digests._tables import _tables
from dief.digests._withheld import with_withheld
from dief.disclosure import (
    DigestPattern,
    PeriodCells,
    digest_pattern,
)
from dief.periods import (
    DEFAULT_CYCLE_START_MONTH,
    Month,
    Period,
)
from dief.vocab import Dimension, Region, Tlp, TransferStage
from dief.wire import Cell, Digest, Lesson

if TYPE_CHECKING:
    from collections.abc import Mapping, Sequence

    from dief.catalogue import Catalogue

__all__ = ["assemble_digest"]


_STAGE_ORDER = {stage: i for i, stage in enumerate(TransferStage)}


#: TLP levels, most restrictive first (``Tlp`` declares them in that order).
_TLP_RANK = {tlp: rank for rank, tlp in enumerate(Tlp)}


def _lessons(
    lessons: Sequence[Lesson | CaseLesson] | None,
    current: Period,
    stage_cells: Sequence[Cell],
    *,
    withheld: bool,
    stages: bool = True,
) -> list[Lesson]:
    """The lessons of *current* the digest lists: shareable ones only (TLP amber or lower),
    grouped by transfer stage, deduplicated.

    None when the digest is rendered without lessons (*lessons* ``None``) or when the
    period's totals have fewer than k contributors (the lessons would all be one
    contributor's; totals withheld by secondary suppression come from at least k
    contributors and keep their lessons). A lesson whose stage cell is suppressed is
    listed without its stage, so the lessons never show how many cases a suppressed stage
    holds.
    """
    if lessons is None:
        return []
    period_lessons = lessons_for(lessons, current)
    if withheld:
        return []
    hidden = {c.value for c in stage_cells if c.suppressed}
    keep: dict[tuple[TransferStage | None, str], Lesson] = {}
    for given in period_lessons:
        if not given.tlp.meeting_may_read:
            continue
        lesson = given
        if lesson.stage is not None and (not stages or lesson.stage.value in hidden):
            lesson = lesson.model_copy(update={"stage": None})
        key = (lesson.stage, " ".join(lesson.text.split()))
        held = keep.get(key)
        # The same text from cases of different TLP: the most restrictive one is shown,
        # whatever order the store returned the cases in.
        if held is None or _TLP_RANK[lesson.tlp] < _TLP_RANK[held.tlp]:
            keep[key] = lesson
    last = len(_STAGE_ORDER)
    return sorted(
        keep.values(),
        key=lambda item: (last if item.stage is None else _STAGE_ORDER[item.stage], item.text),
    )


def assemble_digest(  # noqa: PLR0913  a public keyword signature (RegionDigests, tests)
    region: Region,
    current: Period,
    tallies: Mapping[str, PeriodCells],
    dead: Mapping[str, int],
    *,
    k: int,
    catalogue: Catalogue,
    lessons: Sequence[Lesson | CaseLesson] | None = (),
    pattern: DigestPattern | None = None,
    start_month: int = DEFAULT_CYCLE_START_MONTH,
    coarse: bool = False,
) -> Digest:
    """The digest of *region* for *current* from merged cells (period → cells, TLP:RED
    included) and the region's dead-letter counts: :func:`~dief.digests.build_digest`
    without the reads (:class:`~dief.digests.RegionDigests` does them once per region).

    *tallies* must hold every period of the region with data: the suppression *pattern* is
    joint across them (computed from *tallies* when not given; pass the one
    :func:`~dief.disclosure.digest_pattern` made, to share it between digests).

    :raises ValueError: *pattern* was made for another ``k``, or does not cover a table
        this digest shows (its period, checklist window or the window before).
    """
    if k < 1:
        raise ValueError("k is at least 1")
    if pattern is None:
        pattern = digest_pattern(tallies, k=k, start_month=start_month, periods=[str(current)])
    elif pattern.k != k:
        raise ValueError("the suppression pattern was made for another k")
    tables = _tables(tallies, current, pattern)
    monthly = coarse and isinstance(current, Month)
    listed = _listed(tables, pattern=pattern, monthly=monthly)
    dimensions, withheld, suppressed = listed.dimensions, listed.withheld, listed.suppressed
    checklist = _checklist(tables, pattern=pattern, catalogue=catalogue)
    total = tables.now.get(TOTAL)
    # fewer than k contributors in the whole period (primary suppression of the totals)
    alone = total is not None and 0 < total.contributors < k
    omitted = lessons is None
    return Digest(
        region=region,
        period=str(current),
        k=k,
        totals=_totals(tables, pattern=pattern, suppressed=suppressed),
        dimensions=dimensions,
        checklist=checklist,
        lessons=_lessons(
            lessons,
            current,
            dimensions.get(Dimension.TRANSFER_STAGE, []),
            withheld=alone,
            stages=not monthly and Dimension.TRANSFER_STAGE not in withheld,
        ),
        notes=with_withheld(
            _notes(
                tables,
                pattern,
                dead,
                checklist,
                k=k,
                suppressed=suppressed,
                omitted=omitted,
                alone=alone,
                share=listed.share,
                monthly=monthly,
            ),
            # a silenced table withholds every dimension, and its notes say why (_notes)
            () if pattern.silenced(str(current)) else withheld,
            k=k,
        ),
    )
