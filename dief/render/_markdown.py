"""Markdown renderings of digests and CSP summaries: readable tables, nothing more.

A suppressed cell reads "suppressed" in its count column and an en dash everywhere else, never a
number. Rendering is deterministic: the same digest gives the same text.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from dief.digests import WITHHELD_DIMENSION_TEXT, missing_tables_note, withheld_dimensions
from dief.render._routes import ROUTES_INTRO, ROUTES_TITLE, WITHHELD_TEXT, route_views
from dief.secretariat import DIMENSION_LABELS, percent
from dief.vocab import REGION_NAMES, Dimension, TransferStage
from dief.wire import (
    SUPPRESSION_TEXT,
    Cell,
    ChecklistEntry,
    CspSummary,
    Digest,
    Lesson,
    RegionTable,
    SuppressionReason,
    Totals,
)

if TYPE_CHECKING:
    from collections.abc import Collection, Iterable, Sequence

__all__ = ["legend", "render_digest_markdown", "render_summary_markdown"]

SUPPRESSED = "suppressed"
_NONE = "\u2013"  # en dash: not published


def _esc(text: str) -> str:
    """Table-safe text: pipes escaped, line breaks flattened."""
    return " ".join(text.replace("|", "\\|").split())


def _num(value: int | None) -> str:
    return _NONE if value is None else str(value)


def _signed(value: int | None) -> str:
    if value is None:
        return _NONE
    return f"+{value}" if value > 0 else str(value)


def _pct(value: float | None) -> str:
    return _NONE if value is None else percent(value)


def _table(header: Sequence[str], rows: Iterable[Sequence[str]]) -> list[str]:
    lines = [
        "| " + " | ".join(header) + " |",
        "|" + "|".join("---" for _ in header) + "|",
    ]
    lines.extend("| " + " | ".join(row) + " |" for row in rows)
    return lines


def _hidden(reason: SuppressionReason | None) -> str:
    """A suppressed figure, with why: "suppressed (few)" or "suppressed (protects)"."""
    return f"{SUPPRESSED} ({_REASON_WORD[reason]})" if reason is not None else SUPPRESSED


#: the short word a table shows for each reason (the legend says it in full)
_REASON_WORD = {
    SuppressionReason.CONTRIBUTORS: "few",
    SuppressionReason.PROTECTION: "protects",
}


def legend() -> list[str]:
    """What "suppressed (few)" and "suppressed (protects)" mean, one sentence each."""
    return [f"- *{_hidden(reason)}*: {text}" for reason, text in SUPPRESSION_TEXT.items()]


def _totals(totals: Totals, *, previous: bool) -> list[str]:
    if totals.withheld or totals.cases is None:
        cases, contributors = _hidden(totals.reason), _NONE
    else:
        cases, contributors = str(totals.cases), _num(totals.contributors)
    header = ["cases", "distinct contributors (at least)", "suppressed cells"]
    row = [cases, contributors, str(totals.suppressed)]
    if previous:
        header += ["previous period", "trend"]
        row += [_num(totals.previous), totals.trend.value if totals.trend else _NONE]
    return _table(header, [row])


def _cell_row(cell: Cell, *, digest: bool) -> list[str]:
    trend = cell.trend.value if cell.trend is not None else _NONE
    if cell.suppressed:
        row = [f"`{cell.value}`", _hidden(cell.reason), _NONE, _NONE]
        return row + ([_NONE, _NONE, _NONE] if digest else [_NONE])
    row = [f"`{cell.value}`", _num(cell.count), _num(cell.contributors), _pct(cell.share)]
    if digest:
        return [*row, _num(cell.previous), _signed(cell.change), trend]
    return [*row, trend]


def _digest_dimensions(digest: Digest) -> list[str]:
    """A digest's dimension tables, or why it lists none (a month by total, or a period of
    fewer than k contributors: :func:`~dief.digests.missing_tables_note`)."""
    withheld = withheld_dimensions(digest)
    if not digest.dimensions and not withheld:
        note = missing_tables_note(digest)
        return ["", note] if note else []
    return _dimension_tables(
        digest.dimensions, digest=True, level="###", withheld=withheld, k=digest.k
    )


def _dimension_tables(
    dimensions: dict[Dimension, list[Cell]],
    *,
    digest: bool,
    level: str,
    withheld: Collection[Dimension] = frozenset(),
    k: int | None = None,
) -> list[str]:
    """One table per dimension; a dimension the digest withholds says why instead."""
    header = ["value", "cases", "contributors", "share"]
    header += ["previous", "change", "trend"] if digest else ["trend vs previous cycle"]
    lines: list[str] = []
    for dimension in Dimension:
        cells = dimensions.get(dimension, [])
        lines += [
            "",
            f"{level} {DIMENSION_LABELS[dimension].capitalize()} (`{dimension.value}`)",
            "",
        ]
        if dimension in withheld:
            lines.append(WITHHELD_DIMENSION_TEXT.format(k=k))
            continue
        if not cells:
            lines.append("No data.")
            continue
        lines += _table(header, (_cell_row(c, digest=digest) for c in cells))
    return lines


def _checklist(entries: Sequence[ChecklistEntry]) -> list[str]:
    if not entries:
        return ["No risk indicator was cited."]
    rows = []
    for rank, entry in enumerate(entries, start=1):
        count = (
            _hidden(entry.reason) if entry.suppressed or entry.count is None else str(entry.count)
        )
        rows.append(
            [
                _NONE if entry.suppressed else str(rank),
                f"`{entry.id}`",
                _esc(entry.question),
                count,
                _pct(entry.prevalence),
                entry.trend.value if entry.trend is not None else _NONE,
                ", ".join(s.value for s in entry.stages) or _NONE,
            ]
        )
    lines = _table(["rank", "id", "question", "cases", "prevalence", "trend", "stages"], rows)
    hidden = sum(e.suppressed for e in entries)
    if hidden:
        lines += [
            "",
            (
                f"{hidden} indicators are hidden and listed last without a rank: any of them may "
                "be more prevalent than the ranked ones."
            ),
        ]
    cited: dict[str, list[str]] = {}
    for entry in entries:
        for source in (entry.source or "").split("; "):
            if source:
                cited.setdefault(source, []).append(entry.id)
    if cited:
        lines += ["", "Sources:", ""]
        lines += [
            f"- {_esc(source)}: {', '.join(ids)}"
            for source, ids in sorted(cited.items(), key=lambda item: item[0].casefold())
        ]
    return lines


def _lessons(lessons: Sequence[Lesson], *, omitted: bool) -> list[str]:
    if omitted:
        return [
            "Lessons are not included: this digest was rendered without the region's private key."
        ]
    if not lessons:
        return ["No shareable lesson is included in this digest."]
    lines: list[str] = []
    stage: TransferStage | str | None = "unset"
    for lesson in lessons:
        if lesson.stage != stage:
            stage = lesson.stage
            title = stage.value.replace("_", " ") if isinstance(stage, TransferStage) else "other"
            lines += ["", f"**{title.capitalize()}**", ""]
        lines.append(f"- {_esc(lesson.text)} (TLP:{lesson.tlp.value.upper().replace('_', '+')})")
    return lines[1:]


def _routes(digest: Digest) -> list[str]:
    """The route tables other regions sent, as given (DESIGN §5): per sending region, its
    totals and cells; nothing when there are none."""
    views = route_views(digest)
    if not views:
        return []
    lines = ["", f"## {ROUTES_TITLE}", "", ROUTES_INTRO]
    header = ["value", "cases", "contributors", "share", "trend vs previous cycle"]
    for view in views:
        lines += ["", f"### {view.title}", ""]
        if view.withheld:
            lines.append(WITHHELD_TEXT)
            continue
        lines += _totals(view.totals, previous=False)
        for dimension, cells in view.dimensions:
            label = DIMENSION_LABELS[dimension].capitalize()
            lines += ["", f"#### {label} (`{dimension.value}`)", ""]
            lines += _table(header, (_cell_row(c, digest=False) for c in cells))
        lines += ["", *(f"- {_esc(text)}" for text in view.notes)]
    return lines


def render_digest_markdown(digest: Digest) -> str:
    """A regional trend digest as Markdown."""
    region = digest.region
    notes = digest.notes
    lines = [
        f"# DIEF trend digest: {REGION_NAMES[region]} ({region.value}), {digest.period}",
        "",
        (
            f"For the regional DIEF meeting only. Cells with fewer than {digest.k} distinct "
            "contributors are shown as suppressed. Contributors are never listed."
        ),
        "",
        *legend(),
        "",
        "## Totals",
        "",
        *_totals(digest.totals, previous=True),
        "",
        "## Dimensions",
        *_digest_dimensions(digest),
        "",
        "## Risk-indicator checklist",
        "",
    ]
    if notes.checklist_window:
        lines += [
            (
                f"Ranked by prevalence over {notes.checklist_window[0]} to "
                f"{notes.checklist_window[-1]}."
            ),
            "",
        ]
    lines += _checklist(digest.checklist)
    lines += [
        "",
        "## Lessons",
        "",
        *_lessons(digest.lessons, omitted=notes.lessons_omitted),
        *_routes(digest),
        "",
        "## Notes",
        "",
    ]
    lines += [f"- {_esc(text)}" for text in notes.text]
    if notes.dead_letters:
        lines += [
            "",
            *_table(
                ["dead-letter reason", "records"],
                sorted(([f"`{reason}`", str(n)] for reason, n in notes.dead_letters.items())),
            ),
        ]
    return "\n".join(lines) + "\n"


def _region_section(title: str, table: RegionTable) -> list[str]:
    return [
        "",
        f"## {title}",
        "",
        *_totals(table.totals, previous=False),
        *_dimension_tables(table.dimensions, digest=False, level="###"),
    ]


def render_summary_markdown(summary: CspSummary) -> str:
    """A CSP summary as Markdown."""
    lines = [
        f"# DIEF summary for {summary.cycle} ({summary.from_} to {summary.to})",
        "",
        *summary.narrative[:1],
    ]
    for paragraph in summary.narrative[1:]:
        lines += ["", paragraph]
    lines += ["", *legend()]
    lines += ["", "## Patterns across regions", ""]
    if summary.patterns:
        lines += _table(
            ["dimension", "value", "rising in", "compared with"],
            (
                [
                    DIMENSION_LABELS[p.dimension],
                    f"`{p.value}`",
                    ", ".join(r.value for r in p.regions),
                    p.previous_cycle or _NONE,
                ]
                for p in summary.patterns
            ),
        )
    else:
        lines.append("No value is rising in two or more regions.")
    lines += ["", "## Global risk-indicator checklist", "", *_checklist(summary.checklist)]
    lines += _region_section("All regions", summary.global_)
    for region, table in summary.regions.items():
        lines += _region_section(f"{REGION_NAMES[region]} ({region.value})", table)
    method = summary.methodology
    lines += [
        "",
        "## Methodology",
        "",
        (
            f"k = {method.k}; {method.suppressed} cells suppressed ({method.primary} primary, "
            f"{method.secondary} secondary)."
        ),
        "",
        *[f"- {_esc(rule)}" for rule in method.rules],
        "",
        "Signature: " + ("present" if summary.signature else "not signed yet") + ".",
    ]
    return "\n".join(lines) + "\n"
