"""A region's part: the meeting's dashboard of its digests by period (headline numbers,
what changed, charts, the checklist printable on its own, lessons by stage, suppression
explained) and the route tables other regions sent. A meeting member opens only their own
region's pages."""

from __future__ import annotations

import asyncio
import logging
from typing import TYPE_CHECKING, Annotated

from fastapi import APIRouter, Depends, HTTPException, Request
from fastapi.responses import RedirectResponse, Response

from dief.exceptions import DiefError
from dief.labels import PERIOD_KINDS
from dief.periods import PeriodKind, parse_period, period_kind
from dief.portal._accounts import Account, Role
from dief.portal._app import Portal, audit, language_of, portal_of, render, require
from dief.portal._dashboard import Dashboard, DigestSource, charts_of
from dief.portal._i18n import N_, translator
from dief.portal._meeting_pack import (
    DIMENSION_LABELS,
    PACK_LANGUAGES,
    TREND_LABELS,
    PdfUnavailableError,
    pack_period,
    pack_period_words,
    pdf_available,
    render_meeting_pack,
    to_pdf,
)
from dief.vocab import Region, TransferStage

if TYPE_CHECKING:
    from collections.abc import Callable

__all__ = ["router"]

router = APIRouter()
log = logging.getLogger("dief.portal")

Member = Annotated[Account, Depends(require(Role.MEETING_MEMBER, Role.ADMINISTRATOR))]

CHART_TITLES = {
    "total": N_("Cases per period"),
    "item_category": N_("Item categories over time"),
    "method": N_("Methods over time"),
    "transfer_stage": N_("Transfer stages over time"),
}


def _region(request: Request, account: Account, code: str) -> Region:
    """*code* if this portal serves it and *account* may read it (403 otherwise)."""
    portal = portal_of(request)
    try:
        region = Region(code.upper())
    except ValueError:
        raise HTTPException(404) from None
    if region not in portal.regions:
        raise HTTPException(404)
    if account.has(Role.MEETING_MEMBER) and account.region is not region:
        raise HTTPException(403)
    return region


def _source(portal: Portal) -> DigestSource:
    if portal.digests is None:
        raise HTTPException(503)
    return portal.digests


@router.get("/region")
async def region_home(request: Request, account: Member) -> Response:
    portal = portal_of(request)
    if account.region is not None and account.region in portal.regions:
        return RedirectResponse(f"/region/{account.region.value}", status_code=303)
    return await render(request, "regions.html", regions=[r.value for r in portal.regions])


@router.get("/region/{code}")
async def region_periods(request: Request, code: str, account: Member) -> Response:
    region = _region(request, account, code)
    periods = await _source(portal_of(request)).periods(region)
    groups: dict[PeriodKind, list[str]] = {kind: [] for kind in PERIOD_KINDS}
    for period in periods:
        try:
            groups[period_kind(period)].append(period)
        except ValueError:
            continue
    listed = [(PERIOD_KINDS[kind], found) for kind, found in groups.items() if found]
    return await render(
        request, "periods.html", region=region.value, periods=periods, groups=listed
    )


@router.get("/region/{code}/pack")
async def meeting_pack_page(request: Request, code: str, account: Member) -> Response:
    """The meeting pack: the digest since the last meeting (the current half-cycle, or the
    most recent one with cases) in English, French and Spanish."""
    region = _region(request, account, code)
    portal = portal_of(request)
    periods = await _source(portal).periods(region)
    period = pack_period(periods, start_month=portal.cycle_start_month)
    words = None
    if period is not None:
        lang = language_of(request, account)
        words = pack_period_words(period, lang, start_month=portal.cycle_start_month)
    return await render(
        request, "meeting_pack.html", region=region.value, period=period, words=words,
        languages=PACK_LANGUAGES, pdf=pdf_available(),
    )  # fmt: skip


_PACK_TYPES = {
    "docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    "pdf": "application/pdf",
}


@router.get("/region/{code}/{period}/pack.{lang}.{fmt}")
async def meeting_pack(  # noqa: PLR0913, PLR0917  one parameter per part of the route's path; FastAPI passes them by name
    request: Request, code: str, period: str, lang: str, fmt: str, account: Member
) -> Response:
    """The period's meeting pack in *lang* as DOCX, or PDF where LibreOffice is."""
    region = _region(request, account, code)
    if lang not in PACK_LANGUAGES or fmt not in _PACK_TYPES:
        raise HTTPException(404)
    board = await _dashboard(request, region, period)
    start = portal_of(request).cycle_start_month
    body = await asyncio.to_thread(render_meeting_pack, board.digest, lang, start_month=start)
    if fmt == "pdf":
        try:
            body = await to_pdf(body)
        except PdfUnavailableError as exc:
            raise HTTPException(404) from exc
    await audit(request, account, "download", f"meeting pack {region.value} {period} {lang} {fmt}")
    name = f"dief-meeting-pack-{region.value}-{board.digest.period}-{lang}.{fmt}"
    return Response(
        body,
        media_type=_PACK_TYPES[fmt],
        headers={"content-disposition": f'attachment; filename="{name}"'},
    )


