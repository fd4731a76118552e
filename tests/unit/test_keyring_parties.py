"""Per-party keyrings (DESIGN §4 ⚑, §11): a node holds only its own keys; a key file dropped
in a party's folder is never used; reprs and files leak no secret and no name; registration,
revocation, rotation and backup."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING

import pytest

from dief.crypto import KemPrivateKey, Opener, Sealer, b64url_encode
from dief.exceptions import (
    ConfigurationError,
    DirectoryError,
    NoRecipientKeyError,
    PassphraseError,
)
from dief.keyring import (
    SIMULATION_KDF,
    DirectoryHolder,
    KeyRole,
    NodeKeys,
    PartyKeyring,
    PartyKind,
    Purpose,
    SimulatedForum,
    backup_node,
    restore_node,
)
from dief.testing import FakeClock
from dief.wire import TYPE_CASE, KeyStatus
from tests.unit.record_helpers import clear_text

if TYPE_CHECKING:
    from pathlib import Path

PASS = "party passphrase"
T0 = 1_790_000_000.0


@pytest.fixture(scope="module")
def forum(tmp_path_factory: pytest.TempPathFactory) -> SimulatedForum:
    return SimulatedForum.create(
        tmp_path_factory.mktemp("forum") / "f", PASS, nodes=["alpha", "beta"], clock=FakeClock(T0)
    )


def _sealed_case(forum: SimulatedForum, region: str) -> bytes:
    sealer = Sealer(
        type=TYPE_CASE, region=region, recipients=forum.directory.region_kem_keys(region)
    )
    return sealer.seal(b'{"case":"x"}')


def test_a_node_keyring_holds_no_region_key_and_cannot_open_a_region_case(
    forum: SimulatedForum,
) -> None:
    node = forum.node("alpha")
    purposes = {key.purpose for key in node.ring.list_keys()}
    assert purposes == {Purpose.NODE_SECRET, Purpose.REGISTRATION, Purpose.KEM}
    value = _sealed_case(forum, "AFR")
    with pytest.raises(NoRecipientKeyError):
        Opener([node.kem_key()]).open(value)
    # every private file in the node's folder is one of its own three keys
    private = {p.stem for p in (node.ring.path / "private").iterdir()}
    assert private == {key.kid for key in node.ring.list_keys()}
    # the region's own aggregator opens it
    assert Opener(forum.opening_keys(KeyRole.REGION, "AFR")).open(value)


def test_a_rogue_public_key_file_in_a_party_folder_is_never_used(forum: SimulatedForum) -> None:
    rogue = KemPrivateKey.generate()
    entry = {
        "format": "dief-public-key/1",
        "kid": rogue.kid,
        "kind": "kem",
        "role": "region",
        "region": "AFR",
        "alg": rogue.suite,
        "created": "2026-01-01T00:00:00Z",
        "active": True,
        "retired": False,
        "public": b64url_encode(rogue.public_key.public_bytes()),
    }
    for folder in (forum.node_path("alpha"), forum.path, forum.path / "regions" / "AFR"):
        (folder / "public").mkdir(exist_ok=True)
        (folder / "public" / f"{rogue.kid}.json").write_text(json.dumps(entry))
    reloaded = SimulatedForum.load(forum.path, PASS, clock=FakeClock(T0))
    kids = {key.kid for key in reloaded.sealing_keys(KeyRole.REGION, "AFR")}
    assert rogue.kid not in kids
    value = _sealed_case(reloaded, "AFR")
    with pytest.raises(NoRecipientKeyError):
        Opener([rogue]).open(value)


def test_an_undirectoried_kem_key_of_a_region_does_not_open(
    forum: SimulatedForum, tmp_path: Path
) -> None:
    """A region key that is in a keyring but not in the signed directory is never used."""
    sim = SimulatedForum.create(tmp_path / "f", PASS, clock=FakeClock(T0))
    region = sim.region("APG")
    region.endorse_kem()  # made, but never given to the Secretariat
    assert len(region.kem_keys()) == 2
    assert len(sim.opening_keys(KeyRole.REGION, "APG")) == 1
    assert len(sim.sealing_keys(KeyRole.REGION, "APG")) == 1


def test_each_party_has_its_own_keyring_and_passphrase(tmp_path: Path) -> None:
    node = NodeKeys.create(tmp_path / "node", "node pass", simulation=True)
    with pytest.raises(PassphraseError):
        NodeKeys.load(tmp_path / "node", passphrase="forum pass")
    with pytest.raises(Exception, match="node, not a region"):
        PartyKeyring.load(tmp_path / "node", party=PartyKind.REGION)
    assert (
        node.node_secret().secret_bytes()
        != NodeKeys.create(tmp_path / "other", "node pass", simulation=True)
        .node_secret()
        .secret_bytes()
    )


def test_a_cheap_kdf_needs_the_simulation_flag(tmp_path: Path) -> None:

    with pytest.raises(ConfigurationError, match="simulation"):
        NodeKeys.create(tmp_path / "n", PASS, kdf=SIMULATION_KDF)
    ring = PartyKeyring.create(tmp_path / "real", PartyKind.NODE, PASS)  # Argon2id, 64 MiB
    meta = json.loads((ring.path / "keyring.json").read_text())
    assert meta["kdf"]["memory_kib"] == 65536
    assert meta["simulation"] is False


def test_reprs_and_outputs_leak_no_secret_and_no_name(forum: SimulatedForum) -> None:
    node = forum.node("beta")
    secret = node.node_secret("beta").secret_bytes()
    objects = [
        forum,
        node,
        node.ring,
        node.node_secret("beta"),
        node.kem_key(),
        node.registration_key(),
        forum.secretariat(),
        forum.region("AFR"),
        forum.root(),
        forum.directory,
        DirectoryHolder(forum.root_fingerprint),
    ]
    for obj in objects:
        text = repr(obj) + str(obj)
        for leak in (PASS, secret.hex()[:16], b64url_encode(secret)[:16]):
            assert leak not in text, type(obj).__name__
        kid = getattr(obj, "kid", None)  # random base32, where "beta" turns up by chance
        shown = text.replace(kid, "<kid>") if isinstance(kid, str) else text
        for name in ("beta", "alpha"):
            assert name not in shown, type(obj).__name__
    registration = node.registration().model_dump_json()
    # (keys, kids and signatures are random base64url and base32: "beta" is in about one
    # registration in 2,000 by chance)
    assert "beta" not in clear_text(registration)
    assert secret.hex()[:16] not in registration


def test_a_tampered_registration_is_refused(forum: SimulatedForum, tmp_path: Path) -> None:
    node = NodeKeys.create(tmp_path / "n", PASS, simulation=True)
    registration = node.registration()
    other = KemPrivateKey.generate()
    swapped = registration.model_copy(
        update={"kem_kid": other.kid, "kem_public": b64url_encode(other.public_key.public_bytes())}
    )
    with pytest.raises(DirectoryError) as caught:
        forum.secretariat().register(swapped)
    assert caught.value.code == "bad_signature"


def test_a_revoked_node_leaves_the_next_directory(tmp_path: Path) -> None:
    sim = SimulatedForum.create(tmp_path / "f", PASS, nodes=["a", "b"], clock=FakeClock(T0))
    gone = sim.node("a")
    assert gone.kem_key().kid in {k.kid for k in sim.directory.node_kem_keys()}
    sec = sim.secretariat()
    sec.revoke_node(gone.registration_kid)
    v2 = sim.issue_directory()
    kids = {k.kid for k in v2.node_kem_keys()}
    assert gone.kem_key().kid not in kids
    assert sim.node("b").kem_key().kid in kids
    # a node that lost its secret registers again, counted as replacing the old one
    again = NodeKeys.create(tmp_path / "a2", PASS, simulation=True)
    sec.register(again.registration(), replaces=gone.registration_kid)
    assert sec.state().registry[-1].replaces == gone.registration_kid


def test_a_declared_kem_rotation_then_retirement(tmp_path: Path) -> None:
    sim = SimulatedForum.create(tmp_path / "f", PASS, clock=FakeClock(T0))
    region, sec = sim.region("WEOG"), sim.secretariat()
    old = sim.directory.region_kem_keys("WEOG")[0].kid
    sec.add_region(region.endorse_kem())
    v2 = sim.issue_directory()
    assert v2.document.kem_rotations == ("WEOG",)
    assert len(v2.region_kem_keys("WEOG")) == 2
    sec.set_status(old, KeyStatus.RETIRED)
    v3 = sim.issue_directory()
    assert [k.kid for k in v3.region_kem_keys("WEOG")] != [old]
    assert old in v3.region_opening_kids("WEOG")  # retired: still opens what was sealed
    assert v3.document.kem_rotations == ()
    sec.set_status(old, KeyStatus.REVOKED)
    v4 = sim.issue_directory()
    assert old not in v4.region_opening_kids("WEOG")
    with pytest.raises(DirectoryError):
        sec.set_status(old, KeyStatus.ACTIVE)  # a status never goes back


def test_node_backup_and_restore(tmp_path: Path) -> None:
    node = NodeKeys.create(tmp_path / "node", PASS, simulation=True)
    backup = backup_node(node, tmp_path / "node.backup", "backup pass", extras={"index": b"7"})
    assert oct(backup.stat().st_mode & 0o777) == "0o600"
    text = backup.read_text()
    assert node.node_secret().secret_bytes().hex()[:16] not in text
    with pytest.raises(PassphraseError):
        restore_node(backup, "wrong", tmp_path / "x", PASS)
    restored, extras = restore_node(backup, "backup pass", tmp_path / "restored", "new pass")
    assert extras == {"index": b"7"}
    assert restored.node_secret() == node.node_secret()
    assert restored.registration_kid == node.registration_kid
    assert restored.kem_key().kid == node.kem_key().kid
