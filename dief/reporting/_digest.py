"""Regional trend digests for DIEF meetings (DESIGN §7).

One digest costs one read of the stored cells of a handful of periods (the period, the one
before it, and the eight quarters the checklist and its trend compare), never a scan of the
cases. Cells with fewer than ``k`` distinct contributors are published as suppressed.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence

from dief.catalogue import Catalogue
from dief.periods import (
    DEFAULT_CYCLE_START_MONTH,
    Month,
    Period,
    Quarter,
    parse_period,
)
from dief.reporting._cells import TOTAL, CellId, PeriodCells, Tally, combine, merge_rows
from dief.reporting._lessons import CaseLesson, lessons_for
from dief.reporting._trend import TREND_TEST, trend_flag
from dief.shapes import Cell, ChecklistEntry, Digest, DigestNotes, Lesson, Totals, Trend
from dief.storage import CaseStore
from dief.vocab import Dimension, Region, TransferStage

__all__ = [
    "SHARE_DIGITS",
    "assemble_digest",
    "build_digest",
    "cell_index",
    "checklist_entry",
    "checklist_window",
    "digest_periods",
    "previous_period",
    "rank_cells",
    "rank_checklist",
    "ratio",
]

#: shares and prevalences are rounded to this many decimals (deterministic output)
SHARE_DIGITS = 4

_STAGE_ORDER = {stage: i for i, stage in enumerate(TransferStage)}


def previous_period(period: Period) -> Period | None:
    """The period before *period* of the same kind, or ``None`` before CSP1 / year 1."""
    try:
        return period.previous()
    except ValueError:
        return None


def _last_quarter(period: Period) -> Quarter:
    if isinstance(period, Month):
        return period.quarter
    if isinstance(period, Quarter):
        return period
    return period.last.quarter


def checklist_window(period: Period) -> tuple[tuple[Quarter, ...], tuple[Quarter, ...]]:
    """The four quarters ending at *period*'s (last) quarter, and the four before them."""
    end = _last_quarter(period)
    quarters: list[Quarter] = [end]
    try:
        for _ in range(7):
            quarters.append(quarters[-1].previous())
    except ValueError:
        pass
    quarters.reverse()
    return tuple(quarters[-4:]), tuple(quarters[:-4])


def ratio(count: int, total: int | None) -> float | None:
    if total is None or total <= 0:
        return None
    return round(min(count / total, 1.0), SHARE_DIGITS)


def _previous_count(tally: Tally | None, k: int) -> int | None:
    """The previous period's count as published: 0 without data, null below k."""
    if tally is None:
        return 0
    if tally.contributors < k:
        return None
    return tally.count


def rank_cells(cells: Iterable[Cell]) -> list[Cell]:
    """Published cells by count (largest first, then value), then suppressed ones by value."""
    published = sorted(
        (c for c in cells if not c.suppressed), key=lambda c: (-(c.count or 0), c.value)
    )
    hidden = sorted((c for c in cells if c.suppressed), key=lambda c: c.value)
    return [*published, *hidden]


def _cell(
    value: str,
    tally: Tally,
    before: Tally | None,
    *,
    k: int,
    total: int | None,
) -> Cell:
    if tally.contributors < k:
        return Cell(value=value, count=None, contributors=None, suppressed=True)
    previous = _previous_count(before, k)
    return Cell(
        value=value,
        count=tally.count,
        contributors=tally.contributors,
        suppressed=False,
        share=ratio(tally.count, total),
        previous=previous,
        change=None if previous is None else tally.count - previous,
        trend=None if previous is None else trend_flag(tally.count, previous),
    )


def _dimensions(
    now: PeriodCells, before: PeriodCells, *, k: int, total: int | None
) -> dict[Dimension, list[Cell]]:
    out: dict[Dimension, list[Cell]] = {}
    for dimension in Dimension:
        cells = [
            _cell(value, tally, before.get((dim, value)), k=k, total=total)
            for (dim, value), tally in now.items()
            if dim == dimension.value
        ]
        out[dimension] = rank_cells(cells)
    return out


def _totals(now: PeriodCells, before: PeriodCells, *, k: int, suppressed: int) -> Totals:
    tally = now.get(TOTAL, Tally(0, 0, ()))
    if 0 < tally.contributors < k:
        return Totals(cases=None, contributors=None, suppressed=suppressed, withheld=True)
    previous = _previous_count(before.get(TOTAL), k)
    return Totals(
        cases=tally.count,
        contributors=tally.contributors,
        suppressed=suppressed,
        previous=previous,
        trend=None if previous is None else trend_flag(tally.count, previous),
    )


