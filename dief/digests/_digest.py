"""Regional trend digests for DIEF meetings (DESIGN §7).

One digest costs one read of the region's stored cells (every period: the suppression
pattern is joint across them), never a scan of the cases. Cells with fewer than ``k``
distinct contributors are suppressed (primary), and further cells so that no suppressed
cell follows from the published ones, within the digest or across the region's month,
quarter and cycle digests (secondary; :mod:`dief.disclosure._pattern`).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from dief.aggregator import TOTAL
from dief.digests._lessons import CaseLesson, lessons_for
from dief.digests._trend import TREND_TEST, trend_flag
from dief.digests._withheld import with_withheld
from dief.disclosure import (
    MONTH_DIMENSIONS,
    CellId,
    DigestPattern,
    PeriodCells,
    Tally,
    combine,
    digest_pattern,
    last_quarter,
    window_key,
)
from dief.periods import (
    DEFAULT_CYCLE_START_MONTH,
    Month,
    Period,
    Quarter,
)
from dief.vocab import Dimension, Region, Tlp, TransferStage, TransferType
from dief.wire import (
    Cell,
    ChecklistEntry,
    Digest,
    DigestNotes,
    Lesson,
    SuppressionReason,
    Totals,
    Trend,
)

if TYPE_CHECKING:
    from collections.abc import Iterable, Mapping, Sequence

    from dief.catalogue import Catalogue

__all__ = [
    "FEW_CHECKLIST_NOTE",
    "FEW_NOTE",
    "MONTHLY_NOTE",
    "SHARE_DIGITS",
    "assemble_digest",
    "cell_index",
    "checklist_entry",
    "checklist_window",
    "few_contributors",
    "filter_checklist",
    "missing_tables_note",
    "previous_period",
    "published_share",
    "rank_cells",
    "rank_checklist",
    "ratio",
    "reason_of",
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


def checklist_window(period: Period) -> tuple[tuple[Quarter, ...], tuple[Quarter, ...]]:
    """The four quarters ending at *period*'s (last) quarter, and the four before them."""
    end = last_quarter(period)
    quarters: list[Quarter] = [end]
    try:
        for _ in range(7):
            quarters.append(quarters[-1].previous())
    except ValueError:
        pass
    quarters.reverse()
    return tuple(quarters[-4:]), tuple(quarters[:-4])


def few_contributors(cells: PeriodCells, k: int) -> bool:
    """Whether the table *cells* has a total of fewer than *k* distinct contributors: it
    then lists no value (a listed value, even suppressed, says that their cases have it),
    and a later table compares nothing with it (a previous count of 0 or hidden says the
    same). A table without data is not (it lists nothing to tell)."""
    total = cells.get(TOTAL)
    return total is not None and total.contributors < k


def ratio(count: int, total: int | None) -> float | None:
    if total is None or total <= 0:
        return None
    return round(min(count / total, 1.0), SHARE_DIGITS)


@dataclass(frozen=True, slots=True)
class _Tables:
    """The cells of the tables one digest shows: the period and the one before (``now``,
    ``then``; table names ``periods``) and the checklist's four quarters (``window``) and the
    four before (``window_cells``, ``prior_cells``; ``names``). No period before: ``None``."""

    now: PeriodCells
    then: PeriodCells
    periods: tuple[str, str | None]
    window: tuple[Quarter, ...]
    window_cells: PeriodCells
    prior_cells: PeriodCells
    names: tuple[str, str | None]


def _tables(tallies: Mapping[str, PeriodCells], current: Period, pattern: DigestPattern) -> _Tables:
    """The digest's tables of *current* read from *tallies* (no data: no cells; the windows
    combine their quarters). Raises ``ValueError`` unless *pattern* covers each with cells."""
    before = previous_period(current)
    window, prior = checklist_window(current)
    tables = _Tables(
        now=tallies.get(str(current), {}),
        then=tallies.get(str(before), {}) if before is not None else {},
        periods=(str(current), str(before) if before is not None else None),
        window=window,
        window_cells=combine(tallies.get(str(q), {}) for q in window),
        prior_cells=combine(tallies.get(str(q), {}) for q in prior),
        names=(window_key(window[-1]), window_key(prior[-1]) if prior else None),
    )
    for table, cells in (
        (tables.periods[0], tables.now),
        (tables.periods[1], tables.then),
        *zip(tables.names, (tables.window_cells, tables.prior_cells), strict=True),
    ):
        if table is not None and cells and table not in pattern.tables:
            raise ValueError(f"the suppression pattern does not cover {table}")
    return tables


