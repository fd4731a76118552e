"""The Secretariat's part: each recent cycle's summary, published (signed) or previewed from
the latest digests, its documents to download (audited; a preview's are named so), and
publication to ``csp.reporting`` released by a second person (:mod:`dief.portal._releases`:
an editor asks, another editor or an administrator releases). The registry of nodes and the
directory versions are in :mod:`dief.portal._views_registry`."""

from __future__ import annotations

import asyncio
import logging
import re
from typing import TYPE_CHECKING, Annotated

from fastapi import APIRouter, Depends, HTTPException, Request
from fastapi.responses import RedirectResponse, Response

from dief.exceptions import DiefError, ReleaseRefusedError, StorageError, ValidationError
from dief.portal._accounts import Account, Role
from dief.portal._app import audit, portal_of, render, require
from dief.portal._releases import RELEASERS, Release, ReleaseKind
from dief.portal._summaries import CycleSummary, recent_cycles, this_month
from dief.portal._views_registry import router as registry_router

if TYPE_CHECKING:
    from dief.wire import CspSummary

__all__ = ["router"]

router = APIRouter()
# before /secretariat/{cycle}: "registry" is not a cycle
router.include_router(registry_router)
log = logging.getLogger("dief.portal")

Editor = Annotated[Account, Depends(require(*RELEASERS))]

_TYPES = {
    "json": "application/json",
    "md": "text/markdown; charset=utf-8",
    "html": "text/html; charset=utf-8",
    "docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    "csv": "text/csv; charset=utf-8",
}
#: The content hash a summary's release form carries (SHA-256, hex)
_CONTENT = re.compile(r"[0-9a-f]{64}")
#: Who may ask for and release each kind: the registry's actions are an administrator's.
RELEASE_ROLES: dict[ReleaseKind, tuple[Role, ...]] = {
    ReleaseKind.SUMMARY: RELEASERS,
    ReleaseKind.REVOKE_NODE: (Role.ADMINISTRATOR,),
    ReleaseKind.DIRECTORY: (Role.ADMINISTRATOR,),
}


def formats() -> tuple[str, ...]:
    """The documents a summary has (``csv``: the data annex, a row per cell)."""
    return ("json", "md", "html", "docx", "csv")


def release_target(release: Release) -> str:
    """What the audit log names for *release* (a cycle or a registration kid, no State)."""
    if release.kind is ReleaseKind.SUMMARY:
        return f"publish summary {release.target}"
    if release.kind is ReleaseKind.REVOKE_NODE:
        return f"revoke node {release.target}"
    return "publish directory version"


async def _cycle(request: Request, cycle: str, *, current: bool = False) -> CycleSummary:
    source = portal_of(request).summaries
    if source is None:
        raise HTTPException(503)
    if not cycle.startswith("CSP") or not cycle[3:].isdigit():
        raise HTTPException(404)
    try:
        return await source.cycle(cycle, current=current)
    except StorageError as exc:
        # the Secretariat's database did not answer: not "no such cycle"
        log.warning("the %s summary could not be read (%s)", cycle, exc.code)
        raise HTTPException(503) from exc
    except DiefError as exc:
        raise HTTPException(404) from exc


@router.get("/secretariat")
async def secretariat_home(request: Request, account: Editor) -> Response:  # noqa: ARG001  the dependency checks the role; FastAPI passes it by name
    start = portal_of(request).cycle_start_month
    cycles = [await _cycle(request, c) for c in recent_cycles(this_month(), start_month=start)]
    pending = await portal_of(request).releases.open()
    return await render(request, "secretariat.html", cycles=cycles, pending=pending)


@router.get("/secretariat/{cycle}")
async def summary_page(request: Request, cycle: str, account: Editor) -> Response:
    found = await _cycle(request, cycle, current=True)
    await audit(request, account, "read", f"summary {cycle}")
    held = await portal_of(request).releases.open(ReleaseKind.SUMMARY)
    pending = next((r for r in held if r.target == cycle), None)
    recent = [
        r
        for r in await portal_of(request).releases.recent()
        if r.kind is ReleaseKind.SUMMARY and r.target == cycle and not r.open
    ][:3]
    return await render(
        request, "summary.html", found=found, formats=formats(), pending=pending,
        recent=recent, can_publish=portal_of(request).publisher is not None,
        content=releasable(found),
    )  # fmt: skip


def releasable(found: CycleSummary) -> str | None:
    """The content hash of the summary a release would publish, as shown on the page (a
    preview of a cycle whose every expected digest is in), else ``None`` (nothing new to
    publish, or not yet). The request and the release forms
    carry it: a request names the content its requester was shown, a release must name the
    same, and the Secretariat publishes only that content (``publish_summary(expected=)``):
    both people saw what is published, not what digests arriving meanwhile made."""
    if found.summary is None or found.published or not found.complete:
        return None
    from dief.secretariat import summary_content_hash  # noqa: PLC0415  the Secretariat's package: loaded by its portal only

    return summary_content_hash(found.summary)