def checklist_entry(
    catalogue: Catalogue,
    indicator_id: str,
    *,
    count: int | None,
    prevalence: float | None,
    trend: Trend | None,
) -> ChecklistEntry:
    """A checklist entry with the catalogue's question, title, stages and sources.

    ``count=None`` makes a suppressed entry (prevalence and trend dropped too).
    """
    indicator = catalogue.get(indicator_id)
    hidden = count is None
    return ChecklistEntry(
        id=indicator_id,
        question=indicator.question
        if indicator is not None
        else f"(not in risk-indicator catalogue version {catalogue.version})",
        count=count,
        prevalence=None if hidden else prevalence,
        trend=None if hidden else trend,
        suppressed=hidden,
        title=indicator.title if indicator is not None else None,
        stages=list(indicator.stages) if indicator is not None else [],
        source="; ".join(str(s) for s in indicator.sources) if indicator is not None else None,
    )


def rank_checklist(entries: Iterable[ChecklistEntry]) -> list[ChecklistEntry]:
    """Published entries by prevalence (then count, id), then suppressed ones by id."""
    items = list(entries)
    published = sorted(
        (e for e in items if not e.suppressed),
        key=lambda e: (-(e.prevalence or 0.0), -(e.count or 0), e.id),
    )
    hidden = sorted((e for e in items if e.suppressed), key=lambda e: e.id)
    return [*published, *hidden]


def _checklist(
    window: PeriodCells, prior: PeriodCells, *, k: int, catalogue: Catalogue
) -> list[ChecklistEntry]:
    total = window.get(TOTAL)
    cases = total.count if total is not None and total.contributors >= k else None
    entries: list[ChecklistEntry] = []
    for (dim, ind_id), tally in window.items():
        if dim != Dimension.RISK_INDICATOR.value:
            continue
        if tally.contributors < k or cases is None:
            entries.append(
                checklist_entry(catalogue, ind_id, count=None, prevalence=None, trend=None)
            )
            continue
        previous = _previous_count(prior.get((dim, ind_id)), k)
        entries.append(
            checklist_entry(
                catalogue,
                ind_id,
                count=tally.count,
                prevalence=ratio(tally.count, cases),
                trend=None if previous is None else trend_flag(tally.count, previous),
            )
        )
    return rank_checklist(entries)


def _lessons(
    lessons: Sequence[Lesson], stage_cells: Sequence[Cell], *, withheld: bool
) -> list[Lesson]:
    """Shareable lessons only (TLP amber or lower), grouped by transfer stage, deduplicated.

    None at all when the period's totals are withheld (one contributor). A lesson whose
    stage cell is suppressed is listed without its stage, so the lessons never show how
    many cases a suppressed stage holds.
    """
    if withheld:
        return []
    hidden = {c.value for c in stage_cells if c.suppressed}
    keep: dict[tuple[TransferStage | None, str], Lesson] = {}
    for lesson in lessons:
        if not lesson.tlp.meeting_may_read:
            continue
        if lesson.stage is not None and lesson.stage.value in hidden:
            lesson = lesson.model_copy(update={"stage": None})
        keep.setdefault((lesson.stage, " ".join(lesson.text.split())), lesson)
    last = len(_STAGE_ORDER)
    return sorted(
        keep.values(),
        key=lambda item: (last if item.stage is None else _STAGE_ORDER[item.stage], item.text),
    )


def _note_text(
    *,
    k: int,
    suppressed: int,
    suppressed_checklist: int,
    cycles: Sequence[str],
    window: Sequence[Quarter],
    dead: Mapping[str, int],
    lessons: str,
) -> list[str]:
    lines = [
        f"Cells with fewer than {k} distinct contributors are suppressed: their count, "
        "contributors, share, previous count, change and trend are not published.",
        f"{suppressed} cells of this digest and {suppressed_checklist} checklist entries "
        "are suppressed.",
        "Trend flags: conditional test of equal Poisson rates, z = (c - p) / sqrt(c + p) "
        f"with c the count now and p the previous period's count; rising if z >= "
        f"{TREND_TEST.z}, falling if z <= -{TREND_TEST.z} (two-sided, alpha = "
        f"{TREND_TEST.alpha}); new if p = 0 and c >= {TREND_TEST.min_count}; stable when "
        f"c + p < {TREND_TEST.min_count}. No flag is given when the previous count is "
        "itself suppressed.",
    ]
    if len(cycles) > 1:
        lines.append(
            f"This period spans the CSP cycles {', '.join(cycles)}, whose contributor "
            "pseudonyms cannot be linked: every contributor count is the largest count "
            "within one cycle, a lower bound of the true number, so suppression errs on "
            "the safe side."
        )
    if window:
        lines.append(
            f"The checklist counts cases over the quarters {window[0]} to {window[-1]} and "
            "flags trends against the four quarters before; its contributor counts are "
            "lower bounds in the same way."
        )
    total_dead = sum(dead.values())
    if total_dead:
        reasons = ", ".join(f"{reason}: {n}" for reason, n in sorted(dead.items()))
        lines.append(
            f"{total_dead} records of this region were dead-lettered so far (all periods; "
            f"{reasons})."
        )
    else:
        lines.append("No record of this region was dead-lettered.")
    lines.append("Late revisions are not tracked per period yet.")
    lines.append(lessons)
    return lines


