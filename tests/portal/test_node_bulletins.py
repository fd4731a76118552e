"""The node portal's bulletins and watches (DESIGN §13; issue 19, issue 18 "Reading them",
"Watches"), at the HTTP level: the bulletins the node's store holds — generalised facts with
their vocabulary labels, the checklist questions of their indicators, retractions shown as
retracted — the watch matches with the reason, and watches added and removed (CSRF, officers
only), kept in the node's ``watches.json`` that ``dief alerts watch`` reads too.

The source is the real :class:`~dief.portal.NodeBulletins` over a node outbox file whose
bulletin store holds two opened batches (what the node's follower writes)."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest

from dief.bulletins import BulletinStore, OpenedBulletins, WatchStore
from dief.catalogue import load_catalogue
from dief.node import Outbox
from dief.portal import NodeBulletins
from dief.wire import BulletinEntry
from tests.portal.conftest import Site, csrf_of

if TYPE_CHECKING:
    from collections.abc import Iterator
    from pathlib import Path

LIVE = "a" * 32
GONE = "b" * 32
LESSON = "Ask for the original end-user certificate before the second shipment."


async def fill_store(outbox_path: Path) -> None:
    """Two bulletins of AFR (one later retracted), as the node's follower keeps them."""
    outbox = Outbox(outbox_path)
    await outbox.start()
    try:
        live = BulletinEntry(
            bulletin_id=LIVE, action="publish", kind="alert",
            item_categories=("small_arms", "ammunition"), end_user_type="non_state_armed_group",
            transfer_stage="in_transit", methods=("falsified_documents",),
            route_regions=("EEG",), risk_indicators=("DOC-01",), month="2026-10", lesson=LESSON,
        )  # fmt: skip
        gone = BulletinEntry(
            bulletin_id=GONE, action="publish", kind="alert", item_categories=("light_weapons",),
            transfer_stage="at_import", risk_indicators=("DOC-02",), month="2026-09",
        )  # fmt: skip
        store = BulletinStore(outbox)
        batches = [
            OpenedBulletins("AFR", "2026-10-01T10:00:00Z", (gone,)),
            OpenedBulletins("AFR", "2026-10-02T10:00:00Z", (live,)),
            OpenedBulletins(
                "AFR", "2026-10-03T10:00:00Z",
                (BulletinEntry(bulletin_id=GONE, action="retract"),),
            ),
        ]  # fmt: skip
        await store.apply(batches, [], {}, topic="dief.bulletins")
    finally:
        await outbox.stop()


@pytest.fixture
def bulletins(node_site: Site, tmp_path: Path) -> Iterator[NodeBulletins]:
    path = tmp_path / "node" / "outbox.sqlite"
    path.parent.mkdir()
    source = NodeBulletins(path)
    node_site.call(fill_store, path)
    node_site.call(source.start)
    node_site.portal.bulletins = source
    yield source
    node_site.call(source.stop)


def _section(html: str, bulletin_id: str) -> str:
    start = html.rindex("<section", 0, html.index(f'id="b-{bulletin_id}"'))
    end = html.find("<section", start + 1)
    return html[start : end if end != -1 else len(html)]


def test_the_node_reads_its_bulletins_with_labels_questions_and_retractions(
    node_site: Site, bulletins: NodeBulletins
) -> None:
    node_site.login("ana")
    page = node_site.client.get("/bulletins")
    assert page.status_code == 200
    live = _section(page.text, LIVE)
    assert "Small arms" in live  # labels, not vocabulary tokens
    assert "Non-State armed group" in live
    assert "small_arms" not in live
    assert load_catalogue()["DOC-01"].question in live  # the indicator's checklist question
    assert LESSON in live
    assert "Retracted" not in live
    gone = _section(page.text, GONE)
    assert "Retracted" in gone
    assert 'class="bulletin retracted"' in gone
    assert load_catalogue()["DOC-02"].question in gone


def test_watches_are_added_matched_with_their_reason_and_removed(
    node_site: Site, bulletins: NodeBulletins, tmp_path: Path
) -> None:
    client = node_site.client
    node_site.login("ana")
    token = csrf_of(client.get("/bulletins").text)
    refused = client.post("/bulletins/watches", data={"item_categories": "small_arms"})
    assert refused.status_code == 403  # no CSRF token
    watch = {"item_categories": ["small_arms", "light_weapons"], "stages": ["in_transit"],
             "label": "rifles in transit", "csrf_token": token}  # fmt: skip
    added = client.post("/bulletins/watches", data=watch, follow_redirects=False)
    assert added.status_code == 303
    [kept] = WatchStore(tmp_path / "node" / "watches.json").all()  # dief alerts' own file
    assert (kept.item_categories, kept.stages) == (("small_arms", "light_weapons"), ("in_transit",))
    page = client.get("/bulletins").text
    matches = page[page.index('id="matches"') : page.index('id="received"')]
    assert "rifles in transit" in matches
    assert "Item categories: Small arms" in matches  # the reason: the values that matched
    assert "Transfer stages: In transit" in matches
    assert f"#b-{GONE}" not in matches  # a retracted bulletin matches nothing
    removed = client.post(
        f"/bulletins/watches/{kept.watch_id}/remove", data={"csrf_token": token},
        follow_redirects=False,
    )  # fmt: skip
    assert removed.status_code == 303
    assert WatchStore(tmp_path / "node" / "watches.json").all() == []
    assert "No bulletin in force matches your watches." in client.get("/bulletins").text


def test_a_watch_of_no_known_value_is_refused(node_site: Site, bulletins: NodeBulletins) -> None:
    client = node_site.client
    node_site.login("ben")
    token = csrf_of(client.get("/bulletins").text)
    empty = client.post("/bulletins/watches", data={"label": "nothing", "csrf_token": token})
    assert empty.status_code == 422
    assert "Choose at least one value to watch for." in empty.text
    made_up = {"item_categories": "<script>", "indicators": "XYZ-99", "csrf_token": token}
    assert client.post("/bulletins/watches", data=made_up).status_code == 422
    assert "No watch yet." in client.get("/bulletins").text


def test_only_the_node_s_officers_read_bulletins(node_site: Site, bulletins: NodeBulletins) -> None:
    anonymous = node_site.fresh_client()
    assert anonymous.get("/bulletins", follow_redirects=False).headers["location"] == "/login"
    admin = node_site.fresh_client()
    node_site.login("admin", client=admin)
    assert admin.get("/bulletins").status_code == 403
    node_site.login("ben")
    page = node_site.client.get("/bulletins")
    assert page.status_code == 200
    assert "frame-ancestors 'none'" in page.headers["content-security-policy"]
