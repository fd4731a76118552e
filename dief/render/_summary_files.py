"""The files of a CSP summary in an issue: built from the store
(:func:`_build_cycle_summary`, the previous cycle's summary breaking ties) and written as
JSON, Markdown, the CSV annex and (options) HTML and DOCX (:func:`_write_summary`), each
file only if what it draws on changed (:class:`~dief.render._writing.OutputFiles`).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from dief.render._annex import render_summary_annex
from dief.render._changed import fingerprint
from dief.render._docx import render_summary_docx
from dief.render._html_summary import render_summary_html
from dief.render._markdown import render_summary_markdown
from dief.render._written import WrittenOutput, dump_json
from dief.secretariat import build_summary

if TYPE_CHECKING:
    from collections.abc import Mapping, Sequence
    from pathlib import Path

    from dief.aggregator.store import CaseStore
    from dief.catalogue import Catalogue
    from dief.disclosure import RowRequirement
    from dief.render._writing import OutputFiles
    from dief.vocab import Region
    from dief.wire import CspSummary


def _cycle_number(cycle: str) -> int:
    """The number of a CSP cycle (``CSP12`` → 12)."""
    return int(cycle[3:])


async def _build_cycle_summary(  # noqa: PLR0913  keyword options passed through from write_outputs
    store: CaseStore,
    cycle: str,
    *,
    k: int,
    catalogue: Catalogue,
    start_month: int,
    regions: Sequence[Region],
    made: Mapping[str, CspSummary],
    rows: Mapping[Region, RowRequirement],
) -> CspSummary:
    """Build the summary of *cycle* from *store*.

    The previous cycle's summary, if *made* holds it, breaks ties between secondary
    suppressions.
    """
    return await build_summary(
        store,
        cycle,
        k=k,
        catalogue=catalogue,
        start_month=start_month,
        regions=regions,
        prior_cycle=made.get(f"CSP{_cycle_number(cycle) - 1}"),
        rows=rows,
    )


def _write_summary(  # noqa: PLR0913  keyword options passed through from write_outputs
    folder: Path, cycle: str, summary: CspSummary, *, html: bool, docx: bool, files: OutputFiles
) -> WrittenOutput:
    """Write *summary* of *cycle* as JSON, Markdown, CSV and (*html*, *docx*) HTML and
    DOCX, each file only if its inputs changed (:class:`OutputFiles`)."""
    content = files.content("summary", summary)
    json_path, md_path = folder / f"{cycle}.json", folder / f"{cycle}.md"
    files.put(json_path, content, lambda: dump_json(summary))
    files.put(md_path, content, lambda: render_summary_markdown(summary))
    csv_path = folder / f"{cycle}.csv"
    files.put(csv_path, content, lambda: render_summary_annex(summary).encode())
    html_path: Path | None = None
    if html:
        html_path = folder / f"{cycle}.html"
        files.put(
            html_path,
            fingerprint(content, csv_path.name),
            lambda: render_summary_html(summary, annex=csv_path.name),
        )
    docx_path: Path | None = None
    if docx:
        docx_path = folder / f"{cycle}.docx"
        files.put(docx_path, content, lambda: render_summary_docx(summary))
    files.done()
    return WrittenOutput(
        "summary",
        None,
        cycle,
        json_path,
        md_path,
        summary.methodology.suppressed,
        html_path,
        docx_path,
        csv_path,
    )
