"""The Secretariat's part (a first page; the summary preview, its documents, second-person
publication and the registry are to come: docs/portal.md)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response

from dief.portal._accounts import Account, Role
from dief.portal._app import render, require

__all__ = ["router"]

router = APIRouter()

Editor = Annotated[Account, Depends(require(Role.SECRETARIAT_EDITOR, Role.ADMINISTRATOR))]


@router.get("/secretariat")
async def secretariat_home(request: Request, account: Editor) -> Response:
    return await render(request, "secretariat.html")
