"""The HTML page of a CSP summary (:func:`render_summary_html`): its headline tiles, the
cases of each region charted by trend, the cross-regional patterns, the global checklist
and the tables of every region, on the page parts the digest's page uses too
(:mod:`dief.render._html`: the environment, tiles, dimension views, checklist chart).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from markupsafe import Markup

from dief.render._html import (
    _DASH,
    _TREND_COLOURS,
    _checklist_chart,
    _dimension_views,
    _DimensionView,
    _environment,
    _num,
    _pct,
    _Tile,
    _trend_text,
)
from dief.render._svg import PALETTE, Bar, bar_list
from dief.secretariat import DIMENSION_LABELS
from dief.vocab import REGION_NAMES

if TYPE_CHECKING:
    from collections.abc import Sequence

    from dief.wire import CspSummary, RegionTable, Totals

__all__ = ["render_summary_html"]


@dataclass(frozen=True, slots=True)
class _TableView:
    key: str
    title: str
    totals: Totals
    withheld: bool
    dimensions: Sequence[_DimensionView]


@dataclass(frozen=True, slots=True)
class _PatternView:
    dimension: str
    label: str
    value: str
    regions: str
    previous: str


def _table_view(key: str, title: str, table: RegionTable, *, charts: bool) -> _TableView:
    return _TableView(
        key=key,
        title=title,
        totals=table.totals,
        withheld=table.totals.withheld or table.totals.cases is None,
        dimensions=_dimension_views(
            table.dimensions, None, share_charts=charts, title=title, table=key
        ),
    )


def _regions_chart(summary: CspSummary) -> Markup:
    """Bar chart of each region's cases, coloured by trend (withheld totals draw no bar)."""
    chart = bar_list(
        [
            Bar(
                label=r.value,
                value=None if t.totals.withheld else float(t.totals.cases or 0),
                text=_num(t.totals.cases) + _trend_text(t.totals.trend),
                colour=_TREND_COLOURS[t.totals.trend] if t.totals.trend else PALETTE[0],
                note=f" ({REGION_NAMES[r]})",
            )
            for r, t in summary.regions.items()
        ],
        title=f"{summary.cycle}: cases by region",
        label_width=70,
    )
    return Markup(chart)  # noqa: S704


def _summary_tiles(summary: CspSummary) -> list[_Tile]:
    """The headline tiles of a summary: cases, regions, patterns, indicator, suppression."""
    totals = summary.global_.totals
    withheld = totals.withheld or totals.cases is None
    method = summary.methodology
    top = next((e for e in summary.checklist if not e.suppressed), None)
    return [
        _Tile(
            "cases",
            "Cases (all regions)",
            "suppressed" if withheld else str(totals.cases),
            "" if withheld else f"from at least {totals.contributors} distinct contributors",
            withheld,
        ),
        _Tile(
            "regions",
            "Regions reporting",
            str(sum(1 for t in summary.regions.values() if t.totals.cases != 0)),
            f"of {len(summary.regions)}",
        ),
        _Tile(
            "patterns",
            "Cross-regional patterns",
            str(len(summary.patterns)),
            "values rising in two or more regions",
        ),
        _Tile(
            "indicator",
            "Most prevalent indicator",
            top.id if top is not None else _DASH,
            f"{_pct(top.prevalence)} of cases: {top.title or ''}" if top else "none published",
        ),
        _Tile(
            "suppressed",
            "Suppressed cells",
            str(method.suppressed),
            f"{method.primary} primary, {method.secondary} secondary",
        ),
    ]


def _pattern_views(summary: CspSummary) -> list[_PatternView]:
    """The cross-regional patterns (values rising in two or more regions) as table rows."""
    return [
        _PatternView(
            p.dimension.value,
            DIMENSION_LABELS[p.dimension],
            p.value,
            ", ".join(r.value for r in p.regions),
            p.previous_cycle or _DASH,
        )
        for p in summary.patterns
    ]


def _summary_tables(summary: CspSummary) -> list[_TableView]:
    """The global table (with share charts), then each region's table (without)."""
    tables = [_table_view("global", "All regions", summary.global_, charts=True)]
    tables += [
        _table_view(r.value, f"{REGION_NAMES[r]} ({r.value})", t, charts=False)
        for r, t in summary.regions.items()
    ]
    return tables


def render_summary_html(summary: CspSummary, *, annex: str | None = None) -> str:
    """A CSP summary as one self-contained HTML page (*annex*: the file name of its CSV
    data annex beside it, linked from the methodology)."""
    return (
        _environment()
        .get_template("summary.html.j2")
        .render(
            page_title=f"DIEF summary {summary.cycle}",
            cycle=summary.cycle,
            from_=summary.from_,
            to=summary.to,
            k=summary.k,
            signature="signed" if summary.signature else "not signed yet",
            tile_items=_summary_tiles(summary),
            narrative=summary.narrative,
            regions_chart=_regions_chart(summary),
            checklist_chart=_checklist_chart(
                summary.checklist, f"{summary.cycle}: global checklist prevalence"
            ),
            patterns=_pattern_views(summary),
            checklist=summary.checklist,
            tables=_summary_tables(summary),
            methodology=summary.methodology,
            annex=annex,
        )
    )
