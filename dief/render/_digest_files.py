"""The files of a region's digests in an issue (:func:`_write_region_digests`): each digest
as JSON, Markdown, the CSV annex, HTML with its charts and (cycles, opt-in) DOCX, months
first, then quarters, half-cycles and cycles; a digest whose inputs are unchanged is not
built again, and each file is rendered only if what it draws on changed
(:class:`~dief.render._writing.OutputFiles`).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from dief.periods import is_cycle, parse_period
from dief.render._annex import render_digest_annex
from dief.render._changed import fingerprint
from dief.render._docx_digest import render_digest_docx
from dief.render._html import render_digest_html
from dief.render._markdown import render_digest_markdown
from dief.render._written import WrittenOutput, dump_json

if TYPE_CHECKING:
    from collections.abc import Callable, Mapping, Sequence
    from pathlib import Path

    from dief.catalogue import Catalogue
    from dief.digests import CaseLesson, RegionDigests
    from dief.render._writing import OutputFiles
    from dief.vocab import Region
    from dief.wire import Lesson


_KIND_RANK = {"month": 0, "quarter": 1, "half": 2, "cycle": 3}


def _period_order(period: str, start_month: int) -> tuple[int, str]:
    return (_KIND_RANK[parse_period(period, start_month=start_month).kind], period)


def _write_region_digests(  # noqa: PLR0913  keyword options passed through from write_outputs
    folder: Path,
    source: RegionDigests,
    region: Region,
    *,
    catalogue: Catalogue,
    start_month: int,
    lessons: Mapping[Region, Sequence[Lesson | CaseLesson] | None] | None,
    html: bool,
    docx: bool = False,
    tick: Callable[[], None] | None = None,
    files: OutputFiles,
) -> list[WrittenOutput]:
    """Write into *folder* the digest of every period of *region* with data (*tick* after
    each).

    Periods go months first, then quarters, then cycles, each kind in order.
    """
    periods = sorted(source.periods, key=lambda p: _period_order(p, start_month))
    region_lessons = lessons.get(region) if lessons is not None else None
    # what every digest of the region draws on besides its tables (issue #15: a digest
    # whose inputs are all unchanged is not built again)
    shared = fingerprint(files.context, repr(catalogue), repr(region_lessons), str(html))
    inputs = source.inputs(periods)
    out: list[WrittenOutput] = []
    for period in periods:
        with_docx = docx and is_cycle(period)  # not a half-cycle (CSP12-H1)
        out.append(
            _write_digest(
                folder,
                region,
                source,
                period,
                catalogue=catalogue,
                lessons=region_lessons,
                start_month=start_month,
                html=html,
                docx=with_docx,
                files=files,
                inputs=fingerprint(shared, inputs[period], str(with_docx)),
            )
        )
        if tick is not None:
            tick()
    return out


def _write_digest(  # noqa: PLR0913  keyword options passed through from write_outputs
    folder: Path,
    region: Region,
    source: RegionDigests,
    period: str,
    *,
    catalogue: Catalogue,
    lessons: Sequence[Lesson | CaseLesson] | None,
    start_month: int,
    html: bool,
    docx: bool = False,
    files: OutputFiles,
    inputs: str,
) -> WrittenOutput:
    """Write *region*'s digest of *period* as JSON, Markdown, CSV, (*html*) HTML with its
    charts and (*docx*) DOCX, each file only if its inputs changed (:class:`OutputFiles`);
    nothing is built when *inputs* (everything building it reads) are what its files on
    disk were built from."""
    json_path, md_path = folder / f"{period}.json", folder / f"{period}.md"
    csv_path = folder / f"{period}.csv"
    html_path = folder / f"{period}.html" if html else None
    docx_path = folder / f"{period}.docx" if docx else None
    name = f"digests/{region.value}/{period}"
    paths = [p for p in (json_path, md_path, csv_path, html_path, docx_path) if p is not None]
    kept = files.reused(name, inputs, paths)
    if kept is not None:
        return WrittenOutput(
            "digest", region.value, period, json_path, md_path, kept, html_path, docx_path, csv_path
        )
    digest = source.digest(period, catalogue=catalogue, lessons=lessons)
    content = files.content("digest", digest)
    files.put(json_path, content, lambda: dump_json(digest))
    files.put(md_path, content, lambda: render_digest_markdown(digest))
    files.put(csv_path, content, lambda: render_digest_annex(digest).encode())
    if html_path is not None:
        series = source.series(period)
        files.put(
            html_path,
            # the charts draw on the series (earlier periods' published counts) too
            fingerprint(content, repr(series), str(start_month), csv_path.name),
            lambda: render_digest_html(
                digest, series, start_month=start_month, annex=csv_path.name
            ),
        )
    if docx_path is not None:
        files.put(
            docx_path,
            fingerprint(content, str(start_month)),
            lambda: render_digest_docx(digest, start_month=start_month),
        )
    files.done()
    files.built(name, inputs, digest.notes.suppressed_cells)
    return WrittenOutput(
        "digest",
        region.value,
        period,
        json_path,
        md_path,
        digest.notes.suppressed_cells,
        html_path,
        docx_path,
        csv_path,
    )
