"""The node's bulletins and watches (DESIGN §13, issue 18 "Reading them", "Watches"): the
bulletins the node received — generalised facts with vocabulary labels, the checklist
questions of their indicators, retractions shown as retracted — the watch matches with the
reason they matched, and the node's watches (add, list, remove). Officers and approvers."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated

from fastapi import APIRouter, Depends, HTTPException, Request
from fastapi.responses import RedirectResponse, Response

from dief.catalogue import load_catalogue
from dief.exceptions import ConfigurationError
from dief.portal._accounts import Account, Role
from dief.portal._app import audit, portal_of, render, require
from dief.portal._bulletins import BulletinSource, view_of
from dief.portal._i18n import N_
from dief.vocab import EndUserType, ItemCategory, Region, TransferStage

if TYPE_CHECKING:
    from collections.abc import Mapping

__all__ = ["router"]

router = APIRouter()

Officer = Annotated[Account, Depends(require(Role.OFFICER, Role.APPROVER))]

#: What each watch facet is called on the page.
FACET_LABELS: dict[str, str] = {
    "item_categories": N_("Item categories"),
    "end_user_types": N_("End-user types"),
    "route_regions": N_("Route regions"),
    "stages": N_("Transfer stages"),
    "indicators": N_("Risk indicators"),
}
_NOTHING_CHOSEN = N_("Choose at least one value to watch for.")
_LABEL_MAX = 80


def _choices() -> dict[str, list[str]]:
    """Each facet's possible values (what the form offers and the only values accepted)."""
    return {
        "item_categories": [c.value for c in ItemCategory],
        "end_user_types": [e.value for e in EndUserType],
        "route_regions": [r.value for r in Region],
        "stages": [s.value for s in TransferStage],
        "indicators": sorted(i.id for i in load_catalogue()),
    }


def _source(request: Request) -> BulletinSource:
    source = portal_of(request).bulletins
    if source is None:
        raise HTTPException(503)
    return source


async def _page(
    request: Request, source: BulletinSource, *, error: str | None = None, status_code: int = 200
) -> Response:
    bulletins = await source.bulletins()
    watches = await source.watches()
    views = view_of(bulletins, watches)
    return await render(
        request, "bulletins.html", status_code=status_code, views=views,
        matched=[v for v in views if v.matches], watches=watches, choices=_choices(),
        facet_labels=FACET_LABELS, error=error,
        indicator_titles={i.id: i.title for i in load_catalogue()},
        in_force=sum(1 for b in bulletins if b.in_force),
        retracted=sum(1 for b in bulletins if not b.in_force),
    )  # fmt: skip


@router.get("/bulletins")
async def bulletins_page(request: Request, account: Officer) -> Response:
    source = _source(request)
    await audit(request, account, "read", "bulletins")
    return await _page(request, source)


def _facets(form: Mapping[str, list[str]]) -> dict[str, list[str]]:
    """The values chosen per facet, each one of the facet's choices (others are dropped)."""
    choices = _choices()
    return {
        facet: [v for v in dict.fromkeys(form.get(facet, [])) if v in choices[facet]]
        for facet in FACET_LABELS
    }


@router.post("/bulletins/watches")
async def add_watch(request: Request, account: Officer) -> Response:
    source = _source(request)
    form = await request.form()
    chosen = _facets({f: [str(v) for v in form.getlist(f)] for f in FACET_LABELS})
    label = str(form.get("label", "")).strip()[:_LABEL_MAX]
    if not any(chosen.values()):
        return await _page(request, source, error=_NOTHING_CHOSEN, status_code=422)
    try:
        watch = await source.add_watch(chosen, label)
    except ConfigurationError:
        return await _page(request, source, error=_NOTHING_CHOSEN, status_code=422)
    await audit(request, account, "watch_added", f"watch {watch.watch_id}")
    return RedirectResponse("/bulletins#watches", status_code=303)


@router.post("/bulletins/watches/{watch_id}/remove")
async def remove_watch(request: Request, watch_id: str, account: Officer) -> Response:
    if not await _source(request).remove_watch(watch_id[:32]):
        raise HTTPException(404)
    await audit(request, account, "watch_removed", f"watch {watch_id[:32]}")
    return RedirectResponse("/bulletins#watches", status_code=303)
