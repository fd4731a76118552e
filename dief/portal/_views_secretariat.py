"""The Secretariat's part: each recent cycle's summary, published (signed) or previewed from
the latest digests, and its documents to download (audited). Publication to
``csp.reporting`` by a second person and the registry of nodes are to come
(docs/portal.md)."""

from __future__ import annotations

import asyncio
from typing import Annotated

from fastapi import APIRouter, Depends, HTTPException, Request
from fastapi.responses import Response

from dief.exceptions import DiefError
from dief.portal._accounts import Account, Role
from dief.portal._app import audit, portal_of, render, require
from dief.portal._summaries import CycleSummary, recent_cycles, this_month

__all__ = ["router"]

router = APIRouter()

Editor = Annotated[Account, Depends(require(Role.SECRETARIAT_EDITOR, Role.ADMINISTRATOR))]

_TYPES = {
    "json": "application/json",
    "md": "text/markdown; charset=utf-8",
    "html": "text/html; charset=utf-8",
    "docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
}


async def _cycle(request: Request, cycle: str) -> CycleSummary:
    source = portal_of(request).summaries
    if source is None:
        raise HTTPException(503)
    if not cycle.startswith("CSP") or not cycle[3:].isdigit():
        raise HTTPException(404)
    try:
        return await source.cycle(cycle)
    except DiefError as exc:
        raise HTTPException(404) from exc


@router.get("/secretariat")
async def secretariat_home(request: Request, account: Editor) -> Response:
    start = portal_of(request).cycle_start_month
    cycles = [await _cycle(request, c) for c in recent_cycles(this_month(), start_month=start)]
    return await render(request, "secretariat.html", cycles=cycles)


@router.get("/secretariat/{cycle}")
async def summary_page(request: Request, cycle: str, account: Editor) -> Response:
    found = await _cycle(request, cycle)
    await audit(request, account, "read", f"summary {cycle}")
    return await render(request, "summary.html", found=found)


@router.get("/secretariat/{cycle}/summary.{fmt}")
async def summary_document(request: Request, cycle: str, fmt: str, account: Editor) -> Response:
    """A published summary's documents (a preview is not a document: it is unsigned)."""
    if fmt not in _TYPES:
        raise HTTPException(404)
    found = await _cycle(request, cycle)
    if not found.published or found.summary is None:
        raise HTTPException(404)
    from dief.render import (
        dump_json,
        render_summary_docx,
        render_summary_html,
        render_summary_markdown,
    )

    summary = found.summary
    if fmt == "json":
        body: bytes = dump_json(summary).encode("utf-8")
    elif fmt == "md":
        body = render_summary_markdown(summary).encode("utf-8")
    elif fmt == "html":
        body = render_summary_html(summary).encode("utf-8")
    else:
        body = await asyncio.to_thread(render_summary_docx, summary)
    await audit(request, account, "download", f"summary {cycle} {fmt}")
    name = f"dief-summary-{cycle}.{fmt}"
    headers = {"content-disposition": f'attachment; filename="{name}"'}
    return Response(body, media_type=_TYPES[fmt], headers=headers)
