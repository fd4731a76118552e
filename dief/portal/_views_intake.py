"""The node's file import (JSON, YAML, JSON Lines) with a report per line, and the
risk-indicator catalogue, searchable, with its checklist questions."""

from __future__ import annotations

import asyncio
import contextlib
import os
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response  # noqa: TC002  FastAPI reads a route's return annotation at run time
from starlette.datastructures import UploadFile

from dief.catalogue import load_catalogue
from dief.exceptions import DiefError
from dief.portal._accounts import Account, Role
from dief.portal._app import portal_of, render, require
from dief.portal._four_eyes import HeldLine, hold_cases
from dief.portal._i18n import N_
from dief.vocab import TransferStage
from dief.wire import load_cases

if TYPE_CHECKING:
    from datetime import date

__all__ = ["router"]

router = APIRouter()

Officer = Annotated[Account, Depends(require(Role.OFFICER, Role.APPROVER))]
#: The largest file the import takes.
MAX_IMPORT_BYTES = 5 * 1024 * 1024
_SUFFIXES = (".json", ".jsonl", ".ndjson", ".yaml", ".yml")
_TOO_LARGE = N_("The file is larger than 5 MB.")
_BAD_SUFFIX = N_("Give a .json, .jsonl, .yaml or .yml file.")


@router.get("/catalogue")
async def catalogue_page(request: Request, account: Officer) -> Response:  # noqa: ARG001  the dependency checks the role; FastAPI passes it by name
    query = request.query_params.get("q", "").strip()[:100]
    stage = request.query_params.get("stage", "")
    catalogue = load_catalogue()
    words = [w for w in query.lower().split() if w]
    wanted = [
        i for i in catalogue
        if all(w in f"{i.id} {i.title} {i.question}".lower() for w in words)
        and (not stage or stage in {s.value for s in i.stages})
    ]  # fmt: skip
    return await render(
        request, "catalogue.html", indicators=wanted, query=query, stage=stage,
        stages=[s.value for s in TransferStage], catalogue=catalogue,
    )  # fmt: skip


@router.get("/import")
async def import_page(request: Request, account: Officer) -> Response:  # noqa: ARG001  the dependency checks the role; FastAPI passes it by name
    return await render(request, "import.html", report=None, error=None)


@router.post("/import")
async def import_file(request: Request, account: Officer) -> Response:
    form = await request.form()
    upload = form.get("file")
    if not isinstance(upload, UploadFile) or not upload.filename:
        return await render(request, "import.html", status_code=422, report=None, error=_BAD_SUFFIX)
    suffix = Path(upload.filename).suffix.lower()
    if suffix not in _SUFFIXES:
        return await render(request, "import.html", status_code=422, report=None, error=_BAD_SUFFIX)
    data = await upload.read(MAX_IMPORT_BYTES + 1)
    if len(data) > MAX_IMPORT_BYTES:
        return await render(request, "import.html", status_code=413, report=None, error=_TOO_LARGE)
    report = await _import(request, account, data, suffix)
    return await render(request, "import.html", report=report, error=None)


def _parse(data: bytes, suffix: str, today: date) -> list[tuple[int, Any]]:
    """The cases of an uploaded file, by line (written to a private temporary file for the
    node's own reader, removed at once)."""
    fd, name = tempfile.mkstemp(suffix=suffix, prefix="portal-import-")
    path = Path(name)
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
        return list(load_cases(path, today=today))
    finally:
        with contextlib.suppress(OSError):
            path.unlink()


async def _import(request: Request, account: Account, data: bytes, suffix: str) -> list[Any]:
    """One row per input line: a draft awaiting approval, or why it was refused (kept as a
    draft its author can fix)."""
    portal = portal_of(request)
    try:
        items = await asyncio.to_thread(_parse, data, suffix, portal.today())
    except DiefError as exc:
        return [HeldLine(1, ok=False, reason=exc.code, message=exc.message)]
    return await hold_cases(
        portal.drafts, account.username, items, portal.screener,
        today=portal.today(), keep_refused=True,
    )  # fmt: skip
