"""Cases held by the intake folder under four eyes are in the portal's approval list: a
second officer releases them there, and the officer whose login dropped the file cannot."""

from __future__ import annotations

import getpass
import json
from typing import TYPE_CHECKING

from dief.portal import Role, hold_file
from dief.screening import default_screener
from tests.portal.conftest import PASSWORD, TODAY, Site, csrf_of
from tests.portal.test_four_eyes_cli import _case

if TYPE_CHECKING:
    from pathlib import Path


def _drop(node_site: Site, tmp_path: Path) -> int:
    path = tmp_path / "drop.json"
    path.write_text(json.dumps(_case(detected="2026-05")), encoding="utf-8")
    result = node_site.call(
        lambda: hold_file(node_site.portal.drafts, path, default_screener(), today=TODAY)
    )
    assert result.awaiting_approval == 1
    [draft] = node_site.call(node_site.portal.drafts.all)
    return draft.id


def test_a_held_intake_case_is_released_in_the_portal(node_site: Site, tmp_path: Path) -> None:
    draft_id = _drop(node_site, tmp_path)
    assert node_site.gateway.posted == []  # held: nothing reached the node
    node_site.login("ben")
    listing = node_site.client.get("/cases").text
    assert f'href="/cases/{draft_id}"' in listing
    assert "Awaiting approval" in listing
    page = node_site.client.get(f"/cases/{draft_id}").text
    done = node_site.client.post(
        f"/cases/{draft_id}/approve", data={"csrf_token": csrf_of(page)}, follow_redirects=False
    )
    assert done.status_code == 303
    assert len(node_site.gateway.posted) == 1


def test_the_officer_who_dropped_the_file_cannot_approve_it(
    node_site: Site, tmp_path: Path
) -> None:
    me = getpass.getuser()  # the file's owner: its author
    portal = node_site.portal
    node_site.secrets[me] = node_site.call(
        portal.accounts.create, me, PASSWORD, (Role.OFFICER, Role.APPROVER)
    )
    draft_id = _drop(node_site, tmp_path)
    node_site.login(me)
    page = node_site.client.get(f"/cases/{draft_id}").text
    refused = node_site.client.post(
        f"/cases/{draft_id}/approve", data={"csrf_token": csrf_of(page)}, follow_redirects=False
    )
    assert refused.status_code == 403
    assert "cannot approve it" in refused.text
    assert node_site.gateway.posted == []
