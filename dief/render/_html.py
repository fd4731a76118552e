"""HTML renderings of digests and CSP summaries: one self-contained page each; here the
digest's page and the parts both pages draw on (the template environment, the formatting
of figures, tiles, dimension views, the checklist chart); the summary's page is
:mod:`dief.render._html_summary`.

Charts are inline SVG (:mod:`dief.render._svg`), styles are inline, and a
Content-Security-Policy forbids fetching anything: the page opens the same offline, in a
meeting room or attached to an e-mail. Text goes through Jinja2 with autoescaping. A
suppressed cell reads "suppressed" and shows no number anywhere, in tables or charts; the
charts of a digest draw counts over time as the digests of those periods publish them.
Rendering is deterministic: the same inputs give the same bytes.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from functools import cache
from typing import TYPE_CHECKING

from jinja2 import Environment, PackageLoader, StrictUndefined, select_autoescape
from markupsafe import Markup

from dief.digests import (
    SERIES_TOP,
    WITHHELD_DIMENSION_TEXT,
    DigestSeries,
    missing_tables_note,
    previous_period,
    withheld_dimensions,
)
from dief.periods import DEFAULT_CYCLE_START_MONTH, Month, parse_period
from dief.render._routes import ROUTES_INTRO, ROUTES_TITLE, WITHHELD_TEXT, route_views
from dief.render._svg import PALETTE, Bar, bar_list, column_chart, line_chart
from dief.secretariat import DIMENSION_LABELS, label, percent
from dief.vocab import REGION_NAMES, Dimension, TransferStage
from dief.wire import (
    SUPPRESSION_TEXT,
    Cell,
    ChecklistEntry,
    Digest,
    Lesson,
    SuppressionReason,
    Trend,
)

if TYPE_CHECKING:
    from collections.abc import Collection, Mapping, Sequence

__all__ = ["render_digest_html"]

_DASH = "\u2013"
_ARROWS = {"rising": "\u25b2", "new": "\u2605", "falling": "\u25bc", "stable": "\u25c6"}
_TREND_COLOURS = {
    Trend.RISING: "#b4441a",
    Trend.NEW: "#6b3fa0",
    Trend.FALLING: "#1b6e4f",
    Trend.STABLE: "#0072B2",
}
#: checklist rows drawn in the chart (the table lists every entry)
CHECKLIST_BARS = 12


def _num(value: int | None) -> str:
    return _DASH if value is None else str(value)


def _signed(value: int | None) -> str:
    if value is None:
        return _DASH
    return f"+{value}" if value > 0 else str(value)


def _pct(value: float | None) -> str:
    return _DASH if value is None else percent(value)


def _stages(entry: ChecklistEntry) -> str:
    return ", ".join(label(s.value) for s in entry.stages) or _DASH


def _dimension_label(dimension: Dimension) -> str:
    return DIMENSION_LABELS[dimension].capitalize()


@cache
def _environment() -> Environment:
    env = Environment(
        loader=PackageLoader("dief.render", "templates"),
        autoescape=select_autoescape(default=True, default_for_string=True),
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )
    env.globals.update(
        dash=_DASH,
        arrows=_ARROWS,
        num=_num,
        signed=_signed,
        pct=_pct,
        stages=_stages,
        human=label,
        dimension_label=_dimension_label,
        hidden_word=_hidden_word,
        hidden_text=_hidden_text,
        legend=[(f"suppressed ({_REASON_WORD[r]})", t) for r, t in SUPPRESSION_TEXT.items()],
    )
    return env


#: the short word a table shows for each reason (the legend says it in full)
_REASON_WORD = {SuppressionReason.CONTRIBUTORS: "few", SuppressionReason.PROTECTION: "protects"}


def _hidden_word(reason: SuppressionReason | None) -> str:
    return f"suppressed ({_REASON_WORD[reason]})" if reason is not None else "suppressed"


def _hidden_text(reason: SuppressionReason | None) -> str:
    return SUPPRESSION_TEXT[reason] if reason is not None else "Suppressed."


@dataclass(frozen=True, slots=True)
class _Tile:
    key: str
    label: str
    figure: str
    detail: str
    withheld: bool = False


@dataclass(frozen=True, slots=True)
class _Change:
    label: str
    count: int
    change: str
    trend: str


@dataclass(frozen=True, slots=True)
class _DimensionView:
    code: str
    label: str
    cells: Sequence[Cell]
    chart: Markup | None
    legend: Sequence[tuple[str, str]]
    table: str = ""
    #: what the card says in place of its table where the digest withholds the dimension
    withheld: str = ""


@dataclass(frozen=True, slots=True)
class _LessonView:
    text: str
    tlp: str
    tlp_label: str


@dataclass(frozen=True, slots=True)
class _LessonGroup:
    title: str
    lessons: Sequence[_LessonView]


def _span(period: str, start_month: int) -> str:
    parsed = parse_period(period, start_month=start_month)
    if isinstance(parsed, Month):
        return f"month {period}"
    kind = {"quarter": "quarter", "half": "half-cycle"}.get(parsed.kind, "CSP cycle")
    return f"{kind} {parsed.first} to {parsed.last}"


def _trend_text(trend: Trend | None) -> str:
    return f", {trend.value}" if trend is not None else ""


def _digest_tiles(digest: Digest, previous: str | None) -> list[_Tile]:
    totals = digest.totals
    if totals.withheld or totals.cases is None:
        cases = _Tile("cases", "Cases", "suppressed", _hidden_text(totals.reason), withheld=True)
        contributors = _Tile("contributors", "Distinct contributors", _DASH, "", withheld=True)
    else:
        before = (
            f"{totals.previous} in {previous}{_trend_text(totals.trend)}"
            if previous is not None and totals.previous is not None
            else "no comparable previous period"
        )
        cases = _Tile("cases", "Cases", str(totals.cases), before)
        contributors = _Tile(
            "contributors",
            "Distinct contributors",
            _num(totals.contributors),
            "at least" if digest.notes.contributors_lower_bound else "never listed",
        )
    top_entry = next((e for e in digest.checklist if not e.suppressed), None)
    checklist = _Tile(
        "indicator",
        "Most prevalent indicator",
        top_entry.id if top_entry is not None else _DASH,
        f"{_pct(top_entry.prevalence)} of cases: {top_entry.title or ''}"
        if top_entry is not None
        else "none published",
    )
    suppressed = _Tile(
        "suppressed",
        "Suppressed cells",
        str(digest.notes.suppressed_cells),
        f"{digest.notes.primary_suppressed} with fewer than k = {digest.k} contributors, "
        f"{digest.notes.secondary_suppressed} to protect others",
    )
    dead = _Tile(
        "dead",
        "Dead-lettered records",
        str(digest.notes.dead_lettered),
        "all periods of the region",
    )
    return [cases, contributors, checklist, suppressed, dead]


def _uncomparable(digest: Digest) -> int:
    """How many values cannot be compared with the previous period: hidden now, or hidden
    then (their change is not published either way)."""
    return sum(
        1
        for cells in digest.dimensions.values()
        for cell in cells
        if cell.suppressed or cell.previous is None
    )


def _changes(digest: Digest, limit: int = 8) -> list[_Change]:
    found: list[tuple[int, int, str, Cell, Dimension]] = []
    order = {Trend.NEW: 0, Trend.RISING: 1, Trend.FALLING: 2}
    for dimension, cells in digest.dimensions.items():
        for cell in cells:
            rank = order.get(cell.trend) if cell.trend is not None else None
            if cell.suppressed or rank is None:
                continue
            found.append((rank, -abs(cell.change or 0), cell.value, cell, dimension))
    found.sort(key=lambda item: (item[0], item[1], item[4].value, item[2]))
    return [
        _Change(
            label=f"{DIMENSION_LABELS[dim]} \u00b7 {label(cell.value)}",
            count=cell.count or 0,
            change=f"{_signed(cell.change)} from {_num(cell.previous)}",
            trend=cell.trend.value if cell.trend is not None else "",
        )
        for _, _, _, cell, dim in found[:limit]
    ]


def _checklist_chart(entries: Sequence[ChecklistEntry], title: str) -> Markup | None:
    shown = [e for e in entries if not e.suppressed and e.prevalence is not None]
    if not shown:
        return None
    rows = [
        Bar(
            label=e.id,
            value=e.prevalence,
            text=f"{_pct(e.prevalence)} ({e.count})"
            + (f" {_ARROWS[e.trend.value]}" if e.trend is not None else ""),
            colour=_TREND_COLOURS[e.trend] if e.trend is not None else PALETTE[0],
            note=f" {e.trend.value}" if e.trend is not None else "",
        )
        for e in shown[:CHECKLIST_BARS]
    ]
    # scaled to the largest prevalence: the ranking reads at a glance; the text says the share
    return Markup(bar_list(rows, title=title, label_width=80))  # noqa: S704


def _dimension_views(
    dimensions: Mapping[Dimension, list[Cell]],
    series: DigestSeries | None,
    *,
    share_charts: bool,
    title: str,
    table: str = "",
) -> list[_DimensionView]:
    views: list[_DimensionView] = []
    for dimension in Dimension:
        cells = dimensions.get(dimension, [])
        chart: Markup | None = None
        legend: list[tuple[str, str]] = []
        name = DIMENSION_LABELS[dimension]
        if series is not None:
            lines = series.dimensions.get(dimension, ())
            if lines:
                legend = [(label(s.value), PALETTE[i % len(PALETTE)]) for i, s in enumerate(lines)]
                chart = Markup(  # noqa: S704 - built by _svg, every text escaped there
                    line_chart(
                        series.periods,
                        [(s.value, s.counts) for s in lines],
                        title=f"{title}: {name} over time",
                        group=dimension.value,
                    )
                )
        elif share_charts:
            published = [c for c in cells if not c.suppressed and c.count][:8]
            if published:
                chart = Markup(  # noqa: S704
                    bar_list(
                        [
                            Bar(
                                label=label(c.value)[:28],
                                value=float(c.count or 0),
                                text=f"{c.count}"
                                + (f" ({_pct(c.share)})" if c.share is not None else ""),
                            )
                            for c in published
                        ],
                        title=f"{title}: {name}",
                        width=520,
                        label_width=190,
                    )
                )
        views.append(
            _DimensionView(
                dimension.value,
                name.capitalize(),
                cells,
                chart,
                legend,
                table,
            )
        )
    return views


def _lesson_groups(lessons: Sequence[Lesson]) -> list[_LessonGroup]:
    groups: dict[TransferStage | None, list[_LessonView]] = {}
    for lesson in lessons:
        groups.setdefault(lesson.stage, []).append(
            _LessonView(
                text=lesson.text,
                tlp=lesson.tlp.value.split("_")[0],
                tlp_label="TLP:" + lesson.tlp.value.upper().replace("_", "+"),
            )
        )
    ordered = [s for s in TransferStage if s in groups]
    out = [_LessonGroup(label(s.value).capitalize(), groups[s]) for s in ordered]
    if None in groups:
        out.append(_LessonGroup("Other stages", groups[None]))
    return out


def render_digest_html(
    digest: Digest,
    series: DigestSeries | None = None,
    *,
    start_month: int = DEFAULT_CYCLE_START_MONTH,
    annex: str | None = None,
) -> str:
    """A regional trend digest as one self-contained HTML page (*annex*: the file name of
    its CSV data annex beside it, linked from the notes).

    *series* (:func:`dief.digests.load_series`) adds the counts-over-time charts; without
    it the page draws the current period's values only.
    """
    region = digest.region
    before = previous_period(parse_period(digest.period, start_month=start_month))
    previous = str(before) if before is not None else None
    name = f"{REGION_NAMES[region]} ({region.value}) {digest.period}"
    if series is not None:
        totals_chart = column_chart(
            series.periods, series.totals, title=f"{name}: cases per period"
        )
        periods: Sequence[str] = series.periods
    else:
        periods = [p for p in (previous, digest.period) if p is not None]
        values = [digest.totals.previous, digest.totals.cases] if previous else []
        if not previous:
            values = [digest.totals.cases]
        totals_chart = column_chart(periods, values, title=f"{name}: cases per period")
    notes = digest.notes
    window = notes.checklist_window
    withheld = withheld_dimensions(digest)
    return (
        _environment()
        .get_template("digest.html.j2")
        .render(
            page_title=f"DIEF trend digest: {name}",
            region=region.value,
            region_name=REGION_NAMES[region],
            period=digest.period,
            annex=annex,
            span=_span(digest.period, start_month),
            k=digest.k,
            previous=previous,
            tile_items=_digest_tiles(digest, previous),
            changes=_changes(digest),
            uncomparable=_uncomparable(digest),
            monthly_note="" if digest.dimensions or withheld else missing_tables_note(digest),
            hidden_entries=sum(e.suppressed for e in digest.checklist),
            totals_chart=Markup(totals_chart),  # noqa: S704
            checklist_window=f"{window[0]} to {window[-1]}" if window else "",
            checklist_chart=_checklist_chart(digest.checklist, f"{name}: checklist prevalence"),
            checklist=digest.checklist,
            top=SERIES_TOP,
            periods=periods,
            dimensions=_withheld_views(
                _dimension_views(
                    digest.dimensions, series, share_charts=series is None, title=name
                ),
                withheld,
                WITHHELD_DIMENSION_TEXT.format(k=digest.k),
            ),
            lessons_omitted=notes.lessons_omitted,
            lesson_groups=_lesson_groups(digest.lessons),
            routes=route_views(digest),
            routes_title=ROUTES_TITLE,
            routes_intro=ROUTES_INTRO,
            withheld_text=WITHHELD_TEXT,
            notes=notes.text,
            dead_letters=sorted(notes.dead_letters.items()),
        )
    )


def _withheld_views(
    views: Sequence[_DimensionView], withheld: Collection[Dimension], text: str
) -> list[_DimensionView]:
    """*views* with each dimension the digest withholds saying *text* in place of its
    table (its chart stays: every point of a period that withholds it is hidden)."""
    codes = {d.value for d in withheld}
    return [dataclasses.replace(v, withheld=text) if v.code in codes else v for v in views]
