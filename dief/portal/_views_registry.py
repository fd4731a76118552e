"""The Secretariat's registry of nodes and its directory versions (an administrator's pages).

The registry lists registration key ids, KEM key ids, dates and status: what the
Secretariat's own registry holds, never which State a kid belongs to (DESIGN §11).
Registering a node from its registration file is one administrator's act; revoking a node
and publishing a directory version are asked by one administrator and released by another
(the four-eyes rule, :mod:`dief.portal._releases`). Everything is audited.
"""

from __future__ import annotations

import logging
import re
from typing import Annotated

from fastapi import APIRouter, Depends, HTTPException, Request
from fastapi.responses import RedirectResponse, Response
from starlette.datastructures import UploadFile

from dief.exceptions import DiefError
from dief.portal._accounts import Account, Role
from dief.portal._app import audit, portal_of, render, require
from dief.portal._registry import MAX_REGISTRATION_BYTES, NodeRegistry
from dief.portal._releases import ReleaseKind

__all__ = ["router"]

router = APIRouter()
log = logging.getLogger("dief.portal")

Admin = Annotated[Account, Depends(require(Role.ADMINISTRATOR))]
_KID = re.compile(r"^[A-Za-z0-9_-]{1,128}$")
_ADMIN = (Role.ADMINISTRATOR,)


def _registry(request: Request) -> NodeRegistry:
    registry = portal_of(request).registry
    if registry is None:
        raise HTTPException(503)
    return registry


async def _page(
    request: Request, *, problem: str | None = None, status_code: int = 200
) -> Response:
    portal = portal_of(request)
    if portal.registry is None:  # this portal was not given the Secretariat's keyring
        return await render(request, "registry.html", unavailable=True)
    registry = portal.registry
    pending = [r for r in await portal.releases.open() if r.kind is not ReleaseKind.SUMMARY]
    return await render(
        request, "registry.html", status_code=status_code, nodes=await registry.nodes(),
        current=await registry.current(), history=await registry.history(), pending=pending,
        revoking={r.target for r in pending if r.kind is ReleaseKind.REVOKE_NODE},
        issuing=any(r.kind is ReleaseKind.DIRECTORY for r in pending), problem=problem,
    )  # fmt: skip


@router.get("/secretariat/registry")
async def registry_page(request: Request, account: Admin) -> Response:
    await audit(request, account, "read", "registry of nodes")
    return await _page(request)


@router.post("/secretariat/registry/register")
async def register_node(request: Request, account: Admin) -> Response:
    """Register a node from its registration file (key ids only, no name)."""
    form = await request.form()
    upload = form.get("registration")
    replaces = str(form.get("replaces") or "").strip() or None
    if not isinstance(upload, UploadFile) or (replaces and not _KID.match(replaces)):
        return await _page(request, problem="no_file", status_code=400)
    raw = await upload.read(MAX_REGISTRATION_BYTES + 1)
    try:
        kid = await _registry(request).register(raw, replaces=replaces)
    except DiefError as exc:
        log.info("a registration was refused (%s)", exc.code)
        return await _page(request, problem=exc.code, status_code=400)
    await audit(request, account, "register", f"node {kid}")
    return RedirectResponse("/secretariat/registry", status_code=303)


@router.post("/secretariat/registry/nodes/{kid}/revoke")
async def request_revocation(request: Request, kid: str, account: Admin) -> Response:
    """Ask for a node's revocation; a second administrator releases it."""
    nodes = {n.registration_kid: n for n in await _registry(request).nodes()}
    if kid not in nodes:
        raise HTTPException(404)
    if nodes[kid].status == "revoked":
        raise HTTPException(409)
    releases = portal_of(request).releases
    await releases.request(ReleaseKind.REVOKE_NODE, kid, account, roles=_ADMIN)
    await audit(request, account, "request", f"revoke node {kid}")
    return RedirectResponse("/secretariat/registry", status_code=303)


@router.post("/secretariat/registry/directory")
async def request_directory(request: Request, account: Admin) -> Response:
    """Ask for the next directory version to be signed and published; a second
    administrator releases it."""
    _registry(request)
    releases = portal_of(request).releases
    await releases.request(ReleaseKind.DIRECTORY, "", account, roles=_ADMIN)
    await audit(request, account, "request", "publish directory version")
    return RedirectResponse("/secretariat/registry", status_code=303)
