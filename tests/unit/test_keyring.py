"""Keyrings: layout, passphrase, rotation and retirement, node secrets, export, tampering."""

from __future__ import annotations

import json
import stat
from pathlib import Path

import pytest
from envelope_helpers import FAST_KDF

from dief.crypto import Opener, Sealer, verify
from dief.exceptions import (
    ConfigurationError,
    KeyNotFoundError,
    KeyringError,
    NoRecipientKeyError,
    PassphraseError,
)
from dief.keyring import KdfParams, KeyKind, Keyring, KeyRole
from dief.testing import FakeClock
from dief.vocab import Region
from dief.wire import SUITE_HYBRID, SUITE_X25519, TYPE_CASE

PASS = "correct horse battery staple"


def forum(path: Path, **kwargs: object) -> Keyring:
    kwargs.setdefault("kdf", FAST_KDF)
    return Keyring.init_forum(path, PASS, **kwargs)  # type: ignore[arg-type]


@pytest.fixture(scope="module")
def shared(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A forum that tests only read."""
    path = tmp_path_factory.mktemp("forum") / "keys"
    forum(path, nodes=["node-a", "node-b"], clock=FakeClock(1_780_000_000.0))
    return path


def afr_sealer(ring: Keyring) -> Sealer:
    return Sealer(type=TYPE_CASE, region="AFR", recipients=ring.sealing_keys(KeyRole.REGION, "AFR"))


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_init_forum_creates_every_key(shared: Path) -> None:
    ring = Keyring.load(shared)
    keys = ring.key_infos()
    assert len(keys) == 12
    for kind in KeyKind:
        scoped = {(k.role, k.region) for k in keys if k.kind is kind}
        assert scoped == {(KeyRole.REGION, r.value) for r in Region} | {(KeyRole.SECRETARIAT, None)}
    assert all(k.active and not k.retired and k.status == "active" for k in keys)
    assert all(k.created == "2026-05-28T20:26:40Z" for k in keys)
    assert {k.alg for k in keys if k.kind is KeyKind.KEM} == {SUITE_HYBRID}
    assert {k.alg for k in keys if k.kind is KeyKind.SIGN} == {"MLDSA65+Ed25519"}
    assert ring.node_names() == ("node-a", "node-b")


def test_files_and_modes(shared: Path) -> None:
    assert mode(shared / "private") == 0o700
    assert mode(shared / "nodes") == 0o700
    private = sorted((shared / "private").iterdir())
    assert len(private) == 12
    assert all(mode(p) == 0o600 for p in private)
    assert all(mode(p) == 0o600 for p in (shared / "nodes").iterdir())
    public = sorted((shared / "public").iterdir())
    assert len(public) == 12
    assert all(mode(p) == 0o644 for p in public)
    entry = json.loads(public[0].read_text())
    assert entry["format"] == "dief-public-key/1"
    assert entry["kid"] == public[0].stem
    sealed = json.loads(private[0].read_text())
    assert sealed["format"] == "dief-secret/1"
    assert sealed["kdf"]["name"] == "argon2id"


def test_public_keys_need_no_passphrase_private_keys_do(shared: Path) -> None:
    ring = Keyring.load(shared)
    assert ring.locked
    assert len(ring.sealing_keys(KeyRole.REGION, "AFR")) == 1
    assert len(ring.verify_keys()) == 6
    with pytest.raises(PassphraseError):
        ring.opening_keys(KeyRole.REGION, "AFR")
    with pytest.raises(PassphraseError):
        ring.signing_key(KeyRole.SECRETARIAT)
    with pytest.raises(PassphraseError):
        ring.node_secret("node-a")


@pytest.mark.parametrize("passphrase", ["wrong", "", b"correct horse battery stapl"])
def test_wrong_passphrase(shared: Path, passphrase: str | bytes) -> None:
    with pytest.raises(PassphraseError):
        Keyring.load(shared, passphrase=passphrase)


def test_seal_with_exported_public_keys_open_with_the_region_key(
    shared: Path, tmp_path: Path
) -> None:
    ring = Keyring.load(shared, passphrase=PASS)
    out = ring.export_public(tmp_path / "pub")
    assert sorted(p.name for p in out.iterdir()) == ["keyring.json", "public"]
    node_view = Keyring.load(out)
    assert node_view.public_only
    assert len(node_view.key_infos()) == 12
    with pytest.raises(KeyringError):
        node_view.unlock(PASS)
    with pytest.raises(KeyringError):
        node_view.opening_keys()
    for region in Region:
        recipients = node_view.sealing_keys(KeyRole.REGION, region)
        sealer = Sealer(type=TYPE_CASE, region=region.value, recipients=recipients)
        value = sealer.seal(b"case for " + region.value.encode())
        opened = Opener(ring.opening_keys(KeyRole.REGION, region)).open(value)
        assert opened.payload == b"case for " + region.value.encode()
        other = Region.APG if region is not Region.APG else Region.AFR
        with pytest.raises(NoRecipientKeyError):
            Opener(ring.opening_keys(KeyRole.REGION, other)).open(value)


def test_signing_keys_and_verify_keys(shared: Path) -> None:
    ring = Keyring.load(shared, passphrase=PASS)
    signer = ring.signing_key(KeyRole.REGION, "EEG")
    sig = signer.sign(b"digest")
    assert verify(Keyring.load(shared).verify_keys(KeyRole.REGION, "EEG"), b"digest", sig)


def test_node_secrets(shared: Path) -> None:
    ring = Keyring.load(shared, passphrase=PASS)
    a, b = ring.node_secret("node-a"), ring.node_secret("node-b")
    assert len(a.secret_bytes()) == 32
    assert a.secret_bytes() != b.secret_bytes()
    again = Keyring.load(shared, passphrase=PASS).node_secret("node-a")
    assert again == a
    assert again.hmac_sha256(b"m") == a.hmac_sha256(b"m") != b.hmac_sha256(b"m")
    with pytest.raises(KeyNotFoundError):
        ring.node_secret("node-c")
    with pytest.raises(ConfigurationError):
        ring.node_secret("../private/x")


def test_rotation_keeps_old_records_open_until_retired(tmp_path: Path) -> None:
    clock = FakeClock(1_780_000_000.0)
    ring = forum(tmp_path / "k", clock=clock)
    old_kid = ring.sealing_keys(KeyRole.REGION, "AFR")[0].kid
    before = afr_sealer(ring).seal(b"before")
    clock.advance(60)
    new = ring.rotate(KeyKind.KEM, KeyRole.REGION, "AFR")
    assert new.active
    assert new.kid != old_kid
    assert new.alg == SUITE_HYBRID
    assert new.created == "2026-05-28T20:27:40Z"
    reloaded = Keyring.load(tmp_path / "k", passphrase=PASS)
    assert [k.kid for k in reloaded.sealing_keys(KeyRole.REGION, "AFR")] == [new.kid]
    statuses = {k.kid: k.status for k in reloaded.key_infos(kind=KeyKind.KEM, region="AFR")}
    assert statuses == {old_kid: "previous", new.kid: "active"}
    after = afr_sealer(reloaded).seal(b"after")
    opener = Opener(reloaded.opening_keys(KeyRole.REGION, "AFR"))
    assert opener.open(before).payload == b"before"
    assert opener.open(after).payload == b"after"

    with pytest.raises(KeyringError):
        reloaded.retire(new.kid)  # the only active key
    retired = reloaded.retire(old_kid)
    assert retired.retired
    assert retired.status == "retired"
    again = Keyring.load(tmp_path / "k", passphrase=PASS)
    assert [k.kid for k in again.opening_keys(KeyRole.REGION, "AFR")] == [new.kid]
    with pytest.raises(NoRecipientKeyError):
        Opener(again.opening_keys(KeyRole.REGION, "AFR")).open(before)
    assert old_kid in {k.kid for k in again.key_infos(include_retired=True)}
    assert old_kid not in {k.kid for k in again.key_infos()}
    assert (tmp_path / "k" / "private" / f"{old_kid}.json").exists()
    again.retire(old_kid, destroy=True)
    assert not (tmp_path / "k" / "private" / f"{old_kid}.json").exists()
    with pytest.raises(KeyNotFoundError):
        again.retire("aaaaaaaaaaaaaaaaaaaa")


def test_signing_key_rotation(tmp_path: Path) -> None:
    ring = forum(tmp_path / "k")
    old = ring.signing_key(KeyRole.SECRETARIAT)
    old_sig = old.sign(b"summary")
    new_info = ring.rotate(KeyKind.SIGN, KeyRole.SECRETARIAT)
    new = ring.signing_key(KeyRole.SECRETARIAT)
    assert new.kid == new_info.kid != old.kid
    verify(ring.verify_keys(KeyRole.SECRETARIAT), b"summary", old_sig)  # old still verifies
    ring.retire(old.kid)
    from dief.exceptions import SignatureError

    with pytest.raises(SignatureError):
        verify(ring.verify_keys(KeyRole.SECRETARIAT), b"summary", old_sig)


def test_x25519_forum_and_suite_change_on_rotate(tmp_path: Path) -> None:
    ring = forum(tmp_path / "k", suite=SUITE_X25519)
    assert {k.suite for k in ring.sealing_keys(KeyRole.SECRETARIAT)} == {SUITE_X25519}
    assert ring.rotate(KeyKind.KEM, KeyRole.SECRETARIAT).alg == SUITE_X25519
    assert ring.rotate(KeyKind.KEM, KeyRole.SECRETARIAT, suite=SUITE_HYBRID).alg == SUITE_HYBRID
    assert len(ring.opening_keys(KeyRole.SECRETARIAT)) == 3


def test_rotate_needs_the_passphrase(shared: Path) -> None:
    with pytest.raises(PassphraseError):
        Keyring.load(shared).rotate(KeyKind.KEM, KeyRole.REGION, "AFR")


def test_scope_validation(tmp_path: Path) -> None:
    ring = Keyring.create(tmp_path / "k", PASS, kdf=FAST_KDF)
    with pytest.raises(ConfigurationError):
        ring.generate(KeyKind.KEM, KeyRole.REGION)
    with pytest.raises(ConfigurationError):
        ring.generate(KeyKind.KEM, KeyRole.REGION, "XYZ")
    with pytest.raises(ConfigurationError):
        ring.generate(KeyKind.KEM, KeyRole.SECRETARIAT, "AFR")
    with pytest.raises(ConfigurationError):
        ring.generate(KeyKind.SIGN, KeyRole.SECRETARIAT, suite=SUITE_HYBRID)
    with pytest.raises(KeyNotFoundError):
        ring.sealing_keys(KeyRole.SECRETARIAT)
    with pytest.raises(ConfigurationError):
        KdfParams(memory_kib=4)


def test_nodes_can_be_added_once(tmp_path: Path) -> None:
    ring = forum(tmp_path / "k")
    ring.add_node("node-x")
    assert Keyring.load(tmp_path / "k").node_names() == ("node-x",)
    with pytest.raises(KeyringError):
        ring.add_node("node-x")
    with pytest.raises(ConfigurationError):
        ring.add_node("bad/name")
    with pytest.raises(ConfigurationError):
        forum(tmp_path / "k2", nodes=["a", "a"])


def test_refuses_non_empty_directories(tmp_path: Path, shared: Path) -> None:
    (tmp_path / "busy").mkdir()
    (tmp_path / "busy" / "file").write_text("x")
    with pytest.raises(KeyringError):
        forum(tmp_path / "busy")
    with pytest.raises(KeyringError):
        Keyring.load(shared).export_public(tmp_path / "busy")
    with pytest.raises(KeyringError):
        Keyring.load(tmp_path / "nothing-here")


def test_tampered_files_are_detected(tmp_path: Path) -> None:
    root = tmp_path / "k"
    ring = forum(root)
    afr, apg = (ring.sealing_keys(KeyRole.REGION, r)[0].kid for r in ("AFR", "APG"))
    # a private file copied over another key's
    (root / "private" / f"{afr}.json").write_bytes((root / "private" / f"{apg}.json").read_bytes())
    with pytest.raises(KeyringError):
        Keyring.load(root, passphrase=PASS).opening_keys(KeyRole.REGION, "AFR")
    # a flipped ciphertext byte
    path = root / "private" / f"{apg}.json"
    sealed = json.loads(path.read_text())
    sealed["ciphertext"] = ("B" if sealed["ciphertext"][0] == "A" else "A") + sealed["ciphertext"][
        1:
    ]
    path.write_text(json.dumps(sealed))
    with pytest.raises(PassphraseError):
        Keyring.load(root, passphrase=PASS).opening_keys(KeyRole.REGION, "APG")
    # a public key swapped under another kid
    pub = root / "public" / f"{afr}.json"
    entry = json.loads(pub.read_text())
    entry["public"] = json.loads((root / "public" / f"{apg}.json").read_text())["public"]
    pub.write_text(json.dumps(entry))
    with pytest.raises(KeyringError):
        Keyring.load(root)


def test_reprs_show_no_key_material(shared: Path) -> None:
    ring = Keyring.load(shared, passphrase=PASS)
    node = ring.node_secret("node-a")
    kem = ring.opening_keys(KeyRole.REGION, "AFR")[0]
    signer = ring.signing_key(KeyRole.REGION, "AFR")
    materials = [node.secret_bytes(), kem.secret_bytes(), signer.secret_bytes()]
    for obj in (ring, node, kem, signer, *ring.key_infos()):
        text = repr(obj) + str(obj)
        for material in materials:
            assert material.hex() not in text
            assert material[:6].hex() not in text
        assert PASS not in text
