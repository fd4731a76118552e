"""The CSV data annex of a summary or digest: one row per cell of its tables.

Written beside the paper (``summary/CSP12.csv``, ``digests/AFR/2026-Q1.csv``), UTF-8 with a
byte-order mark so that Excel reads the labels right, comma-separated, CRLF line ends
(RFC 4180). A hidden (suppressed or withheld) cell has its row, marked ``hidden``, with
every figure empty: never a count. Columns (:data:`ANNEX_COLUMNS`, docs/documents.md):

``period``, ``region`` (code, ``ALL`` for all regions together), ``region_name``,
``dimension`` (code, ``total`` for the table's total), ``dimension_label``, ``value``
(code), ``value_label``, ``count``, ``contributors`` (distinct, at least), ``share`` (of
the table's cases, 0-1), ``trend``, ``status`` (``published``, ``hidden``, or ``withheld``).

A dimension the digest withholds (``notes.withheld_dimensions``: every value was reported by
fewer than k States, so none is listed) has one row, ``withheld``, where its cells would be:
no value, no figure, and the pages' sentence (``WITHHELD_DIMENSION_TEXT``) as its label.
"""

from __future__ import annotations

import csv
import io
from typing import TYPE_CHECKING

from dief.digests import WITHHELD_DIMENSION_TEXT, withheld_dimensions
from dief.render._docx import _dimension_value
from dief.secretariat import DIMENSION_LABELS
from dief.vocab import REGION_NAMES, Dimension, Region

if TYPE_CHECKING:
    from collections.abc import Collection, Iterator

    from dief.wire import Cell, CspSummary, Digest, RegionTable, Totals

__all__ = ["ANNEX_COLUMNS", "render_digest_annex", "render_summary_annex"]

ANNEX_COLUMNS = (
    "period",
    "region",
    "region_name",
    "dimension",
    "dimension_label",
    "value",
    "value_label",
    "count",
    "contributors",
    "share",
    "trend",
    "status",
)
_ALL = "ALL"
_BOM = "\ufeff"

Row = tuple[str, ...]


def _total_row(period: str, region: str, name: str, totals: Totals) -> Row:
    place = (period, region, name, "total", "all cases", "cases", "Cases")
    if totals.withheld or totals.cases is None:
        return (*place, "", "", "", "", "hidden")
    trend = totals.trend.value if totals.trend is not None else ""
    contributors = "" if totals.contributors is None else str(totals.contributors)
    return (*place, str(totals.cases), contributors, "", trend, "published")


def _cell_row(  # noqa: PLR0913, PLR0917  one annex row: the cell and where it sits
    period: str, region: str, name: str, dimension: Dimension, cell: Cell, titles: dict[str, str]
) -> Row:
    place = (
        period,
        region,
        name,
        dimension.value,
        DIMENSION_LABELS[dimension],
        cell.value,
        _dimension_value(dimension, cell.value, titles),
    )
    if cell.suppressed or cell.count is None:
        return (*place, "", "", "", "", "hidden")
    return (
        *place,
        str(cell.count),
        "" if cell.contributors is None else str(cell.contributors),
        "" if cell.share is None else f"{cell.share:.4f}",
        cell.trend.value if cell.trend is not None else "",
        "published",
    )


def _withheld_row(period: str, region: str, name: str, dimension: Dimension, k: int) -> Row:
    label = WITHHELD_DIMENSION_TEXT.format(k=k)
    place = (period, region, name, dimension.value, DIMENSION_LABELS[dimension], "", label)
    return (*place, "", "", "", "", "withheld")


def _table_rows(  # noqa: PLR0913  one table: where it sits, its cells, what it withholds
    period: str,
    region: str,
    name: str,
    table: RegionTable | Digest,
    titles: dict[str, str],
    *,
    withheld: Collection[Dimension] = frozenset(),
    k: int = 0,
) -> Iterator[Row]:
    yield _total_row(period, region, name, table.totals)
    for dimension in Dimension:
        if dimension in withheld:
            yield _withheld_row(period, region, name, dimension, k)
            continue
        for cell in table.dimensions.get(dimension, []):
            yield _cell_row(period, region, name, dimension, cell, titles)


def _csv(rows: Iterator[Row]) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(ANNEX_COLUMNS)
    writer.writerows(rows)
    return _BOM + out.getvalue()


def _region_name(region: Region) -> str:
    return REGION_NAMES[region]


def render_summary_annex(summary: CspSummary) -> str:
    """The summary's cells, all regions together first, then each region."""
    titles = {e.id: e.title or e.question for e in summary.checklist}

    def rows() -> Iterator[Row]:
        yield from _table_rows(summary.cycle, _ALL, "All regions", summary.global_, titles)
        for region, table in summary.regions.items():
            yield from _table_rows(summary.cycle, region.value, _region_name(region), table, titles)

    return _csv(rows())


def render_digest_annex(digest: Digest) -> str:
    """The digest's own cells (totals and every dimension; a withheld dimension's row)."""
    titles = {e.id: e.title or e.question for e in digest.checklist}
    region = digest.region
    withheld = withheld_dimensions(digest)
    rows = _table_rows(
        digest.period,
        region.value,
        _region_name(region),
        digest,
        titles,
        withheld=withheld,
        k=digest.k,
    )
    return _csv(rows)