def _document(summary: CspSummary, fmt: str) -> bytes:
    import dief.render as r  # noqa: PLC0415  rendering (seconds to import) loaded on the first download

    if fmt == "json":
        return r.dump_json(summary).encode("utf-8")
    if fmt == "md":
        return r.render_summary_markdown(summary).encode("utf-8")
    if fmt == "html":
        return r.render_summary_html(summary).encode("utf-8")
    if fmt == "csv":
        return r.render_summary_annex(summary).encode("utf-8")
    return r.render_summary_docx(summary)


@router.get("/secretariat/{cycle}/summary.{fmt}")
async def summary_document(request: Request, cycle: str, fmt: str, account: Editor) -> Response:
    """A cycle's documents: the published summary's, else the preview's (unsigned; the file
    name and the audit log say ``preview``), to read before it is released."""
    if fmt not in _TYPES or fmt not in formats():
        raise HTTPException(404)
    found = await _cycle(request, cycle, current=True)
    if found.summary is None:
        raise HTTPException(404)
    body = await asyncio.to_thread(_document, found.summary, fmt)
    preview = "" if found.published else "-preview"
    await audit(
        request, account, "download",
        f"summary {cycle} {fmt}" + ("" if found.published else " (preview)"),
    )  # fmt: skip
    name = f"dief-summary-{cycle}{preview}.{fmt}"
    headers = {"content-disposition": f'attachment; filename="{name}"'}
    return Response(body, media_type=_TYPES[fmt], headers=headers)


@router.post("/secretariat/{cycle}/publish")
async def request_publication(request: Request, cycle: str, account: Editor) -> Response:
    """Ask for the cycle's summary to be signed and published; a second person releases."""
    found = await _cycle(request, cycle, current=True)
    content = releasable(found)
    if content is None or portal_of(request).publisher is None:
        raise HTTPException(409)  # nothing (new) to publish
    if (await request.form()).get("content") != content:
        # the summary changed between the page and the click: what was asked for is unseen
        raise HTTPException(409, "changed")
    release = await portal_of(request).releases.request(
        ReleaseKind.SUMMARY, cycle, account, content=content
    )
    await audit(request, account, "request", release_target(release))
    return RedirectResponse(f"/secretariat/{cycle}", status_code=303)


async def _run(request: Request, release: Release, content: str) -> str:
    """Do what *release* asks (a summary: of the *content* shown to the person releasing
    it); a short outcome for the page."""
    portal = portal_of(request)
    if release.kind is ReleaseKind.SUMMARY:
        if portal.publisher is None:
            raise HTTPException(503)
        signed = await portal.publisher.publish(release.target, expected=content)
        return f"issue {signed.issue}"
    if portal.registry is None:
        raise HTTPException(503)
    if release.kind is ReleaseKind.REVOKE_NODE:
        await portal.registry.revoke(release.target)
        return "revoked"
    issued = await portal.registry.issue()
    return f"version {issued.version}"


def _back(release: Release) -> str:
    if release.kind is ReleaseKind.SUMMARY:
        return f"/secretariat/{release.target}"
    return "/secretariat/registry"


async def _held(request: Request, release_id: int) -> Release:
    release = await portal_of(request).releases.get(release_id)
    if release is None:
        raise HTTPException(404)
    return release


@router.post("/secretariat/releases/{release_id}/release")
async def release_action(request: Request, release_id: int, account: Editor) -> Response:
    """A second person releases a request: the four-eyes rule of the node's cases."""
    portal = portal_of(request)
    release = await _held(request, release_id)
    roles = RELEASE_ROLES[release.kind]
    content = str((await request.form()).get("content") or "")
    try:
        portal.releases.check(release, account, roles=roles)  # who, before what
        if release.kind is ReleaseKind.SUMMARY and not (
            _CONTENT.fullmatch(content) and content == release.content
        ):
            # not what the requester was shown (it changed since the request), or a form
            # that does not say what it releases (from before, or made by hand)
            raise HTTPException(409, "content")
        taken = await portal.releases.take(release, account, roles=roles)
    except ReleaseRefusedError as exc:
        raise HTTPException(403, exc.code) from exc
    except ValidationError as exc:
        raise HTTPException(409, exc.code) from exc
    try:
        outcome = await _run(request, taken, content)
    except DiefError as exc:
        log.warning("a released %s failed (%s)", taken.kind.value, exc.code)
        await portal.releases.finish(taken, ok=False, outcome=f"{exc.code}: {exc.message}")
        await audit(request, account, "release failed", release_target(taken))
        return RedirectResponse(_back(taken), status_code=303)
    except BaseException:
        await portal.releases.finish(taken, ok=False, outcome="the action did not complete")
        raise
    await portal.releases.finish(taken, ok=True, outcome=outcome)
    await audit(request, account, "release", release_target(taken))
    return RedirectResponse(_back(taken), status_code=303)


@router.post("/secretariat/releases/{release_id}/withdraw")
async def withdraw_request(request: Request, release_id: int, account: Editor) -> Response:
    """The requester withdraws their request before anyone released it."""
    release = await _held(request, release_id)
    if not await portal_of(request).releases.cancel(release, account):
        raise HTTPException(409)
    await audit(request, account, "withdraw", release_target(release))
    return RedirectResponse(_back(release), status_code=303)