async def _dashboard(request: Request, region: Region, period: str) -> Dashboard:
    portal = portal_of(request)
    try:  # a period that is not one is not found; any other failure is the server's
        parse_period(period, start_month=portal.cycle_start_month)
    except ValueError as exc:
        raise HTTPException(404) from exc
    try:
        return await _source(portal).dashboard(region, period)
    except DiefError as exc:
        log.error("the dashboard of %s %s failed (%s)", region.value, period, exc.code)  # noqa: TRY400  the error code only, never a traceback (its locals may hold case data)
        raise HTTPException(503) from exc


@router.get("/region/{code}/{period}")
async def dashboard(request: Request, code: str, period: str, account: Member) -> Response:
    region = _region(request, account, code)
    board = await _dashboard(request, region, period)
    await audit(request, account, "read", f"digest {region.value} {period}")
    digest = board.digest
    changed = sorted(
        (
            (dim, cell)
            for dim, cells in digest.dimensions.items()
            for cell in cells
            if cell.trend is not None and cell.trend.value in {"new", "rising", "falling"}
        ),
        key=lambda pair: -abs(pair[1].change or 0),
    )[:12]
    stages = [s.value for s in TransferStage]
    lessons = {s: [le for le in digest.lessons if le.stage and le.stage.value == s] for s in stages}
    others = [le for le in digest.lessons if le.stage is None]
    t = _translate(request, account)
    charts = charts_of(board.series, {k: t(v) for k, v in CHART_TITLES.items()})
    return await render(
        request, "dashboard.html", region=region.value, period=period, digest=digest,
        changed=changed, charts=charts, lessons=lessons, other_lessons=others,
        trend_labels=TREND_LABELS, dimension_labels=DIMENSION_LABELS,
    )  # fmt: skip


def _translate(request: Request, account: Account) -> Callable[[str], str]:
    return translator(language_of(request, account)).gettext


@router.get("/region/{code}/{period}/checklist")
async def checklist(request: Request, code: str, period: str, account: Member) -> Response:
    region = _region(request, account, code)
    board = await _dashboard(request, region, period)
    await audit(request, account, "read", f"checklist {region.value} {period}")
    return await render(
        request, "checklist.html", region=region.value, period=period, digest=board.digest,
        trend_labels=TREND_LABELS,
    )  # fmt: skip


@router.get("/region/{code}/{period}/routes")
async def routes(request: Request, code: str, period: str, account: Member) -> Response:
    region = _region(request, account, code)
    board = await _dashboard(request, region, period)
    await audit(request, account, "read", f"routes {region.value} {period}")
    tables = getattr(board.digest, "routes", None) or []
    return await render(
        request, "routes.html", region=region.value, period=period, tables=tables,
        dimension_labels=DIMENSION_LABELS,
    )  # fmt: skip


_DOWNLOADS = {
    "json": "application/json",
    "docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
}


@router.get("/region/{code}/{period}/digest.{fmt}")
async def download(request: Request, code: str, period: str, fmt: str, account: Member) -> Response:
    """The period's digest as a document: the meeting pack (DOCX, in English) or JSON."""
    region = _region(request, account, code)
    if fmt not in _DOWNLOADS:
        raise HTTPException(404)
    board = await _dashboard(request, region, period)
    if fmt == "docx":
        from dief.render import render_digest_docx  # noqa: PLC0415  rendering (seconds to import) loaded on the first download

        start = portal_of(request).cycle_start_month
        body = await asyncio.to_thread(render_digest_docx, board.digest, start_month=start)
    else:
        from dief.render import dump_json  # noqa: PLC0415  (as above)

        body = dump_json(board.digest).encode("utf-8")
    await audit(request, account, "download", f"digest {region.value} {period} {fmt}")
    name = f"dief-digest-{region.value}-{board.digest.period}.{fmt}"
    return Response(
        body,
        media_type=_DOWNLOADS[fmt],
        headers={"content-disposition": f'attachment; filename="{name}"'},
    )