def _previous_count(
    tally: Tally | None, pattern: DigestPattern, period: str | None, cell: CellId
) -> int | None:
    """The previous period's count as its digest publishes it: 0 without data, null when
    suppressed there."""
    if period is None:
        return 0
    return pattern.published(period, cell, tally)


#: what a month's digest says of its missing dimension tables
MONTHLY_NOTE = (
    "A month's digest shows its number of cases and their kind (case or alert) only: a "
    "region's month holds too few cases to show them by every dimension without hiding "
    "most of the table (and, through the sums into quarters and cycles, the totals). The "
    "quarter, half-cycle and CSP cycle digests show every dimension."
)

#: what a digest of fewer than k contributors says of its empty tables
FEW_NOTE = (
    "Fewer than {k} distinct contributors reported in this period: no value of any "
    "dimension is listed, since a listed value, even with its count hidden, would tell "
    "what their cases report."
)


def missing_tables_note(digest: Digest) -> str:
    """What a page says in place of a digest's dimension tables when it lists none: why,
    as its notes say (a month by total, or a period of fewer than k contributors); ``""``
    when its notes give neither reason."""
    few = FEW_NOTE.format(k=digest.k)
    for note in (MONTHLY_NOTE, few):
        if note in digest.notes.text:
            return note
    return ""


#: what a digest says of its empty checklist when its four quarters have few contributors
FEW_CHECKLIST_NOTE = (
    "Fewer than {k} distinct contributors reported in the checklist's four quarters: no "
    "indicator is listed, since a listed one, even with its count hidden, would tell "
    "what their cases report."
)

#: what a digest says when its total, with at least k contributors, is hidden
PROTECTED_TOTAL_NOTE = (
    "The total number of cases is hidden although at least {k} States reported in this "
    "period: published beside the region's other documents (the months, quarters and "
    "cycles add up), it would reveal the figure of a period or value reported by fewer "
    "than {k} States, and no smaller figure could be hidden instead."
)


def reason_of(tally: Tally | None, k: int) -> SuppressionReason:
    """Why a suppressed cell is suppressed: fewer than *k* contributors, or to protect
    another cell (a cell kept listed at zero counts as the former)."""
    if tally is None or tally.contributors < k:
        return SuppressionReason.CONTRIBUTORS
    return SuppressionReason.PROTECTION


def rank_cells(cells: Iterable[Cell]) -> list[Cell]:
    """Published cells by count (largest first, then value), then suppressed ones by value."""
    published = sorted(
        (c for c in cells if not c.suppressed), key=lambda c: (-(c.count or 0), c.value)
    )
    hidden = sorted((c for c in cells if c.suppressed), key=lambda c: c.value)
    return [*published, *hidden]


def _cell(  # noqa: PLR0913  one keyword per input of a cell: the pattern, its periods, the total
    cell: CellId,
    tally: Tally,
    before: Tally | None,
    *,
    pattern: DigestPattern,
    periods: tuple[str, str | None],
    total: int | None,
    compare: bool = True,
) -> Cell:
    value = cell[1]
    if pattern.hidden(periods[0], cell, tally):
        return Cell(
            value=value,
            count=None,
            contributors=None,
            suppressed=True,
            reason=reason_of(tally, pattern.k),
        )
    previous = _previous_count(before, pattern, periods[1], cell) if compare else None
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
    tables: _Tables, *, pattern: DigestPattern, total: int | None
) -> dict[Dimension, list[Cell]]:
    """The period's cells by dimension (:func:`rank_cells`), shares of the published
    *total*, compared with the period before; none for a period of fewer than k
    contributors (:func:`few_contributors`), none compared with such a period before; no
    dimension the pattern withholds (:mod:`dief.digests._withheld`), none compared with
    a period that withholds it."""
    now, before, periods = tables.now, tables.then, tables.periods
    if few_contributors(now, pattern.k):
        return {}
    compare = not few_contributors(before, pattern.k)
    out: dict[Dimension, list[Cell]] = {}
    for dimension in Dimension:
        if pattern.withholds(periods[0], dimension.value):
            continue  # no value listed (dief.digests._withheld)
        cells = [
            _cell(
                cell,
                tally,
                before.get(cell),
                pattern=pattern,
                periods=periods,
                total=total,
                # a previous period that withholds the dimension says nothing of it: a 0
                # beside hidden counts would tell which of its values have cases
                compare=compare
                and not (periods[1] is not None and pattern.withholds(periods[1], dimension.value)),
            )
            for cell, tally in now.items()
            if cell[0] == dimension.value and pattern.listed_cell(periods[0], cell)
        ]
        out[dimension] = rank_cells(cells)
    return out


