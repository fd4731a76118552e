"""The Secretariat's registry of nodes and directory versions in the portal (issue 19), over a
real simulated forum's Secretariat keyring: an administrator registers a node from its file;
revoking a node and publishing a directory version are released by a second administrator,
through the same library calls as ``dief keys`` (the new version is published on
``dief.directory`` and the issue hooks run); key ids only, audited, CSRF-protected."""

from __future__ import annotations

import shutil
from typing import TYPE_CHECKING

import pytest
from pydantic import SecretStr

from dief.keyring import ForumDirectory, NodeKeys, SimulatedForum
from dief.portal import Party
from dief.portal._registry import KeyringRegistry
from dief.portal._releases import ReleaseKind
from dief.testing import MemoryRecordSink
from tests.portal.conftest import Site, csrf_of, make_site
from tests.portal.test_secretariat_publication import post, with_second_people

if TYPE_CHECKING:
    from collections.abc import Iterator
    from pathlib import Path

    from fastapi.testclient import TestClient

PASSPHRASE = "registry-test-passphrase"


@pytest.fixture(scope="module")
def forum_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("forum") / "forum"
    SimulatedForum.create(path, PASSPHRASE, nodes=("a",))
    return path


class Issued:
    def __init__(self) -> None:
        self.versions: list[int] = []

    async def __call__(self, directory: ForumDirectory) -> None:
        self.versions.append(directory.version)


@pytest.fixture
def site(tmp_path: Path, forum_template: Path) -> Iterator[Site]:

    forum = tmp_path / "forum"
    shutil.copytree(forum_template, forum)
    sink = MemoryRecordSink()
    hook = Issued()
    for made in make_site(tmp_path, Party.SECRETARIAT):
        made.portal.registry = KeyringRegistry(
            forum / "secretariat", SecretStr(PASSPHRASE), sink=sink, days=20, on_issued=(hook,)
        )
        made.sink = sink  # type: ignore[attr-defined]  # the test's handle
        made.hook = hook  # type: ignore[attr-defined]  # the test's handle
        made.forum = SimulatedForum.load(forum, PASSPHRASE)  # type: ignore[attr-defined]  # the test's handle
        yield with_second_people(made)


def _nodes(site: Site) -> list[tuple[str, str]]:
    assert site.portal.registry is not None
    found = site.call(site.portal.registry.nodes)
    return [(n.registration_kid, n.status) for n in found]


def _second_admin(site: Site) -> TestClient:
    other = site.fresh_client()
    assert site.login("admin2", client=other).status_code == 303
    return other


def _release_id(site: Site, kind: ReleaseKind) -> int:
    held = site.call(site.portal.releases.open, kind)
    assert len(held) == 1
    return held[0].id


def test_the_registry_lists_key_ids_only(site: Site) -> None:
    assert site.login("admin").status_code == 303
    page = site.client.get("/secretariat/registry")
    assert page.status_code == 200
    [(kid, status)] = _nodes(site)
    assert kid in page.text
    assert status == "active"
    assert "node-001" not in page.text  # the simulation's local folder, never shown
    assert "Current version" in page.text


def test_an_editor_cannot_open_the_registry(site: Site) -> None:
    assert site.login("editor").status_code == 303
    assert site.client.get("/secretariat/registry").status_code == 403


def test_an_administrator_registers_a_node_from_its_file(site: Site, tmp_path: Path) -> None:
    node = NodeKeys.create(tmp_path / "new-node", PASSPHRASE, simulation=True)
    raw = node.registration().model_dump_json().encode()
    assert site.login("admin").status_code == 303
    token = csrf_of(site.client.get("/secretariat/registry").text)
    r = site.client.post(
        "/secretariat/registry/register",
        data={"csrf_token": token},
        files={"registration": ("registration.json", raw, "application/json")},
        follow_redirects=False,
    )
    assert r.status_code == 303, r.text
    assert (node.registration_kid, "active") in _nodes(site)
    # the same file again is refused in place
    r = site.client.post(
        "/secretariat/registry/register",
        data={"csrf_token": token},
        files={"registration": ("registration.json", raw, "application/json")},
    )
    assert r.status_code == 400
    assert "registered already" in r.text
    entries = site.call(site.portal.accounts.audit_log)
    assert ("admin", "register", f"node {node.registration_kid}") in {
        (e.account, e.action, e.target) for e in entries
    }


