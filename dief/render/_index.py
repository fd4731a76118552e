"""``index.html`` at the top of an output folder: every summary and digest with its formats.

One static page (no JavaScript, nothing fetched; the same style as the other pages) for a
person who opens the folder: the CSP summaries, then each region's digests by cycle,
quarter and month, each with links to its HTML, DOCX, JSON, CSV and Markdown files, and
the run's own files. Links are relative, so the folder can be moved or zipped.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from typing import TYPE_CHECKING

from jinja2 import Environment, PackageLoader, StrictUndefined, select_autoescape

from dief._files import write_atomic
from dief.periods import DEFAULT_CYCLE_START_MONTH, parse_period
from dief.vocab import REGION_NAMES, Region

if TYPE_CHECKING:
    from collections.abc import Sequence
    from pathlib import Path

    from dief.render._written import OutputIndex, WrittenOutput

__all__ = ["INDEX_FILE", "IndexLink", "render_index", "write_index"]

INDEX_FILE = "index.html"
_KINDS = {
    "cycle": "CSP cycle",
    "half": "Half-cycle (since the last meeting)",
    "quarter": "Quarter",
    "month": "Month",
}
_KIND_ORDER = {"cycle": 0, "half": 1, "quarter": 2, "month": 3}


@dataclass(frozen=True, slots=True)
class IndexLink:
    """A format of one document: its name ("HTML") and its path relative to the index."""

    name: str
    href: str


@dataclass(frozen=True, slots=True)
class _Row:
    period: str
    kind: str
    suppressed: int
    links: tuple[IndexLink, ...]


def _links(output: WrittenOutput, base: Path) -> tuple[IndexLink, ...]:
    named = (
        ("HTML", output.html_path),
        ("DOCX", output.docx_path),
        ("JSON", output.json_path),
        ("CSV", output.csv_path),
        ("Markdown", output.markdown_path),
    )
    return tuple(IndexLink(name, path.relative_to(base).as_posix()) for name, path in named if path)


def _row(output: WrittenOutput, base: Path, start_month: int) -> _Row:
    kind = parse_period(output.period, start_month=start_month).kind
    return _Row(output.period, _KINDS[kind], output.suppressed, _links(output, base))


def _sorted(rows: list[_Row]) -> list[_Row]:
    """Cycles, then halves, then quarters, then months; the latest first within each."""
    order = {label: rank for kind, label in _KINDS.items() for rank in [_KIND_ORDER[kind]]}
    by_period = sorted(rows, key=lambda r: r.period, reverse=True)
    return sorted(by_period, key=lambda r: order[r.kind])


@cache
def _environment() -> Environment:
    return Environment(
        loader=PackageLoader("dief.render", "templates"),
        autoescape=select_autoescape(default=True, default_for_string=True),
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )


def render_index(
    index: OutputIndex,
    *,
    explanation: str | None = None,
    run_files: Sequence[str] = (),
    start_month: int = DEFAULT_CYCLE_START_MONTH,
) -> str:
    """The page: *explanation* (records versus cases) under the title, the summaries,
    each region's digests, then *run_files* (names of files in the folder)."""
    base = index.out_dir
    summaries = _sorted([_row(o, base, start_month) for o in index.summaries])
    regions: list[tuple[str, str, list[_Row]]] = []
    for region in Region:
        rows = [_row(o, base, start_month) for o in index.digests if o.region == region.value]
        if rows:
            regions.append((region.value, REGION_NAMES[region], _sorted(rows)))
    return (
        _environment()
        .get_template("index.html.j2")
        .render(
            page_title="DIEF outputs",
            explanation=explanation,
            summaries=summaries,
            regions=regions,
            files=list(run_files),
            digest_count=len(index.digests),
        )
    )


def write_index(
    index: OutputIndex,
    *,
    explanation: str | None = None,
    run_files: Sequence[str] = (),
    start_month: int = DEFAULT_CYCLE_START_MONTH,
) -> Path:
    """Write :func:`render_index` as ``index.html`` in the output folder; its path."""
    path = index.out_dir / INDEX_FILE
    write_atomic(
        path,
        render_index(index, explanation=explanation, run_files=run_files, start_month=start_month),
    )
    return path