def _totals(tables: _Tables, *, pattern: DigestPattern, suppressed: int) -> Totals:
    """The period's totals (withheld where the pattern suppresses them), compared with the
    period before."""
    tally = tables.now.get(TOTAL, Tally(0, 0, ()))
    # listed (a count, or kept listed at 0 by an earlier issue) and suppressed
    if TOTAL in tables.now and pattern.hidden(tables.periods[0], TOTAL, tally):
        return Totals(
            cases=None,
            contributors=None,
            suppressed=suppressed,
            withheld=True,
            reason=reason_of(tally, pattern.k),
        )
    previous = (
        None
        if few_contributors(tables.then, pattern.k)
        else _previous_count(tables.then.get(TOTAL), pattern, tables.periods[1], TOTAL)
    )
    return Totals(
        cases=tally.count,
        contributors=tally.contributors,
        suppressed=suppressed,
        previous=previous,
        trend=None if previous is None else trend_flag(tally.count, previous),
    )


def checklist_entry(  # noqa: PLR0913  a public keyword signature (renderers, the secretariat's summary)
    catalogue: Catalogue,
    indicator_id: str,
    *,
    count: int | None,
    prevalence: float | None,
    trend: Trend | None,
    reason: SuppressionReason | None = None,
) -> ChecklistEntry:
    """A checklist entry with the catalogue's question, title, stages, transfer types and
    sources.

    ``count=None`` makes a suppressed entry (prevalence and trend dropped too), *reason*
    saying why.
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
        transfer_types=list(indicator.transfer_types) if indicator is not None else [],
        reason=(reason or SuppressionReason.CONTRIBUTORS) if hidden else None,
    )


def filter_checklist(
    entries: Iterable[ChecklistEntry],
    *,
    stage: TransferStage | None = None,
    transfer_type: TransferType | None = None,
) -> list[ChecklistEntry]:
    """The entries that apply at *stage* to a transfer of *transfer_type*, in their order
    (the catalogue's rule: ``None``, and the type ``unknown``, select everything; an entry
    that names no transfer type applies to every one). A licensing officer preparing an
    export assessment asks for ``stage=PRE_TRANSFER, transfer_type=EXPORT``."""
    out = []
    for entry in entries:
        if stage is not None and stage not in entry.stages:
            continue
        if (
            transfer_type is not None
            and transfer_type is not TransferType.UNKNOWN
            and entry.transfer_types
            and transfer_type not in entry.transfer_types
        ):
            continue
        out.append(entry)
    return out


def published_share(dimensions: Mapping[Dimension, Sequence[Cell]], hidden: int = 0) -> float:
    """The utility figure of one table: the share of its (case, value) facts that fall in
    published cells. Suppressed cells' counts are not in the document, so *hidden* gives
    their facts (the caller knows them); 1.0 when the table lists nothing."""
    published = sum(c.count or 0 for cells in dimensions.values() for c in cells)
    total = published + hidden
    return round(published / total, SHARE_DIGITS) if total else 1.0


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
    tables: _Tables, *, pattern: DigestPattern, catalogue: Catalogue
) -> list[ChecklistEntry]:
    """The checklist of the window (table ``names[0]``) with trends against the prior window
    (``names[1]``, ``None`` before year 1). A count is published where the pattern publishes
    it, its prevalence only where the window's case count is published too (a prevalence
    and a count give the case count away), its trend only where the prior window's count is
    published by the same pattern (a flag bounds the count it compares with). A window of
    fewer than k contributors lists no entry, and none is compared with such a prior window
    (:func:`few_contributors`)."""
    window, prior, (name, prior_name) = tables.window_cells, tables.prior_cells, tables.names
    if few_contributors(window, pattern.k):
        return []
    compare = not few_contributors(prior, pattern.k)
    total = window.get(TOTAL)
    cases = pattern.published(name, TOTAL, total) if total is not None else None
    entries: list[ChecklistEntry] = []
    for cell, tally in window.items():
        if cell[0] != Dimension.RISK_INDICATOR.value:
            continue
        count = pattern.published(name, cell, tally)
        if count is None:
            entries.append(
                checklist_entry(
                    catalogue,
                    cell[1],
                    count=None,
                    prevalence=None,
                    trend=None,
                    reason=reason_of(tally, pattern.k),
                )
            )
            continue
        previous = (
            None
            if not compare
            else 0
            if prior_name is None
            else pattern.published(prior_name, cell, prior.get(cell))
        )
        entries.append(
            checklist_entry(
                catalogue,
                cell[1],
                count=count,
                prevalence=ratio(count, cases),
                trend=None if previous is None else trend_flag(count, previous),
            )
        )
    return rank_checklist(entries)


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


def _note_text(  # noqa: PLR0913  one keyword per figure the notes state
    *,
    k: int,
    suppressed: int,
    secondary: int,
    suppressed_checklist: int,
    cycles: Sequence[str],
    window: Sequence[Quarter],
    dead: Mapping[str, int],
    lessons: str,
) -> list[str]:
    lines = [
        (
            f"Cells with fewer than {k} distinct contributors are suppressed (primary "
            "suppression): their count, contributors, share, previous count, change and trend "
            "are not published."
        ),
        (
            "Further cells are suppressed (secondary suppression) so that no suppressed count "
            "can be computed exactly from the published ones of all this region's digests "
            "together: within a period, the values of kind, confidence, transfer_stage, "
            "end_user_type and detection_source each sum to the total; a quarter is the sum of "
            "its three months, a CSP cycle of its twelve, and the checklist of its four "
            "quarters; every listed cell counts at least one case. The pattern is the same in "
            "every digest of the region, its charts and its previous-period counts; a share or "
            "prevalence is shown only where the count it divides by is published."
        ),
        (
            f"{suppressed} cells of this digest are suppressed ({suppressed - secondary} "
            f"primary, {secondary} secondary), and {suppressed_checklist} checklist entries."
        ),
        *(
            [
                (
                    f"{suppressed_checklist} checklist entries are hidden: they are listed after "
                    "the ranked ones, unranked, and a hidden entry may be more prevalent than "
                    "any ranked one."
                )
            ]
            if suppressed_checklist
            else []
        ),
        (
            "Trend flags: conditional test of equal Poisson rates, z = (c - p) / sqrt(c + p) "
            f"with c the count now and p the previous period's count; rising if z >= "
            f"{TREND_TEST.z}, falling if z <= -{TREND_TEST.z} (two-sided, alpha = "
            f"{TREND_TEST.alpha}); new if p = 0 and c >= {TREND_TEST.min_count}; stable when "
            f"c + p < {TREND_TEST.min_count}. No flag is given when the previous count is "
            "itself suppressed (for the checklist: when the four quarters before would be)."
        ),
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
    lines.extend(("Late revisions are not tracked per period yet.", lessons))
    return lines


def _lessons_note(*, omitted: bool, withheld: bool) -> str:
    if omitted:
        return (
            "Lessons are not included: this digest was rendered without the region's "
            "private key, which the sealed cases' texts need."
        )
    if withheld:
        return (
            "No lessons are shown because this period's cases come from fewer than k contributors."
        )
    return (
        "Lessons are the screened summaries of cases marked TLP:AMBER or lower (never "
        "TLP:AMBER+STRICT or TLP:RED), grouped by the transfer stage of their case; "
        "identical texts appear once, nothing identifies the case or its contributor, and "
        "a lesson whose stage cell is suppressed appears under other stages. The number of "
        "lessons is not a number of cases."
    )


def _notes(  # noqa: PLR0913  one keyword per figure the notes state
    tables: _Tables,
    pattern: DigestPattern,
    dead: Mapping[str, int],
    checklist: Sequence[ChecklistEntry],
    *,
    k: int,
    suppressed: int,
    omitted: bool,
    alone: bool,
    share: float = 1.0,
    monthly: bool = False,
) -> DigestNotes:
    """The digest's notes: how many cells are suppressed and why (secondary: the pattern's
    cells of this period, totals aside), dead letters, the trend test, the CSP cycles the
    period spans (contributors are then lower bounds) and the explanatory text; *omitted*:
    rendered without lessons, *alone*: the period's totals have fewer than k contributors."""
    period = tables.periods[0]
    few = few_contributors(tables.now, k)
    few_window = few_contributors(tables.window_cells, k)
    window = () if few_window else tables.window
    secondary = len(
        {
            key
            for key in pattern.secondary(period)
            if key[1:] != TOTAL
            and not few
            and pattern.listed_cell(period, key[1:])
            and (not monthly or key[1] in MONTH_DIMENSIONS)
        }
    )
    total = tables.now.get(TOTAL)
    protected = (
        total is not None
        and total.contributors >= k
        and (period, *TOTAL) in pattern.secondary(period)
    )
    cycles = sorted({c for tally in tables.now.values() for c in tally.cycles})
    suppressed_checklist = sum(e.suppressed for e in checklist)
    return DigestNotes(
        late_revisions=None,
        dead_lettered=sum(dead.values()),
        suppressed_cells=suppressed,
        primary_suppressed=suppressed - secondary,
        secondary_suppressed=secondary,
        totals_secondary=(period, *TOTAL) in pattern.secondary(period),
        dead_letters=dict(sorted(dead.items())),
        k=k,
        trend_test=TREND_TEST,
        cycles=cycles,
        contributors_lower_bound=len(cycles) > 1,
        checklist_window=[str(q) for q in window],
        text=[
            *_note_text(
                k=k,
                suppressed=suppressed,
                secondary=secondary,
                suppressed_checklist=suppressed_checklist,
                cycles=cycles,
                window=window,
                dead=dead,
                lessons=_lessons_note(omitted=omitted, withheld=alone),
            ),
            (
                f"{share:.0%} of this digest's (case, value) facts are in published cells "
                "(the utility figure, notes.published_share)."
            ),
            *([FEW_NOTE.format(k=k)] if few else []),
            *([FEW_CHECKLIST_NOTE.format(k=k)] if few_window else []),
            *([MONTHLY_NOTE] if monthly and not few else []),
            *([PROTECTED_TOTAL_NOTE.format(k=k)] if protected else []),
        ],
        suppressed_checklist_entries=suppressed_checklist,
        lessons_omitted=omitted,
        published_share=share,
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
    total = tables.now.get(TOTAL)
    published_total = (
        total.count
        if total is not None and not pattern.hidden(str(current), TOTAL, total)
        else None
    )
    monthly = coarse and isinstance(current, Month)
    # a coarse month lists its kind only (another dimension listed would say its values are 0)
    dimensions = _dimensions(tables, pattern=pattern, total=published_total)
    if monthly:
        dimensions = {d: cells for d, cells in dimensions.items() if d.value in MONTH_DIMENSIONS}
    withheld = [
        d
        for d in Dimension
        if pattern.withholds(str(current), d.value)
        and not few_contributors(tables.now, k)
        and (not monthly or d.value in MONTH_DIMENSIONS)
    ]
    suppressed = sum(c.suppressed for cells in dimensions.values() for c in cells)
    checklist = _checklist(tables, pattern=pattern, catalogue=catalogue)
    hidden_facts = sum(
        t.count
        for cell, t in tables.now.items()
        if cell != TOTAL and pattern.hidden(str(current), cell, t)
    )
    share = published_share(dimensions, hidden_facts)
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
                share=share,
                monthly=monthly,
            ),
            withheld,
            k=k,
        ),
    )


def cell_index(dimensions: Mapping[Dimension, Sequence[Cell]]) -> dict[CellId, Cell]:
    """(dimension, value) → cell, for tests and renderers."""
    return {(d.value, c.value): c for d, cells in dimensions.items() for c in cells}