def test_a_forged_registration_is_refused(site: Site) -> None:
    assert site.login("admin").status_code == 303
    token = csrf_of(site.client.get("/secretariat/registry").text)
    r = site.client.post(
        "/secretariat/registry/register",
        data={"csrf_token": token},
        files={"registration": ("r.json", b'{"format": "dief-registration/1"}', "text/json")},
    )
    assert r.status_code == 400
    assert len(_nodes(site)) == 1


def test_registering_without_the_csrf_token_is_refused(site: Site, tmp_path: Path) -> None:
    node = NodeKeys.create(tmp_path / "new-node", PASSPHRASE, simulation=True)
    assert site.login("admin").status_code == 303
    r = site.client.post(
        "/secretariat/registry/register",
        files={"registration": ("r.json", node.registration().model_dump_json(), "text/json")},
    )
    assert r.status_code == 403
    assert len(_nodes(site)) == 1


def test_a_revocation_is_released_by_a_second_administrator(site: Site) -> None:
    [(kid, _)] = _nodes(site)
    assert site.login("admin").status_code == 303
    r = post(site, f"/secretariat/registry/nodes/{kid}/revoke", "/secretariat/registry")
    assert r.status_code == 303
    release = _release_id(site, ReleaseKind.REVOKE_NODE)
    # the one who asked cannot release it
    r = post(site, f"/secretariat/releases/{release}/release", "/secretariat/registry")
    assert r.status_code == 403
    assert _nodes(site) == [(kid, "active")]
    # nor can an editor, who is not an administrator
    editor = site.fresh_client()
    assert site.login("editor", client=editor).status_code == 303
    r = post(site, f"/secretariat/releases/{release}/release", "/secretariat", editor)
    assert r.status_code == 403
    other = _second_admin(site)
    r = post(site, f"/secretariat/releases/{release}/release", "/secretariat/registry", other)
    assert r.status_code == 303
    assert _nodes(site) == [(kid, "revoked")]
    entries = site.call(site.portal.accounts.audit_log)
    seen = {(e.account, e.action, e.target) for e in entries}
    assert {
        ("admin", "request", f"revoke node {kid}"),
        ("admin2", "release", f"revoke node {kid}"),
    } <= seen


def test_a_directory_version_is_published_by_a_second_administrator(site: Site) -> None:
    forum: SimulatedForum = site.forum  # type: ignore[attr-defined]  # the test's handle, set by the fixture
    node_kem = forum.node("a").kem_key().kid
    [(kid, _)] = _nodes(site)
    assert site.portal.registry is not None
    site.call(site.portal.registry.revoke, kid)  # revoked, not yet published
    assert site.login("admin").status_code == 303
    r = post(site, "/secretariat/registry/directory", "/secretariat/registry")
    assert r.status_code == 303
    release = _release_id(site, ReleaseKind.DIRECTORY)
    r = post(site, f"/secretariat/releases/{release}/release", "/secretariat/registry")
    assert r.status_code == 403
    assert site.hook.versions == []  # type: ignore[attr-defined]  # the test's handle, set by the fixture
    other = _second_admin(site)
    r = post(site, f"/secretariat/releases/{release}/release", "/secretariat/registry", other)
    assert r.status_code == 303
    assert site.hook.versions == [2]  # type: ignore[attr-defined]  # the test's handle, set by the fixture
    sent = site.sink.on("dief.directory")  # type: ignore[attr-defined]  # the test's handle, set by the fixture
    assert [s.key for s in sent] == [b"v2", b"current"]
    directory = SimulatedForum.load(forum.path, PASSPHRASE).secretariat().current_directory()
    assert directory is not None
    assert directory.version == 2
    assert node_kem not in {k.kid for k in directory.document.keys}  # the revoked node left
    page = other.get("/secretariat/registry")
    assert "<strong>2</strong>" in page.text