def _lessons_note(omitted: bool, *, withheld: bool) -> str:
    if omitted:
        return (
            "Lessons are not included: this digest was rendered without the region's "
            "private key, which the sealed cases' texts need."
        )
    if withheld:
        return "No lessons are shown because this period's totals are suppressed."
    return (
        "Lessons are the screened summaries of cases marked TLP:AMBER or lower (never "
        "TLP:AMBER+STRICT or TLP:RED), grouped by the transfer stage of their case; "
        "identical texts appear once, nothing identifies the case or its contributor, and "
        "a lesson whose stage cell is suppressed appears under other stages. The number of "
        "lessons is not a number of cases."
    )


async def build_digest(
    store: CaseStore,
    region: Region | str,
    period: str,
    *,
    k: int = 2,
    catalogue: Catalogue,
    start_month: int = DEFAULT_CYCLE_START_MONTH,
    lessons: Sequence[Lesson | CaseLesson] | None = (),
) -> Digest:
    """The trend digest of *region* for *period* (``2026-05``, ``2026-Q2`` or ``CSP12``).

    TLP:RED cases count (the digest goes to the region's own meeting only). Costs one read
    of the stored cells of at most ten periods. *lessons* are included when shareable
    (TLP amber or lower), grouped by transfer stage; dated ones (:class:`CaseLesson`) only
    when their month lies in *period*. ``lessons=None`` means they could not be read
    (rendered without the region's private key): the notes say so.
    """
    if k < 1:
        raise ValueError("k is at least 1")
    code = Region(region)
    current = parse_period(period, start_month=start_month)
    rows = await store.cell_rows(code.value, digest_periods(current), include_red=True)
    return assemble_digest(
        code,
        current,
        merge_rows(rows),
        await store.dead_letter_counts(code.value),
        k=k,
        catalogue=catalogue,
        lessons=lessons,
    )


def digest_periods(current: Period) -> list[str]:
    """The periods whose cells a digest of *current* reads (at most ten)."""
    before = previous_period(current)
    window, prior = checklist_window(current)
    wanted = {str(current), *(str(q) for q in (*window, *prior))}
    if before is not None:
        wanted.add(str(before))
    return sorted(wanted)


def assemble_digest(
    region: Region,
    current: Period,
    tallies: Mapping[str, PeriodCells],
    dead: Mapping[str, int],
    *,
    k: int,
    catalogue: Catalogue,
    lessons: Sequence[Lesson | CaseLesson] | None = (),
) -> Digest:
    """The digest of *region* for *current* from merged cells holding at least
    :func:`digest_periods` (period → cells, TLP:RED included) and the region's dead-letter
    counts: :func:`build_digest` without the reads, for callers writing many digests."""
    if k < 1:
        raise ValueError("k is at least 1")
    code = region
    before = previous_period(current)
    window, prior = checklist_window(current)
    now = tallies.get(str(current), {})
    then = tallies.get(str(before), {}) if before is not None else {}

    total = now.get(TOTAL)
    published_total = total.count if total is not None and total.contributors >= k else None
    dimensions = _dimensions(now, then, k=k, total=published_total)
    suppressed = sum(c.suppressed for cells in dimensions.values() for c in cells)
    checklist = _checklist(
        combine(tallies.get(str(q), {}) for q in window),
        combine(tallies.get(str(q), {}) for q in prior),
        k=k,
        catalogue=catalogue,
    )
    cycles = sorted({c for tally in now.values() for c in tally.cycles})
    suppressed_checklist = sum(e.suppressed for e in checklist)
    totals = _totals(now, then, k=k, suppressed=suppressed)
    shown = (
        []
        if lessons is None
        else _lessons(
            lessons_for(lessons, current),
            dimensions[Dimension.TRANSFER_STAGE],
            withheld=totals.withheld,
        )
    )
    notes = DigestNotes(
        late_revisions=None,
        dead_lettered=sum(dead.values()),
        suppressed_cells=suppressed,
        dead_letters=dict(sorted(dead.items())),
        k=k,
        trend_test=TREND_TEST,
        cycles=cycles,
        contributors_lower_bound=len(cycles) > 1,
        checklist_window=[str(q) for q in window],
        text=_note_text(
            k=k,
            suppressed=suppressed,
            suppressed_checklist=suppressed_checklist,
            cycles=cycles,
            window=window,
            dead=dead,
            lessons=_lessons_note(lessons is None, withheld=totals.withheld),
        ),
        suppressed_checklist_entries=suppressed_checklist,
        lessons_omitted=lessons is None,
    )
    return Digest(
        region=code,
        period=str(current),
        k=k,
        totals=totals,
        dimensions=dimensions,
        checklist=checklist,
        lessons=shown,
        notes=notes,
    )


def cell_index(dimensions: Mapping[Dimension, Sequence[Cell]]) -> dict[CellId, Cell]:
    """(dimension, value) → cell, for tests and renderers."""
    return {(d.value, c.value): c for d, cells in dimensions.items() for c in cells}
